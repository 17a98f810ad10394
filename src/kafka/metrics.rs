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
    /// Delivered records per partition: how the key and partitioner spread them.
    pub by_partition: BTreeMap<i32, u64>,
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

/// Figures from librdkafka's statistics, summed over a run.
#[derive(Debug, Clone, Default)]
pub struct BatchStats {
    batch_records: i64,
    batch_bytes: i64,
    batches: i64,
    first_requests: Option<(Instant, i64)>,
    last_requests: Option<(Instant, i64)>,
    /// Requests the client sent again (librdkafka's txretries), as of the last statistics.
    pub retries: Option<u64>,
}

impl BatchStats {
    /// One statistics window of the topic: sums and count of its batches.
    pub fn add_window(&mut self, records_sum: i64, bytes_sum: i64, batches: i64) {
        self.batch_records += records_sum;
        self.batch_bytes += bytes_sum;
        self.batches += batches;
    }

    /// The client's total of produce requests so far, at `at`.
    pub fn requests(&mut self, at: Instant, total: i64) {
        if self.first_requests.is_none() {
            self.first_requests = Some((at, total));
        }
        self.last_requests = Some((at, total));
    }

    pub fn avg_batch_records(&self) -> Option<f64> {
        (self.batches > 0).then(|| self.batch_records as f64 / self.batches as f64)
    }

    pub fn avg_batch_bytes(&self) -> Option<f64> {
        (self.batches > 0).then(|| self.batch_bytes as f64 / self.batches as f64)
    }

    /// Produce requests per second between the first and the last statistics.
    pub fn requests_per_sec(&self) -> Option<f64> {
        let ((t0, n0), (t1, n1)) = (self.first_requests?, self.last_requests?);
        let span = t1.saturating_duration_since(t0);
        (!span.is_zero()).then(|| per_second((n1 - n0).max(0) as u64, span))
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

/// What the consumers got back of a run: by the sequence number in each record's header.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Accounting {
    /// Acknowledged records found in the topic.
    pub received: u64,
    /// Acknowledged records not found.
    pub missing: u64,
    /// Extra copies of records found more than once.
    pub duplicated: u64,
    /// Records reported failed that are in the topic all the same.
    pub failed_but_written: u64,
    /// Acknowledged records that could not be checked: the cluster had already deleted the
    /// oldest offsets of their partition (retention).
    pub unchecked: u64,
    pub per_partition: BTreeMap<i32, PartitionAccount>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PartitionAccount {
    pub acknowledged: u64,
    pub received: u64,
    pub missing: u64,
    pub duplicated: u64,
    /// Set when the partition no longer starts at the run's first offset: offsets below this
    /// were deleted by the cluster, so records not found are unchecked, not missing.
    pub deleted_below: Option<i64>,
}

/// One producer run: its settings and figures. `bench --json`, `bench --sweep` and the
/// dashboard's runs table (and its export) all use this shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunReport {
    pub run: u32,
    /// librdkafka property names and values, and the run's own (rate, key, record_size, ...).
    pub settings: BTreeMap<String, String>,
    /// Seconds at the start of the run kept out of the figures.
    pub warmup_s: f64,
    /// Seconds the figures cover.
    pub duration_s: f64,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    /// Records delivered within the measured span (all of them when there is no warm-up).
    pub records: u64,
    pub bytes: u64,
    pub records_per_sec: f64,
    pub mb_per_sec: f64,
    pub latency_ms: LatencySummary,
    pub avg_batch_records: Option<f64>,
    pub avg_batch_bytes: Option<f64>,
    pub requests_per_sec: Option<f64>,
    /// Produce requests sent again after an error or timeout.
    pub retries: Option<u64>,
    pub errors: BTreeMap<String, u64>,
    pub accounting: Option<Accounting>,
}

impl RunReport {
    /// A run measured whole: `elapsed` runs from the first send to the last delivery report.
    pub fn whole(
        totals: &RunTotals,
        elapsed: Duration,
        settings: BTreeMap<String, String>,
    ) -> Self {
        RunReport {
            settings,
            duration_s: elapsed.as_secs_f64(),
            sent: totals.sent,
            delivered: totals.delivered,
            failed: totals.failed,
            records: totals.delivered,
            bytes: totals.delivered_bytes,
            records_per_sec: per_second(totals.delivered, elapsed),
            mb_per_sec: per_second(totals.delivered_bytes, elapsed) / MB,
            latency_ms: totals.latency.summary(),
            errors: totals.errors.clone(),
            ..RunReport::default()
        }
    }

    /// A run measured after its warm-up.
    pub fn measured(
        run: u32,
        totals: &RunTotals,
        meter: &RunMeter,
        settings: BTreeMap<String, String>,
    ) -> Self {
        let m = meter.measured();
        RunReport {
            run,
            settings,
            warmup_s: meter.warmup().as_secs_f64(),
            duration_s: m.duration.as_secs_f64(),
            sent: totals.sent,
            delivered: totals.delivered,
            failed: totals.failed,
            records: m.count,
            bytes: m.bytes,
            records_per_sec: per_second(m.count, m.duration),
            mb_per_sec: per_second(m.bytes, m.duration) / MB,
            latency_ms: m.latency.summary(),
            errors: totals.errors.clone(),
            ..RunReport::default()
        }
    }

    pub fn with_batches(mut self, stats: &BatchStats) -> Self {
        self.avg_batch_records = stats.avg_batch_records();
        self.avg_batch_bytes = stats.avg_batch_bytes();
        self.requests_per_sec = stats.requests_per_sec();
        self.retries = stats.retries;
        self
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

    /// The settings that differ from `defaults`, as `k=v` pairs.
    pub fn settings_diff(&self, defaults: &BTreeMap<String, String>) -> String {
        let diff: Vec<String> = self
            .settings
            .iter()
            .filter(|(k, v)| defaults.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if diff.is_empty() {
            "defaults".to_string()
        } else {
            diff.join(" ")
        }
    }

    pub const CSV_HEADER: &'static str = "run,settings,warmup_s,duration_s,sent,delivered,failed,records,bytes,records_per_sec,mb_per_sec,latency_avg_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms,latency_p999_ms,latency_max_ms,avg_batch_records,avg_batch_bytes,requests_per_sec,received,missing,duplicated";

    /// A CSV file of `runs`: the header, then one row each.
    pub fn csv(runs: &[RunReport]) -> String {
        let mut text = format!("{}\n", RunReport::CSV_HEADER);
        for r in runs {
            text.push_str(&r.csv_row());
            text.push('\n');
        }
        text
    }

    /// One CSV row, in the order of [`RunReport::CSV_HEADER`]; settings as `k=v;k=v`.
    pub fn csv_row(&self) -> String {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
        let settings: Vec<String> = self
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let acc = self.accounting.as_ref();
        let count = |f: fn(&Accounting) -> u64| acc.map_or(String::new(), |a| f(a).to_string());
        let l = &self.latency_ms;
        format!(
            "{},\"{}\",{:.3},{:.3},{},{},{},{},{},{:.3},{:.6},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{},{},{},{},{},{}",
            self.run,
            settings.join(";").replace('"', "\"\""),
            self.warmup_s,
            self.duration_s,
            self.sent,
            self.delivered,
            self.failed,
            self.records,
            self.bytes,
            self.records_per_sec,
            self.mb_per_sec,
            l.avg,
            l.p50,
            l.p95,
            l.p99,
            l.p999,
            l.max,
            opt(self.avg_batch_records),
            opt(self.avg_batch_bytes),
            opt(self.requests_per_sec),
            count(|a| a.received),
            count(|a| a.missing),
            count(|a| a.duplicated),
        )
    }
}

/// Columns of the runs table that have a best value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    RecordsPerSec,
    MbPerSec,
    Avg,
    P50,
    P95,
    P99,
    P999,
    Max,
    AvgBatch,
    Failed,
    Missing,
    Duplicated,
}

impl Column {
    /// The value of this column for a row, and whether higher is better.
    pub fn value(self, r: &RunReport) -> Option<(f64, bool)> {
        let l = &r.latency_ms;
        let has_latency = r.records > 0;
        let acc = r.accounting.as_ref();
        match self {
            Column::RecordsPerSec => Some((r.records_per_sec, true)),
            Column::MbPerSec => Some((r.mb_per_sec, true)),
            Column::Avg => has_latency.then_some((l.avg, false)),
            Column::P50 => has_latency.then_some((l.p50, false)),
            Column::P95 => has_latency.then_some((l.p95, false)),
            Column::P99 => has_latency.then_some((l.p99, false)),
            Column::P999 => has_latency.then_some((l.p999, false)),
            Column::Max => has_latency.then_some((l.max, false)),
            Column::AvgBatch => r.avg_batch_records.map(|v| (v, true)),
            Column::Failed => Some((r.failed as f64, false)),
            Column::Missing => acc.map(|a| (a.missing as f64, false)),
            Column::Duplicated => acc.map(|a| (a.duplicated as f64, false)),
        }
    }
}

/// The index of the row with the best value in `column`, if any row has one. Ties go to the
/// earlier run.
pub fn best_row(rows: &[RunReport], column: Column) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, r) in rows.iter().enumerate() {
        let Some((v, higher)) = column.value(r) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, b)) => {
                if higher {
                    v > b
                } else {
                    v < b
                }
            }
        };
        if better {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
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
        // Histogram buckets round up by less than 0.1 % at 3 significant digits.
        assert!((f.latency.max - 6.0).abs() < 0.01, "{f:?}");
        assert!((f.latency.p50 - 4.0).abs() < 0.01, "{f:?}");
        w.clear();
        assert_eq!(w.figures().per_sec, 0.0);
    }

    fn interval(ms: u64, count: u64, latency_ms: u64) -> Interval {
        let mut latency = Latency::default();
        for _ in 0..count {
            latency.record(Duration::from_millis(latency_ms));
        }
        Interval {
            duration: Duration::from_millis(ms),
            count,
            bytes: count * 100,
            latency,
        }
    }

    #[test]
    fn warmup_is_kept_out_of_a_runs_figures() {
        let mut meter = RunMeter::new(Duration::from_secs(1));
        // The first second: slow and sparse (connecting), then steady.
        for _ in 0..4 {
            meter.add(&interval(250, 5, 90));
        }
        for _ in 0..8 {
            meter.add(&interval(250, 100, 4));
        }
        let totals = RunTotals {
            sent: 820,
            delivered: 820,
            ..RunTotals::default()
        };
        let r = RunReport::measured(3, &totals, &meter, BTreeMap::new());
        assert_eq!(r.warmup_s, 1.0);
        assert_eq!(r.duration_s, 2.0);
        assert_eq!(r.records, 800);
        assert_eq!(r.delivered, 820);
        assert_eq!(r.records_per_sec, 400.0);
        assert!(
            (r.latency_ms.max - 4.0).abs() < 0.01,
            "the 90 ms warm-up latencies are left out: {:?}",
            r.latency_ms
        );
        assert!((r.records_per_sec * r.duration_s - r.records as f64).abs() < 1e-9);
    }

    #[test]
    fn best_values_per_column() {
        let row = |rate: f64, p99: f64, records: u64| RunReport {
            records_per_sec: rate,
            records,
            latency_ms: LatencySummary {
                p99,
                ..LatencySummary::default()
            },
            ..RunReport::default()
        };
        let rows = [row(100.0, 9.0, 10), row(300.0, 4.0, 10), row(300.0, 2.0, 0)];
        assert_eq!(
            best_row(&rows, Column::RecordsPerSec),
            Some(1),
            "ties: earlier run"
        );
        // A run without deliveries has no latency to be best at.
        assert_eq!(best_row(&rows, Column::P99), Some(1));
        assert_eq!(best_row(&rows, Column::AvgBatch), None);
        assert_eq!(best_row(&[], Column::Max), None);
    }

    #[test]
    fn batch_statistics_sum_over_windows() {
        let mut b = BatchStats::default();
        assert_eq!(b.avg_batch_records(), None);
        b.add_window(100, 40_000, 10);
        b.add_window(300, 120_000, 10);
        assert_eq!(b.avg_batch_records(), Some(20.0));
        assert_eq!(b.avg_batch_bytes(), Some(8000.0));
        let t = Instant::now();
        b.requests(t, 10);
        assert_eq!(b.requests_per_sec(), None);
        b.requests(t + Duration::from_secs(2), 50);
        assert_eq!(b.requests_per_sec(), Some(20.0));
    }

    #[test]
    fn csv_rows_match_the_header_and_diff_names_changed_settings() {
        let mut settings = BTreeMap::new();
        settings.insert("acks".to_string(), "all".to_string());
        settings.insert("linger.ms".to_string(), "20".to_string());
        let r = RunReport {
            run: 2,
            settings,
            ..RunReport::default()
        };
        let header = RunReport::CSV_HEADER.split(',').count();
        assert_eq!(r.csv_row().matches(',').count() + 1, header);
        let mut defaults = BTreeMap::new();
        defaults.insert("acks".to_string(), "all".to_string());
        defaults.insert("linger.ms".to_string(), "5".to_string());
        assert_eq!(r.settings_diff(&defaults), "linger.ms=20");
        assert_eq!(
            RunReport {
                settings: defaults.clone(),
                ..RunReport::default()
            }
            .settings_diff(&defaults),
            "defaults"
        );
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
        let r = RunReport::whole(&t, Duration::from_secs(2), BTreeMap::new());
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
