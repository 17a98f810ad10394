//! Where delivery reports go besides the totals: every one over a channel, or the latest in
//! a ring for a live view.

use std::sync::mpsc::SyncSender;
use std::time::{Duration, SystemTime};

use crate::stats::Interval;

/// One delivery report.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// When the report arrived (wall clock, for display).
    pub at: SystemTime,
    pub seq: u64,
    pub key: Option<String>,
    pub partition: i32,
    /// None when the broker gave none: with acks=0 it does not answer at all.
    pub offset: Option<i64>,
    pub latency: Duration,
    pub error: Option<String>,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            at: SystemTime::UNIX_EPOCH,
            seq: 0,
            key: None,
            partition: -1,
            offset: None,
            latency: Duration::ZERO,
            error: None,
        }
    }
}

/// Where delivery reports go besides the totals.
pub enum Reports {
    /// Only counts and histograms.
    None,
    /// Every report, over a bounded channel (the sender waits when it is full).
    Every(SyncSender<Delivery>),
    /// The latest reports in a ring of this size, for a live view that samples.
    Latest(usize),
}

/// What arrived since the last [`LabProducer::take_live`]: the interval's figures and the
/// latest reports.
#[derive(Debug, Default)]
pub struct Live {
    pub interval: Interval,
    /// The latest reports, oldest first.
    pub latest: Vec<Delivery>,
    /// Reports that arrived but are not in `latest`.
    pub skipped: u64,
}

/// A report as the ring keeps it: raw clock reading and key bytes, turned into a [`Delivery`]
/// only when taken (most slots are overwritten unseen at full speed).
#[derive(Debug, Default)]
pub(super) struct Slot {
    /// `quanta` clock reading when the report arrived.
    pub(super) at: u64,
    pub(super) seq: u64,
    pub(super) key: Option<Vec<u8>>,
    pub(super) partition: i32,
    pub(super) offset: Option<i64>,
    pub(super) latency: Duration,
    pub(super) error: Option<String>,
}

/// The latest reports in a fixed ring whose slots (and their key buffers) are reused.
#[derive(Debug, Default)]
pub(super) struct Ring {
    pub(super) slots: Vec<Slot>,
    pub(super) next: usize,
    pub(super) filled: usize,
    pub(super) skipped: u64,
}

impl Ring {
    pub(super) fn slot(&mut self, keep: usize) -> &mut Slot {
        if self.slots.len() < keep {
            self.slots.resize_with(keep, Slot::default);
        }
        if self.filled == keep {
            self.skipped += 1;
        } else {
            self.filled += 1;
        }
        let i = self.next;
        self.next = (self.next + 1) % keep;
        &mut self.slots[i]
    }

    /// The kept reports, oldest first, with their wall-clock times (`clock` is the one
    /// their readings came from), and how many were overwritten unseen.
    pub(super) fn take(&mut self, clock: &quanta::Clock) -> (Vec<Delivery>, u64) {
        let keep = self.slots.len();
        let start = (self.next + keep - self.filled) % keep.max(1);
        let (wall, raw) = (SystemTime::now(), clock.raw());
        let latest = (0..self.filled)
            .map(|i| {
                let s = &self.slots[(start + i) % keep];
                Delivery {
                    at: wall.checked_sub(clock.delta(s.at, raw)).unwrap_or(wall),
                    seq: s.seq,
                    key: s
                        .key
                        .as_deref()
                        .map(|k| String::from_utf8_lossy(k).into_owned()),
                    partition: s.partition,
                    offset: s.offset,
                    latency: s.latency,
                    error: s.error.clone(),
                }
            })
            .collect();
        let skipped = self.skipped;
        self.filled = 0;
        self.skipped = 0;
        (latest, skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_latest_reports_in_order() {
        let mut ring = Ring::default();
        let clock = quanta::Clock::new();
        for seq in 0..10 {
            ring.slot(4).seq = seq;
        }
        let (latest, skipped) = ring.take(&clock);
        assert_eq!(
            latest.iter().map(|d| d.seq).collect::<Vec<_>>(),
            [6, 7, 8, 9]
        );
        assert_eq!(skipped, 6);
        ring.slot(4).seq = 10;
        let (latest, skipped) = ring.take(&clock);
        assert_eq!(latest.iter().map(|d| d.seq).collect::<Vec<_>>(), [10]);
        assert_eq!(skipped, 0);
        assert_eq!(ring.take(&clock).0.len(), 0);
    }
}
