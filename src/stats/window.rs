use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use super::{per_second, Latency, LatencySummary, MB};

/// What happened between two snapshots of a running client.
#[derive(Debug, Clone, Default)]
pub struct Interval {
    pub duration: Duration,
    pub count: u64,
    pub bytes: u64,
    pub latency: Latency,
}

impl Interval {
    /// Empties it for reuse, keeping its histogram's memory.
    pub fn clear(&mut self) {
        self.duration = Duration::ZERO;
        self.count = 0;
        self.bytes = 0;
        self.latency.reset();
    }
}

/// Figures over the last few seconds, kept as a ring of per-tick intervals.
#[derive(Debug, Clone)]
pub struct Window {
    intervals: VecDeque<Interval>,
    capacity: usize,
    /// Where [`Window::figures`] merges the intervals' latencies.
    merged: Latency,
}

/// A window's figures, ready to show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct WindowFigures {
    pub per_sec: f64,
    pub mb_per_sec: f64,
    pub latency: LatencySummary,
    /// How many seconds the figures cover.
    pub span_s: f64,
}

impl Window {
    /// A window of `capacity` intervals (e.g. 20 ticks of 250 ms: five seconds).
    pub fn new(capacity: usize) -> Window {
        Window {
            intervals: VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
            merged: Latency::default(),
        }
    }

    /// Adds the latest interval and returns an empty one to fill next: once the window is
    /// full, its oldest, cleared. A ticking thread (the dashboard's producer sends on it) then
    /// allocates no histograms, 170 KB each, in a steady state.
    pub fn push(&mut self, interval: Interval) -> Interval {
        let mut next = if self.intervals.len() == self.capacity {
            self.intervals.pop_front().unwrap_or_default()
        } else {
            Interval::default()
        };
        next.clear();
        self.intervals.push_back(interval);
        next
    }

    pub fn clear(&mut self) {
        self.intervals.clear();
    }

    pub fn figures(&mut self) -> WindowFigures {
        let span: Duration = self.intervals.iter().map(|i| i.duration).sum();
        let count = self.intervals.iter().map(|i| i.count).sum();
        let bytes = self.intervals.iter().map(|i| i.bytes).sum();
        let latency = &mut self.merged;
        latency.reset();
        for i in &self.intervals {
            latency.add(&i.latency);
        }
        WindowFigures {
            per_sec: per_second(count, span),
            mb_per_sec: per_second(bytes, span) / MB,
            latency: latency.summary(),
            span_s: span.as_secs_f64(),
        }
    }
}

/// A run's figures with its first seconds (the warm-up) left out.
#[derive(Debug, Clone, Default)]
pub struct RunMeter {
    warmup: Duration,
    elapsed: Duration,
    measured: Interval,
}

impl RunMeter {
    pub fn new(warmup: Duration) -> RunMeter {
        RunMeter {
            warmup,
            ..RunMeter::default()
        }
    }

    /// Adds the next interval of the run; one that begins inside the warm-up is left out.
    pub fn add(&mut self, interval: &Interval) {
        let start = self.elapsed;
        self.elapsed += interval.duration;
        if start >= self.warmup {
            self.measured.duration += interval.duration;
            self.measured.count += interval.count;
            self.measured.bytes += interval.bytes;
            self.measured.latency.add(&interval.latency);
        }
    }

    pub fn measured(&self) -> &Interval {
        &self.measured
    }

    pub fn warmup(&self) -> Duration {
        self.warmup
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_only_the_last_intervals() {
        let mut w = Window::new(4);
        assert_eq!(w.figures(), WindowFigures::default());
        for n in 1..=6u64 {
            let mut latency = Latency::default();
            latency.record(Duration::from_millis(n));
            let next = w.push(Interval {
                duration: Duration::from_millis(250),
                count: n * 10,
                bytes: n * 1024 * 1024,
                latency,
            });
            // What comes back to fill next is empty, also when it is a recycled one.
            assert_eq!((next.count, next.bytes, next.latency.count()), (0, 0, 0));
            assert_eq!(next.duration, Duration::ZERO);
        }
        // Intervals 3..=6 remain: 180 records and 18 MB over one second.
        let f = w.figures();
        assert_eq!(f.per_sec, 180.0);
        assert_eq!(f.mb_per_sec, 18.0);
        assert_eq!(f.span_s, 1.0);
        // Histogram buckets round up by less than 0.1 % at 3 significant digits.
        assert!((f.latency.max - 6.0).abs() < 0.01, "{f:?}");
        assert!((f.latency.p50 - 4.0).abs() < 0.01, "{f:?}");
        w.clear();
        assert_eq!(w.figures().per_sec, 0.0);
    }
}
