//! Every figure of a run, once: its name in CSV and JSON, its names in scenario assertions, its
//! column in the runs table, its column in a scenario's report, and its value from a
//! [`RunReport`]. The CSV export, the assertions, the runs table and the report table are made
//! from this table; the JSON (`bench --json`, the export, `runs.json`) is the report's own
//! fields, and the table says where each figure is in it. A test checks every figure appears
//! where its entry says.

use std::fmt;

use super::RunReport;

/// A figure of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    WarmupSecs,
    Secs,
    Sent,
    Delivered,
    Failed,
    Records,
    Bytes,
    RecordsPerSec,
    MbPerSec,
    Avg,
    P50,
    P95,
    P99,
    P999,
    Max,
    BatchRecords,
    BatchBytes,
    RequestsPerSec,
    Queue,
    Send,
    Broker,
    Received,
    Missing,
    Duplicated,
    NotFound,
    Retries,
    P99Due,
    /// Warm-up and measured time together.
    WholeSecs,
    Skew,
    Faults,
    /// Transactions committed (a transactional run).
    TxnCommitted,
    TxnAborted,
    /// The commit call's p99, ms.
    TxnCommitP99,
    /// Records of aborted transactions the read-back saw.
    AbortedSeen,
}

/// How a figure's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Records, requests: whole numbers (`12,345` on screen).
    Count,
    Seconds,
    PerSec,
    MbPerSec,
    Ms,
    /// An average count (records per batch) or a ratio (skew).
    Average,
    Bytes,
}

/// Why a figure is not known for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    /// The run has not been read back (yet, or it could not be).
    NotReadBack,
    /// acks=0: the broker confirmed nothing, so nothing can be missing.
    Unconfirmed,
    /// librdkafka's statistics had nothing for it.
    NoStatistics,
    /// Only a paced run has intended send times.
    NotPaced,
    /// The cluster had deleted every record of the run (retention) before the read-back:
    /// nothing could be checked, so nothing is known to be missing or duplicated.
    NotChecked,
    /// The run sent no transactions.
    NoTransactions,
    /// None of the run's transactions committed (every one aborted).
    NoneCommitted,
}

impl Unknown {
    pub fn describe(&self, run: u32) -> String {
        match self {
            Unknown::NotReadBack => format!("run {run} was not read back"),
            Unknown::Unconfirmed => format!(
                "run {run} has no missing: with acks=0 the broker confirmed nothing (not_found counts what was not found)"
            ),
            Unknown::NoStatistics => format!("run {run} has no such figure in librdkafka's statistics"),
            Unknown::NotPaced => format!("run {run} was not paced (no rate)"),
            Unknown::NoTransactions => format!("run {run} sent no transactions"),
            Unknown::NoneCommitted => format!("none of run {run}'s transactions committed"),
            Unknown::NotChecked => format!(
                "none of run {run}'s records could be checked: the cluster had deleted them (retention) before the read-back"
            ),
        }
    }
}

/// One figure's entry in the table.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub figure: Figure,
    /// The CSV column (a published format: names never change).
    pub csv: Option<&'static str>,
    /// Where the figure is in the run's JSON (a JSON pointer).
    pub json: Option<&'static str>,
    /// Names a scenario assertion takes: the documented one first.
    pub names: &'static [&'static str],
    /// The runs table's column header (its width is that of its widest cell).
    pub column: Option<&'static str>,
    /// The scenario report's column header.
    pub report: Option<&'static str>,
    pub unit: Unit,
    /// What it is, for the help and the docs.
    pub about: &'static str,
}

mod table;
pub use table::FIGURES;

use Figure as F;

impl Figure {
    pub fn entry(self) -> &'static Entry {
        FIGURES
            .iter()
            .find(|e| e.figure == self)
            .expect("every figure has an entry")
    }

    /// The figure an assertion names (any of its names).
    pub fn named(name: &str) -> Option<Figure> {
        FIGURES
            .iter()
            .find(|e| e.names.contains(&name))
            .map(|e| e.figure)
    }

    /// The name an assertion is documented with.
    pub fn name(self) -> &'static str {
        self.entry().names[0]
    }

    /// The figure's value for run `r` on a topic of `partitions`.
    pub fn value(self, r: &RunReport, partitions: usize) -> Result<f64, Unknown> {
        let l = &r.latency_ms;
        let accounting = || r.accounting.as_ref().ok_or(Unknown::NotReadBack);
        let stages = || r.stages_ms.ok_or(Unknown::NoStatistics);
        let stat = |v: Option<f64>| v.ok_or(Unknown::NoStatistics);
        let txn = || r.transactions.as_ref().ok_or(Unknown::NoTransactions);
        Ok(match self {
            F::WarmupSecs => r.warmup_s,
            F::Secs => r.duration_s,
            F::WholeSecs => r.warmup_s + r.duration_s,
            F::Sent => r.sent as f64,
            F::Delivered => r.delivered as f64,
            F::Failed => r.failed as f64,
            F::Records => r.records as f64,
            F::Bytes => r.bytes as f64,
            F::RecordsPerSec => r.records_per_sec,
            F::MbPerSec => r.mb_per_sec,
            F::Avg => l.avg,
            F::P50 => l.p50,
            F::P95 => l.p95,
            F::P99 => l.p99,
            F::P999 => l.p999,
            F::Max => l.max,
            F::BatchRecords => stat(r.avg_batch_records)?,
            F::BatchBytes => stat(r.avg_batch_bytes)?,
            F::RequestsPerSec => stat(r.requests_per_sec)?,
            F::Queue => stages()?.queue.p50,
            F::Send => stages()?.send.p50,
            F::Broker => stages()?.broker.p50,
            F::Received => accounting()?.received as f64,
            F::Missing => {
                let a = accounting()?;
                if a.unconfirmed {
                    return Err(Unknown::Unconfirmed);
                }
                checked(a)?.missing as f64
            }
            F::Duplicated => checked(accounting()?)?.duplicated as f64,
            F::NotFound => accounting()?.not_found as f64,
            F::Retries => r.retries.unwrap_or(0) as f64,
            F::P99Due => r
                .latency_intended_ms
                .as_ref()
                .map(|l| l.p99)
                .ok_or(Unknown::NotPaced)?,
            F::Skew => skew(r, partitions).ok_or(Unknown::NotReadBack)?,
            F::Faults => r.faults.len() as f64,
            F::TxnCommitted => txn()?.committed as f64,
            F::TxnAborted => txn()?.aborted as f64,
            F::TxnCommitP99 => {
                let t = txn()?;
                if t.committed == 0 {
                    return Err(Unknown::NoneCommitted);
                }
                t.commit_p99_ms
            }
            F::AbortedSeen => accounting()?.aborted_seen as f64,
        })
    }

    /// The value as a CSV cell: empty when unknown (the format of the published columns).
    pub fn csv(self, r: &RunReport) -> String {
        let Ok(v) = self.value(r, 0) else {
            return String::new();
        };
        match (self, self.entry().unit) {
            (F::MbPerSec, _) => format!("{v:.6}"),
            (_, Unit::Count) => format!("{v:.0}"),
            _ => format!("{v:.3}"),
        }
    }

    /// The value as the runs table shows it: `-` when it cannot be known, `…` while the
    /// read-back has not answered.
    pub fn cell(self, r: &RunReport, partitions: usize) -> String {
        match self.value(r, partitions) {
            Ok(v) => match self.entry().unit {
                Unit::Count => crate::text::thousands(v as u64),
                Unit::Seconds if self == F::Secs => format!("{v:.0}"),
                Unit::Seconds | Unit::Average => format!("{v:.1}"),
                Unit::PerSec | Unit::Bytes => format!("{v:.0}"),
                Unit::MbPerSec => format!("{v:.3}"),
                Unit::Ms => format!("{v:.2}"),
            },
            Err(Unknown::NotReadBack) => PENDING.into(),
            Err(_) => UNKNOWN.into(),
        }
    }

    /// The value as a scenario's report writes it (plain numbers; why, when unknown).
    pub fn report_cell(self, r: &RunReport, partitions: usize) -> String {
        match self.value(r, partitions) {
            Ok(v) => match self.entry().unit {
                Unit::Count | Unit::PerSec | Unit::Bytes => format!("{v:.0}"),
                Unit::Seconds => format!("{v:.1}"),
                Unit::MbPerSec => format!("{v:.3}"),
                Unit::Ms | Unit::Average => format!("{v:.2}"),
            },
            Err(Unknown::NotReadBack) => "not read back".into(),
            Err(Unknown::Unconfirmed) => "- (acks=0)".into(),
            Err(Unknown::NotChecked) => "not checked".into(),
            Err(_) => String::new(),
        }
    }

    /// A count that should be zero: a warning when it is not.
    pub fn is_alarm(self) -> bool {
        matches!(self, F::Failed | F::Missing | F::Duplicated)
    }

    /// Higher is better (throughput), or lower (latency, counts that should be zero); None
    /// for figures with no best.
    pub fn higher_is_better(self) -> Option<bool> {
        match self {
            F::RecordsPerSec | F::MbPerSec | F::BatchRecords => Some(true),
            F::Avg
            | F::P50
            | F::P95
            | F::P99
            | F::P999
            | F::Max
            | F::P99Due
            | F::Queue
            | F::Broker
            | F::Failed
            | F::Missing
            | F::Duplicated => Some(false),
            _ => None,
        }
    }
}

/// A read-back that has not answered yet.
pub const PENDING: &str = "…";
/// A figure that cannot be known for the run (acks=0's missing, no statistics).
pub const UNKNOWN: &str = "-";

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The CSV columns: the run's own (number, topic, start, settings), then every figure that has
/// a CSV name, in the table's order.
pub fn csv_header() -> Vec<&'static str> {
    ["run", "topic", "started_at", "settings"]
        .into_iter()
        .chain(FIGURES.iter().filter_map(|e| e.csv))
        .collect()
}

/// One CSV row, in the order of [`csv_header`]; settings as `k=v;k=v`.
pub fn csv_row(r: &RunReport) -> Vec<String> {
    let settings: Vec<String> = r.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    [
        r.run.to_string(),
        r.topic.clone(),
        r.started_at.clone(),
        settings.join(";"),
    ]
    .into_iter()
    .chain(
        FIGURES
            .iter()
            .filter(|e| e.csv.is_some())
            .map(|e| e.figure.csv(r)),
    )
    .collect()
}

/// A CSV file of `runs`: the header, then one row each (quoted by the `csv` crate where a
/// value needs it).
pub fn csv(runs: &[RunReport]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = w.write_record(csv_header());
    for r in runs {
        let _ = w.write_record(csv_row(r));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `a`, when it checked anything: records all deleted before the read-back leave missing and
/// duplicated unknown, not 0.
fn checked(a: &crate::stats::Accounting) -> Result<&crate::stats::Accounting, Unknown> {
    if a.received + a.missing == 0 && a.unchecked > 0 {
        Err(Unknown::NotChecked)
    } else {
        Ok(a)
    }
}

/// The fullest partition's records over the average partition's (1 is even; all in one of 6
/// partitions is 6), by the records the broker confirmed to each of the topic's `partitions`.
pub fn skew(r: &RunReport, partitions: usize) -> Option<f64> {
    let a = r.accounting.as_ref()?;
    let counts: Vec<u64> = a.per_partition.values().map(|p| p.acknowledged).collect();
    let total: u64 = counts.iter().sum();
    if counts.is_empty() || total == 0 {
        return None;
    }
    let mean = total as f64 / partitions.max(counts.len()) as f64;
    Some(*counts.iter().max()? as f64 / mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Accounting, LatencySummary, StageLatency};

    /// A run with every figure known.
    fn full() -> RunReport {
        RunReport {
            run: 3,
            records: 10,
            delivered: 10,
            latency_ms: LatencySummary {
                p99: 4.5,
                ..LatencySummary::default()
            },
            latency_intended_ms: Some(LatencySummary::default()),
            avg_batch_records: Some(2.0),
            avg_batch_bytes: Some(800.0),
            requests_per_sec: Some(5.0),
            retries: Some(1),
            stages_ms: Some(StageLatency::default()),
            accounting: Some(Accounting {
                received: 10,
                per_partition: [(
                    0,
                    crate::stats::PartitionAccount {
                        acknowledged: 10,
                        ..Default::default()
                    },
                )]
                .into(),
                ..Accounting::default()
            }),
            faults: vec!["broker 1 down".into()],
            transactions: Some(crate::stats::TxnFigures {
                records_per_txn: 5,
                begun: 2,
                committed: 2,
                ..Default::default()
            }),
            ..RunReport::default()
        }
    }

    #[test]
    fn every_figure_is_where_its_entry_says() {
        let header = csv_header();
        let json = serde_json::to_value(full()).unwrap();
        for e in &FIGURES {
            let f = e.figure;
            assert_eq!(f.entry().figure, f);
            if let Some(name) = e.csv {
                assert!(header.contains(&name), "{f:?}: CSV column {name}");
            }
            if let Some(pointer) = e.json {
                assert!(
                    json.pointer(pointer).is_some(),
                    "{f:?}: JSON {pointer} in {json}"
                );
            }
            assert!(!e.names.is_empty(), "{f:?} has an assertion name");
            for name in e.names {
                assert_eq!(Figure::named(name), Some(f), "{name} names {f:?} only");
            }
            assert!(f.value(&full(), 6).is_ok(), "{f:?} is known for a full run");
        }
        assert_eq!(
            header.len(),
            4 + FIGURES.iter().filter(|e| e.csv.is_some()).count()
        );
    }

    #[test]
    fn published_csv_columns_keep_their_names_and_order() {
        let published = [
            "run",
            "topic",
            "started_at",
            "settings",
            "warmup_s",
            "duration_s",
            "sent",
            "delivered",
            "failed",
            "records",
            "bytes",
            "records_per_sec",
            "mb_per_sec",
            "latency_avg_ms",
            "latency_p50_ms",
            "latency_p95_ms",
            "latency_p99_ms",
            "latency_p999_ms",
            "latency_max_ms",
            "avg_batch_records",
            "avg_batch_bytes",
            "requests_per_sec",
            "queue_p50_ms",
            "send_p50_ms",
            "broker_p50_ms",
            "received",
            "missing",
            "duplicated",
            "not_found",
        ];
        assert_eq!(&csv_header()[..published.len()], published);
    }

    /// docs/scenarios.md's row for a figure.
    fn doc_row(e: &Entry) -> String {
        let mut places: Vec<String> = e.csv.iter().map(|c| format!("`{c}`")).collect();
        if let Some(pointer) = e.json.filter(|p| Some(p.trim_start_matches('/')) != e.csv) {
            places.push(format!("`{pointer}`"));
        }
        let places = if places.is_empty() {
            "-".to_string()
        } else {
            places.join(", ")
        };
        format!("| `{}` | {places} | {} |", e.names[0], e.about)
    }

    #[test]
    fn the_scenario_docs_list_every_figure() {
        let path = crate::runtime::in_repo("docs/scenarios.md");
        let text = std::fs::read_to_string(path).unwrap();
        let rows: Vec<String> = FIGURES.iter().map(doc_row).collect();
        assert!(
            text.contains(&rows.join("\n")),
            "docs/scenarios.md must list the figures' table; its rows:\n{}",
            rows.join("\n")
        );
    }

    #[test]
    fn unknown_figures_say_why() {
        let r = RunReport::default();
        assert_eq!(Figure::Missing.value(&r, 6), Err(Unknown::NotReadBack));
        assert_eq!(Figure::Missing.cell(&r, 6), PENDING);
        assert_eq!(Figure::Queue.cell(&r, 6), UNKNOWN);
        let acks0 = RunReport {
            accounting: Some(Accounting {
                unconfirmed: true,
                ..Accounting::default()
            }),
            ..RunReport::default()
        };
        assert_eq!(Figure::Missing.value(&acks0, 6), Err(Unknown::Unconfirmed));
        assert_eq!(Figure::Missing.csv(&acks0), "");
        // Every record deleted before the read-back: nothing checked, nothing known.
        let deleted = RunReport {
            accounting: Some(Accounting {
                unchecked: 184_576,
                ..Accounting::default()
            }),
            ..RunReport::default()
        };
        for f in [Figure::Missing, Figure::Duplicated] {
            assert_eq!(f.value(&deleted, 6), Err(Unknown::NotChecked));
            assert_eq!(f.cell(&deleted, 6), UNKNOWN);
            assert_eq!(f.report_cell(&deleted, 6), "not checked");
        }
        // Some checked: what was checked counts.
        let some = RunReport {
            accounting: Some(Accounting {
                received: 10,
                unchecked: 5,
                ..Accounting::default()
            }),
            ..RunReport::default()
        };
        assert_eq!(Figure::Missing.value(&some, 6), Ok(0.0));
        assert_eq!(Figure::P99.csv(&r), "0.000");
        assert_eq!(Figure::named("latency_p99_ms"), Some(Figure::P99));
        assert_eq!(Figure::P99.name(), "p99");
    }
}
