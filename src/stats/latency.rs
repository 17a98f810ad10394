use std::cell::RefCell;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Values a [`Latency`] keeps as they came before it takes a histogram: 8 KB, against a
/// histogram's 170 KB. A member's window holds 20 intervals of a few records each; at 1,000
/// records/s split over 32 members every one of them stays this small.
const FEW: usize = 1024;

/// The histogram every latency uses: microseconds, up to 10 minutes, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant histogram bounds are valid")
}

thread_local! {
    /// Where a few values are summed up: the same histogram, so that the figures are the
    /// same whichever way they were kept.
    static SCRATCH: RefCell<Histogram<u64>> = RefCell::new(histogram());
}

#[derive(Debug, Clone)]
enum Store {
    /// Microseconds as recorded (at least 1), until there are [`FEW`] of them.
    Few(Vec<u64>),
    Hist(Box<Histogram<u64>>),
}

/// Latencies at microsecond resolution, up to 10 minutes, 3 significant digits.
#[derive(Debug, Clone)]
pub struct Latency {
    store: Store,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            store: Store::Few(Vec::new()),
        }
    }
}

impl Latency {
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.record_micros(micros.max(1), 1);
    }

    fn record_micros(&mut self, micros: u64, n: u64) {
        if let Store::Few(values) = &mut self.store {
            if n <= (FEW - values.len()) as u64 {
                values.extend(std::iter::repeat_n(
                    micros,
                    usize::try_from(n).unwrap_or(FEW),
                ));
                return;
            }
        }
        self.hist().saturating_record_n(micros, n);
    }

    /// The histogram, taken now if it was not yet (with the values kept so far).
    fn hist(&mut self) -> &mut Histogram<u64> {
        if let Store::Few(values) = &self.store {
            let mut h = histogram();
            for v in values {
                h.saturating_record(*v);
            }
            self.store = Store::Hist(Box::new(h));
        }
        match &mut self.store {
            Store::Hist(h) => h,
            Store::Few(_) => unreachable!("the histogram was just taken"),
        }
    }

    /// `f` of the values as a histogram: this one's, or the thread's scratch one filled with
    /// the few values kept.
    fn with_hist<T>(&self, f: impl FnOnce(&Histogram<u64>) -> T) -> T {
        match &self.store {
            Store::Hist(h) => f(h),
            Store::Few(values) => SCRATCH.with(|scratch| {
                let mut h = scratch.borrow_mut();
                h.reset();
                for v in values {
                    h.saturating_record(*v);
                }
                f(&h)
            }),
        }
    }

    pub fn count(&self) -> u64 {
        match &self.store {
            Store::Few(values) => values.len() as u64,
            Store::Hist(h) => h.len(),
        }
    }

    pub fn add(&mut self, other: &Latency) {
        match &other.store {
            Store::Few(values) => {
                for v in values {
                    self.record_micros(*v, 1);
                }
            }
            Store::Hist(h) => self
                .hist()
                .add(h.as_ref())
                .expect("histograms of the same bounds always add"),
        }
    }

    /// The recorded values as (microseconds, count), one pair per bucket in use: a compact
    /// copy to send across threads (a histogram is 170 KB; a few seconds of records use a
    /// few hundred buckets).
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        self.with_hist(|h| {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect()
        })
    }

    /// Adds what [`Latency::buckets`] gave.
    pub fn add_buckets(&mut self, buckets: &[(u64, u64)]) {
        for (micros, count) in buckets {
            self.record_micros((*micros).max(1), *count);
        }
    }

    /// Forgets every value, keeping the memory (a histogram taken stays: a busy interval
    /// reused is busy again).
    pub fn reset(&mut self) {
        match &mut self.store {
            Store::Few(values) => values.clear(),
            Store::Hist(h) => h.reset(),
        }
    }

    /// Becomes a copy of `other` in the memory it has.
    pub fn copy_from(&mut self, other: &Latency) {
        self.reset();
        self.add(other);
    }

    /// The summary in milliseconds; all zero when nothing was recorded.
    pub fn summary(&self) -> LatencySummary {
        if self.count() == 0 {
            return LatencySummary::default();
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        self.with_hist(|h| LatencySummary {
            avg: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.50)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        })
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

    /// Kept as a few values or as a histogram, the figures are the same.
    #[test]
    fn a_few_values_and_a_histogram_give_the_same_figures() {
        let mut few = Latency::default();
        for us in [3u64, 70, 70, 1_500, 250_000, 700_000_000] {
            few.record(Duration::from_micros(us));
        }
        let mut big = few.clone();
        big.hist();
        assert!(matches!(few.store, Store::Few(_)) && matches!(big.store, Store::Hist(_)));
        assert_eq!(few.summary(), big.summary());
        assert_eq!(few.buckets(), big.buckets());
        assert_eq!(few.count(), 6);
        // Past FEW values it takes the histogram, and loses none.
        for i in 0..FEW as u64 {
            few.record(Duration::from_micros(i + 1));
        }
        assert!(matches!(few.store, Store::Hist(_)));
        assert_eq!(few.count(), 6 + FEW as u64);
        let mut sum = Latency::default();
        sum.add(&big);
        sum.add_buckets(&[(10, 5_000)]);
        assert_eq!(sum.count(), 5_006);
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
