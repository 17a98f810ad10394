use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

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

    /// The recorded values as (microseconds, count), one pair per bucket in use: a compact
    /// copy to send across threads (a histogram is 170 KB; a few seconds of records use a
    /// few hundred buckets).
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        self.hist
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    }

    /// Adds what [`Latency::buckets`] gave.
    pub fn add_buckets(&mut self, buckets: &[(u64, u64)]) {
        for (micros, count) in buckets {
            self.hist.saturating_record_n((*micros).max(1), *count);
        }
    }

    /// Forgets every value, keeping the memory (a new one is 170 KB).
    pub fn reset(&mut self) {
        self.hist.reset();
    }

    /// Becomes a copy of `other` in the memory it has.
    pub fn copy_from(&mut self, other: &Latency) {
        self.reset();
        self.add(other);
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

impl LatencySummary {
    /// The names of [`LatencySummary::cells`], in order.
    pub const COLUMNS: [&'static str; 6] = ["avg", "p50", "p95", "p99", "p99.9", "max"];

    /// avg, p50, p95, p99, p99.9 and max in ms, two decimals: the columns of every table.
    pub fn cells(&self) -> [String; 6] {
        [self.avg, self.p50, self.p95, self.p99, self.p999, self.max].map(|v| format!("{v:.2}"))
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
    fn buckets_carry_the_distribution() {
        let mut l = Latency::default();
        for ms in 1..=1000u64 {
            l.record(Duration::from_millis(ms % 37 + 1));
        }
        let buckets = l.buckets();
        assert!(buckets.len() <= 37, "one pair per bucket in use");
        let mut copy = Latency::default();
        copy.add_buckets(&buckets);
        copy.add_buckets(&buckets);
        assert_eq!(copy.count(), 2000);
        assert_eq!(copy.summary().p50, l.summary().p50);
        assert_eq!(copy.summary().max, l.summary().max);
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
}
