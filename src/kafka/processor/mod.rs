//! A processor: consume, transform, produce, as `kafka-lab process` and the dashboard's
//! processors run it. Exactly once: a transactional producer commits each batch of output
//! together with the input offsets it consumed (`read_committed` input), so a crash at any
//! point leaves either the whole batch or none of it. At least once: the input offsets are
//! committed after the output is acknowledged, so a crash in between writes that batch again.

mod live;
mod tally;

pub use live::{Done, Echo, Live};
pub use tally::{OutputTally, TallyFigures};

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::config::ClientSettings;

/// How long a transaction's calls may take before the processor gives up on it.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);
/// A batch ends after this long even when not full: output is not held back long.
const BATCH_TIME: Duration = Duration::from_millis(100);

/// What a processor promises of its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Guarantee {
    /// Transactions: the output and the input offsets commit together.
    ExactlyOnce,
    /// The input offsets commit after the output is acknowledged.
    AtLeastOnce,
}

impl Guarantee {
    pub const ALL: [Guarantee; 2] = [Guarantee::ExactlyOnce, Guarantee::AtLeastOnce];

    pub fn name(self) -> &'static str {
        match self {
            Guarantee::ExactlyOnce => "exactly-once",
            Guarantee::AtLeastOnce => "at-least-once",
        }
    }

    /// The guarantee named as `kafka-lab process` and the panes name it.
    pub fn named(name: &str) -> Option<Guarantee> {
        Guarantee::ALL.into_iter().find(|g| g.name() == name)
    }

    /// How it works, in a line.
    pub fn how(self) -> &'static str {
        match self {
            Guarantee::ExactlyOnce => "exactly once: transactions, read_committed input",
            Guarantee::AtLeastOnce => {
                "at least once: input committed after the output is acknowledged"
            }
        }
    }
}

/// The group id and transactional.id a processor takes unless told otherwise: derived from
/// its topics, so that a processor started again with the same topics resumes.
pub fn derived_id(from: &str, to: &str) -> String {
    format!("kafka-lab-process.{from}.{to}")
}

/// A processor's work: where it reads and writes, how, and until when.
pub struct Job {
    pub from: String,
    pub to: String,
    pub guarantee: Guarantee,
    /// Records per batch (per transaction, exactly once).
    pub batch: u64,
    pub count: Option<u64>,
    pub idle_exit: Option<Duration>,
    /// Its figures as it goes, its news, and the stop or crash it can be asked for.
    pub live: Live,
}

/// Raised when the group moves partitions: the consumer's positions go back to the
/// committed offsets, so a batch still open would read some records twice. The partitions
/// the group gave go to `live`.
pub struct Moves(std::sync::atomic::AtomicBool, Live);

impl ClientContext for Moves {}

impl ConsumerContext for Moves {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, _: &Rebalance<'_>) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, _: &Rebalance<'_>) {
        self.1
            .set_partitions(consumer.assignment().map_or(0, |a| a.count()));
    }
}

/// The batch being written: the input's next offsets, by partition, and how many records.
#[derive(Default)]
struct Batch {
    next: BTreeMap<i32, i64>,
    /// The first offset the batch read in each partition: where a given-up batch is read
    /// again from.
    first: BTreeMap<i32, i64>,
    records: u64,
    began: Option<Instant>,
}

/// How a processor's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Stopped, counted out or idle: its last batch committed.
    Finished,
    /// Asked to crash: it stopped where it was, its clients are to be dropped unclosed.
    Crashed,
}

impl Job {
    /// The processor's clients: its consumer subscribed to the input, its producer (with
    /// transactions initialised, which fences an earlier instance with the same id).
    pub fn clients(
        &self,
        consumer: &ClientSettings,
        producer: &ClientSettings,
        txn_id: &str,
    ) -> Result<(BaseConsumer<Moves>, BaseProducer), KafkaError> {
        let mut c = consumer.client_config();
        c.set("enable.auto.commit", "false");
        // Both read committed input: the output of an aborted transaction is no input.
        c.set("isolation.level", "read_committed");
        let consumer: BaseConsumer<Moves> = c.create_with_context(Moves(
            std::sync::atomic::AtomicBool::new(false),
            self.live.clone(),
        ))?;
        consumer.subscribe(&[self.from.as_str()])?;
        let mut p = producer.client_config();
        // Idempotence needs acks=all and at most 5 requests in flight: whatever the lab's
        // producer is set to, the processor's producer is so.
        p.set("enable.idempotence", "true");
        p.set("acks", "all");
        let in_flight = p
            .get("max.in.flight.requests.per.connection")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(5);
        p.set(
            "max.in.flight.requests.per.connection",
            in_flight.clamp(1, 5).to_string(),
        );
        if self.exactly_once() {
            p.set("transactional.id", txn_id);
        } else {
            // At least once writes outside transactions, whatever id was given.
            p.remove("transactional.id");
        }
        let producer: BaseProducer = p.create()?;
        if self.exactly_once() {
            // Fences an earlier instance with the same id and aborts what it left open.
            producer.init_transactions(TXN_TIMEOUT)?;
        }
        Ok((consumer, producer))
    }

    fn exactly_once(&self) -> bool {
        self.guarantee == Guarantee::ExactlyOnce
    }

    /// Reads, writes and commits until stopped, counted out, idle or crashed; its figures go
    /// to `live` as batches commit.
    pub fn run(&self, consumer: &BaseConsumer<Moves>, producer: &BaseProducer) -> Result<Ended> {
        let before = self.live.with(|d| {
            d.started = Some(Instant::now());
            d.records
        });
        let mut batch = Batch::default();
        let mut last_record = Instant::now();
        loop {
            if self.live.crashing() {
                return Ok(Ended::Crashed);
            }
            let records = self.live.with(|d| d.records) - before;
            let enough = self.count.is_some_and(|n| records + batch.records >= n);
            let idle = self.idle_exit.is_some_and(|d| last_record.elapsed() >= d);
            if self.live.stopping() || enough || idle {
                break;
            }
            // The producer's delivery reports are served here (no thread of its own).
            producer.poll(Duration::ZERO);
            let polled = consumer.poll(Duration::from_millis(50));
            if consumer
                .context()
                .0
                .swap(false, std::sync::atomic::Ordering::SeqCst)
                && batch.records > 0
            {
                self.drop_batch(consumer, producer, &std::mem::take(&mut batch))?;
            }
            match polled {
                Some(Ok(m)) => {
                    last_record = Instant::now();
                    if batch.records == 0 {
                        if self.exactly_once() {
                            producer.begin_transaction()?;
                        }
                        batch.began = Some(Instant::now());
                    }
                    self.write(producer, &m)?;
                    batch.next.insert(m.partition(), m.offset() + 1);
                    batch.first.entry(m.partition()).or_insert(m.offset());
                    batch.records += 1;
                }
                Some(Err(e)) => {
                    consumer_fatal(consumer)?;
                    self.live.say(format!("warning: {e}"));
                }
                None => {}
            }
            let due = batch.began.is_some_and(|b| b.elapsed() >= BATCH_TIME);
            if batch.records > 0 && (batch.records >= self.batch || due) {
                self.commit(consumer, producer, &std::mem::take(&mut batch))?;
            }
        }
        if batch.records > 0 {
            self.commit(consumer, producer, &batch)?;
        }
        Ok(Ended::Finished)
    }

    /// The record written to the output: the brewery with where it was read, its key and
    /// headers (the run tag and sequence) as they came.
    fn write(&self, producer: &BaseProducer, m: &BorrowedMessage<'_>) -> Result<()> {
        let value = transform(m.payload(), &self.from, m.partition(), m.offset());
        let mut headers = OwnedHeaders::new();
        if let Some(h) = m.headers() {
            for header in h.iter() {
                headers = headers.insert(rdkafka::message::Header {
                    key: header.key,
                    value: header.value,
                });
            }
        }
        let mut record = BaseRecord::<[u8], [u8]>::to(&self.to)
            .payload(&value)
            .headers(headers);
        if let Some(key) = m.key() {
            record = record.key(key);
        }
        loop {
            match producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => {
                    let fenced = self.exactly_once().then(|| fatal(producer)).flatten();
                    return Err(fenced.unwrap_or_else(|| {
                        anyhow::Error::new(e).context("cannot write to the output topic")
                    }));
                }
            }
        }
    }

    /// Ends `batch`: exactly once, its input offsets go into the transaction, which commits
    /// (or is aborted, and the input is read again from the last commit); at least once, the
    /// output is flushed, then the input offsets committed.
    fn commit(
        &self,
        consumer: &BaseConsumer<Moves>,
        producer: &BaseProducer,
        batch: &Batch,
    ) -> Result<()> {
        let mut offsets = TopicPartitionList::new();
        for (p, next) in &batch.next {
            offsets.add_partition_offset(&self.from, *p, Offset::Offset(*next))?;
        }
        let began = Instant::now();
        if self.exactly_once() {
            let group = consumer
                .group_metadata()
                .context("the consumer has no group metadata")?;
            // The delivery reports are served here, before the transaction's calls (which
            // would otherwise wait for a thread that serves them).
            let committed = settle(producer)
                .and_then(|()| producer.send_offsets_to_transaction(&offsets, &group, TXN_TIMEOUT))
                .and_then(|()| producer.commit_transaction(TXN_TIMEOUT));
            match committed {
                Ok(()) => {}
                Err(KafkaError::Transaction(e)) if e.txn_requires_abort() => {
                    self.live.say(format!(
                        "transaction aborted ({e}): its input is read again"
                    ));
                    return self.drop_batch(consumer, producer, batch);
                }
                Err(KafkaError::Transaction(e)) if e.is_fatal() => {
                    return Err(fatal(producer).unwrap_or_else(|| {
                        anyhow::anyhow!("the transactional producer cannot go on ({e})")
                    }))
                }
                Err(e) => return Err(e).context("cannot commit the transaction"),
            }
        } else {
            settle(producer).context("the output was not acknowledged")?;
            if let Err(e) = consumer.commit(&offsets, CommitMode::Sync) {
                consumer_fatal(consumer)?;
                // The group is rebalancing (or dropped this member): the batch's output is
                // written, its input will be read again: at least once.
                self.live.say(format!(
                    "input offsets not committed ({e}): this batch's {} records will be \
                     written again",
                    batch.records
                ));
                self.live.with(|d| d.uncommitted += batch.records);
                return Ok(());
            }
        }
        let took = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.live.with(|d| {
            // Grows to fit (a saturating record would clamp to the first bucket's range).
            let _ = d.commits.record(took);
            d.records += batch.records;
            d.batches += 1;
            d.last_commit = Some(Instant::now());
        });
        Ok(())
    }
}

impl Job {
    /// The open batch is given up (the group moved partitions, or its transaction must
    /// abort): exactly once, its transaction is aborted and its input read again from the
    /// committed offsets; at least once, its output stays written and is written again.
    fn drop_batch(
        &self,
        consumer: &BaseConsumer<Moves>,
        producer: &BaseProducer,
        batch: &Batch,
    ) -> Result<()> {
        if self.exactly_once() {
            // What is still in flight is reported before the abort (no thread serves it).
            let _ = settle(producer);
            // The fence can surface here first: a commit refused, then the abort too.
            producer.abort_transaction(TXN_TIMEOUT).map_err(|e| {
                fatal(producer).unwrap_or_else(|| {
                    anyhow::Error::new(e).context("cannot abort the transaction")
                })
            })?;
            self.live.with(|d| d.aborted += 1);
        } else {
            self.live.with(|d| d.uncommitted += batch.records);
        }
        rewind(consumer, &self.from, &batch.first)
    }
}

/// The producer's fatal error, said for what it usually is: a newer instance with the same
/// transactional.id fenced this one.
fn fatal(producer: &BaseProducer) -> Option<anyhow::Error> {
    let (_, reason) = producer.client().fatal_error()?;
    Some(anyhow::anyhow!(
        "the transactional producer cannot go on ({reason}): another instance with the same \
         transactional.id has taken over (it fences this one); this one stops, its open \
         transaction is aborted"
    ))
}

/// The consumer's fatal error, said for what it usually is: another instance with the same
/// `group.instance.id` joined and the group fenced this one. Going on would write every
/// record it reads again, and never commit.
fn consumer_fatal(consumer: &BaseConsumer<Moves>) -> Result<()> {
    match consumer.client().fatal_error() {
        Some((_, reason)) => Err(anyhow::anyhow!(
            "the consumer cannot go on ({reason}): another instance with the same \
             group.instance.id has taken its place in the group; this one stops"
        )),
        None => Ok(()),
    }
}

/// Waits for every record in flight to be reported, serving the reports as they come
/// (rdkafka's own flush looks only every 100 ms, which every batch would wait).
fn settle(producer: &BaseProducer) -> Result<(), KafkaError> {
    let deadline = Instant::now() + TXN_TIMEOUT;
    while producer.in_flight_count() > 0 {
        if Instant::now() >= deadline {
            return Err(KafkaError::Flush(RDKafkaErrorCode::MessageTimedOut));
        }
        producer.poll(Duration::from_millis(1));
    }
    Ok(())
}

/// The partitions of a given-up batch are read again from where the batch began in each
/// (those the group took away are another member's now, read from the committed offsets). A
/// partition still this one's that cannot be moved back stops the processor: going on would
/// commit offsets past records it never wrote.
fn rewind(consumer: &BaseConsumer<Moves>, topic: &str, first: &BTreeMap<i32, i64>) -> Result<()> {
    let owned = consumer.assignment().unwrap_or_default();
    for (p, offset) in first {
        if owned.find_partition(topic, *p).is_none() {
            continue;
        }
        consumer
            .seek(topic, *p, Offset::Offset(*offset), TXN_TIMEOUT)
            .with_context(|| {
                format!(
                    "cannot read partition {p} again from offset {offset} after giving up a \
                     batch; the processor stops rather than skip it"
                )
            })?;
    }
    Ok(())
}

/// The brewery with a field naming where it was read (`topic/partition@offset`); a value
/// that is not a JSON object goes through as it came.
fn transform(value: Option<&[u8]>, topic: &str, partition: i32, offset: i64) -> Vec<u8> {
    let Some(value) = value else {
        return Vec::new();
    };
    match serde_json::from_slice::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(mut o)) => {
            o.insert(
                "processed_from".into(),
                format!("{topic}/{partition}@{offset}").into(),
            );
            serde_json::to_vec(&o).unwrap_or_else(|_| value.to_vec())
        }
        _ => value.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brewery_gets_where_it_was_read_and_anything_else_goes_through() {
        let out = transform(Some(br#"{"id":"x","name":"Brauerei \u00e4"}"#), "in", 3, 42);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["processed_from"], "in/3@42");
        assert_eq!(v["name"], "Brauerei ä");
        assert_eq!(transform(Some(b"not json"), "in", 0, 0), b"not json");
        assert_eq!(transform(Some(b"[1]"), "in", 0, 0), b"[1]");
        assert!(transform(None, "in", 0, 0).is_empty());
    }
}
