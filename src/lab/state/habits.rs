//! Habits of the best terminal tools: a pane by its number, the charts' time window, runs
//! tables sorted by a figure, and a run or a record copied to the clipboard.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent};

use super::keymap::{self, Action, Mode};
use super::runs::Column;
use super::{App, Focus, Modal, View};
use crate::lab::protocol::Command;
use crate::lab::snapshots::RecentRecord;
use crate::stats::{ConsumerColumn, ConsumerRunReport, RunReport};

/// The time windows the charts can show, shortest first.
pub const CHART_WINDOWS: [Duration; 6] = [
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(300),
    Duration::from_secs(600),
];
/// Two minutes.
pub const DEFAULT_WINDOW: usize = 3;
/// The most base64 a terminal is sent for its clipboard: terminals cap OSC 52 near here.
pub const COPY_LIMIT: usize = 100_000;

impl App {
    /// The window the charts show.
    pub fn chart_window(&self) -> Duration {
        CHART_WINDOWS[self.screen.chart_window.min(CHART_WINDOWS.len() - 1)]
    }

    /// Handles the actions of this module; None for any other.
    pub(super) fn habit(&mut self, action: Action, key: KeyEvent) -> Option<Vec<Command>> {
        match action {
            Action::Jump => self.jump(key),
            Action::ChartsShorter | Action::ChartsLonger => {
                let at = self.screen.chart_window;
                self.screen.chart_window = if action == Action::ChartsShorter {
                    at.saturating_sub(1)
                } else {
                    (at + 1).min(CHART_WINDOWS.len() - 1)
                };
                self.status.message = Some(if self.screen.chart_window == at {
                    format!(
                        "the charts already show {} ({} at most, {} at least)",
                        window_text(self.chart_window()),
                        window_text(CHART_WINDOWS[CHART_WINDOWS.len() - 1]),
                        window_text(CHART_WINDOWS[0])
                    )
                } else {
                    format!(
                        "the charts show the last {}",
                        window_text(self.chart_window())
                    )
                });
            }
            Action::SortNext | Action::SortPrev => {
                self.sort(if action == Action::SortNext { 1 } else { -1 });
            }
            Action::Copy => return Some(self.copy()),
            _ => return None,
        }
        Some(Vec::new())
    }

    /// `1` the producer, `2`-`9` the consumers in pane order (or `2` the view when one is
    /// shown instead of them).
    fn jump(&mut self, key: KeyEvent) {
        let KeyCode::Char(c) = key.code else { return };
        let Some(n) = c.to_digit(10).filter(|n| *n >= 1) else {
            return;
        };
        let n = n as usize;
        self.screen.focus = match n {
            1 => Focus::Producer,
            2 if self.screen.view != View::Consumers => Focus::View,
            _ if self.screen.view != View::Consumers => {
                self.status.message = Some(format!(
                    "{n}: no such pane (1 the producer, 2 the view; {} shows the consumer panes)",
                    keymap::key(Mode::Main, Action::Close)
                ));
                return;
            }
            _ if n - 2 < self.model.members.len() => Focus::Member(n - 2),
            _ => {
                self.status.message = Some(format!(
                    "{n}: no such pane ({} consumers: {}-{}; {} adds one)",
                    self.model.members.len(),
                    2,
                    self.model.members.len() + 1,
                    keymap::key(Mode::Main, Action::AddConsumer)
                ));
                return;
            }
        };
    }

    /// The producer runs as the table shows them: sorted by the chosen figure, best first,
    /// runs without that figure last, ties by run.
    pub fn shown_runs(&self) -> Vec<RunReport> {
        let mut rows = self.table_rows();
        if let Some(column) = self.screen.runs_sort {
            sort_best_first(&mut rows, |r| column.value(r));
        }
        rows
    }

    /// The consumer runs as their table shows them.
    pub fn shown_consumer_runs(&self) -> Vec<ConsumerRunReport> {
        let mut rows = self.consumer_rows();
        if let Some(column) = self.screen.consumer_sort {
            let higher = column.higher_is_better().unwrap_or(true);
            sort_best_first(&mut rows, |r| column.value(r).map(|v| (v, higher)));
        }
        rows
    }

    /// Moves the shown runs table's sort to the next (or previous) figure with a best;
    /// past either end, back to run order. The selection names a run: it stays on it.
    fn sort(&mut self, step: isize) {
        match self.screen.view {
            View::Runs => {
                let columns: Vec<Column> = Column::ALL
                    .into_iter()
                    .filter(|c| matches!(c, Column::Figure(f) if f.higher_is_better().is_some()))
                    .collect();
                self.screen.runs_sort = stepped(&columns, self.screen.runs_sort, step);
                self.status.message = Some(sorted_by(self.screen.runs_sort.map(Column::header)));
            }
            View::ConsumerRuns => {
                let columns: Vec<ConsumerColumn> = ConsumerColumn::ALL
                    .into_iter()
                    .filter(|c| c.higher_is_better().is_some())
                    .collect();
                self.screen.consumer_sort = stepped(&columns, self.screen.consumer_sort, step);
                self.status.message = Some(sorted_by(
                    self.screen.consumer_sort.map(ConsumerColumn::header),
                ));
            }
            View::Partitions => {
                self.screen.partition_sort = self.screen.partition_sort.stepped(step);
                self.screen.scroll.view = 0;
                self.status.message = Some(format!(
                    "the partition view is sorted by {}",
                    self.screen.partition_sort.label()
                ));
            }
            _ => {
                self.status.message = Some(format!(
                    "{} and {} sort the runs tables and the partition view: show the producer runs ({}) or the consumer \
                     runs ({}) first",
                    keymap::key(Mode::Main, Action::SortPrev),
                    keymap::key(Mode::Main, Action::SortNext),
                    keymap::key(Mode::Main, Action::Runs),
                    keymap::key(Mode::Main, Action::ConsumerRuns)
                ));
            }
        }
    }

    /// The selected record (record detail), the selected run (a runs table shown), or the
    /// selected consumer's latest record, as JSON for the clipboard.
    fn copy(&mut self) -> Vec<Command> {
        let found: Result<(String, String), String> = match (&self.screen.modal, self.screen.view) {
            (Modal::Detail(d), _) => d
                .records
                .get(d.selected)
                .map(|r| (record_name(r), record_json(r)))
                .ok_or_else(|| "no record".to_string()),
            (_, View::Runs) => selected_of(self.shown_runs(), self.screen.runs_selected, |r| r.run)
                .map(|r| (format!("run {}", r.run), to_json(&r)))
                .ok_or_else(|| "no run yet".to_string()),
            (_, View::ConsumerRuns) => selected_of(
                self.shown_consumer_runs(),
                self.screen.consumer_selected,
                |r| r.run,
            )
            .map(|r| (format!("consumer run {}", r.run), to_json(&r)))
            .ok_or_else(|| "no consumer run yet".to_string()),
            (_, _) => match self.screen.focus {
                Focus::Member(i) => self.model.members[i]
                    .snapshot
                    .latest
                    .last()
                    .map(|r| (record_name(r), record_json(r)))
                    .ok_or_else(|| "no record received yet".to_string()),
                Focus::Producer | Focus::View => Err(format!(
                    "{} copies a run (show the runs, {}) or a consumer's latest record (select \
                     its pane, {})",
                    keymap::key(Mode::Main, Action::Copy),
                    keymap::key(Mode::Main, Action::Runs),
                    keymap::key(Mode::Main, Action::NextPane)
                )),
            },
        };
        match found {
            Ok((what, text)) if text.len().div_ceil(3) * 4 > COPY_LIMIT => {
                self.status.message = Some(format!(
                    "{what} is {} bytes as JSON: more than a terminal's clipboard takes ({})",
                    crate::text::thousands(text.len() as u64),
                    crate::text::thousands(COPY_LIMIT as u64)
                ));
                Vec::new()
            }
            Ok((what, text)) => {
                self.status.message = Some(format!(
                    "copied {what} to the clipboard ({} bytes of JSON, through the terminal: \
                     OSC 52)",
                    crate::text::thousands(text.len() as u64)
                ));
                vec![Command::Copy(text)]
            }
            Err(why) => {
                self.status.message = Some(why);
                Vec::new()
            }
        }
    }
}

/// The row of run `selected`, or the latest run's (as the table highlights it) when none is.
fn selected_of<T>(rows: Vec<T>, selected: Option<u32>, run: fn(&T) -> u32) -> Option<T> {
    let runs: Vec<u32> = rows.iter().map(run).collect();
    let at = super::runs::selected_row(&runs, selected)?;
    rows.into_iter().nth(at)
}

/// Sorts `rows` by `value` (and whether higher is better), best first; rows without a value
/// last; the sort is stable, so ties stay in run order.
fn sort_best_first<T>(rows: &mut [T], value: impl Fn(&T) -> Option<(f64, bool)>) {
    rows.sort_by(|a, b| match (value(a), value(b)) {
        (Some((x, higher)), Some((y, _))) => {
            let order = x.total_cmp(&y);
            if higher {
                order.reverse()
            } else {
                order
            }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// The next (`step` 1) or previous (-1) of `columns` after `current`; None before the first
/// and after the last.
fn stepped<C: Copy + PartialEq>(columns: &[C], current: Option<C>, step: isize) -> Option<C> {
    // Positions: 0 is "by run", 1.. the columns.
    let at = current
        .and_then(|c| columns.iter().position(|x| *x == c))
        .map_or(0, |i| i as isize + 1);
    let next = (at + step).rem_euclid(columns.len() as isize + 1);
    (next > 0).then(|| columns[next as usize - 1])
}

fn sorted_by(header: Option<&str>) -> String {
    match header {
        Some(h) => format!("runs sorted by {h}, best first"),
        None => "runs in the order they ran".to_string(),
    }
}

/// `15 s`, `2 min`.
pub fn window_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn record_name(r: &RecentRecord) -> String {
    format!(
        "the record at partition {} offset {}",
        r.partition, r.offset
    )
}

/// The record as JSON: its metadata, key and headers as text, and its value as the JSON it
/// holds (or as text when it is not JSON).
pub fn record_json(r: &RecentRecord) -> String {
    let text = |b: &Option<Vec<u8>>| {
        b.as_ref().map_or(serde_json::Value::Null, |b| {
            serde_json::Value::String(String::from_utf8_lossy(b).into_owned())
        })
    };
    let value = r.value.as_ref().map_or(serde_json::Value::Null, |v| {
        serde_json::from_slice(v).unwrap_or_else(|_| text(&r.value))
    });
    let headers: serde_json::Map<String, serde_json::Value> = r
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    to_json(&serde_json::json!({
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "timestamp_ms": r.timestamp_ms,
        "timestamp_type": r.timestamp_type,
        "key": text(&r.key),
        "headers": headers,
        "value": value,
        "value_cut_at_4_KiB": r.truncated,
    }))
}
