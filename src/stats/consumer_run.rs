//! A consumer run: the group's figures between two changes of the consumer settings, as the
//! runs table, its CSV and its JSON show them. One table of columns makes all three.

use std::collections::BTreeMap;

use serde::Serialize;

use super::LatencySummary;
use crate::text::thousands;

/// The group's figures over one consumer run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConsumerRunReport {
    pub run: u32,
    /// The topic read.
    pub topic: String,
    /// When the run began, RFC 3339 in UTC.
    pub started_at: String,
    /// The consumer settings (librdkafka's and kafka-lab's own: commit, work).
    pub settings: BTreeMap<String, String>,
    /// Seconds from the run's start until its figures began: the members settling (a rejoin
    /// for new settings) and then the warm-up.
    pub warmup_s: f64,
    /// Seconds the figures cover.
    pub duration_s: f64,
    /// Members in the group at the end.
    pub members: usize,
    /// Records the members finished within the measured span.
    pub records: u64,
    pub records_per_sec: f64,
    /// Receive time minus each record's `CreateTime`, over the measured span.
    pub e2e_ms: Option<LatencySummary>,
    /// Fetch requests per second, summed over members, by librdkafka's statistics.
    pub fetch_requests_per_sec: Option<f64>,
    /// Rebalances since the run began (a rejoin for its settings is one).
    pub rebalances: u64,
    /// The longest a partition went without an owner in those rebalances.
    pub longest_unowned_s: Option<f64>,
    /// Records finished a second time, and committed but never finished, during the run.
    pub reprocessed: u64,
    pub skipped: u64,
    /// Records read again because a rewind moved the group back to them (by design).
    pub reread: u64,
    /// Members taken out of the group for exceeding `max.poll.interval.ms`.
    pub kicked: u64,
}

/// A column of the consumer runs table, the CSV and the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerColumn {
    Run,
    Changed,
    Secs,
    Records,
    RecordsPerSec,
    P50,
    P99,
    Fetches,
    Rebalances,
    Unowned,
    Reprocessed,
    Skipped,
    Reread,
    Kicked,
}

use ConsumerColumn as C;

impl ConsumerColumn {
    /// Table order.
    pub const ALL: [ConsumerColumn; 14] = [
        C::Run,
        C::Changed,
        C::Secs,
        C::Records,
        C::RecordsPerSec,
        C::P50,
        C::P99,
        C::Fetches,
        C::Rebalances,
        C::Unowned,
        C::Reprocessed,
        C::Skipped,
        C::Reread,
        C::Kicked,
    ];

    /// The order columns are kept in when the table does not fit: the last goes first.
    pub const PRIORITY: [ConsumerColumn; 14] = [
        C::Run,
        C::RecordsPerSec,
        C::P50,
        C::P99,
        C::Changed,
        C::Fetches,
        C::Reprocessed,
        C::Skipped,
        C::Unowned,
        C::Rebalances,
        C::Kicked,
        C::Reread,
        C::Records,
        C::Secs,
    ];

    pub fn header(self) -> &'static str {
        match self {
            C::Run => "run",
            C::Changed => "settings",
            C::Secs => "secs",
            C::Records => "records",
            C::RecordsPerSec => "rec/s",
            C::P50 => "e2e p50",
            C::P99 => "e2e p99",
            C::Fetches => "fetch/s",
            C::Rebalances => "rebal",
            C::Unowned => "unowned",
            C::Reprocessed => "reproc",
            C::Skipped => "skipped",
            C::Reread => "reread",
            C::Kicked => "kicked",
        }
    }

    /// What the column says, for the view's legend and the docs.
    pub fn about(self) -> &'static str {
        match self {
            C::Run => "the consumer run: each change of consumer settings begins one",
            C::Changed => "the consumer settings that differ from the first run's",
            C::Secs => "seconds the figures cover (after the members settled and the warm-up)",
            C::Records => "records the members finished",
            C::RecordsPerSec => "records finished per second, all members",
            C::P50 => "end-to-end latency (receive time - CreateTime), median, ms",
            C::P99 => "end-to-end latency, 99th percentile, ms",
            C::Fetches => "fetch requests per second, all members (librdkafka's statistics)",
            C::Rebalances => "rebalances since the run began",
            C::Unowned => "the longest a partition went unread in them, s",
            C::Reprocessed => "records finished a second time",
            C::Skipped => "records committed but never finished (lost to the application)",
            C::Reread => "records read again because a rewind moved the group back (by design)",
            C::Kicked => "members taken out for exceeding max.poll.interval.ms",
        }
    }

    /// The value, for the best row and the CSV: None when unknown (or not a figure).
    pub fn value(self, r: &ConsumerRunReport) -> Option<f64> {
        let e2e = |f: fn(&LatencySummary) -> f64| r.e2e_ms.as_ref().map(f);
        match self {
            C::Run | C::Changed => None,
            // Nothing measured yet: unknown, not 0.
            C::Secs => (r.duration_s > 0.0).then_some(r.duration_s),
            C::Records => Some(r.records as f64),
            C::RecordsPerSec => (r.duration_s > 0.0).then_some(r.records_per_sec),
            C::P50 => e2e(|l| l.p50),
            C::P99 => e2e(|l| l.p99),
            C::Fetches => r.fetch_requests_per_sec,
            C::Rebalances => Some(r.rebalances as f64),
            C::Unowned => r.longest_unowned_s,
            C::Reprocessed => Some(r.reprocessed as f64),
            C::Skipped => Some(r.skipped as f64),
            C::Reread => Some(r.reread as f64),
            C::Kicked => Some(r.kicked as f64),
        }
    }

    /// Whether higher is better, for the columns with a best row.
    pub fn higher_is_better(self) -> Option<bool> {
        match self {
            C::RecordsPerSec => Some(true),
            C::P50 | C::P99 | C::Fetches | C::Unowned | C::Reprocessed | C::Skipped => Some(false),
            _ => None,
        }
    }

    /// A count that should be zero: records lost to the application, members taken out.
    pub fn alarms(self, r: &ConsumerRunReport) -> bool {
        matches!(self, C::Skipped | C::Kicked) && self.value(r).is_some_and(|v| v > 0.0)
    }

    /// A value as the CSV writes it: counts whole, the rest to three decimals.
    fn csv_text(self, v: f64) -> String {
        match self {
            C::Records | C::Rebalances | C::Reprocessed | C::Skipped | C::Reread | C::Kicked => {
                format!("{v:.0}")
            }
            _ => format!("{v:.3}"),
        }
    }

    /// The cell's text (`-` when unknown); `live` marks the run going on.
    pub fn cell(
        self,
        r: &ConsumerRunReport,
        defaults: &BTreeMap<String, String>,
        live: bool,
    ) -> String {
        let Some(v) = self.value(r) else {
            return match self {
                C::Run => format!("{}{}", r.run, if live { "▶" } else { "" }),
                C::Changed => settings_diff(&r.settings, defaults),
                _ => super::figures::UNKNOWN.to_string(),
            };
        };
        match self {
            // A long fetch.wait.max.ms makes a fraction of a fetch a second.
            C::Fetches if v < 10.0 => format!("{v:.1}"),
            C::Secs | C::RecordsPerSec | C::Fetches => format!("{v:.0}"),
            C::P50 | C::P99 => format!("{v:.2}"),
            C::Unowned => format!("{v:.1}"),
            _ => thousands(v as u64),
        }
    }
}

/// `k=v` for each setting that differs from `defaults`, or `defaults`.
pub fn settings_diff(
    settings: &BTreeMap<String, String>,
    defaults: &BTreeMap<String, String>,
) -> String {
    let diff: Vec<String> = settings
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

/// CSV names of the figure columns, in order.
const CSV: [(ConsumerColumn, &str); 12] = [
    (C::Secs, "duration_s"),
    (C::Records, "records"),
    (C::RecordsPerSec, "records_per_sec"),
    (C::P50, "e2e_p50_ms"),
    (C::P99, "e2e_p99_ms"),
    (C::Fetches, "fetch_requests_per_sec"),
    (C::Rebalances, "rebalances"),
    (C::Unowned, "longest_unowned_s"),
    (C::Reprocessed, "reprocessed"),
    (C::Skipped, "skipped"),
    (C::Reread, "reread"),
    (C::Kicked, "kicked"),
];

impl ConsumerRunReport {
    /// A CSV file of `runs`: run, topic, start, warm-up, members, the figures (empty when
    /// unknown), then the settings as `k=v;k=v`.
    pub fn csv(runs: &[ConsumerRunReport]) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = ["run", "topic", "started_at", "warmup_s", "members"]
            .into_iter()
            .chain(CSV.iter().map(|(_, name)| *name))
            .chain(["settings"]);
        // Writing to memory cannot fail.
        let _ = w.write_record(header);
        for r in runs {
            let settings: Vec<String> =
                r.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let row = [
                r.run.to_string(),
                r.topic.clone(),
                r.started_at.clone(),
                format!("{:.3}", r.warmup_s),
                r.members.to_string(),
            ]
            .into_iter()
            .chain(
                CSV.iter()
                    .map(|(c, _)| c.value(r).map_or_else(String::new, |v| c.csv_text(v))),
            )
            .chain([settings.join(";")]);
            let _ = w.write_record(row);
        }
        let text = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
        crate::text::secrets::scrub(&text).into_owned()
    }

    /// `runs` as pretty JSON.
    pub fn json(runs: &[ConsumerRunReport]) -> String {
        let json = serde_json::to_string_pretty(runs).unwrap_or_default();
        crate::text::secrets::scrub(&json).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> ConsumerRunReport {
        ConsumerRunReport {
            run: 2,
            topic: "breweries".into(),
            settings: [("fetch.wait.max.ms".to_string(), "10".to_string())].into(),
            duration_s: 20.0,
            records: 12_000,
            records_per_sec: 600.0,
            e2e_ms: Some(LatencySummary {
                p50: 4.5,
                p99: 12.25,
                ..LatencySummary::default()
            }),
            skipped: 3,
            ..ConsumerRunReport::default()
        }
    }

    #[test]
    fn unknown_is_a_dash_never_zero() {
        let r = ConsumerRunReport::default();
        let d = BTreeMap::new();
        assert_eq!(C::P99.cell(&r, &d, false), "-");
        assert_eq!(C::Fetches.cell(&r, &d, false), "-");
        assert_eq!(C::Unowned.cell(&r, &d, false), "-");
        assert_eq!(
            C::RecordsPerSec.cell(&r, &d, false),
            "-",
            "nothing measured yet"
        );
        assert_eq!(C::Secs.cell(&r, &d, false), "-");
        let slow = ConsumerRunReport {
            fetch_requests_per_sec: Some(0.4),
            ..ConsumerRunReport::default()
        };
        assert_eq!(
            C::Fetches.cell(&slow, &d, false),
            "0.4",
            "a known rate is not 0"
        );
        assert_eq!(C::Skipped.cell(&r, &d, false), "0");
        assert_eq!(C::Run.cell(&run(), &d, true), "2▶");
    }

    #[test]
    fn cells_and_alarms() {
        let r = run();
        let defaults = [("fetch.wait.max.ms".to_string(), "500".to_string())].into();
        assert_eq!(
            C::Changed.cell(&r, &defaults, false),
            "fetch.wait.max.ms=10"
        );
        assert_eq!(C::Records.cell(&r, &defaults, false), "12,000");
        assert_eq!(C::P99.cell(&r, &defaults, false), "12.25");
        assert!(C::Skipped.alarms(&r) && !C::Reprocessed.alarms(&r));
        assert!(ConsumerColumn::PRIORITY.len() == ConsumerColumn::ALL.len());
        for c in ConsumerColumn::ALL {
            assert!(ConsumerColumn::PRIORITY.contains(&c));
        }
    }

    #[test]
    fn csv_has_a_cell_per_header_and_empty_unknowns() {
        let csv = ConsumerRunReport::csv(&[run(), ConsumerRunReport::default()]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header = reader.headers().unwrap().clone();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        let at = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(&rows[0][at("e2e_p99_ms")], "12.250");
        assert_eq!(&rows[0][at("skipped")], "3");
        assert_eq!(&rows[1][at("e2e_p99_ms")], "", "unknown stays empty");
        assert_eq!(&rows[0][at("settings")], "fetch.wait.max.ms=10");
        let json: serde_json::Value =
            serde_json::from_str(&ConsumerRunReport::json(&[run()])).unwrap();
        assert_eq!(json[0]["e2e_ms"]["p99"], 12.25);
        assert_eq!(json[0]["fetch_requests_per_sec"], serde_json::Value::Null);
    }
}
