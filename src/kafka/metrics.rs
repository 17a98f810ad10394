//! Latency histograms, rates and run summaries. Pure: no Kafka, no screen.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// 1 MB as the figures count it: 1024 * 1024 bytes of payload.
pub const MB: f64 = 1024.0 * 1024.0;

/// Latencies at microsecond resolution, up to 10 minutes, 3 significant digits.
#[derive(Debug, Clone)]
pub struct Latency {
    hist: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            hist: Histogram::new_with_bounds(1, 600_000_000, 3)
                .expect("constant histogram bounds are valid"),
        }
    }
}

impl Latency {
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.hist.saturating_record(micros.max(1));
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    pub fn add(&mut self, other: &Latency) {
        self.hist
            .add(&other.hist)
            .expect("histograms of the same bounds always add");
    }

    pub fn reset(&mut self) {
        self.hist.reset();
    }

    /// The summary in milliseconds; all zero when nothing was recorded.
    pub fn summary(&self) -> LatencySummary {
        if self.hist.is_empty() {
            return LatencySummary::default();
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        LatencySummary {
            avg: self.hist.mean() / 1000.0,
            p50: ms(self.hist.value_at_quantile(0.50)),
            p95: ms(self.hist.value_at_quantile(0.95)),
            p99: ms(self.hist.value_at_quantile(0.99)),
            p999: ms(self.hist.value_at_quantile(0.999)),
            max: ms(self.hist.max()),
        }
    }
}

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub avg: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// Events per second; zero for an empty interval.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

/// What one producer run did: counts, bytes, latency, and its settings.
#[derive(Debug, Clone, Default)]
pub struct RunTotals {
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub delivered_bytes: u64,
    pub latency: Latency,
    /// Failures by error text.
    pub errors: BTreeMap<String, u64>,
    pub first_send: Option<Instant>,
    pub last_report: Option<Instant>,
}

impl RunTotals {
    pub fn in_flight(&self) -> u64 {
        self.sent.saturating_sub(self.delivered + self.failed)
    }

    /// From the first send to the last delivery report.
    pub fn elapsed(&self) -> Duration {
        match (self.first_send, self.last_report) {
            (Some(first), Some(last)) => last.saturating_duration_since(first),
            _ => Duration::ZERO,
        }
    }
}

/// What happened between two snapshots of a running client.
#[derive(Debug, Clone, Default)]
pub struct Interval {
    pub duration: Duration,
    pub count: u64,
    pub bytes: u64,
    pub latency: Latency,
}

/// Figures over the last few seconds, kept as a ring of per-tick intervals.
#[derive(Debug, Clone)]
pub struct Window {
    intervals: std::collections::VecDeque<Interval>,
    capacity: usize,
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
            intervals: std::collections::VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&mut self, interval: Interval) {
        if self.intervals.len() == self.capacity {
            self.intervals.pop_front();
        }
        self.intervals.push_back(interval);
    }

    pub fn clear(&mut self) {
        self.intervals.clear();
    }

    pub fn figures(&self) -> WindowFigures {
        let span: Duration = self.intervals.iter().map(|i| i.duration).sum();
        let count = self.intervals.iter().map(|i| i.count).sum();
        let bytes = self.intervals.iter().map(|i| i.bytes).sum();
        let mut latency = Latency::default();
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

/// A bench result: the figures of `kafka-producer-perf-test`, and the same as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Records acknowledged by the cluster.
    pub records: u64,
    pub sent: u64,
    pub failed: u64,
    pub bytes: u64,
    pub duration_s: f64,
    pub records_per_sec: f64,
    pub mb_per_sec: f64,
    pub latency_ms: LatencySummary,
    pub settings: BTreeMap<String, String>,
}

impl BenchReport {
    /// `elapsed` runs from the first send to the last delivery report.
    pub fn new(totals: &RunTotals, elapsed: Duration, settings: BTreeMap<String, String>) -> Self {
        BenchReport {
            records: totals.delivered,
            sent: totals.sent,
            failed: totals.failed,
            bytes: totals.delivered_bytes,
            duration_s: elapsed.as_secs_f64(),
            records_per_sec: per_second(totals.delivered, elapsed),
            mb_per_sec: per_second(totals.delivered_bytes, elapsed) / MB,
            latency_ms: totals.latency.summary(),
            settings,
        }
    }

    /// The summary line in the words of kafka-producer-perf-test.
    pub fn perf_test_line(&self) -> String {
        let l = &self.latency_ms;
        let mut line = format!(
            "{} records sent, {:.1} records/sec ({:.2} MB/sec), {:.2} ms avg latency, {:.2} ms max latency, \
             {:.2} ms 50th, {:.2} ms 95th, {:.2} ms 99th, {:.2} ms 99.9th.",
            self.records, self.records_per_sec, self.mb_per_sec, l.avg, l.max, l.p50, l.p95, l.p99, l.p999
        );
        if self.failed > 0 {
            line.push_str(&format!(" {} records failed.", self.failed));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut l = Latency::default();
        for ms in 1..=1000u64 {
            l.record(Duration::from_millis(ms));
        }
        let s = l.summary();
        let close = |a: f64, b: f64| (a - b).abs() <= b * 0.002 + 0.001;
        assert!(close(s.avg, 500.5), "{s:?}");
        assert!(close(s.p50, 500.0), "{s:?}");
        assert!(close(s.p95, 950.0), "{s:?}");
        assert!(close(s.p99, 990.0), "{s:?}");
        assert!(close(s.p999, 999.0), "{s:?}");
        assert!(close(s.max, 1000.0), "{s:?}");
        assert_eq!(l.count(), 1000);
    }

    #[test]
    fn microsecond_resolution_and_empty_histograms() {
        assert_eq!(Latency::default().summary(), LatencySummary::default());
        let mut l = Latency::default();
        l.record(Duration::from_micros(250));
        assert_eq!(l.summary().max, 0.25);
        // Below a microsecond still counts as one record.
        l.record(Duration::from_nanos(10));
        assert_eq!(l.count(), 2);
    }

    #[test]
    fn window_keeps_only_the_last_intervals() {
        let mut w = Window::new(4);
        assert_eq!(w.figures(), WindowFigures::default());
        for n in 1..=6u64 {
            let mut latency = Latency::default();
            latency.record(Duration::from_millis(n));
            w.push(Interval {
                duration: Duration::from_millis(250),
                count: n * 10,
                bytes: n * 1024 * 1024,
                latency,
            });
        }
        // Intervals 3..=6 remain: 180 records and 18 MB over one second.
        let f = w.figures();
        assert_eq!(f.per_sec, 180.0);
        assert_eq!(f.mb_per_sec, 18.0);
        assert_eq!(f.span_s, 1.0);
        assert_eq!(f.latency.max, 6.0);
        assert_eq!(f.latency.p50, 4.0);
        w.clear();
        assert_eq!(w.figures().per_sec, 0.0);
    }

    #[test]
    fn rates_and_report_line() {
        assert_eq!(per_second(500, Duration::from_millis(250)), 2000.0);
        assert_eq!(per_second(5, Duration::ZERO), 0.0);
        let mut t = RunTotals {
            sent: 1000,
            delivered: 998,
            failed: 2,
            delivered_bytes: 2 * 1024 * 1024,
            ..RunTotals::default()
        };
        t.latency.record(Duration::from_millis(4));
        let r = BenchReport::new(&t, Duration::from_secs(2), BTreeMap::new());
        assert_eq!(r.records_per_sec, 499.0);
        assert_eq!(r.mb_per_sec, 1.0);
        let line = r.perf_test_line();
        assert!(
            line.starts_with("998 records sent, 499.0 records/sec (1.00 MB/sec), 4.00 ms avg latency, 4.00 ms max latency"),
            "{line}"
        );
        assert!(line.ends_with("2 records failed."), "{line}");
        assert_eq!(t.in_flight(), 0);
        let json = serde_json::to_value(&r).unwrap();
        for field in [
            "records",
            "records_per_sec",
            "mb_per_sec",
            "latency_ms",
            "settings",
        ] {
            assert!(json.get(field).is_some(), "{field}");
        }
        assert!(json["latency_ms"].get("p999").is_some());
    }
}
