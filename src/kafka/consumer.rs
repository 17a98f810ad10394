//! One consumer-group member: subscribes, receives records with their metadata, stores and
//! commits offsets only for records that were handled, and reports rebalances.
//!
//! A `BaseConsumer` polled by the thread that handles the records: no async runtime and no
//! copy of a record unless the caller keeps it ([`ConsumedRecord::from_message`]).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers, Timestamp};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::config::ClientSettings;
use crate::kafka::cluster::ErrorLatch;

/// librdkafka (since 2.1) stops fetching a partition for `fetch.queue.backoff.ms` (1 s by
/// default) whenever its local queue holds more than `queued.min.messages`: a consumer that
/// keeps up then idles half the time. kafka-lab's consumers read as fast as they can.
pub const FAST_FETCH: (&str, &str) = ("fetch.queue.backoff.ms", "10");

/// A record as received, with the metadata kafka-lab shows, owned (to be kept).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumedRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub timestamp_type: &'static str,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A record's timestamp in milliseconds and its type: `create`, `log-append` or `none`.
pub fn timestamp(m: &impl Message) -> (Option<i64>, &'static str) {
    match m.timestamp() {
        Timestamp::NotAvailable => (None, "none"),
        Timestamp::CreateTime(t) => (Some(t), "create"),
        Timestamp::LogAppendTime(t) => (Some(t), "log-append"),
    }
}

impl ConsumedRecord {
    pub fn from_message(m: &BorrowedMessage<'_>) -> ConsumedRecord {
        ConsumedRecord::from_message_cut(m, usize::MAX).0
    }

    /// A copy of `m` with at most `value_limit` bytes of its value, and whether it was cut.
    pub fn from_message_cut(m: &BorrowedMessage<'_>, value_limit: usize) -> (ConsumedRecord, bool) {
        let (timestamp_ms, timestamp_type) = timestamp(m);
        let headers = m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        let value = m.payload();
        let cut = value.is_some_and(|v| v.len() > value_limit);
        let record = ConsumedRecord {
            topic: m.topic().to_string(),
            partition: m.partition(),
            offset: m.offset(),
            timestamp_ms,
            timestamp_type,
            key: m.key().map(<[u8]>::to_vec),
            value: value.map(|v| v[..v.len().min(value_limit)].to_vec()),
            headers,
        };
        (record, cut)
    }
}

/// A change in the group as this member sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupEvent {
    Assigned(Vec<i32>),
    Revoked(Vec<i32>),
    /// librdkafka took the member out of the group: the application did not poll within
    /// `max.poll.interval.ms` (it rejoins at its next poll).
    Kicked(String),
    Error(String),
}

pub struct GroupContext {
    events: SyncSender<GroupEvent>,
    pub errors: ErrorLatch,
    /// Offsets are committed by the application (no auto-commit): what it stored is committed
    /// when partitions are taken away, so that the next owner does not read them again.
    manual_commit: bool,
    /// Fetch requests sent so far, by librdkafka's statistics (-1 until the first).
    fetches: AtomicI64,
}

/// How often librdkafka reports its statistics to a consumer (the fetch requests it sent),
/// unless `statistics.interval.ms` is set.
const STATISTICS_MS: &str = "1000";

impl GroupContext {
    fn emit(&self, event: GroupEvent) {
        // Rebalances are rare; if nobody reads, dropping the news is better than blocking
        // librdkafka's thread.
        let _ = self.events.try_send(event);
    }
}

fn partitions(list: &TopicPartitionList) -> Vec<i32> {
    let mut ids: Vec<i32> = list
        .elements()
        .iter()
        .map(rdkafka::topic_partition_list::TopicPartitionListElem::partition)
        .collect();
    ids.sort_unstable();
    ids
}

/// Each partition of `list` with its offset, where it has a real one.
fn offsets(list: &TopicPartitionList) -> Vec<(i32, Option<i64>)> {
    list.elements()
        .iter()
        .map(|e| {
            let at = match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            };
            (e.partition(), at)
        })
        .collect()
}

impl ClientContext for GroupContext {
    /// Parsed for the fetch requests only: the statistics list every partition assigned.
    fn stats_raw(&self, json: &[u8]) {
        if let Some(statistics) = crate::kafka::statistics::Brief::parse(json) {
            self.fetches
                .store(statistics.requests("Fetch"), Ordering::Relaxed);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let reason = crate::text::secrets::scrub(reason).into_owned();
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::PollExceeded) {
            self.emit(GroupEvent::Kicked(reason));
            return;
        }
        self.errors.set(&error, &reason);
        self.emit(GroupEvent::Error(reason));
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            if self.manual_commit {
                // Nothing stored since the last commit is no error.
                let _ = consumer.commit_consumer_state(CommitMode::Sync);
            }
            self.emit(GroupEvent::Revoked(partitions(list)));
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => self.emit(GroupEvent::Assigned(partitions(list))),
            Rebalance::Error(e) => self.emit(GroupEvent::Error(e.to_string())),
            Rebalance::Revoke(_) => {}
        }
    }
}

pub struct LabConsumer {
    inner: BaseConsumer<GroupContext>,
}

impl LabConsumer {
    /// Joins the group of `settings` and subscribes to `topic`. Offsets are stored only by
    /// [`LabConsumer::done`], so a record counts as consumed once it was handled.
    pub fn subscribe(
        settings: &ClientSettings,
        topic: &str,
    ) -> Result<(LabConsumer, Receiver<GroupEvent>), KafkaError> {
        let (events, receiver) = std::sync::mpsc::sync_channel(256);
        let manual_commit = settings
            .get("enable.auto.commit")
            .is_some_and(|v| v.trim() == "false");
        let context = GroupContext {
            events,
            errors: ErrorLatch::default(),
            manual_commit,
            fetches: AtomicI64::new(-1),
        };
        let mut config = settings.client_config();
        if settings.get("statistics.interval.ms").is_none() {
            config.set("statistics.interval.ms", STATISTICS_MS);
        }
        // Unless told otherwise, an offset is stored when its record was handled.
        if settings.get("enable.auto.offset.store").is_none() {
            config.set("enable.auto.offset.store", "false");
        }
        let inner: BaseConsumer<GroupContext> = config.create_with_context(context)?;
        inner.subscribe(&[topic])?;
        Ok((LabConsumer { inner }, receiver))
    }

    /// The next record, waiting up to `timeout`; rebalances are served meanwhile.
    pub fn poll(&self, timeout: Duration) -> Option<KafkaResult<BorrowedMessage<'_>>> {
        self.inner.poll(timeout)
    }

    /// Marks a record handled: its offset is committed with the next (auto or final) commit.
    pub fn done(&self, m: &BorrowedMessage<'_>) -> Result<(), KafkaError> {
        self.inner.store_offset_from_message(m)
    }

    /// Marks `topic`'s `partition` handled up to `offset` (included).
    pub fn done_at(&self, topic: &str, partition: i32, offset: i64) -> Result<(), KafkaError> {
        self.inner.store_offset(topic, partition, offset)
    }

    /// Commits `offsets` (partition, next offset to read) of `topic` now and waits for the
    /// answer: what an application that commits before its work does.
    pub fn commit_offsets(&self, topic: &str, offsets: &[(i32, i64)]) -> Result<(), KafkaError> {
        let mut list = TopicPartitionList::new();
        for (partition, offset) in offsets {
            list.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        self.inner.commit(&list, CommitMode::Sync)
    }

    /// Commits the records `read` (partition, offset) of `topic`, before working on them:
    /// each partition up to the last of them, and waits for the answer.
    pub fn commit_read(&self, topic: &str, read: &[(i32, i64)]) -> Result<(), KafkaError> {
        let mut upto: std::collections::BTreeMap<i32, i64> = std::collections::BTreeMap::new();
        for &(partition, offset) in read {
            let next = upto.entry(partition).or_default();
            *next = (*next).max(offset + 1);
        }
        let list: Vec<(i32, i64)> = upto.into_iter().collect();
        self.commit_offsets(topic, &list)
    }

    /// Reads the records `read` (partition, offset) of `topic` again: each partition from
    /// the first of them, where the member still owns it (a partition it lost is read from
    /// the group's commit by its next owner anyway).
    pub fn read_again(&self, topic: &str, read: &[(i32, i64)]) {
        let mut from: std::collections::BTreeMap<i32, i64> = std::collections::BTreeMap::new();
        for &(partition, offset) in read {
            let first = from.entry(partition).or_insert(offset);
            *first = (*first).min(offset);
        }
        for (partition, offset) in from {
            let _ = self.inner.seek(
                topic,
                partition,
                Offset::Offset(offset),
                Duration::from_secs(1),
            );
        }
    }

    /// Commits the stored offsets without waiting for the answer.
    pub fn commit_async(&self) -> Result<(), KafkaError> {
        match self.inner.commit_consumer_state(CommitMode::Async) {
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            other => other,
        }
    }

    /// Stops as a crashed process does: the client is destroyed without leaving the group or
    /// committing (librdkafka's `RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE`). The group learns of it
    /// only when the member's session times out (or a static member comes back).
    pub fn crash(self) {
        crash(self.inner);
    }

    /// Commits the stored offsets now and waits for the answer.
    pub fn commit(&self) -> Result<(), KafkaError> {
        match self.inner.commit_consumer_state(CommitMode::Sync) {
            // Nothing stored since the last commit.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            other => other,
        }
    }

    pub fn assignment(&self) -> Result<Vec<i32>, KafkaError> {
        Ok(partitions(&self.inner.assignment()?))
    }

    /// The group's committed offset of each of `partitions` (None where there is none).
    pub fn committed(
        &self,
        topic: &str,
        partitions: &[i32],
        timeout: Duration,
    ) -> Result<Vec<(i32, Option<i64>)>, KafkaError> {
        let mut list = TopicPartitionList::new();
        for p in partitions {
            list.add_partition(topic, *p);
        }
        Ok(offsets(&self.inner.committed_offsets(list, timeout)?))
    }

    /// The next offset this member will read per assigned partition (None before the first
    /// fetch of that partition).
    pub fn positions(&self) -> Result<Vec<(i32, Option<i64>)>, KafkaError> {
        let mut out = offsets(&self.inner.position()?);
        out.sort_unstable();
        Ok(out)
    }

    /// Stops fetching every partition assigned now (`held`), or fetches them again. The
    /// member stays in the group; records fetched but not yet read are fetched again later.
    pub fn hold(&self, held: bool) -> Result<(), KafkaError> {
        let assignment = self.inner.assignment()?;
        if held {
            self.inner.pause(&assignment)
        } else {
            self.inner.resume(&assignment)
        }
    }

    /// The partition's high watermark asked of its leader: for a partition not being fetched,
    /// whose cached one ([`LabConsumer::cached_high_watermark`]) no longer moves.
    pub fn ask_high_watermark(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
    ) -> Option<i64> {
        self.inner
            .fetch_watermarks(topic, partition, timeout)
            .ok()
            .map(|(_, high)| high)
    }

    /// The partition's log start offset (its low watermark), asked of its leader.
    pub fn ask_low_watermark(&self, topic: &str, partition: i32, timeout: Duration) -> Option<i64> {
        self.inner
            .fetch_watermarks(topic, partition, timeout)
            .ok()
            .map(|(low, _)| low)
    }

    /// Fetch requests sent so far, by librdkafka's latest statistics (None before the first,
    /// or with `statistics.interval.ms` = 0).
    pub fn fetch_requests(&self) -> Option<u64> {
        u64::try_from(self.inner.context().fetches.load(Ordering::Relaxed)).ok()
    }

    /// The client-level error reported since the last call, if any.
    pub fn take_error(&self) -> Option<String> {
        self.inner.context().errors.take()
    }

    /// The client-level error reported last, if any, without clearing it.
    pub fn last_error(&self) -> Option<String> {
        self.inner.context().errors.get().map(|(_, reason)| reason)
    }

    /// The high watermark from the latest fetch response, without asking the broker.
    pub fn cached_high_watermark(&self, topic: &str, partition: i32) -> Option<i64> {
        let topic = std::ffi::CString::new(topic).ok()?;
        let (mut low, mut high) = (0i64, 0i64);
        // SAFETY: a live client handle, a NUL-terminated topic, and two valid out-pointers.
        let err = unsafe {
            rdkafka_sys::rd_kafka_get_watermark_offsets(
                self.inner.client().native_ptr(),
                topic.as_ptr(),
                partition,
                &raw mut low,
                &raw mut high,
            )
        };
        (err == rdkafka_sys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
            .then_some(high)
    }

    /// Commits what was handled and leaves the group (librdkafka's close on drop).
    pub fn close(self) -> Result<(), KafkaError> {
        // Closing serves the consumer's queue (the revocation comes through it), which would
        // hand over records already fetched: with `enable.auto.offset.store` their offsets
        // are stored as they are handed over, and the close's commit would commit records
        // nobody processed. Paused partitions hand over nothing more.
        if let Ok(assigned) = self.inner.assignment() {
            let _ = self.inner.pause(&assigned);
        }
        let result = match self.commit() {
            // Mid-rebalance the group refuses commits; librdkafka's close commits the stored
            // offsets itself once the rebalance lets it (with enable.auto.commit, the default).
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::RebalanceInProgress)) => Ok(()),
            other => other,
        };
        // rdkafka's drop closes too, but looks whether the close is done every 100 ms: every
        // `consume` run would end 100 ms late. Close here, looking every few milliseconds
        // (serving the revocation meanwhile); the drop's own close is then refused as done.
        if self.inner.close_queue().is_ok() {
            while !self.inner.closed() {
                let _ = self.inner.poll(Duration::from_millis(5));
            }
        }
        drop(self.inner);
        result
    }
}

/// Destroys `consumer` as a crashed process would leave it: no `LeaveGroup`, no commit
/// (librdkafka's `RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE`).
pub fn crash<C: ConsumerContext>(consumer: BaseConsumer<C>) {
    let client = consumer.client().native_ptr();
    // SAFETY: the live client of `consumer`, destroyed once: `consumer` is forgotten, so its
    // own drop (which would close the consumer, then destroy the client again) never runs.
    // What the context holds stays allocated: a crash is rare and on purpose.
    unsafe {
        rdkafka_sys::rd_kafka_destroy_flags(
            client,
            rdkafka_sys::RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE,
        );
    }
    std::mem::forget(consumer);
}
