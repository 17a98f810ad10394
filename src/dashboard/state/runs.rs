//! The runs table: its columns, what each cell says, and which run is best in each column.

use std::collections::BTreeMap;

use crate::stats::RunReport;
use crate::text::thousands;

/// A column of the runs table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Run,
    Changed,
    Secs,
    Delivered,
    Failed,
    RecordsPerSec,
    MbPerSec,
    Avg,
    P50,
    P95,
    P99,
    P999,
    Max,
    AvgBatch,
    RequestsPerSec,
    Missing,
    Duplicated,
}

impl Column {
    pub const ALL: [Column; 17] = [
        Column::Run,
        Column::Changed,
        Column::Secs,
        Column::Delivered,
        Column::Failed,
        Column::RecordsPerSec,
        Column::MbPerSec,
        Column::Avg,
        Column::P50,
        Column::P95,
        Column::P99,
        Column::P999,
        Column::Max,
        Column::AvgBatch,
        Column::RequestsPerSec,
        Column::Missing,
        Column::Duplicated,
    ];

    pub fn header(self) -> &'static str {
        match self {
            Column::Run => "run",
            Column::Changed => "changed settings",
            Column::Secs => "secs",
            Column::Delivered => "delivered",
            Column::Failed => "failed",
            Column::RecordsPerSec => "rec/s",
            Column::MbPerSec => "MB/s",
            Column::Avg => "avg",
            Column::P50 => "p50",
            Column::P95 => "p95",
            Column::P99 => "p99",
            Column::P999 => "p99.9",
            Column::Max => "max",
            Column::AvgBatch => "batch",
            Column::RequestsPerSec => "req/s",
            Column::Missing => "missing",
            Column::Duplicated => "dup",
        }
    }

    /// The width the column needs (the changed settings take what is left).
    pub fn width(self) -> u16 {
        match self {
            Column::Run => 4,
            Column::Changed => 16,
            Column::Secs | Column::Duplicated => 5,
            Column::Delivered => 10,
            Column::Failed | Column::AvgBatch | Column::RequestsPerSec => 6,
            Column::RecordsPerSec => 8,
            _ => 7,
        }
    }

    /// A count that should be zero: shown as a warning when it is not.
    pub fn is_alarm(self) -> bool {
        matches!(self, Column::Failed | Column::Missing | Column::Duplicated)
    }

    /// The value a best row is chosen by, and whether higher is better; None for columns
    /// without a best (or a row without a value).
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
            Column::Run
            | Column::Changed
            | Column::Secs
            | Column::Delivered
            | Column::RequestsPerSec => None,
        }
    }

    /// The cell's text; `live` marks the run in progress, `defaults` are the first run's
    /// settings (the table shows what differs from them).
    pub fn cell(self, r: &RunReport, defaults: &BTreeMap<String, String>, live: bool) -> String {
        let latency = r.latency_ms.cells();
        let acc = r.accounting.as_ref();
        match self {
            Column::Run => format!("{}{}", r.run, if live { "▶" } else { "" }),
            Column::Changed => r.settings_diff(defaults),
            Column::Secs => format!("{:.0}", r.duration_s),
            Column::Delivered => thousands(r.delivered),
            Column::Failed => thousands(r.failed),
            Column::RecordsPerSec => format!("{:.0}", r.records_per_sec),
            Column::MbPerSec => format!("{:.3}", r.mb_per_sec),
            Column::Avg => latency[0].clone(),
            Column::P50 => latency[1].clone(),
            Column::P95 => latency[2].clone(),
            Column::P99 => latency[3].clone(),
            Column::P999 => latency[4].clone(),
            Column::Max => latency[5].clone(),
            Column::AvgBatch => r
                .avg_batch_records
                .map_or("-".into(), |v| format!("{v:.1}")),
            Column::RequestsPerSec => r.requests_per_sec.map_or("-".into(), |v| format!("{v:.0}")),
            Column::Missing => acc.map_or(PENDING.into(), |a| thousands(a.missing)),
            Column::Duplicated => acc.map_or(PENDING.into(), |a| thousands(a.duplicated)),
        }
    }
}

/// A read-back that has not answered yet.
pub const PENDING: &str = "…";

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
            Some((_, b)) if higher => v > b,
            Some((_, b)) => v < b,
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
    use crate::stats::LatencySummary;

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
    fn cells_follow_their_headers() {
        let r = RunReport {
            run: 3,
            delivered: 12_345,
            ..RunReport::default()
        };
        let d = BTreeMap::new();
        assert_eq!(Column::Run.cell(&r, &d, true), "3▶");
        assert_eq!(Column::Delivered.cell(&r, &d, false), "12,345");
        assert_eq!(Column::Missing.cell(&r, &d, false), PENDING);
        assert!(Column::ALL.iter().filter(|c| c.is_alarm()).count() == 3);
    }
}
