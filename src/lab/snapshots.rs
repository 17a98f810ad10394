//! What the dashboard's Kafka tasks report, a few times a second: the producer's, each
//! member's and the topic's snapshots. `App` folds them in and `ui` draws them; neither needs
//! the tasks themselves. The client types a snapshot carries are named here too.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::time::{Duration, SystemTime};

use crate::data::counts::Counts;
pub use crate::kafka::consumer::ConsumedRecord;
pub use crate::kafka::partitioners::{KeyHash, WouldGo};
pub use crate::kafka::producer::Delivery;
pub use crate::lab::ledger::Counts as LedgerCounts;
use crate::lab::settings::{Commit, Isolation, ProducerSettings};
use crate::stats::{LatencySummary, RunReport, StageLatency, WindowFigures};

/// The first seconds of each run are shown but left out of its figures.
pub const WARMUP: Duration = Duration::from_secs(2);
/// Bytes of a value kept for display.
const VALUE_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub enum ProducerState {
    Running,
    Stopped,
    Restarting,
    Error(String),
}

/// What the producer thread reports each tick.
#[derive(Debug, Clone)]
pub struct ProducerSnapshot {
    /// Runs are numbered from 1; each start or restart begins a new one.
    pub run: u32,
    pub state: ProducerState,
    pub settings: ProducerSettings,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub in_flight: u64,
    pub run_elapsed: Duration,
    pub window: WindowFigures,
    pub latest: Vec<Delivery>,
    /// Deliveries since the last snapshot that are not in `latest`.
    pub skipped: u64,
    pub last_error: Option<String>,
    /// Set once when a run ends: how its flush went.
    pub run_ended: Option<String>,
    /// Since the producer thread started: the time axis of the charts.
    pub since_start: Duration,
    /// The current run's figures so far (warm-up left out).
    pub report: Option<RunReport>,
    /// Records delivered to each partition in this run.
    pub by_partition: BTreeMap<i32, u64>,
    /// Where the time went in the latest statistics window (queue, send, broker).
    pub stages: Option<StageLatency>,
    /// The keys sent this session, counted by where each key hash would send them.
    pub would: Option<WouldGo>,
    /// When the snapshot was taken (wall clock, for display).
    pub at: SystemTime,
}

impl ProducerSnapshot {
    /// Run `run` in `state`, with nothing sent yet.
    pub fn new(run: u32, state: ProducerState, settings: ProducerSettings) -> ProducerSnapshot {
        ProducerSnapshot {
            run,
            state,
            settings,
            sent: 0,
            delivered: 0,
            failed: 0,
            in_flight: 0,
            run_elapsed: Duration::ZERO,
            window: WindowFigures::default(),
            latest: Vec::new(),
            skipped: 0,
            last_error: None,
            run_ended: None,
            since_start: Duration::ZERO,
            report: None,
            by_partition: BTreeMap::new(),
            stages: None,
            would: None,
            at: SystemTime::UNIX_EPOCH,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MemberState {
    Joining,
    Assigned,
    /// In the group with no partitions (more members than partitions).
    Idle,
    /// Held by the user: in the group, its partitions paused, reading nothing.
    Held,
    Rebalancing,
    Error(String),
    Leaving,
    /// Stopped as a crashed process does (on purpose), at this time: no `LeaveGroup`, no final
    /// commit; its partitions wait for the group to notice.
    Crashed(SystemTime),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PartitionLag {
    pub partition: i32,
    /// The next offset this member will read.
    pub position: Option<i64>,
    pub high_watermark: Option<i64>,
    /// The last stable offset (below it every transaction has ended), asked of the leader by a
    /// `read_committed` member while the lab's producer runs transactions: such a member reads
    /// no further.
    pub stable: Option<i64>,
}

impl PartitionLag {
    /// High watermark minus position, when both are known.
    pub fn lag(&self) -> Option<i64> {
        Some((self.high_watermark? - self.position?).max(0))
    }

    /// Last stable offset minus position, when both are known.
    pub fn lag_to_stable(&self) -> Option<i64> {
        Some((self.stable? - self.position?).max(0))
    }
}

/// A record kept for a pane: its value cut to the first 4 KiB (`truncated` says so).
#[derive(Debug, Clone, PartialEq)]
pub struct RecentRecord {
    pub record: ConsumedRecord,
    pub truncated: bool,
    /// It belongs to a transaction the lab's producer aborted (a `read_uncommitted` read).
    pub aborted: bool,
}

impl RecentRecord {
    /// A copy of `m` with at most the first 4 KiB of its value.
    pub fn of_message(m: &rdkafka::message::BorrowedMessage<'_>, aborted: bool) -> RecentRecord {
        let (record, truncated) = ConsumedRecord::from_message_cut(m, VALUE_BYTES);
        RecentRecord {
            record,
            truncated,
            aborted,
        }
    }

    pub fn keep(mut record: ConsumedRecord) -> RecentRecord {
        let truncated = record.value.as_ref().is_some_and(|v| v.len() > VALUE_BYTES);
        if let Some(v) = record.value.as_mut() {
            v.truncate(VALUE_BYTES);
        }
        RecentRecord {
            record,
            truncated,
            aborted: false,
        }
    }
}

impl Deref for RecentRecord {
    type Target = ConsumedRecord;

    fn deref(&self) -> &ConsumedRecord {
        &self.record
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberSnapshot {
    pub id: u32,
    pub name: String,
    pub client_id: String,
    pub state: MemberState,
    pub partitions: Vec<PartitionLag>,
    pub received: u64,
    pub per_sec: f64,
    /// End-to-end latency over the last seconds: receive time minus the record's `CreateTime`
    /// (the same clock only when producer and consumer run on the same machine).
    pub e2e: LatencySummary,
    pub latest: Vec<RecentRecord>,
    /// When partitions were last assigned to this member.
    pub last_rebalance: Option<SystemTime>,
    /// When partitions were last taken from it.
    pub last_revoke: Option<SystemTime>,
    pub last_error: Option<String>,
    /// What this member consumed, counted by brewery type, state and country.
    pub counts: Counts,
    /// When the snapshot was taken (the wall clock: lag is timed by it).
    pub at: SystemTime,
    /// How it commits, and its work per record in force.
    pub commit: Commit,
    pub work: Duration,
    /// Its `isolation.level`, and the records of aborted transactions it was handed (none
    /// when it reads committed, on a real broker).
    pub isolation: Isolation,
    pub aborted_seen: u64,
    /// Times librdkafka took it out of the group for exceeding `max.poll.interval.ms`, and
    /// when last.
    pub kicked: u64,
    pub last_kicked: Option<SystemTime>,
    /// The group's ledger as this member last saw it: each member's reprocessed and skipped.
    pub ledger: BTreeMap<u32, LedgerCounts>,
    /// What happened since the member's last snapshot that reached the lab (one dropped on a
    /// full channel is carried into the next): the consumer runs add these up.
    pub fresh: Fresh,
}

/// A member's work between two of its snapshots that reached the lab.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fresh {
    /// Records finished.
    pub records: u64,
    /// Their end-to-end latencies, as (microseconds, count) buckets.
    pub e2e: Vec<(u64, u64)>,
    /// Fetch requests sent, by librdkafka's statistics (None: it has not reported any yet).
    pub fetches: Option<u64>,
    /// Times it was taken out of the group for exceeding `max.poll.interval.ms`.
    pub kicks: u64,
}

impl MemberSnapshot {
    /// Its end-to-end latency window holds a record (each counts as at least 1 µs).
    pub fn e2e_known(&self) -> bool {
        self.e2e.max > 0.0
    }

    /// Member `id`, named consumer-`id`, joining and with nothing received yet.
    pub fn new(id: u32) -> MemberSnapshot {
        MemberSnapshot {
            id,
            name: format!("consumer-{id}"),
            client_id: format!("kafka-lab-consumer-{id}"),
            state: MemberState::Joining,
            partitions: Vec::new(),
            received: 0,
            per_sec: 0.0,
            e2e: LatencySummary::default(),
            latest: Vec::new(),
            last_rebalance: None,
            last_revoke: None,
            last_error: None,
            counts: Counts::default(),
            at: SystemTime::UNIX_EPOCH,
            commit: Commit::Auto,
            work: Duration::ZERO,
            isolation: Isolation::ReadCommitted,
            aborted_seen: 0,
            kicked: 0,
            last_kicked: None,
            ledger: BTreeMap::new(),
            fresh: Fresh::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PartitionInfo {
    pub partition: i32,
    /// The leader broker's id (-1: no leader).
    pub leader: i32,
    /// The brokers that hold a copy, and those of them in sync with the leader.
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub low_watermark: i64,
    pub high_watermark: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TopicSnapshot {
    pub partitions: Vec<PartitionInfo>,
    /// The cluster's topics (not its internal ones), by name.
    pub topics: Vec<String>,
}

// The processors' figures, as their panes show them.
pub use crate::kafka::processor::{Guarantee, TallyFigures};

#[derive(Debug, Clone, PartialEq)]
pub enum ProcessorState {
    /// Making its output topic and its clients (exactly once: fencing an earlier instance).
    Starting,
    Running,
    /// Crashed on purpose at this time: nothing committed since its last batch.
    Crashed(SystemTime),
    Stopped,
    Failed(String),
}

/// What a processor's pane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessorSnapshot {
    /// The instance's number in the session: a later one's snapshots replace an earlier's.
    pub instance: u64,
    pub guarantee: Guarantee,
    pub state: ProcessorState,
    pub from: String,
    pub to: String,
    /// Its group id, and (exactly once) its transactional.id: the same.
    pub id: String,
    /// Partitions its group gave it (0 while it joins).
    pub partitions: usize,
    /// Records and batches committed, by every instance so far.
    pub records: u64,
    pub batches: u64,
    pub aborted: u64,
    pub uncommitted: u64,
    pub commit_p50_ms: Option<f64>,
    pub commit_p99_ms: Option<f64>,
    /// Crashes so far.
    pub crashes: u32,
    pub output: TallyFigures,
    /// Its latest news (an aborted transaction, a commit refused), or the tally's trouble.
    pub news: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_records_cut_long_values() {
        let record = |len: usize| ConsumedRecord {
            topic: "t".into(),
            partition: 0,
            offset: 7,
            timestamp_ms: None,
            timestamp_type: "none",
            key: None,
            value: Some(vec![b'x'; len]),
            headers: vec![],
        };
        let long = RecentRecord::keep(record(VALUE_BYTES + 1));
        assert!(long.truncated);
        assert_eq!(long.value.as_ref().unwrap().len(), VALUE_BYTES);
        let short = RecentRecord::keep(record(10));
        assert!(!short.truncated);
        assert_eq!(short.offset, 7, "fields read through to the record");
    }

    #[test]
    fn lag_is_high_watermark_minus_position() {
        let p = |position, high_watermark| PartitionLag {
            partition: 0,
            position,
            high_watermark,
            stable: None,
        };
        assert_eq!(p(Some(10), Some(25)).lag(), Some(15));
        assert_eq!(p(Some(25), Some(25)).lag(), Some(0));
        assert_eq!(p(None, Some(25)).lag(), None);
        assert_eq!(p(Some(3), None).lag(), None);
        // A read_committed member waits for the open transaction: it lags the stable offset
        // by what it can read now, the high watermark by that and the transaction.
        let waiting = PartitionLag {
            stable: Some(20),
            ..p(Some(12), Some(25))
        };
        assert_eq!(waiting.lag_to_stable(), Some(8));
        assert_eq!(waiting.lag(), Some(13));
        assert_eq!(p(Some(12), Some(25)).lag_to_stable(), None);
    }
}

/// A `kafka-lab worker` heard on the cluster's control topic in the last few seconds, as its
/// last heartbeat described it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSeen {
    pub name: String,
    pub host: String,
    /// The job it runs, if any.
    pub job: Option<String>,
    pub records_per_sec: f64,
    pub p99_ms: f64,
    /// Acknowledged so far in its job.
    pub delivered: u64,
}
