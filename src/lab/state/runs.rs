//! The runs table: its columns, what each cell says, and which run is best in each column.

use std::collections::BTreeMap;

use crate::stats::{Figure, RunReport};

/// A column of the runs table: the run's number, the settings it changed, or a figure (its
/// header, width and value come from the figures' table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Run,
    Changed,
    Figure(Figure),
}

use Figure as F;

impl Column {
    /// The columns, in table order.
    pub const ALL: [Column; 23] = [
        Column::Run,
        Column::Changed,
        Column::Figure(F::Secs),
        Column::Figure(F::Delivered),
        Column::Figure(F::Failed),
        Column::Figure(F::RecordsPerSec),
        Column::Figure(F::MbPerSec),
        Column::Figure(F::Avg),
        Column::Figure(F::P50),
        Column::Figure(F::P95),
        Column::Figure(F::P99),
        Column::Figure(F::P999),
        Column::Figure(F::Max),
        Column::Figure(F::BatchRecords),
        Column::Figure(F::RequestsPerSec),
        Column::Figure(F::P99Due),
        Column::Figure(F::Queue),
        Column::Figure(F::Broker),
        Column::Figure(F::Missing),
        Column::Figure(F::Duplicated),
        Column::Figure(F::TxnCommitted),
        Column::Figure(F::TxnAborted),
        Column::Figure(F::TxnCommitP99),
    ];

    /// The columns of a transactional run: shown when a run of the table has transactions.
    pub const TRANSACTIONS: [Column; 3] = [
        Column::Figure(F::TxnCommitted),
        Column::Figure(F::TxnAborted),
        Column::Figure(F::TxnCommitP99),
    ];

    /// The columns in the order they are given up when the table does not fit: the last
    /// goes first.
    pub const PRIORITY: [Column; 23] = [
        Column::Run,
        Column::Figure(F::RecordsPerSec),
        Column::Figure(F::P50),
        Column::Figure(F::P99),
        Column::Changed,
        Column::Figure(F::Delivered),
        Column::Figure(F::Missing),
        Column::Figure(F::Failed),
        Column::Figure(F::MbPerSec),
        Column::Figure(F::Max),
        Column::Figure(F::Duplicated),
        Column::Figure(F::P95),
        Column::Figure(F::Avg),
        Column::Figure(F::Secs),
        Column::Figure(F::P999),
        Column::Figure(F::P99Due),
        Column::Figure(F::Queue),
        Column::Figure(F::Broker),
        Column::Figure(F::TxnCommitted),
        Column::Figure(F::TxnAborted),
        Column::Figure(F::TxnCommitP99),
        Column::Figure(F::BatchRecords),
        Column::Figure(F::RequestsPerSec),
    ];

    pub fn header(self) -> &'static str {
        match self {
            Column::Run => "run",
            Column::Changed => "settings",
            Column::Figure(f) => f.entry().column.unwrap_or("?"),
        }
    }

    /// The value a best row is chosen by, and whether higher is better; None for columns
    /// without a best (or a row without a value).
    pub fn value(self, r: &RunReport) -> Option<(f64, bool)> {
        let Column::Figure(f) = self else {
            return None;
        };
        let higher = f.higher_is_better()?;
        let latency = matches!(f, F::Avg | F::P50 | F::P95 | F::P99 | F::P999 | F::Max);
        // A run without deliveries has no latency to be best at.
        if latency && r.records == 0 {
            return None;
        }
        f.value(r, 0).ok().map(|v| (v, higher))
    }

    /// The cell's text; `live` marks the run in progress, `defaults` are the first run's
    /// settings (the table shows what differs from them).
    pub fn cell(self, r: &RunReport, defaults: &BTreeMap<String, String>, live: bool) -> String {
        match self {
            Column::Run => format!("{}{}", r.run, if live { "▶" } else { "" }),
            Column::Changed => r.settings_diff(defaults),
            Column::Figure(f) => f.cell(r, 0),
        }
    }

    /// A count that should be zero and is not.
    pub fn alarms(self, r: &RunReport) -> bool {
        matches!(self, Column::Figure(f) if f.is_alarm())
            && self.value(r).is_some_and(|(v, _)| v > 0.0)
    }
}

/// Which columns fit in `width`, in table order, and the width of each: a column is as
/// wide as its header and its widest cell; the changed settings take what is left (at
/// least `CHANGED_MIN`), cut with a mark. Columns are given up from the end of [`Column::PRIORITY`];
/// the transactions' only when `transactions` (a run of the table has them).
pub fn fit_columns(
    cells: &[Vec<String>],
    headers: &[&str],
    width: u16,
    transactions: bool,
) -> Vec<(Column, u16)> {
    let index = |c: Column| Column::ALL.iter().position(|a| *a == c).unwrap_or(0);
    let priority: Vec<usize> = Column::PRIORITY
        .iter()
        .filter(|c| transactions || !Column::TRANSACTIONS.contains(c))
        .map(|c| index(*c))
        .collect();
    fit_widths(headers, &priority, index(Column::Changed), cells, width)
        .into_iter()
        .map(|(i, w)| (Column::ALL[i], w))
        .collect()
}

/// The columns (by index into `headers` and each row of `cells`) that fit in `width`, in
/// table order, with their widths: each as wide as its header and widest cell, except the
/// `flexible` one, which takes what is left (at least `CHANGED_MIN`). Columns are given up
/// from the end of `priority`.
pub fn fit_widths(
    headers: &[&str],
    priority: &[usize],
    flexible: usize,
    cells: &[Vec<String>],
    width: u16,
) -> Vec<(usize, u16)> {
    const CHANGED_MIN: u16 = 12;
    let needed = |i: usize| -> u16 {
        let widest = cells
            .iter()
            .map(|row| unicode_width::UnicodeWidthStr::width(row[i].as_str()))
            .max()
            .unwrap_or(0);
        (widest.max(unicode_width::UnicodeWidthStr::width(headers[i])) as u16).max(1)
    };
    let mut chosen: Vec<usize> = Vec::new();
    let mut used: u16 = 0;
    for &i in priority {
        let w = if i == flexible {
            CHANGED_MIN
        } else {
            needed(i)
        };
        let spacing = u16::from(!chosen.is_empty());
        if used + spacing + w <= width {
            used += spacing + w;
            chosen.push(i);
        }
    }
    let spare = width - used;
    (0..headers.len())
        .filter(|i| chosen.contains(i))
        .map(|i| {
            let w = if i == flexible {
                (CHANGED_MIN + spare).min(needed(i).max(CHANGED_MIN))
            } else {
                needed(i)
            };
            (i, w)
        })
        .collect()
}

/// The rows of the table shown in `visible` lines: the newest, unless the selected row is
/// above them. Returns the first row shown.
/// The row of `runs` (run numbers, in the table's order) that `selected` names, or the
/// latest run's when none is (or the named run is gone).
pub fn selected_row(runs: &[u32], selected: Option<u32>) -> Option<usize> {
    selected
        .and_then(|s| runs.iter().position(|r| *r == s))
        .or_else(|| {
            runs.iter()
                .enumerate()
                .max_by_key(|(_, r)| **r)
                .map(|(i, _)| i)
        })
}

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
    /// Why, where the runs' own figures show it.
    pub why: Vec<String>,
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
    // Each figure with how much it changed: the most changed come first, so that a narrow
    // screen shows what the settings did.
    let mut figures: Vec<(f64, [String; 4])> = vec![
        (
            change(a.records_per_sec, b.records_per_sec),
            [
                "rec/s".to_string(),
                format!("{:.0}", a.records_per_sec),
                format!("{:.0}", b.records_per_sec),
                ratio(a.records_per_sec, b.records_per_sec),
            ],
        ),
        (
            change(a.mb_per_sec, b.mb_per_sec),
            [
                "MB/s".to_string(),
                format!("{:.3}", a.mb_per_sec),
                format!("{:.3}", b.mb_per_sec),
                ratio(a.mb_per_sec, b.mb_per_sec),
            ],
        ),
    ];
    if a.records > 0 && b.records > 0 {
        let (la, lb) = (&a.latency_ms, &b.latency_ms);
        for (what, x, y) in [
            ("p50 ms", la.p50, lb.p50),
            ("p99 ms", la.p99, lb.p99),
            ("max ms", la.max, lb.max),
        ] {
            figures.push((
                change(x, y),
                [
                    what.to_string(),
                    format!("{x:.2}"),
                    format!("{y:.2}"),
                    ms(x, y),
                ],
            ));
        }
    }
    if let (Some(x), Some(y)) = (a.avg_batch_records, b.avg_batch_records) {
        figures.push((
            change(x, y),
            [
                "batch".to_string(),
                format!("{x:.1}"),
                format!("{y:.1}"),
                ratio(x, y),
            ],
        ));
    }
    let d = BTreeMap::new();
    let missing = Column::Figure(F::Missing);
    let (ma, mb) = (missing.cell(a, &d, false), missing.cell(b, &d, false));
    // Records lost in one run and not the other: that first of all.
    let lost = if ma == mb { 0.0 } else { f64::INFINITY };
    figures.push((lost, ["missing".to_string(), ma, mb, String::new()]));
    figures.sort_by(|x, y| y.0.total_cmp(&x.0));
    let figures = figures.into_iter().map(|(_, f)| f).collect();
    Comparison {
        settings,
        figures,
        why: super::why::explain(a, b),
    }
}

/// How much `y` differs from `x`, relative to `x` (from nothing to something: infinitely).
fn change(x: f64, y: f64) -> f64 {
    if x.abs() < 1e-9 {
        if y.abs() < 1e-9 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        ((y - x) / x).abs()
    }
}

/// The index of the row with the best value in `column`, if any row has one. Ties go to the
/// earlier run.
pub fn best_row(rows: &[RunReport], column: Column) -> Option<usize> {
    let higher = rows.iter().find_map(|r| column.value(r)).map(|(_, h)| h)?;
    best_of(rows.iter().map(|r| column.value(r).map(|(v, _)| v)), higher)
}

/// The index of the one best of `values` (None: no value, or the best shared by two rows:
/// a tie has no winner to highlight).
pub fn best_of(values: impl Iterator<Item = Option<f64>>, higher: bool) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    let mut tied = false;
    for (i, v) in values.enumerate() {
        let Some(v) = v else { continue };
        match best {
            Some((_, b)) if (v - b).abs() <= b.abs() * 1e-9 => tied = true,
            Some((_, b)) if (higher && v < b) || (!higher && v > b) => {}
            _ => {
                best = Some((i, v));
                tied = false;
            }
        }
    }
    best.filter(|_| !tied).map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::figures::{PENDING, UNKNOWN};
    use crate::stats::LatencySummary;

    /// The table's columns are the figures whose entry has a column, each once, in both
    /// orders: a new figure with a column cannot be left out.
    #[test]
    fn the_columns_are_the_figures_with_a_column() {
        use crate::stats::figures::FIGURES;
        let wanted: std::collections::BTreeSet<Figure> = FIGURES
            .iter()
            .filter(|e| e.column.is_some())
            .map(|e| e.figure)
            .collect();
        for order in [Column::ALL, Column::PRIORITY] {
            let figures: Vec<Figure> = order
                .iter()
                .filter_map(|c| match c {
                    Column::Figure(f) => Some(*f),
                    _ => None,
                })
                .collect();
            assert_eq!(figures.len(), wanted.len(), "each once");
            assert_eq!(
                figures
                    .into_iter()
                    .collect::<std::collections::BTreeSet<_>>(),
                wanted
            );
            assert!(order.contains(&Column::Run) && order.contains(&Column::Changed));
        }
        assert!(Column::ALL.iter().all(|c| c.header() != "?"));
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
            best_row(&rows, Column::Figure(F::RecordsPerSec)),
            None,
            "a tie has no best"
        );
        // A run without deliveries has no latency to be best at.
        assert_eq!(best_row(&rows, Column::Figure(F::P99)), Some(1));
        assert_eq!(best_row(&rows, Column::Figure(F::BatchRecords)), None);
        assert_eq!(best_row(&[], Column::Figure(F::Max)), None);
        // A tie beaten later has a best again.
        assert_eq!(
            best_of([Some(3.0), Some(3.0), Some(4.0)].into_iter(), true),
            Some(2)
        );
        assert_eq!(
            best_of([Some(3.0), None, Some(1.0)].into_iter(), false),
            Some(2)
        );
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
        let headers = || Column::ALL.map(Column::header);
        let total = |cols: &[(Column, u16)]| -> u16 {
            cols.iter().map(|(_, w)| w).sum::<u16>() + cols.len() as u16 - 1
        };
        let wide = fit_columns(&cells, &headers(), 250, false);
        assert_eq!(wide.len(), Column::ALL.len() - Column::TRANSACTIONS.len());
        let with_transactions = fit_columns(&cells, &headers(), 250, true);
        assert_eq!(with_transactions.len(), Column::ALL.len());
        let narrow = fit_columns(&cells, &headers(), 60, false);
        assert!(total(&narrow) <= 60);
        let names: Vec<Column> = narrow.iter().map(|(c, _)| *c).collect();
        assert!(names.starts_with(&[Column::Run]));
        assert!(
            names.contains(&Column::Figure(F::P99))
                && !names.contains(&Column::Figure(F::RequestsPerSec))
        );
        // Each column is as wide as its widest cell: 1,234,567 whole.
        let delivered = narrow
            .iter()
            .find(|(c, _)| *c == Column::Figure(F::Delivered))
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
            Column::Figure(F::Missing).cell(&r, &BTreeMap::new(), false),
            UNKNOWN
        );
        assert!(!Column::Figure(F::Missing).alarms(&r));
        assert_eq!(Column::Figure(F::Missing).value(&r), None);
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
        assert_eq!(Column::Figure(F::Delivered).cell(&r, &d, false), "12,345");
        assert_eq!(Column::Figure(F::Missing).cell(&r, &d, false), PENDING);
        assert!(
            Column::ALL
                .iter()
                .filter(|c| matches!(c, Column::Figure(f) if f.is_alarm()))
                .count()
                == 3
        );
    }
}
