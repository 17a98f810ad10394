//! The control topic: how `kafka-lab worker` processes and a coordinator (`bench --workers`)
//! find each other and work together through the cluster under test, with no other network
//! path between them.
//!
//! Every message is one JSON record on partition 0 of the topic (`kafka-lab.control` unless
//! told otherwise), keyed by its sender: an [`Envelope`] holding the message's JSON (its type
//! included) and an HMAC-SHA256 of those exact bytes with a token every party is given. What
//! does not verify is ignored, whatever its type.
//! A job carries producer tuning properties only (those librdkafka applies to producers alone):
//! never a connection or security property, which each worker takes from its own settings.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message as _, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::properties::{self, Applies};
use crate::config::ClientSettings;
use crate::stats::Accounting;

/// The control topic's default name.
pub const CONTROL_TOPIC: &str = "kafka-lab.control";
/// How often a worker (and a coordinator during a job) says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// Silence after which a worker or coordinator is taken for gone.
pub const SILENCE: Duration = Duration::from_secs(5);
/// The shortest token accepted: anyone who reads the control topic can test guesses against
/// its seals offline, so a short one falls quickly.
pub const MIN_TOKEN: usize = 16;
/// How long the control topic keeps messages: long enough to look back at a run, short
/// enough that the topic stays small.
const RETENTION_MS: &str = "3600000";

/// Milliseconds since the Unix epoch, by this machine's clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One message on the control topic, as it reads once its envelope is opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Adjacently tagged: an internally tagged enum buffers its content, and buffered map keys
// (a read-back's partitions) no longer read back as numbers.
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Message {
    /// A worker is alive: idle, or running a job (with its progress).
    Heartbeat(Heartbeat),
    /// What a coordinator asks of its workers.
    Job(Box<Job>),
    /// A coordinator calls its job off.
    Cancel { job: String },
    /// A worker took a job and will start it at its start time.
    Accepted { worker: String, job: String },
    /// A worker will not run a job, and why (busy with another, a property it refuses, ...).
    Refused {
        worker: String,
        job: String,
        reason: String,
    },
    /// A worker's figures for a job, once its records are delivered and read back.
    Result(Box<JobResult>),
    /// The coordinator of a running job is alive.
    Coordinator { job: String, at_ms: u64 },
    /// A worker stopped (Ctrl-C).
    Gone { worker: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub worker: String,
    pub host: String,
    pub pid: u32,
    /// Random, new in each worker process: a job names it in the worker's share, so that a
    /// job copied from the topic does not run again on a worker started since.
    pub nonce: u64,
    pub version: String,
    /// The worker's clock when it sent this, in ms since the Unix epoch.
    pub at_ms: u64,
    /// The job being run, if any.
    pub job: Option<String>,
    pub progress: Option<Progress>,
}

/// A running job's figures so far, as a heartbeat carries them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub sent: u64,
    /// Acknowledged by the cluster.
    pub delivered: u64,
    pub failed: u64,
    /// Over the last heartbeat's interval.
    pub records_per_sec: f64,
    pub p99_ms: f64,
    pub elapsed_s: f64,
}

/// A message's JSON and its HMAC-SHA256 (base64): what the control topic holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub body: String,
    pub mac: String,
}

/// What a coordinator asks of its workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Unique: a coordinator's name and a random part.
    pub id: String,
    pub coordinator: String,
    pub topic: String,
    /// Producer tuning properties (see [`job_property_refused`]).
    pub properties: BTreeMap<String, String>,
    pub shares: Vec<Share>,
    /// Payload size in bytes; `None`: the brewery records as they are.
    pub record_size: Option<usize>,
    /// The record key: `id`, `state`, `city` or `none`.
    pub key: String,
    /// When every worker sends its first record, ms since the Unix epoch.
    pub start_at_ms: u64,
    /// When a worker gives up on the job whatever happens, ms since the Unix epoch.
    pub deadline_ms: u64,
    /// Read the records back after the run.
    pub verify: bool,
}

/// One worker's part of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub worker: String,
    /// The nonce of the worker's heartbeat the coordinator chose it by.
    pub nonce: u64,
    pub messages: u64,
    /// Records per second; `None`: as fast as it can.
    pub rate: Option<f64>,
    /// Records at the start left out of the latency and the rate.
    pub warmup: u64,
}

/// What a worker reports of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub worker: String,
    pub job: String,
    pub figures: WorkerFigures,
}

/// A worker's figures for one job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerFigures {
    pub host: String,
    /// The run tag its records carry.
    pub run_tag: String,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub undelivered: u64,
    /// Delivered records after the warm-up: those in the rate and the latency.
    pub measured: u64,
    pub bytes: u64,
    /// Seconds the measured records took, first send to last report.
    pub duration_s: f64,
    /// When its first record after the warm-up was sent, ms since the Unix epoch.
    pub measured_from_ms: u64,
    /// The latency histogram, as (microseconds, count) per bucket in use.
    pub latency_us: Vec<(u64, u64)>,
    pub accounting: Option<Accounting>,
    pub read_back_error: Option<String>,
    pub errors: BTreeMap<String, u64>,
    /// Why it stopped before its share was sent, if it did.
    pub stopped: Option<String>,
    /// The producer settings it ran with (tuning only), librdkafka's defaults included.
    pub settings: BTreeMap<String, String>,
}

type HmacSha256 = Hmac<Sha256>;

fn mac_of(token: &str, body: &[u8]) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(token.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    mac
}

/// `message` sealed with `token`.
pub fn seal(token: &str, message: &Message) -> Envelope {
    let body = serde_json::to_string(message).expect("control messages serialize");
    let mac = mac_of(token, body.as_bytes()).finalize().into_bytes();
    Envelope {
        mac: base64::engine::general_purpose::STANDARD.encode(mac),
        body,
    }
}

/// The message, when its envelope was sealed with `token` (checked in constant time).
pub fn open(token: &str, envelope: &Envelope) -> Option<Message> {
    let mac = base64::engine::general_purpose::STANDARD
        .decode(&envelope.mac)
        .ok()?;
    mac_of(token, envelope.body.as_bytes())
        .verify_slice(&mac)
        .ok()?;
    serde_json::from_str(&envelope.body).ok()
}

/// The message without checking who sealed it: for what is only shown (the dashboard) or
/// said in a log (a job signed with another token).
pub fn peek(envelope: &Envelope) -> Option<Message> {
    serde_json::from_str(&envelope.body).ok()
}

/// What [`Channel::next`] heard.
pub enum Heard {
    /// Sealed with this channel's token.
    Sealed(Message),
    /// Not sealed with it: what it claims to be, if it reads as a message at all.
    Unsealed(Option<Message>),
}

/// Why a job may not carry this property, if it may not: only properties librdkafka applies
/// to producers alone (acks, linger.ms, batch.size, compression, ...) travel in a job. Every
/// connection, security or client-wide property (bootstrap.servers, sasl.*, ssl.*,
/// plugin.library.paths, ...) applies to both kinds of client and stays each worker's own.
pub fn job_property_refused(key: &str) -> Option<String> {
    match properties::lookup(key) {
        Some(p) if p.applies == Applies::Producer && key != "transactional.id" => None,
        Some(_) => Some(format!(
            "`{key}` is not a producer tuning property: a job carries only those, and each \
             worker uses its own connection and security settings"
        )),
        None => Some(format!("`{key}` is not a librdkafka property")),
    }
}

/// The control topic, read from its end and written to, every message sealed with a token.
pub struct Channel {
    producer: BaseProducer,
    reader: BaseConsumer,
    topic: String,
    token: String,
}

impl Channel {
    /// Opens the channel with the connection of `producer` and `consumer` (their tuning is
    /// left out: control messages are few and small).
    pub fn open(
        producer: &ClientSettings,
        consumer: &ClientSettings,
        topic: &str,
        token: &str,
    ) -> Result<Channel, String> {
        let connection = |settings: &ClientSettings| {
            let mut config = rdkafka::ClientConfig::new();
            for s in &settings.settings {
                if properties::lookup(&s.key).is_some_and(|p| p.applies == Applies::Both)
                    && s.key != "debug"
                {
                    config.set(&s.key, &s.value);
                }
            }
            config
        };
        // Idempotent: a retried job is not written twice.
        let producer: BaseProducer = connection(producer)
            .set("linger.ms", "0")
            .set("enable.idempotence", "true")
            .create()
            .map_err(|e| e.to_string())?;
        let reader: BaseConsumer = connection(consumer)
            .set("group.id", "kafka-lab-control")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("fetch.wait.max.ms", "100")
            .create()
            .map_err(|e| e.to_string())?;
        // The end as it is now, asked before anything is written: `Offset::End` would be
        // looked up at the first fetch, and whatever came before that would be missed.
        let (_, end) = reader
            .fetch_watermarks(topic, 0, Duration::from_secs(10))
            .map_err(|e| format!("cannot read the end of `{topic}`: {e}"))?;
        let mut from = TopicPartitionList::new();
        from.add_partition_offset(topic, 0, Offset::Offset(end))
            .map_err(|e| e.to_string())?;
        reader.assign(&from).map_err(|e| e.to_string())?;
        Ok(Channel {
            producer,
            reader,
            topic: topic.to_string(),
            token: token.to_string(),
        })
    }

    /// Writes one message, sealed; with `wait`, waits (up to 10 s) until the cluster has it.
    /// Heartbeats do not wait: a slow cluster must not hold up the loop that reads.
    pub fn send(&self, from: &str, message: &Message, wait: bool) -> Result<(), String> {
        let payload = serde_json::to_vec(&seal(&self.token, message)).map_err(|e| e.to_string())?;
        self.producer
            .send(
                BaseRecord::<str, [u8]>::to(&self.topic)
                    .partition(0)
                    .key(from)
                    .payload(&payload),
            )
            .map_err(|(e, _)| e.to_string())?;
        if !wait {
            self.producer.poll(Duration::ZERO);
            return Ok(());
        }
        self.producer
            .flush(Duration::from_secs(10))
            .map_err(|e| format!("the control topic did not take a message: {e}"))
    }

    /// The next message, waiting up to `timeout`; records that are not envelopes are skipped.
    pub fn next(&self, timeout: Duration) -> Option<Heard> {
        match self.reader.poll(timeout)? {
            Ok(m) => {
                let envelope: Envelope = serde_json::from_slice(m.payload()?).ok()?;
                Some(match open(&self.token, &envelope) {
                    Some(message) => Heard::Sealed(message),
                    None => Heard::Unsealed(peek(&envelope)),
                })
            }
            Err(e) => {
                log::debug!("control topic: {e}");
                None
            }
        }
    }

    /// The next message sealed with this channel's token; others are skipped.
    pub fn next_sealed(&self, timeout: Duration) -> Option<Message> {
        match self.next(timeout)? {
            Heard::Sealed(m) => Some(m),
            Heard::Unsealed(_) => None,
        }
    }
}

/// Makes sure the control topic exists on a real cluster: one partition, an hour's retention.
pub async fn ensure_topic(settings: &ClientSettings, topic: &str) -> Result<(), String> {
    use super::cluster::{probe, ClusterError};
    match probe(settings, topic, Duration::from_secs(10)) {
        Ok(_) => Ok(()),
        Err(ClusterError::MissingTopic { mock: true, .. }) => Err(format!(
            "the embedded cluster served by `kafka-lab cluster` has no admin API: it makes \
             `{CONTROL_TOPIC}` itself, so give no --control-topic (or `{topic}` exists there)"
        )),
        Err(ClusterError::MissingTopic { .. }) => create(settings, topic).await,
        Err(e) => Err(e.to_string()),
    }
}

async fn create(settings: &ClientSettings, topic: &str) -> Result<(), String> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<_> = settings
        .client_config()
        .create()
        .map_err(|e: rdkafka::error::KafkaError| e.to_string())?;
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(-1))
        .set("retention.ms", RETENTION_MS)
        .set("cleanup.policy", "delete");
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let refused = |why: String| {
        format!(
            "cannot create the control topic `{topic}`: {why}\n  Create it (1 partition, \
             retention.ms={RETENTION_MS}) with a user allowed to, or name one that exists with \
             --control-topic."
        )
    };
    let results = admin
        .create_topics([&new], &options)
        .await
        .map_err(|e| refused(e.to_string()))?;
    match results.into_iter().find_map(Result::err) {
        Some((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) | None => {}
        Some((_, code)) => return Err(refused(code.to_string())),
    }
    // The new topic's metadata takes a moment to reach every broker.
    for _ in 0..50 {
        if super::cluster::probe(settings, topic, Duration::from_secs(5)).is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(refused(
        "it was created but never showed in the metadata".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_message_opens_with_its_token_only() {
        let cancel = Message::Cancel { job: "j1".into() };
        let sealed = seal("a-long-secret", &cancel);
        assert_eq!(open("a-long-secret", &sealed), Some(cancel.clone()));
        assert_eq!(open("another-secret", &sealed), None);
        assert_eq!(peek(&sealed), Some(cancel));
        let mut tampered = sealed.clone();
        tampered.body = tampered.body.replace("j1", "j2");
        assert_eq!(open("a-long-secret", &tampered), None);
        // The type is sealed too: a result's seal does not make it a cancel.
        let mut retyped = sealed.clone();
        retyped.body = retyped.body.replace("cancel", "gone");
        assert_eq!(open("a-long-secret", &retyped), None);
        let mut garbled = sealed;
        garbled.mac = "not base64!".into();
        assert_eq!(open("a-long-secret", &garbled), None);
    }

    #[test]
    fn jobs_carry_producer_tuning_only() {
        for ok in ["acks", "linger.ms", "batch.size", "compression.type"] {
            assert_eq!(job_property_refused(ok), None, "{ok}");
        }
        for refused in [
            "bootstrap.servers",
            "security.protocol",
            "sasl.password",
            "ssl.ca.location",
            "plugin.library.paths",
            "sasl.kerberos.kinit.cmd",
            "client.id",
            "transactional.id",
            "no.such.thing",
        ] {
            assert!(job_property_refused(refused).is_some(), "{refused}");
        }
    }

    #[test]
    fn messages_read_back_as_written() {
        let m = Message::Refused {
            worker: "w".into(),
            job: "j".into(),
            reason: "busy".into(),
        };
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.starts_with(r#"{"type":"refused""#), "{json}");
        assert!(matches!(
            serde_json::from_str::<Message>(&json).unwrap(),
            Message::Refused { reason, .. } if reason == "busy"
        ));
        // A result with a read-back by partition (map keys that are numbers).
        let mut accounting = Accounting::default();
        accounting
            .per_partition
            .insert(3, crate::stats::PartitionAccount::default());
        let figures = WorkerFigures {
            accounting: Some(accounting),
            latency_us: vec![(120, 4)],
            ..WorkerFigures::default()
        };
        let m = Message::Result(Box::new(JobResult {
            worker: "w".into(),
            job: "j".into(),
            figures,
        }));
        let json = serde_json::to_string(&seal("a-token", &m)).unwrap();
        let envelope: Envelope = serde_json::from_str(&json).unwrap();
        assert_eq!(open("a-token", &envelope), Some(m));
    }
}
