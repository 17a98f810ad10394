//! Per-pane state: what the producer pane, each consumer pane and the record detail show,
//! folded from the actors' snapshots. Every buffer here is bounded.

use std::collections::VecDeque;

use crate::dashboard::actors::member::{MemberSnapshot, RecentRecord};
use crate::dashboard::actors::producer::ProducerSnapshot;
use crate::kafka::producer::Delivery;

/// Lines kept in the send log.
pub const LOG_LINES: usize = 200;
/// Snapshots kept for the charts: two minutes at four a second.
pub const HISTORY: usize = 480;
/// A client error is shown this many snapshots (about ten seconds) after it was last seen.
pub const ERROR_SHOWN_FOR: u32 = 40;

#[derive(Debug, Clone, PartialEq)]
pub enum LogLine {
    Delivery(Delivery),
    /// Deliveries that happened but are not listed (the log samples at high rates).
    Skipped(u64),
    Mark(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryPoint {
    /// Seconds since the producer started.
    pub t: f64,
    pub run: u32,
    pub per_sec: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, Default)]
pub struct ProducerView {
    pub snapshot: Option<ProducerSnapshot>,
    /// The latest snapshot that carried a run's figures: shown, marked stopped, once the
    /// producer stops.
    pub last_figures: Option<ProducerSnapshot>,
    pub log: VecDeque<LogLine>,
    pub history: VecDeque<HistoryPoint>,
    /// The last client error and how many snapshots ago it was seen.
    pub error: Option<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberView {
    pub snapshot: MemberSnapshot,
    pub error: Option<(String, u32)>,
    /// End-to-end p99 latency, one point per snapshot, for the pane's chart.
    pub e2e_history: VecDeque<f64>,
}

/// The record detail: a consumer's latest records as they were when it was opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub member: String,
    /// Newest first.
    pub records: Vec<RecentRecord>,
    pub selected: usize,
    /// Lines of the selected record scrolled past (the drawing holds it to the end).
    pub scroll: usize,
}

impl Detail {
    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
        self.scroll = 0;
    }

    pub fn down(&mut self) {
        self.selected = (self.selected + 1).min(self.records.len().saturating_sub(1));
        self.scroll = 0;
    }
}

/// Appends to a bounded ring.
pub fn push_bounded<T>(ring: &mut VecDeque<T>, item: T, bound: usize) {
    if ring.len() == bound {
        ring.pop_front();
    }
    ring.push_back(item);
}

pub fn push_log(log: &mut VecDeque<LogLine>, line: LogLine) {
    push_bounded(log, line, LOG_LINES);
}

/// Keeps an error for a while after it was last reported, then forgets it.
pub fn age(old: Option<(String, u32)>, new: Option<String>) -> Option<(String, u32)> {
    match (old, new) {
        (_, Some(e)) => Some((e, 0)),
        (Some((e, n)), None) if n + 1 < ERROR_SHOWN_FOR => Some((e, n + 1)),
        _ => None,
    }
}
