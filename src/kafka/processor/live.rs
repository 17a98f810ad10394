//! A processor's figures as it goes, its news, and the crash it can be asked for: shared
//! between the processor's thread and whoever shows it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use hdrhistogram::Histogram;

/// How many of its latest news a processor keeps.
const NEWS_KEPT: usize = 8;

/// What a processor did.
#[derive(Clone)]
pub struct Done {
    /// Records whose batch committed.
    pub records: u64,
    pub batches: u64,
    /// Transactions aborted (exactly once).
    pub aborted: u64,
    /// At least once: records written whose input offsets could not be committed.
    pub uncommitted: u64,
    /// Each batch's commit time, in microseconds.
    pub commits: Histogram<u64>,
    pub started: Option<Instant>,
    /// When the last batch committed: the time an idle wait at the end added is not work.
    pub last_commit: Option<Instant>,
}

impl Default for Done {
    fn default() -> Done {
        Done {
            records: 0,
            batches: 0,
            aborted: 0,
            uncommitted: 0,
            commits: Histogram::new(3).expect("3 significant figures are valid"),
            started: None,
            last_commit: None,
        }
    }
}

impl Done {
    /// The commit time at quantile `q`, in milliseconds (None before the first commit).
    pub fn commit_ms(&self, q: f64) -> Option<f64> {
        (!self.commits.is_empty()).then(|| self.commits.value_at_quantile(q) as f64 / 1000.0)
    }
}

impl std::fmt::Display for Done {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = |q: f64| {
            self.commit_ms(q)
                .map_or("-".into(), |ms| format!("{ms:.2} ms"))
        };
        let secs = match (self.started, self.last_commit) {
            (Some(s), Some(l)) => l.duration_since(s).as_secs_f64(),
            _ => 0.0,
        };
        write!(
            f,
            "processed {} records in {secs:.1} s: {} batches committed (commit p50 {}, p99 {}), \
             {} aborted, {} records written whose input was not committed",
            self.records,
            self.batches,
            at(0.5),
            at(0.99),
            self.aborted,
            self.uncommitted
        )
    }
}

#[derive(Default)]
struct Inner {
    crash: AtomicBool,
    stop: AtomicBool,
    /// Partitions the group gave it.
    partitions: AtomicUsize,
    /// Where news go as they come (the command's standard error); without it they are kept
    /// (the dashboard shows the latest).
    echo: Option<Echo>,
    done: Mutex<Done>,
    news: Mutex<VecDeque<String>>,
}

/// Says a line as it comes.
pub type Echo = Box<dyn Fn(&str) + Send + Sync>;

/// A processor's shared state.
#[derive(Clone, Default)]
pub struct Live(Arc<Inner>);

impl Live {
    /// `echo`: where news go as they come (None: they are kept).
    pub fn new(echo: Option<Echo>) -> Live {
        Live(Arc::new(Inner {
            echo,
            ..Inner::default()
        }))
    }

    /// The processor stops at once, as a killed process does: nothing more is committed,
    /// and a transaction open stays open (the next instance's start aborts it).
    pub fn crash(&self) {
        self.0.crash.store(true, Ordering::SeqCst);
    }

    /// The processor ends after its batch (committed).
    pub fn stop(&self) {
        self.0.stop.store(true, Ordering::SeqCst);
    }

    pub fn stopping(&self) -> bool {
        self.0.stop.load(Ordering::SeqCst)
    }

    pub fn crashing(&self) -> bool {
        self.0.crash.load(Ordering::SeqCst)
    }

    pub fn set_partitions(&self, n: usize) {
        self.0.partitions.store(n, Ordering::SeqCst);
    }

    /// Partitions the group gave it (0 while it joins).
    pub fn partitions(&self) -> usize {
        self.0.partitions.load(Ordering::SeqCst)
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Done) -> T) -> T {
        f(&mut self.0.done.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn done(&self) -> Done {
        self.with(|d| d.clone())
    }

    pub fn say(&self, text: String) {
        if let Some(echo) = &self.0.echo {
            echo(&text);
            return;
        }
        let mut news = self.0.news.lock().unwrap_or_else(PoisonError::into_inner);
        if news.len() == NEWS_KEPT {
            news.pop_front();
        }
        news.push_back(text);
    }

    /// The latest news, if any.
    pub fn latest(&self) -> Option<String> {
        self.0
            .news
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .back()
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_times_are_read_from_the_histogram_and_news_are_bounded() {
        let live = Live::new(None);
        assert_eq!(live.done().commit_ms(0.5), None);
        live.with(|d| {
            for us in [1_000, 2_000, 3_000, 100_000] {
                d.commits.record(us).unwrap();
            }
        });
        let done = live.done();
        assert!((done.commit_ms(0.5).unwrap() - 2.0).abs() < 0.01);
        assert!((done.commit_ms(0.99).unwrap() - 100.0).abs() < 0.1);
        for i in 0..20 {
            live.say(format!("news {i}"));
        }
        assert_eq!(live.latest().as_deref(), Some("news 19"));
        assert_eq!(live.0.news.lock().unwrap().len(), NEWS_KEPT);
    }
}
