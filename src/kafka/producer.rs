//! The producer: sends brewery records, measures each delivery, and hands reports out.
//!
//! Delivery reports arrive on librdkafka's polling thread. They are folded there into
//! [`RunTotals`] (counts and a latency histogram); a caller that wants every report (the
//! `produce` subcommand prints one line each) passes a bounded channel.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::statistics::Statistics;
use rdkafka::Message;

use crate::config::ClientSettings;
use crate::kafka::cluster::ErrorLatch;
use crate::kafka::properties;
use crate::kafka::verify::{Ledger, RUN_HEADER, SEQ_HEADER};
use crate::stats::{BatchStats, Interval, RunTotals};

/// One delivery report.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// When the report arrived (wall clock, for display).
    pub at: SystemTime,
    pub seq: u64,
    pub key: Option<String>,
    pub partition: i32,
    pub offset: i64,
    pub latency: Duration,
    pub error: Option<String>,
}

/// What travels with a record from `send` to its delivery report.
pub struct Pending {
    sent_at: Instant,
    seq: u64,
    bytes: usize,
    key: Option<String>,
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
    pub latest: VecDeque<Delivery>,
    /// Reports that arrived but fell out of `latest`.
    pub skipped: u64,
}

pub struct DeliveryContext {
    topic: String,
    totals: Arc<Mutex<RunTotals>>,
    live: Mutex<Live>,
    ledger: Mutex<Ledger>,
    batches: Mutex<BatchStats>,
    reports: Reports,
    pub errors: ErrorLatch,
}

impl ClientContext for DeliveryContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.errors.set(&error, reason);
    }

    fn stats(&self, statistics: Statistics) {
        let mut batches = self.batches.lock().unwrap();
        if let Some(t) = statistics.topics.get(&self.topic) {
            batches.add_window(t.batchcnt.sum, t.batchsize.sum, t.batchcnt.cnt);
        }
        let requests = statistics
            .brokers
            .values()
            .filter_map(|b| b.req.get("Produce"))
            .sum();
        batches.requests(Instant::now(), requests);
        batches.retries = Some(statistics.brokers.values().map(|b| b.txretries).sum());
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<Pending>;

    fn delivery(&self, result: &DeliveryResult<'_>, pending: Box<Pending>) {
        let latency = pending.sent_at.elapsed();
        let (partition, offset, error) = match result {
            Ok(m) => (m.partition(), m.offset(), None),
            Err((e, m)) => (m.partition(), m.offset(), Some(e.to_string())),
        };
        {
            let mut ledger = self.ledger.lock().unwrap();
            match &error {
                None => ledger.acknowledged(pending.seq, partition, offset),
                Some(_) => ledger.failed(pending.seq),
            }
        }
        {
            let mut totals = self.totals.lock().unwrap();
            totals.last_report = Some(Instant::now());
            match &error {
                None => {
                    totals.delivered += 1;
                    *totals.by_partition.entry(partition).or_insert(0) += 1;
                    totals.delivered_bytes += pending.bytes as u64;
                    totals.latency.record(latency);
                }
                Some(e) => {
                    totals.failed += 1;
                    *totals.errors.entry(e.clone()).or_insert(0) += 1;
                }
            }
        }
        let delivery = || Delivery {
            at: SystemTime::now(),
            seq: pending.seq,
            key: pending.key.clone(),
            partition,
            offset,
            latency,
            error: error.clone(),
        };
        match &self.reports {
            Reports::None => {}
            // Blocks when the reader falls behind: back-pressure rather than loss.
            Reports::Every(reports) => {
                let _ = reports.send(delivery());
            }
            Reports::Latest(keep) => {
                let mut live = self.live.lock().unwrap();
                if error.is_none() {
                    live.interval.count += 1;
                    live.interval.bytes += pending.bytes as u64;
                    live.interval.latency.record(latency);
                }
                if live.latest.len() == *keep {
                    live.latest.pop_front();
                    live.skipped += 1;
                }
                live.latest.push_back(delivery());
            }
        }
    }
}

pub struct LabProducer {
    inner: ThreadedProducer<DeliveryContext>,
    topic: String,
    /// Tags every record of this producer (header `kafka-lab-run`), so that a read-back can
    /// tell its records from others'.
    run_tag: String,
    totals: Arc<Mutex<RunTotals>>,
}

impl LabProducer {
    pub fn new(
        settings: &ClientSettings,
        topic: &str,
        reports: Reports,
    ) -> Result<LabProducer, KafkaError> {
        let totals = Arc::new(Mutex::new(RunTotals::default()));
        let context = DeliveryContext {
            topic: topic.to_string(),
            totals: totals.clone(),
            live: Mutex::new(Live::default()),
            ledger: Mutex::new(Ledger::default()),
            batches: Mutex::new(BatchStats::default()),
            reports,
            errors: ErrorLatch::default(),
        };
        let mut config = settings.client_config();
        if settings.get("statistics.interval.ms").is_none() {
            // Batch sizes and request rates come from librdkafka's statistics.
            config.set("statistics.interval.ms", "100");
        }
        let inner = config.create_with_context(context)?;
        let run_tag = format!(
            "{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        );
        Ok(LabProducer {
            inner,
            topic: topic.to_string(),
            run_tag,
            totals,
        })
    }

    /// Queues one record; waits while librdkafka's queue is full.
    pub fn send(&self, seq: u64, key: Option<&str>, payload: &[u8]) -> Result<(), KafkaError> {
        let seq_text = seq.to_string();
        let run_tag = self.run_tag.as_bytes();
        let mut pending = Box::new(Pending {
            sent_at: Instant::now(),
            seq,
            bytes: payload.len(),
            key: key.map(str::to_string),
        });
        loop {
            let sent_at = pending.sent_at;
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: RUN_HEADER,
                    value: Some(run_tag),
                })
                .insert(Header {
                    key: SEQ_HEADER,
                    value: Some(seq_text.as_bytes()),
                });
            let mut record = BaseRecord::with_opaque_to(&self.topic, pending)
                .payload(payload)
                .headers(headers);
            if let Some(k) = key {
                record = record.key(k);
            }
            match self.inner.send(record) {
                Ok(()) => {
                    let mut totals = self.totals.lock().unwrap();
                    totals.sent += 1;
                    totals.first_send.get_or_insert(sent_at);
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), record)) => {
                    pending = record.delivery_opaque;
                    std::thread::sleep(Duration::from_millis(1));
                    // The wait for queue space is not the cluster's latency.
                    pending.sent_at = Instant::now();
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Waits up to `timeout` for every queued record's report; returns how many are still
    /// undelivered.
    pub fn flush(&self, timeout: Duration) -> u64 {
        let _ = self.inner.flush(timeout);
        self.totals().in_flight()
    }

    /// A copy of the counts and latencies so far.
    pub fn totals(&self) -> RunTotals {
        self.totals.lock().unwrap().clone()
    }

    pub fn run_tag(&self) -> &str {
        &self.run_tag
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// What the delivery reports said, for a read-back (see `verify`).
    pub fn ledger(&self) -> Ledger {
        self.inner.context().ledger.lock().unwrap().clone()
    }

    /// Batch sizes and request rates from librdkafka's statistics so far.
    pub fn batch_stats(&self) -> BatchStats {
        self.inner.context().batches.lock().unwrap().clone()
    }

    /// Takes what arrived since the last call (with [`Reports::Latest`]).
    pub fn take_live(&self) -> Live {
        std::mem::take(&mut *self.inner.context().live.lock().unwrap())
    }

    pub fn last_error(&self) -> Option<String> {
        self.inner.context().errors.get().map(|(_, reason)| reason)
    }

    /// The client-level error reported since the last call, if any.
    pub fn take_error(&self) -> Option<String> {
        self.inner.context().errors.take()
    }

    /// The effective value of each property that shapes a run, as librdkafka resolved it.
    pub fn effective_settings(settings: &ClientSettings) -> BTreeMap<String, String> {
        let native = settings.client_config().create_native_config().ok();
        let mut out = BTreeMap::new();
        for key in [
            "acks",
            "linger.ms",
            "batch.size",
            "batch.num.messages",
            "compression.type",
            "enable.idempotence",
            "max.in.flight.requests.per.connection",
            "partitioner",
        ] {
            // Topic-level properties (acks, partitioner) are not in the global config: their
            // default comes from librdkafka's table.
            let value = settings
                .get(key)
                .map(str::to_string)
                .or_else(|| native.as_ref().and_then(|n| n.get(key).ok()))
                .filter(|v| !v.is_empty())
                .or_else(|| properties::lookup(key).map(|p| p.default.clone()));
            if let Some(value) = value {
                let value = match (key, value.as_str()) {
                    ("acks", "-1") => "all".to_string(),
                    _ => value,
                };
                out.insert(key.to_string(), value);
            }
        }
        out
    }
}
