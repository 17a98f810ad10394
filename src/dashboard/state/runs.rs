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
    /// A paced run's p99 from the intended send times (no coordinated omission).
    P99Due,
    /// The queue stage's median (librdkafka's statistics): linger.ms and batching.
    Queue,
    /// The broker stage's median: the produce request's round trip.
    Broker,
    Missing,
    Duplicated,
}

impl Column {
    pub const ALL: [Column; 20] = [
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
        Column::P99Due,
        Column::Queue,
        Column::Broker,
        Column::Missing,
        Column::Duplicated,
    ];

    /// The columns in the order they are given up when the table does not fit: the last
    /// goes first.
    pub const PRIORITY: [Column; 20] = [
        Column::Run,
        Column::RecordsPerSec,
        Column::P50,
        Column::P99,
        Column::Changed,
        Column::Delivered,
        Column::Missing,
        Column::Failed,
        Column::MbPerSec,
        Column::Max,
        Column::Duplicated,
        Column::P95,
        Column::Avg,
        Column::Secs,
        Column::P999,
        Column::P99Due,
        Column::Queue,
        Column::Broker,
        Column::AvgBatch,
        Column::RequestsPerSec,
    ];

    pub fn header(self) -> &'static str {
        match self {
            Column::Run => "run",
            Column::Changed => "settings",
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
            Column::P99Due => "p99 due",
            Column::Queue => "queue",
            Column::Broker => "broker",
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
            Column::P99Due => r.latency_intended_ms.as_ref().map(|l| (l.p99, false)),
            Column::Queue => r.stages_ms.map(|s| (s.queue.p50, false)),
            Column::Broker => r.stages_ms.map(|s| (s.broker.p50, false)),
            Column::Failed => Some((r.failed as f64, false)),
            // acks=0: nothing was confirmed, so nothing can be missing.
            Column::Missing => acc
                .filter(|a| !a.unconfirmed)
                .map(|a| (a.missing as f64, false)),
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
            Column::P99Due => r
                .latency_intended_ms
                .as_ref()
                .map_or("-".into(), |l| format!("{:.2}", l.p99)),
            Column::Queue => r
                .stages_ms
                .map_or("-".into(), |s| format!("{:.2}", s.queue.p50)),
            Column::Broker => r
                .stages_ms
                .map_or("-".into(), |s| format!("{:.2}", s.broker.p50)),
            Column::Missing => match acc {
                None => PENDING.into(),
                Some(a) if a.unconfirmed => UNCONFIRMED.into(),
                Some(a) => thousands(a.missing),
            },
            Column::Duplicated => acc.map_or(PENDING.into(), |a| thousands(a.duplicated)),
        }
    }
}

/// A read-back that has not answered yet.
pub const PENDING: &str = "…";
/// Missing, for an acks=0 run: the cluster promised nothing (a footnote says so).
pub const UNCONFIRMED: &str = "-";

impl Column {
    /// A count that should be zero and is not.
    pub fn alarms(self, r: &RunReport) -> bool {
        self.is_alarm() && self.value(r).is_some_and(|(v, _)| v > 0.0)
    }
}

/// Which columns fit in `width`, in table order, and the width of each: a column is as
/// wide as its header and its widest cell; the changed settings take what is left (at
/// least `CHANGED_MIN`), cut with a mark. Columns are given up from the end of [`Column::PRIORITY`].
pub fn fit_columns(cells: &[Vec<String>], width: u16) -> Vec<(Column, u16)> {
    const CHANGED_MIN: u16 = 12;
    let needed = |i: usize, c: Column| -> u16 {
        let widest = cells
            .iter()
            .map(|row| unicode_width::UnicodeWidthStr::width(row[i].as_str()))
            .max()
            .unwrap_or(0);
        (widest.max(c.header().len()) as u16).max(1)
    };
    let index = |c: Column| Column::ALL.iter().position(|a| *a == c).unwrap_or(0);
    let mut chosen: Vec<Column> = Vec::new();
    let mut used: u16 = 0;
    for c in Column::PRIORITY {
        let w = if c == Column::Changed {
            CHANGED_MIN
        } else {
            needed(index(c), c)
        };
        let spacing = u16::from(!chosen.is_empty());
        if used + spacing + w <= width {
            used += spacing + w;
            chosen.push(c);
        }
    }
    let spare = width - used;
    Column::ALL
        .iter()
        .filter(|c| chosen.contains(c))
        .map(|&c| {
            let w = if c == Column::Changed {
                (CHANGED_MIN + spare).min(needed(index(c), c).max(CHANGED_MIN))
            } else {
                needed(index(c), c)
            };
            (c, w)
        })
        .collect()
}

/// The rows of the table shown in `visible` lines: the newest, unless the selected row is
/// above them. Returns the first row shown.
pub fn first_row(rows: usize, visible: usize, selected: Option<usize>) -> usize {
    let newest = rows.saturating_sub(visible);
    selected.map_or(newest, |s| s.min(newest))
}

/// Lines the charts keep below the table (title, legend, plot, axis).
const CHART_LINES: u16 = 8;
/// The view's height from which charts are drawn beside the table.
const CHARTS_FROM: u16 = 12;

/// Lines the table takes in the runs view of `inner_height` lines (its header included):
/// the charts keep six lines unless the view is zoomed, then they share it half and half.
pub fn table_height(rows: usize, inner_height: u16, zoomed: bool) -> u16 {
    let cap = if zoomed {
        inner_height / 2
    } else if inner_height < CHARTS_FROM {
        // Too low for charts worth reading: the table takes it all (z zooms).
        inner_height
    } else {
        inner_height - CHART_LINES
    };
    (rows as u16 + 1).clamp(2, cap.max(2))
}

/// Two runs side by side: the settings that differ, and each figure with its change.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// `acks: 1 → all`.
    pub settings: Vec<String>,
    /// What, before, after, change (`x1.80`, `+25.0 ms`).
    pub figures: Vec<[String; 4]>,
}

pub fn compare(a: &RunReport, b: &RunReport) -> Comparison {
    let mut settings = Vec::new();
    let keys: std::collections::BTreeSet<&String> =
        a.settings.keys().chain(b.settings.keys()).collect();
    for k in keys {
        let (va, vb) = (a.settings.get(k), b.settings.get(k));
        if va != vb {
            let show = |v: Option<&String>| v.map_or("unset".to_string(), Clone::clone);
            settings.push(format!("{k}: {} → {}", show(va), show(vb)));
        }
    }
    if a.topic != b.topic && !a.topic.is_empty() && !b.topic.is_empty() {
        settings.push(format!("topic: {} → {}", a.topic, b.topic));
    }
    let ratio = |x: f64, y: f64| {
        if x > 0.0 {
            format!("x{:.2}", y / x)
        } else {
            "-".to_string()
        }
    };
    let ms = |x: f64, y: f64| format!("{:+.2} ms", y - x);
    let mut figures = vec![
        [
            "rec/s".to_string(),
            format!("{:.0}", a.records_per_sec),
            format!("{:.0}", b.records_per_sec),
            ratio(a.records_per_sec, b.records_per_sec),
        ],
        [
            "MB/s".to_string(),
            format!("{:.3}", a.mb_per_sec),
            format!("{:.3}", b.mb_per_sec),
            ratio(a.mb_per_sec, b.mb_per_sec),
        ],
    ];
    if a.records > 0 && b.records > 0 {
        let (la, lb) = (&a.latency_ms, &b.latency_ms);
        for (what, x, y) in [
            ("p50 ms", la.p50, lb.p50),
            ("p99 ms", la.p99, lb.p99),
            ("max ms", la.max, lb.max),
        ] {
            figures.push([
                what.to_string(),
                format!("{x:.2}"),
                format!("{y:.2}"),
                ms(x, y),
            ]);
        }
    }
    if let (Some(x), Some(y)) = (a.avg_batch_records, b.avg_batch_records) {
        figures.push([
            "batch".to_string(),
            format!("{x:.1}"),
            format!("{y:.1}"),
            ratio(x, y),
        ]);
    }
    let d = BTreeMap::new();
    figures.push([
        "missing".to_string(),
        Column::Missing.cell(a, &d, false),
        Column::Missing.cell(b, &d, false),
        String::new(),
    ]);
    Comparison { settings, figures }
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
    fn columns_are_given_up_by_priority_and_never_cut() {
        let rows = [RunReport {
            run: 1,
            delivered: 1_234_567,
            ..RunReport::default()
        }];
        let d = BTreeMap::new();
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| Column::ALL.iter().map(|c| c.cell(r, &d, false)).collect())
            .collect();
        let total = |cols: &[(Column, u16)]| -> u16 {
            cols.iter().map(|(_, w)| w).sum::<u16>() + cols.len() as u16 - 1
        };
        let wide = fit_columns(&cells, 250);
        assert_eq!(wide.len(), Column::ALL.len());
        let narrow = fit_columns(&cells, 60);
        assert!(total(&narrow) <= 60);
        let names: Vec<Column> = narrow.iter().map(|(c, _)| *c).collect();
        assert!(names.starts_with(&[Column::Run]));
        assert!(names.contains(&Column::P99) && !names.contains(&Column::RequestsPerSec));
        // Each column is as wide as its widest cell: 1,234,567 whole.
        let delivered = narrow
            .iter()
            .find(|(c, _)| *c == Column::Delivered)
            .unwrap();
        assert!(delivered.1 as usize >= "1,234,567".len());
    }

    #[test]
    fn acks_zero_runs_are_never_missing() {
        let r = RunReport {
            accounting: Some(crate::stats::Accounting {
                received: 6,
                not_found: 4,
                unconfirmed: true,
                ..Default::default()
            }),
            ..RunReport::default()
        };
        assert_eq!(
            Column::Missing.cell(&r, &BTreeMap::new(), false),
            UNCONFIRMED
        );
        assert!(!Column::Missing.alarms(&r));
        assert_eq!(Column::Missing.value(&r), None);
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
