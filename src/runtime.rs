//! What every command shares: the stop flag that signals raise, the pacer that spaces sends,
//! loading the brewery records, and `--print-config`.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

pub mod out;
pub mod places;

use crate::cli::SourceArgs;
use crate::config::Role;
use crate::data::source::{self, Dataset, Progress, Source};
use crate::target::Target;

/// Set by Ctrl-C, SIGTERM or SIGHUP; long loops check it. A second signal asks to stop at
/// once: the waits of an orderly stop (a flush, leaving the group) end early.
#[derive(Clone, Default)]
pub struct StopFlag(Arc<Raised>);

#[derive(Default)]
pub struct Raised {
    /// How many times it was raised.
    times: AtomicU8,
    /// The first signal that raised it, as its number (0: none).
    signal: AtomicU8,
}

impl StopFlag {
    /// A flag that Ctrl-C, SIGTERM and SIGHUP raise, each time they come.
    pub fn on_signals() -> StopFlag {
        let flag = StopFlag::default();
        let f = flag.clone();
        tokio::spawn(async move {
            loop {
                let signal = wait_for_signal().await;
                let _ = f.0.signal.compare_exchange(
                    0,
                    signal.number(),
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
                f.raise();
            }
        });
        flag
    }

    pub fn raise(&self) {
        let _ = self
            .0
            .times
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(1))
            });
    }

    /// Raised, or the standard output's reader is gone (`| head`): both stop a command.
    pub fn raised(&self) -> bool {
        self.0.times.load(Ordering::SeqCst) > 0 || out::stdout_gone()
    }

    /// Raised a second time: stop at once, without the waits of an orderly stop.
    pub fn urgent(&self) -> bool {
        self.0.times.load(Ordering::SeqCst) > 1
    }

    /// The signal that raised it first, if one did.
    pub fn signal(&self) -> Option<Signal> {
        Signal::of_number(self.0.signal.load(Ordering::SeqCst))
    }

    /// Sleeps up to `d`, waking early when the flag is raised.
    pub fn sleep(&self, d: Duration) {
        let end = Instant::now().checked_add(d);
        while !self.raised() {
            let left = end.map_or(Duration::MAX, |e| {
                e.saturating_duration_since(Instant::now())
            });
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    /// Resolves once the flag is raised a second time (checks every 50 ms).
    pub async fn urgent_async(&self) {
        while !self.urgent() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Resolves once the flag is raised (checks every 50 ms).
    pub async fn raised_async(&self) {
        while !self.raised() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A command's exit code: `code`, unless a signal stopped it (128 + its number, as a shell
/// expects of an interrupted command; a closed output is no failure).
pub fn exit_code(stop: &StopFlag, code: std::process::ExitCode) -> std::process::ExitCode {
    stop.signal().map_or(code, Signal::exit_code)
}

/// Why a command stopped early, in words: `interrupted (SIGINT)`, `the output was closed`.
pub fn stopped_by(stop: &StopFlag) -> String {
    match stop.signal() {
        Some(s) if stop.urgent() => format!("stopped at once by a second signal ({s:?})"),
        Some(s) => format!("interrupted ({s:?})"),
        None if out::stdout_gone() => "the output was closed".to_string(),
        None => "stopped".to_string(),
    }
}

/// Which signal asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
    Hangup,
}

impl Signal {
    fn of_number(n: u8) -> Option<Signal> {
        [Signal::Hangup, Signal::Interrupt, Signal::Terminate]
            .into_iter()
            .find(|s| s.number() == n)
    }

    /// The conventional exit code of a process the signal stopped: 128 + its number.
    pub fn exit_code(self) -> std::process::ExitCode {
        std::process::ExitCode::from(128 + self.number())
    }

    /// The signal's number, for the conventional exit code 128 + n.
    pub fn number(self) -> u8 {
        match self {
            Signal::Hangup => 1,
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }
}

/// Waits for Ctrl-C (SIGINT), SIGTERM or SIGHUP.
pub async fn wait_for_signal() -> Signal {
    Signals::watch().next().await
}

/// SIGINT, SIGTERM and SIGHUP, watched from their creation on: one that comes before
/// [`Signals::next`] is awaited waits for it (instead of ending the process its default way).
pub struct Signals([Option<tokio::signal::unix::Signal>; 3]);

impl Signals {
    pub fn watch() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        Signals([
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::hangup()).ok(),
        ])
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        /// The next delivery of a signal that could be watched; never, if it could not.
        async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
            match s.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        let [int, term, hup] = &mut self.0;
        tokio::select! {
            () = next(int) => Signal::Interrupt,
            () = next(term) => Signal::Terminate,
            () = next(hup) => Signal::Hangup,
        }
    }
}

/// glibc gives each thread that allocates an arena of its own (up to 8 per core), and
/// librdkafka's threads allocate per record: freed memory then stays spread over many arenas.
/// Four keep the dashboard's memory flat (100-117 MB over 10 million records with a consumer
/// on a local broker) without making its producer, consumer and librdkafka's threads queue for
/// two (with two, the dashboard with a consumer produced about a quarter less). Call it before
/// any thread starts. `MALLOC_ARENA_MAX` in the environment, glibc's own setting, wins.
pub fn few_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    // SAFETY: mallopt only sets a parameter of the allocator; no thread allocates yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

/// This machine's name, as the kernel has it ("localhost" when it cannot be read).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, which is what is passed.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let name = std::ffi::CStr::from_bytes_until_nul(&buf)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default();
    if ok && !name.is_empty() {
        name
    } else {
        "localhost".to_string()
    }
}

/// A file of the repository, for tests and the benchmark: found where cargo runs them (it sets
/// `CARGO_MANIFEST_DIR`), not where the binary was built, so a test binary reused from a clone
/// elsewhere (one shared target directory) still reads this checkout's files.
#[doc(hidden)]
pub fn in_repo(relative: &str) -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join(relative)
}

/// A fault a test asks for through `KAFKA_LAB_FAILPOINT` (names separated by commas), so
/// that the paths that handle a crash can be tried for real.
pub fn failpoint(name: &str) -> bool {
    std::env::var("KAFKA_LAB_FAILPOINT").is_ok_and(|v| v.split(',').any(|f| f.trim() == name))
}

/// Prints each role's merged settings (secrets masked, with their origins).
pub fn print_config(target: &Target, roles: &[Role]) -> Result<ExitCode> {
    for role in roles {
        crate::out!("{}", target.settings(*role)?.describe());
    }
    Ok(ExitCode::SUCCESS)
}

/// The records of `--source`: bundled, a file, or the Open Brewery DB (kept after its first
/// fetch; progress on stderr, a bar on a terminal).
pub async fn load_dataset(args: &SourceArgs) -> Result<Dataset> {
    use crate::data::load::Said;
    let source = Source::parse(&args.source, &args.api_url);
    let mut bar: Option<crate::progress::Progress> = None;
    let mut pages = 0;
    let say = |said| match said {
        Said::Kept {
            path,
            records,
            fetched_at,
            from,
        } => crate::errln!(
            "breweries: {records} records kept in {path} (fetched {fetched_at} from {from}; \
             --refresh fetches again)"
        ),
        Said::Unusable { path, why } => crate::errln!(
            "the breweries kept in {path} cannot be used ({why}): fetching them again"
        ),
        Said::Fetching { url } => crate::errln!("fetching breweries from {url} ..."),
        // A bar once the API says how many it holds, on a terminal; lines elsewhere.
        Said::Fetch(Progress::Expected { records }) => {
            pages = records.div_ceil(source::PER_PAGE);
            let b = crate::progress::Progress::new(
                "fetching breweries",
                records as u64,
                "records",
                false,
            );
            bar = b.is_drawn().then_some(b);
        }
        Said::Fetch(Progress::Page { page, total }) => match bar.as_mut() {
            Some(b) => b.set(total as u64, |_| format!("· page {page} of {pages}")),
            None => crate::errln!("  page {page}: {total} records"),
        },
        Said::Fetch(Progress::Waiting { page, waited }) => {
            let line = format!(
                "  still waiting for page {page} ({} s so far)",
                waited.as_secs()
            );
            match bar.as_ref() {
                Some(b) => b.println(&line),
                None => crate::errln!("{line}"),
            }
        }
        Said::Fetched { records } => {
            if let Some(b) = bar.take() {
                b.finish();
            }
            crate::errln!("fetched {records} breweries");
        }
        Said::KeptIn { path, failed: None } => {
            crate::errln!(
                "kept in {path} for the next runs, offline too (--refresh fetches again)"
            );
        }
        Said::KeptIn {
            path,
            failed: Some(e),
        } => crate::errln!(
            "warning: could not keep the breweries in {path}: {e}; the next run fetches them again"
        ),
    };
    let loaded = crate::data::load::load(&source, args.refresh, say).await;
    Ok(loaded?)
}

/// Spaces sends evenly to reach a target rate; `None` sends as fast as possible.
#[derive(Debug, Clone)]
pub struct Pacer {
    start: Instant,
    /// Seconds between two records.
    period_s: Option<f64>,
}

/// What a record that is due beyond any clock's reach waits: callers sleep in steps and check
/// for a stop, so this only has to be long.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

impl Pacer {
    pub fn new(rate_per_sec: Option<f64>) -> Pacer {
        Pacer {
            start: Instant::now(),
            period_s: rate_per_sec
                .filter(|r| *r > 0.0 && r.is_finite())
                .map(|r| 1.0 / r),
        }
    }

    /// When record number `n` (0-based) is due; `None` when it is due at once (no rate) or
    /// so far ahead that no clock reaches it.
    pub fn due(&self, n: u64) -> Option<Instant> {
        let offset = Duration::try_from_secs_f64(self.period_s? * n as f64).ok()?;
        self.start.checked_add(offset)
    }

    /// How long to wait before sending record number `n` (0-based).
    pub fn wait_before(&self, n: u64) -> Duration {
        if self.period_s.is_none() {
            // As fast as possible: no clock to read.
            return Duration::ZERO;
        }
        self.wait_at(n, Instant::now())
    }

    fn wait_at(&self, n: u64, now: Instant) -> Duration {
        match (self.period_s, self.due(n)) {
            (None, _) => Duration::ZERO,
            (Some(_), Some(due)) => due.saturating_duration_since(now),
            (Some(_), None) => NEVER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_spaces_records_by_the_rate() {
        let p = Pacer::new(Some(10.0));
        let t0 = p.start;
        assert_eq!(p.wait_at(0, t0), Duration::ZERO);
        assert_eq!(p.wait_at(10, t0), Duration::from_secs(1));
        assert_eq!(
            p.wait_at(10, t0 + Duration::from_millis(400)),
            Duration::from_millis(600)
        );
        assert_eq!(p.wait_at(3, t0 + Duration::from_secs(5)), Duration::ZERO);
        assert_eq!(Pacer::new(None).wait_before(1000), Duration::ZERO);
        assert_eq!(Pacer::new(Some(0.0)).wait_before(1000), Duration::ZERO);
    }

    #[test]
    fn tiny_rates_wait_long_instead_of_overflowing() {
        for rate in [1e-300, 1e-20, 1e-19, f64::MIN_POSITIVE] {
            let p = Pacer::new(Some(rate));
            assert_eq!(p.wait_before(0), Duration::ZERO, "{rate}");
            assert!(p.wait_before(1) >= Duration::from_secs(3600), "{rate}");
            assert!(
                p.wait_before(u64::MAX) >= Duration::from_secs(3600),
                "{rate}"
            );
        }
        let huge = Pacer::new(Some(1e300));
        assert_eq!(huge.wait_before(u64::MAX), Duration::ZERO);
    }

    #[test]
    fn a_stop_flag_ends_a_long_sleep() {
        let flag = StopFlag::default();
        flag.raise();
        // Returns at once: the flag is up, whatever the length.
        flag.sleep(Duration::MAX);
        assert!(flag.raised());
    }
}
