//! Progress of long work on standard error: a bar with rate and time left on a terminal, plain
//! lines every few seconds elsewhere (CI logs, pipes), so nothing there fills with redraws.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain line is printed when there is no terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);
/// How often the bar's message is made again (making it may cost more than the work's step).
const MESSAGE_EVERY: Duration = Duration::from_millis(250);

pub struct Progress {
    bar: Option<ProgressBar>,
    last_message: Instant,
    /// Print plain lines when there is no bar.
    lines: bool,
}

impl Progress {
    /// Work of `total` `unit`s, labelled `label`. `data_on_stdout`: the command prints its
    /// results on standard output, so a bar is drawn only when that output goes elsewhere
    /// (a file, a pipe) and cannot tear through it.
    pub fn new(label: &str, total: u64, unit: &str, data_on_stdout: bool) -> Progress {
        let terminal =
            std::io::stderr().is_terminal() && !(data_on_stdout && std::io::stdout().is_terminal());
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let template =
                format!("{label} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} · {{msg}}");
            bar.set_style(
                ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Progress {
            bar,
            last_message: Instant::now(),
            lines: !data_on_stdout,
        }
    }

    /// Whether a bar is drawn (a terminal is there to see it).
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }

    /// At `position`. `message(drawn)` says more in words: beside the bar when one is drawn
    /// (`drawn`: keep it short), else as a line every few seconds. It is made only when due.
    pub fn set(&mut self, position: u64, message: impl FnOnce(bool) -> String) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
        }
        let every = if self.bar.is_some() {
            MESSAGE_EVERY
        } else {
            LINE_EVERY
        };
        if self.last_message.elapsed() < every {
            return;
        }
        self.last_message = Instant::now();
        match &self.bar {
            Some(bar) => {
                let eta = bar.eta().as_secs();
                bar.set_message(format!(
                    "{}/s · {eta} s left {}",
                    crate::text::thousands(bar.per_sec() as u64),
                    message(true)
                ));
            }
            None if self.lines => crate::errln!("{}", message(false)),
            None => {}
        }
    }

    /// A line above the bar (or alone, without one).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => crate::errln!("{line}"),
        }
    }

    /// Clears the bar: what follows is printed where it stood.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
