//! Every line a command writes goes through here: scrubbed of secrets (see
//! [`crate::text::secrets`]), with any character a terminal would act on escaped (text from a
//! file, a record or a server can hold escape sequences), and never a panic when the reader
//! is gone. A closed standard
//! output (`| head -1`) is a stop, as Ctrl-C is: long loops see it through
//! [`crate::runtime::StopFlag::raised`].

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::text::escape_lines;
use crate::text::secrets::scrub;

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// The standard output's reader has gone (a closed pipe): nothing more is written to it, and
/// the command stops.
pub fn stdout_gone() -> bool {
    STDOUT_GONE.load(Ordering::Relaxed)
}

/// Why writing to the standard output failed, when it was not its reader going away (a full
/// disk, a file system error): the command's result is then incomplete.
static STDOUT_FAILED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Notes that writing to the standard output failed with `e`: nothing more is written to it.
/// True when its reader is gone (a closed pipe, no failure); any other error is kept for
/// [`stdout_failed`].
pub fn closed(e: &std::io::Error) -> bool {
    STDOUT_GONE.store(true, Ordering::Relaxed);
    let gone = e.kind() == std::io::ErrorKind::BrokenPipe;
    if !gone {
        let mut failed = STDOUT_FAILED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        failed.get_or_insert_with(|| e.to_string());
    }
    gone
}

/// The error that stopped writing to the standard output, other than a closed pipe.
pub fn stdout_failed() -> Option<String> {
    STDOUT_FAILED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// Writes `bytes` as they are (a manual page, a completion script); false once the reader
/// is gone or writing failed.
pub fn stdout_raw(bytes: &[u8]) -> bool {
    if stdout_gone() {
        return false;
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) => {
            closed(&e);
            false
        }
    }
}

/// Writes to the standard output, scrubbed; false once its reader is gone.
pub fn stdout(args: fmt::Arguments<'_>) -> bool {
    if stdout_gone() {
        return false;
    }
    let text = args.to_string();
    let mut out = std::io::stdout().lock();
    match out
        .write_all(escape_lines(&scrub(&text)).as_bytes())
        .and_then(|()| out.flush())
    {
        Ok(()) => true,
        Err(e) => {
            closed(&e);
            false
        }
    }
}

/// Writes JSON to the standard output, scrubbed and safe for a terminal (see
/// [`crate::text::json_safe`]: it stays valid JSON); false once its reader is gone.
pub fn stdout_json(json: &str) -> bool {
    if stdout_gone() {
        return false;
    }
    let mut bytes = scrub(json).into_owned().into_bytes();
    crate::text::json_safe(&mut bytes);
    bytes.push(b'\n');
    let mut out = std::io::stdout().lock();
    match out.write_all(&bytes).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) => {
            closed(&e);
            false
        }
    }
}

/// Writes to the standard error, scrubbed; a closed standard error is no reason to stop.
pub fn stderr(args: fmt::Arguments<'_>) {
    let text = args.to_string();
    let _ = std::io::stderr()
        .lock()
        .write_all(escape_lines(&scrub(&text)).as_bytes());
}

/// `println!`, scrubbed of secrets, and a stop instead of a panic when the reader is gone.
#[macro_export]
macro_rules! outln {
    () => {{ let _ = $crate::runtime::out::stdout(format_args!("\n")); }};
    ($($arg:tt)*) => {{ let _ = $crate::runtime::out::stdout(format_args!("{}\n", format_args!($($arg)*))); }};
}

/// `print!`, scrubbed of secrets, and a stop instead of a panic when the reader is gone.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{ let _ = $crate::runtime::out::stdout(format_args!($($arg)*)); }};
}

/// `eprintln!`, scrubbed of secrets, never a panic.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::runtime::out::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

/// librdkafka's own log (its `debug` contexts, asked for with `-X debug=...`), where the user
/// can read it: standard error, or a file (the dashboard's screen is no place for it).
struct LibraryLog {
    file: Option<std::sync::Mutex<std::fs::File>>,
}

impl log::Log for LibraryLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("librdkafka")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!("{} {}\n", record.level(), record.args());
        let line = escape_lines(&scrub(&line)).into_owned();
        match &self.file {
            Some(file) => {
                if let Ok(mut f) = file.lock() {
                    let _ = f.write_all(line.as_bytes());
                }
            }
            None => {
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }

    fn flush(&self) {}
}

/// With `debug` among `settings`, librdkafka's log goes to standard error (`to` None) or to
/// the file `to`; says where, when it was asked for.
pub fn library_log(
    settings: &crate::config::ClientSettings,
    to: Option<&std::path::Path>,
) -> Option<String> {
    let contexts = settings.get("debug")?;
    let file = match to {
        Some(path) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(f) => Some(std::sync::Mutex::new(f)),
            Err(e) => {
                return Some(format!(
                    "librdkafka's debug log ({contexts}) cannot go to {}: {e}",
                    path.display()
                ))
            }
        },
        None => None,
    };
    let logger: &'static LibraryLog = Box::leak(Box::new(LibraryLog { file }));
    // One logger per process: a second call (another client) keeps the first.
    if log::set_logger(logger).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
    Some(match to {
        Some(path) => format!(
            "librdkafka's debug log ({contexts}) goes to {}",
            path.display()
        ),
        None => format!("librdkafka's debug log ({contexts}) follows on standard error"),
    })
}
