//! The parts of a member's report besides its records: its partitions' lag (high watermarks
//! asked of the leaders while it is held), the clock of end-to-end latency, and its state as
//! the group's events set it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use rdkafka::message::BorrowedMessage;

use crate::kafka::consumer::{GroupEvent, LabConsumer};
use crate::kafka::verify::AbortedMarks;
use crate::lab::snapshots::{Fresh, MemberSnapshot, MemberState, PartitionLag, RecentRecord};
use crate::stats::Latency;

/// How long a resumed member's partitions are still asked for their high watermarks: until
/// fetching has brought the cached ones up to date.
pub(super) const ASK_AFTER_RESUME: Duration = Duration::from_secs(5);

/// Partitions' ends asked of their leaders, by a thread of their own: high watermarks while
/// `active` (a held member fetches nothing, so its cached ones stand still), last stable
/// offsets while `stable_wanted` (a `read_committed` member, while the lab's producer runs
/// transactions: its client asks with its isolation level, and the leader answers with the
/// last stable offset). Without transactions the two are the same offset.
#[derive(Default)]
pub(super) struct AskedMarks {
    pub(super) active: AtomicBool,
    pub(super) stable_wanted: AtomicBool,
    pub(super) done: AtomicBool,
    marks: Mutex<BTreeMap<i32, i64>>,
    stable: Mutex<BTreeMap<i32, i64>>,
}

impl AskedMarks {
    /// Asks every assigned partition in turn while active or stable offsets are wanted, until
    /// done.
    pub(super) fn run(&self, consumer: &LabConsumer, topic: &str) {
        let wanted = || {
            (
                self.active.load(Ordering::Relaxed),
                self.stable_wanted.load(Ordering::Relaxed),
            )
        };
        while !self.done.load(Ordering::Relaxed) {
            if wanted() != (false, false) {
                for (partition, _) in consumer.positions().unwrap_or_default() {
                    let (high, stable) = wanted();
                    if self.done.load(Ordering::Relaxed) || (!high && !stable) {
                        break;
                    }
                    if let Some(end) =
                        consumer.ask_high_watermark(topic, partition, Duration::from_secs(2))
                    {
                        // Asked with read_committed while transactions run, the end is the
                        // stable offset, not the high watermark.
                        if high && !stable {
                            self.marks.lock().unwrap().insert(partition, end);
                        }
                        if stable {
                            self.stable.lock().unwrap().insert(partition, end);
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(super) fn stop(&self) {
        self.active.store(false, Ordering::Relaxed);
        self.marks.lock().unwrap().clear();
    }

    /// Asks for last stable offsets, or stops (and forgets them).
    pub(super) fn want_stable(&self, wanted: bool) {
        if !self.stable_wanted.swap(wanted, Ordering::Relaxed) || wanted {
            return;
        }
        self.stable.lock().unwrap().clear();
    }

    pub(super) fn get(&self, partition: i32) -> Option<i64> {
        self.marks.lock().unwrap().get(&partition).copied()
    }

    fn stable(&self, partition: i32) -> Option<i64> {
        self.stable.lock().unwrap().get(&partition).copied()
    }
}

/// Work since the member's last snapshot that reached the lab.
#[derive(Default)]
pub(super) struct Unsent {
    pub(super) records: u64,
    pub(super) e2e: Latency,
    pub(super) kicks: u64,
    /// Fetch requests counted when the last snapshot reached the lab.
    fetches_told: Option<u64>,
}

impl Unsent {
    /// What the next snapshot carries, with `fetches` sent so far.
    pub(super) fn fresh(&self, fetches: Option<u64>) -> Fresh {
        Fresh {
            records: self.records,
            e2e: self.e2e.buckets(),
            fetches: fetches.map(|n| n.saturating_sub(self.fetches_told.unwrap_or(0))),
            kicks: self.kicks,
        }
    }

    /// The lab has it all, with `fetches` sent so far.
    pub(super) fn told(&mut self, fetches: Option<u64>) {
        self.records = 0;
        self.e2e.reset();
        self.kicks = 0;
        self.fetches_told = fetches.or(self.fetches_told);
    }
}

/// The wall clock read once and carried forward by the monotonic clock: a record's receive
/// time without a second clock read per record (`CreateTime` has millisecond resolution; the
/// two clocks drift apart by far less between ticks).
pub(super) struct WallClock {
    wall: SystemTime,
    instant: Instant,
}

impl WallClock {
    /// Both clocks, read together.
    pub(super) fn now() -> WallClock {
        WallClock {
            instant: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    pub(super) fn at(&self, instant: Instant) -> SystemTime {
        self.wall + instant.saturating_duration_since(self.instant)
    }
}

/// Receive time minus creation time; zero when the clocks disagree the other way.
pub(super) fn end_to_end(created_ms: i64, received: SystemTime) -> Duration {
    let created = SystemTime::UNIX_EPOCH + Duration::from_millis(created_ms.max(0) as u64);
    received.duration_since(created).unwrap_or(Duration::ZERO)
}

pub(super) fn apply(m: &mut MemberSnapshot, event: GroupEvent) {
    match event {
        GroupEvent::Assigned(partitions) => {
            m.last_rebalance = Some(SystemTime::now());
            m.state = if partitions.is_empty() {
                MemberState::Idle
            } else {
                MemberState::Assigned
            };
        }
        GroupEvent::Revoked(_) => {
            m.last_revoke = Some(SystemTime::now());
            m.state = MemberState::Rebalancing;
        }
        GroupEvent::Kicked(_) => {
            m.kicked += 1;
            m.last_kicked = Some(SystemTime::now());
            m.state = MemberState::Rebalancing;
        }
        GroupEvent::Error(e) => m.last_error = Some(e),
    }
}

/// Each assigned partition with its high watermark: the latest fetch's, or the one asked of
/// the leader when that is newer (a held partition is not fetched). The position here is
/// librdkafka's (what it handed over); the member puts its own (what it worked on) instead.
pub(super) fn lags(consumer: &LabConsumer, topic: &str, asked: &AskedMarks) -> Vec<PartitionLag> {
    consumer
        .positions()
        .unwrap_or_default()
        .into_iter()
        .map(|(partition, position)| {
            let stable = asked.stable(partition);
            PartitionLag {
                partition,
                position,
                // The high watermark is never below the stable offset: a newer answer of the
                // two raises it.
                high_watermark: consumer
                    .cached_high_watermark(topic, partition)
                    .max(asked.get(partition))
                    .max(stable),
                stable,
            }
        })
        .collect()
}

/// The latest records as a pane shows them, oldest first, each marked when it belongs to an
/// aborted transaction.
pub(super) fn recent(
    latest: &std::collections::VecDeque<BorrowedMessage<'_>>,
    marks: &AbortedMarks,
) -> Vec<RecentRecord> {
    latest
        .iter()
        .map(|r| RecentRecord::of_message(r, marks.of_message(r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_to_end_latency_uses_the_create_time() {
        let received = SystemTime::UNIX_EPOCH + Duration::from_millis(10_250);
        assert_eq!(end_to_end(10_000, received), Duration::from_millis(250));
        // A record from a clock ahead of ours: no negative latency.
        assert_eq!(end_to_end(11_000, received), Duration::ZERO);
    }

    #[test]
    fn group_events_set_the_state() {
        let mut m = MemberSnapshot::new(1);
        apply(&mut m, GroupEvent::Assigned(vec![0, 1]));
        assert_eq!(m.state, MemberState::Assigned);
        assert!(m.last_rebalance.is_some());
        apply(&mut m, GroupEvent::Revoked(vec![0, 1]));
        assert_eq!(m.state, MemberState::Rebalancing);
        apply(&mut m, GroupEvent::Assigned(vec![]));
        assert_eq!(m.state, MemberState::Idle);
    }
}
