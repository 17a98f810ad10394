//! Per-pane state: what the producer pane, each consumer pane and the record detail show,
//! folded from the actors' snapshots. Every buffer here is bounded.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use crate::kafka::producer::Delivery;
use crate::lab::snapshots::ProducerSnapshot;
use crate::lab::snapshots::{MemberSnapshot, PartitionLag, RecentRecord};

/// Lines kept in the send log.
pub const LOG_LINES: usize = 200;
/// Snapshots kept for the charts: ten minutes (their longest window) at four a second.
pub const HISTORY: usize = 2400;
/// A consumer's points for its pane's sparkline: two minutes at four a second, more than a
/// pane is wide.
pub const E2E_POINTS: usize = 480;
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
    /// The member's total lag over the last two minutes (the screen's clock, the lag).
    pub lag_history: VecDeque<(SystemTime, u64)>,
}

/// How far back lag is kept, and over how long its trend is taken.
pub const LAG_KEPT: Duration = Duration::from_secs(120);
pub const LAG_TREND_OVER: Duration = Duration::from_secs(10);
/// At most this many lag points (the group's get one per member snapshot).
const LAG_POINTS: usize = E2E_POINTS * 8;

impl MemberView {
    /// The member's lag over its partitions whose lag is known; None before any is.
    pub fn lag(&self) -> Option<u64> {
        let known: Vec<u64> = self
            .snapshot
            .partitions
            .iter()
            .filter_map(PartitionLag::lag)
            .map(|l| u64::try_from(l).unwrap_or(0))
            .collect();
        (!known.is_empty()).then(|| known.iter().sum())
    }

    /// How far behind in time: the age, at `now`, of the newest record the member read
    /// (its `CreateTime`), while it has lag; zero without lag. None when unknown.
    pub fn time_lag(&self, now: SystemTime) -> Option<Duration> {
        if self.lag()? == 0 {
            return Some(Duration::ZERO);
        }
        let ms = self.snapshot.latest.last()?.record.timestamp_ms?;
        let created = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).ok()?);
        Some(now.duration_since(created).unwrap_or_default())
    }
}

/// Adds a lag point, keeping [`LAG_KEPT`] of them.
pub fn push_lag(history: &mut VecDeque<(SystemTime, u64)>, at: SystemTime, lag: u64) {
    history.push_back((at, lag));
    while history
        .front()
        .is_some_and(|(t, _)| at.duration_since(*t).unwrap_or_default() > LAG_KEPT)
        || history.len() > LAG_POINTS
    {
        history.pop_front();
    }
}

/// The lag's change in records per second over the last [`LAG_TREND_OVER`]: positive while
/// it grows. None with less than a second of history.
pub fn lag_trend(history: &VecDeque<(SystemTime, u64)>) -> Option<f64> {
    let (t1, l1) = *history.back()?;
    let (t0, l0) = *history
        .iter()
        .find(|(t, _)| t1.duration_since(*t).unwrap_or_default() <= LAG_TREND_OVER)?;
    let span = t1.duration_since(t0).ok()?.as_secs_f64();
    (span >= 1.0).then(|| (l1 as f64 - l0 as f64) / span)
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
