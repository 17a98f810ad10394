//! A producer run's totals as it goes, and its report when it ends.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{
    per_second, Accounting, BatchStats, Latency, LatencySummary, RunMeter, StageLatency, MB,
};

/// What one producer run did: counts, bytes, latency, and its settings.
#[derive(Debug, Clone, Default)]
pub struct RunTotals {
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    /// Records given up on at the end without an answer (purged): never delivered or failed.
    pub undelivered: u64,
    /// Of those, the ones already sent to a broker: it may have written them.
    pub undelivered_in_flight: u64,
    pub delivered_bytes: u64,
    pub latency: Latency,
    /// For paced runs: from when each record was due, not when it was sent.
    pub latency_intended: Latency,
    /// Failures by error text.
    pub errors: BTreeMap<String, u64>,
    pub first_send: Option<Instant>,
    pub last_report: Option<Instant>,
    /// Delivered records (and their bytes) sent within the warm-up: in `delivered`, not in
    /// the latency histograms.
    pub warmup_delivered: u64,
    pub warmup_bytes: u64,
    /// When the first record after the warm-up was sent.
    pub measure_from: Option<Instant>,
    /// Delivered records per partition: how the key and partitioner spread them.
    pub by_partition: BTreeMap<i32, u64>,
}

impl RunTotals {
    /// Becomes a copy of `other`, its histograms copied into the memory they have: for a
    /// thread that copies the totals at every tick (see [`crate::stats::Window::push`]).
    pub fn copy_from(&mut self, other: &RunTotals) {
        self.sent = other.sent;
        self.delivered = other.delivered;
        self.failed = other.failed;
        self.undelivered = other.undelivered;
        self.undelivered_in_flight = other.undelivered_in_flight;
        self.delivered_bytes = other.delivered_bytes;
        self.latency.copy_from(&other.latency);
        self.latency_intended.copy_from(&other.latency_intended);
        self.errors.clone_from(&other.errors);
        self.first_send = other.first_send;
        self.last_report = other.last_report;
        self.warmup_delivered = other.warmup_delivered;
        self.warmup_bytes = other.warmup_bytes;
        self.measure_from = other.measure_from;
        self.by_partition.clone_from(&other.by_partition);
    }

    /// Records sent whose report has not arrived.
    pub fn in_flight(&self) -> u64 {
        self.sent
            .saturating_sub(self.delivered + self.failed + self.undelivered)
    }

    /// From the first send to the last delivery report.
    pub fn elapsed(&self) -> Duration {
        match (self.first_send, self.last_report) {
            (Some(first), Some(last)) => last.saturating_duration_since(first),
            _ => Duration::ZERO,
        }
    }
}

/// One producer run: its settings and figures. `bench --json`, `bench --sweep` and the
/// dashboard's runs table (and its export) all use this shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunReport {
    pub run: u32,
    /// The topic written to.
    pub topic: String,
    /// When the run began, RFC 3339 in UTC (`2026-11-25T22:05:03Z`).
    pub started_at: String,
    /// librdkafka property names and values, and the run's own (rate, key, `record_size`, ...).
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
    /// A paced run's latency from each record's intended send time (the pace), not from
    /// when it was sent: the gap to `latency_ms` is time spent waiting behind earlier records.
    pub latency_intended_ms: Option<LatencySummary>,
    pub avg_batch_records: Option<f64>,
    pub avg_batch_bytes: Option<f64>,
    pub requests_per_sec: Option<f64>,
    /// Produce requests sent again after an error or timeout.
    pub retries: Option<u64>,
    /// Where the time went, by librdkafka's statistics (queue, send, broker).
    pub stages_ms: Option<StageLatency>,
    pub errors: BTreeMap<String, u64>,
    pub accounting: Option<Accounting>,
    /// Faults injected into the cluster while the run went on (what, and when).
    pub faults: Vec<String>,
    /// A run sent in transactions (`bench --transactional`, the settings' transactions):
    /// their count and times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<TxnFigures>,
}

/// A transactional run's transactions: how many committed, of how many records, how long the
/// commit call took and how long each was open (its first send to its commit), in ms.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TxnFigures {
    pub records_per_txn: u64,
    /// Every this-many-th transaction aborted on purpose (0: none).
    pub abort_every: u64,
    pub begun: u64,
    pub committed: u64,
    pub aborted: u64,
    /// Transactions whose commit failed: aborted, none of their records expected.
    pub failed: u64,
    pub commit_p50_ms: f64,
    pub commit_p99_ms: f64,
    pub open_p50_ms: f64,
    pub open_p99_ms: f64,
    /// The producer's `transactional.id` (the dashboard shows it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactional_id: Option<String>,
}

impl TxnFigures {
    /// From each transaction's commit call and open time.
    pub fn of(records_per_txn: u64, commits: &[Duration], open: &[Duration]) -> TxnFigures {
        let at = |d: &[Duration], q: f64| {
            let mut ms: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
            ms.sort_by(f64::total_cmp);
            ms.get(((ms.len() as f64 - 1.0).max(0.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        TxnFigures {
            records_per_txn,
            abort_every: 0,
            begun: commits.len() as u64,
            committed: commits.len() as u64,
            aborted: 0,
            failed: 0,
            commit_p50_ms: at(commits, 0.5),
            commit_p99_ms: at(commits, 0.99),
            open_p50_ms: at(open, 0.5),
            open_p99_ms: at(open, 0.99),
            transactional_id: None,
        }
    }

    /// The line `bench` prints under its summary.
    pub fn line(&self) -> String {
        format!(
            "transactions: {} committed of {} records each; commit p50 {:.2} ms, p99 {:.2} ms \
             (after its records' acknowledgements); open from first send to commit p50 {:.2} ms, \
             p99 {:.2} ms.",
            self.committed,
            self.records_per_txn,
            self.commit_p50_ms,
            self.commit_p99_ms,
            self.open_p50_ms,
            self.open_p99_ms
        )
    }
}

impl RunReport {
    /// A run measured whole: `elapsed` runs from the first send to the last delivery report.
    pub fn whole(
        totals: &RunTotals,
        elapsed: Duration,
        settings: BTreeMap<String, String>,
    ) -> Self {
        // With a warm-up (bench): from the first record after it to the last report.
        let (records, bytes, elapsed, warmup) = match (totals.measure_from, totals.first_send) {
            (Some(from), Some(first)) if totals.warmup_delivered > 0 => (
                totals.delivered - totals.warmup_delivered,
                totals.delivered_bytes - totals.warmup_bytes,
                totals
                    .last_report
                    .map_or(Duration::ZERO, |last| last.saturating_duration_since(from)),
                from.saturating_duration_since(first),
            ),
            // Stopped within the warm-up: nothing was measured.
            _ if totals.warmup_delivered > 0 => (0, 0, Duration::ZERO, elapsed),
            _ => (
                totals.delivered,
                totals.delivered_bytes,
                elapsed,
                Duration::ZERO,
            ),
        };
        RunReport {
            settings,
            warmup_s: warmup.as_secs_f64(),
            duration_s: elapsed.as_secs_f64(),
            sent: totals.sent,
            delivered: totals.delivered,
            failed: totals.failed,
            records,
            bytes,
            records_per_sec: per_second(records, elapsed),
            mb_per_sec: per_second(bytes, elapsed) / MB,
            latency_ms: totals.latency.summary(),
            latency_intended_ms: (totals.latency_intended.count() > 0)
                .then(|| totals.latency_intended.summary()),
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
        // A run stopped within its warm-up: its figures are the whole run's, not zeros.
        if m.count == 0 && totals.delivered > 0 {
            return RunReport {
                run,
                ..RunReport::whole(totals, totals.elapsed(), settings)
            };
        }
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
            // Over the whole run (the warm-up too): the backlog starts with the first record.
            latency_intended_ms: (totals.latency_intended.count() > 0)
                .then(|| totals.latency_intended.summary()),
            errors: totals.errors.clone(),
            ..RunReport::default()
        }
    }

    /// The run wrote to `topic` and began at `started`.
    pub fn on(mut self, topic: &str, started: std::time::SystemTime) -> Self {
        self.topic = topic.to_string();
        self.started_at = humantime::format_rfc3339_seconds(started).to_string();
        self
    }

    #[must_use]
    pub fn with_transactions(mut self, transactions: Option<TxnFigures>) -> RunReport {
        self.transactions = transactions;
        self
    }

    pub fn with_batches(mut self, stats: &BatchStats) -> Self {
        self.avg_batch_records = stats.avg_batch_records();
        self.avg_batch_bytes = stats.avg_batch_bytes();
        self.requests_per_sec = stats.requests_per_sec();
        self.retries = stats.retries;
        self.stages_ms = stats.stages();
        self
    }

    /// The summary line in the words of kafka-producer-perf-test.
    pub fn perf_test_line(&self) -> String {
        let l = &self.latency_ms;
        // Nothing measured: no rate or latency to give, and zeros would read as figures.
        if self.records == 0 {
            let why = if self.delivered == 0 {
                "no record was delivered".to_string()
            } else {
                format!(
                    "the run ended within its warm-up, which left out all {} delivered (--warmup 0 \
                     keeps them)",
                    self.delivered
                )
            };
            return format!(
                "{} records sent, {} delivered, {} failed: no rate or latency measured: {why}.",
                self.sent, self.delivered, self.failed
            );
        }
        // Sent, delivered and failed, named as the progress names them: a run where every
        // record failed reads "4000 records sent, 0 delivered, 4000 failed".
        format!(
            "{} records sent, {} delivered, {} failed: {:.1} records/sec ({:.2} MB/sec), \
             {:.2} ms avg latency, {:.2} ms max latency, {:.2} ms 50th, {:.2} ms 95th, \
             {:.2} ms 99th, {:.2} ms 99.9th.",
            self.sent,
            self.delivered,
            self.failed,
            self.records_per_sec,
            self.mb_per_sec,
            l.avg,
            l.max,
            l.p50,
            l.p95,
            l.p99,
            l.p999
        )
    }

    /// What the figures above left out at the start of the run, when anything.
    pub fn warmup_line(&self) -> Option<String> {
        let left_out = self
            .delivered
            .checked_sub(self.records)
            .filter(|n| *n > 0)?;
        Some(format!(
            "warm-up: the first {} ({:.2} s) are left out of the rate and latency above \
             (--warmup; all are in delivered and the read-back).",
            crate::text::count(left_out, "record", "records"),
            self.warmup_s
        ))
    }

    /// For a paced run: its latency from the intended send times, and how much of it was
    /// waiting behind earlier records (the backlog).
    pub fn intended_line(&self) -> Option<String> {
        let i = self.latency_intended_ms.as_ref()?;
        let l = &self.latency_ms;
        Some(format!(
            "from the intended send time (the pace): {:.2} ms avg, {:.2} ms 50th, {:.2} ms 99th, \
             {:.2} ms max; waiting behind earlier records added {:.2} ms at the 50th, {:.2} ms at the 99th.",
            i.avg,
            i.p50,
            i.p99,
            i.max,
            (i.p50 - l.p50).max(0.0),
            (i.p99 - l.p99).max(0.0)
        ))
    }

    /// The settings that differ from `defaults`, as `k=v` pairs.
    pub fn settings_diff(&self, defaults: &BTreeMap<String, String>) -> String {
        super::settings_diff(&self.settings, defaults)
    }

    /// A CSV file of `runs` (the columns of [`super::figures`]), without any secret (an
    /// error kept by text can quote one).
    pub fn csv(runs: &[RunReport]) -> String {
        crate::text::secrets::scrub(&super::figures::csv(runs)).into_owned()
    }

    /// `runs` as pretty JSON: what `bench --json` prints for each and the export writes;
    /// without any secret.
    pub fn json(runs: &[RunReport]) -> String {
        // A report is plain data: serialising it cannot fail.
        let json = serde_json::to_string_pretty(runs).unwrap_or_default();
        crate::text::secrets::scrub(&json).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stats::Interval;

    #[test]
    fn a_copy_in_place_equals_a_clone() {
        let mut from = RunTotals {
            sent: 9,
            delivered: 5,
            failed: 1,
            undelivered: 3,
            undelivered_in_flight: 2,
            delivered_bytes: 500,
            first_send: Some(Instant::now()),
            last_report: Some(Instant::now()),
            warmup_delivered: 2,
            warmup_bytes: 200,
            measure_from: Some(Instant::now()),
            ..RunTotals::default()
        };
        from.latency.record(Duration::from_millis(7));
        from.latency_intended.record(Duration::from_millis(70));
        from.errors.insert("Broker: timed out".into(), 1);
        from.by_partition.insert(2, 5);
        // The target has figures of its own, which must all go.
        let mut to = RunTotals::default();
        to.latency.record(Duration::from_secs(3));
        to.latency_intended.record(Duration::from_secs(3));
        to.errors.insert("other".into(), 4);
        to.by_partition.insert(0, 8);
        to.copy_from(&from);
        // Every field named: a new one must be copied too.
        let RunTotals {
            sent,
            delivered,
            failed,
            undelivered,
            undelivered_in_flight,
            delivered_bytes,
            latency,
            latency_intended,
            errors,
            first_send,
            last_report,
            by_partition,
            warmup_delivered,
            warmup_bytes,
            measure_from,
        } = &to;
        assert_eq!(
            (
                *sent,
                *delivered,
                *failed,
                *undelivered,
                *undelivered_in_flight,
                *delivered_bytes
            ),
            (9, 5, 1, 3, 2, 500)
        );
        assert_eq!(latency.summary(), from.latency.summary());
        assert_eq!(latency.count(), 1);
        assert_eq!(latency_intended.summary(), from.latency_intended.summary());
        assert_eq!(errors, &from.errors);
        assert_eq!(
            (*first_send, *last_report),
            (from.first_send, from.last_report)
        );
        assert_eq!(by_partition, &from.by_partition);
        assert_eq!(
            (*warmup_delivered, *warmup_bytes, *measure_from),
            (2, 200, from.measure_from)
        );
    }

    /// A bench run with a warm-up: its records count as delivered, and the rate and span
    /// are those after it.
    #[test]
    fn a_warm_up_is_left_out_of_the_rate() {
        let first = Instant::now();
        let t = RunTotals {
            sent: 1000,
            delivered: 1000,
            delivered_bytes: 100_000,
            warmup_delivered: 100,
            warmup_bytes: 10_000,
            first_send: Some(first),
            measure_from: Some(first + Duration::from_millis(500)),
            last_report: Some(first + Duration::from_millis(2_300)),
            ..RunTotals::default()
        };
        let r = RunReport::whole(&t, t.elapsed(), BTreeMap::new());
        assert_eq!((r.delivered, r.records, r.bytes), (1000, 900, 90_000));
        assert!((r.warmup_s - 0.5).abs() < 1e-9 && (r.duration_s - 1.8).abs() < 1e-9);
        assert!((r.records_per_sec - 500.0).abs() < 1e-6);
        assert!(r
            .warmup_line()
            .unwrap()
            .contains("the first 100 records (0.50 s)"));
        // Stopped within it: nothing measured.
        let stopped = RunTotals {
            measure_from: None,
            ..t
        };
        let r = RunReport::whole(&stopped, stopped.elapsed(), BTreeMap::new());
        assert_eq!((r.records, r.records_per_sec), (0, 0.0));
        // Without one: the whole run.
        let whole = RunTotals {
            warmup_delivered: 0,
            warmup_bytes: 0,
            measure_from: None,
            ..RunTotals::default()
        };
        assert!(RunReport::whole(&whole, Duration::ZERO, BTreeMap::new())
            .warmup_line()
            .is_none());
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
    fn a_run_stopped_within_its_warmup_reports_the_whole_run() {
        let mut meter = RunMeter::new(Duration::from_secs(2));
        meter.add(&interval(250, 100, 4));
        let start = Instant::now();
        let mut latency = Latency::default();
        latency.record(Duration::from_millis(4));
        let totals = RunTotals {
            sent: 100,
            delivered: 100,
            delivered_bytes: 30_000,
            latency,
            first_send: Some(start),
            last_report: Some(start + Duration::from_millis(500)),
            ..RunTotals::default()
        };
        let r = RunReport::measured(5, &totals, &meter, BTreeMap::new());
        assert_eq!(r.run, 5);
        assert_eq!(r.warmup_s, 0.0);
        assert_eq!(r.records, 100);
        assert_eq!(r.records_per_sec, 200.0, "100 records in half a second");
        assert!((r.latency_ms.p50 - 4.0).abs() < 0.01, "{:?}", r.latency_ms);
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
        assert_eq!(
            crate::stats::figures::csv_row(&r).len(),
            crate::stats::figures::csv_header().len()
        );
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
    fn csv_reads_back_with_commas_and_quotes_in_values() {
        let mut settings = BTreeMap::new();
        settings.insert("client.id".to_string(), r#"a "quoted", value"#.to_string());
        settings.insert("linger.ms".to_string(), "5".to_string());
        let r = RunReport {
            run: 3,
            topic: "beers,\"ales\"".to_string(),
            settings,
            records_per_sec: 1234.5,
            ..RunReport::default()
        };
        let text = RunReport::csv(&[r.clone(), r]);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            crate::stats::figures::csv_header()
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        let field = |name: &str| {
            let i = crate::stats::figures::csv_header()
                .iter()
                .position(|h| *h == name)
                .unwrap();
            rows[0][i].to_string()
        };
        assert_eq!(field("run"), "3");
        assert_eq!(field("topic"), "beers,\"ales\"");
        assert_eq!(
            field("settings"),
            r#"client.id=a "quoted", value;linger.ms=5"#
        );
        assert_eq!(field("records_per_sec"), "1234.500");
    }

    /// A run with nothing measured has no rate or latency: it says why instead of zeros.
    #[test]
    fn a_run_with_nothing_measured_says_why() {
        let within = RunReport {
            sent: 392,
            delivered: 392,
            records: 0,
            ..RunReport::default()
        };
        assert_eq!(
            within.perf_test_line(),
            "392 records sent, 392 delivered, 0 failed: no rate or latency measured: the run \
             ended within its warm-up, which left out all 392 delivered (--warmup 0 keeps them)."
        );
        let failed = RunReport {
            sent: 40,
            failed: 40,
            ..RunReport::default()
        };
        let line = failed.perf_test_line();
        assert!(line.ends_with("no record was delivered."), "{line}");
        assert!(!line.contains("0.00 ms"), "{line}");
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
            line.starts_with("1000 records sent, 998 delivered, 2 failed: 499.0 records/sec (1.00 MB/sec), 4.00 ms avg latency, 4.00 ms max latency"),
            "{line}"
        );
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
