//! Reaching a cluster (the embedded one or an external one), its topics and their partitions,
//! and the errors that say why it could not be reached.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaRespErr;

use crate::config::properties::{self, Applies};
use crate::config::ClientSettings;

/// What to do about a missing topic: the embedded cluster served by `kafka-lab cluster` has no
/// admin API, so it is started with the topic instead.
fn missing_topic_advice(topic: &str, mock: bool) -> String {
    if mock {
        format!(
            "This is kafka-lab's embedded cluster (served by `kafka-lab cluster`), which cannot create topics for others: start it with `kafka-lab cluster -t {topic}`, or pick a topic it has with -t."
        )
    } else {
        "Create it (for example `kafka-lab produce --partitions 6 ...` creates a missing topic), or pick another with -t.".to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot start the embedded cluster: {0}")]
    Embedded(String),
    #[error("cannot reach the Kafka cluster at {servers}: {detail}\n  Check bootstrap.servers ({origin}), that the brokers run, and the network.")]
    Unreachable {
        servers: String,
        origin: String,
        detail: String,
    },
    #[error("authentication to the Kafka cluster at {servers} failed: {detail}\n  Check sasl.mechanisms, sasl.username and sasl.password in your config.")]
    Authentication { servers: String, detail: String },
    #[error("topic `{topic}` does not exist on {servers}\n  {}", missing_topic_advice(topic, *mock))]
    MissingTopic {
        topic: String,
        servers: String,
        /// The cluster is kafka-lab's embedded one (it cannot create topics for others).
        mock: bool,
    },
    #[error("cannot make a Kafka client with these settings: {detail}\n  Check the ssl.* and sasl.* settings: a key, certificate or file librdkafka cannot use.")]
    Client { detail: String },
    #[error("cannot {action} topic `{topic}`: {detail}")]
    Admin {
        action: &'static str,
        topic: String,
        detail: String,
    },
}

/// Keeps the most recent client-level error that librdkafka reported, so that a timeout can
/// say why (connection refused, authentication failed, ...).
#[derive(Debug, Default, Clone)]
pub struct ErrorLatch(Arc<Mutex<Option<Latched>>>, Arc<Mutex<Option<String>>>);

#[derive(Debug, Clone)]
struct Latched {
    code: RDKafkaErrorCode,
    reason: String,
    at: std::time::Instant,
}

impl ErrorLatch {
    pub fn set(&self, error: &KafkaError, reason: &str) {
        let Some(code) = error.rdkafka_error_code() else {
            return;
        };
        let mut latest = self.0.lock().unwrap();
        // "All brokers are down" follows the error that says why; keep the why.
        if code == RDKafkaErrorCode::AllBrokersDown && latest.is_some() {
            return;
        }
        if is_authentication(code, reason) {
            // Kept apart: whatever comes after it (all brokers down, a debug line's error),
            // a refused credential is the reason a client cannot connect.
            *self.1.lock().unwrap() = Some(crate::text::secrets::scrub(reason).into_owned());
        }
        let reason = if code == RDKafkaErrorCode::AllBrokersDown {
            // librdkafka counts the brokers each client knows ("2/2", "0/2"): two clients on
            // one screen would count one outage two ways. Said once, the same way.
            "no broker of the cluster answers this client (librdkafka: all brokers are down)"
                .to_string()
        } else {
            crate::text::secrets::scrub(reason).into_owned()
        };
        *latest = Some(Latched {
            code,
            reason,
            at: std::time::Instant::now(),
        });
    }

    pub fn get(&self) -> Option<(RDKafkaErrorCode, String)> {
        self.0
            .lock()
            .unwrap()
            .as_ref()
            .map(|l| (l.code, l.reason.clone()))
    }

    /// The latest error with how long ago it came (`... (12 s ago)`): an old one is no news.
    pub fn latest_aged(&self) -> Option<(String, std::time::Duration)> {
        self.0.lock().unwrap().as_ref().map(|l| {
            let age = l.at.elapsed();
            (format!("{} ({} s ago)", l.reason, age.as_secs()), age)
        })
    }

    /// A credential the cluster refused, if it refused one.
    pub fn authentication(&self) -> Option<String> {
        self.1.lock().unwrap().clone()
    }

    /// The error reported since the last take, if any.
    pub fn take(&self) -> Option<String> {
        self.0.lock().unwrap().take().map(|l| l.reason)
    }
}

/// An error that means the cluster refused the client's credentials.
fn is_authentication(code: RDKafkaErrorCode, reason: &str) -> bool {
    code == RDKafkaErrorCode::Authentication
        || reason.contains("SASL")
        || reason.contains("authentication")
}

/// A client context that only remembers errors.
#[derive(Default, Clone)]
pub struct ProbeContext {
    pub errors: ErrorLatch,
}

impl ClientContext for ProbeContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.errors.set(&error, reason);
    }
}

impl ProducerContext for ProbeContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, (): ()) {}
}

/// What the probe found out about a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    pub partitions: Vec<i32>,
    /// The cluster is librdkafka's mock cluster (served by `kafka-lab cluster`).
    pub is_mock: bool,
}

/// Properties of `settings` that any client may carry (connection, security), without the
/// ones that belong to the producer or the consumer only.
fn common_config(settings: &ClientSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    for s in &settings.settings {
        if properties::lookup(&s.key).is_some_and(|p| p.applies == Applies::Both) {
            config.set(&s.key, &s.value);
        }
    }
    config
}

/// Connects with the client's settings and looks the topic up. Fails fast, with the reason,
/// when the cluster cannot be reached, refuses the credentials, or lacks the topic.
pub fn probe(
    settings: &ClientSettings,
    topic: &str,
    timeout: Duration,
) -> Result<TopicInfo, ClusterError> {
    let servers = settings.get("bootstrap.servers").unwrap_or("").to_string();
    let origin = settings
        .settings
        .iter()
        .find(|s| s.key == "bootstrap.servers")
        .map_or_else(|| "not set".to_string(), |s| s.origin.to_string());
    let context = ProbeContext::default();
    let client: BaseProducer<ProbeContext> = common_config(settings)
        // Looking a topic up must not create it.
        .set("allow.auto.create.topics", "false")
        .create_with_context(context.clone())
        .map_err(|e| ClusterError::Client {
            detail: client_error(&e),
        })?;
    let deadline = Instant::now() + timeout;
    // Short attempts first, so that errors reported meanwhile are seen early; longer ones
    // after, so that a slow cluster (a long simulated round trip) still answers.
    let mut attempt_timeout = Duration::from_millis(500);
    loop {
        let attempt = client.client().fetch_metadata(Some(topic), attempt_timeout);
        attempt_timeout = (attempt_timeout * 2).min(Duration::from_secs(5)).min(
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(100)),
        );
        // Serves the error callbacks: every event queued, for a while (with `debug` set,
        // hundreds of log events can stand before the error that says why).
        client.poll(Duration::from_millis(20));
        if let Some(reason) = context.errors.authentication() {
            return Err(ClusterError::Authentication {
                servers,
                detail: reason,
            });
        }
        match attempt {
            Ok(metadata) => {
                if let Some(t) = metadata.topics().iter().find(|t| t.name() == topic) {
                    match t.error() {
                        None => {
                            let mut partitions: Vec<i32> = t
                                .partitions()
                                .iter()
                                .map(rdkafka::metadata::MetadataPartition::id)
                                .collect();
                            partitions.sort_unstable();
                            let is_mock = client
                                .client()
                                .fetch_cluster_id(Duration::from_secs(2))
                                .is_some_and(|id| id.starts_with("mockCluster"));
                            return Ok(TopicInfo {
                                name: topic.to_string(),
                                partitions,
                                is_mock,
                            });
                        }
                        Some(RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) => {
                            let mock = client
                                .client()
                                .fetch_cluster_id(Duration::from_secs(2))
                                .is_some_and(|id| id.starts_with("mockCluster"));
                            return Err(ClusterError::MissingTopic {
                                topic: topic.to_string(),
                                servers,
                                mock,
                            });
                        }
                        // Leader elections and the like: ask again.
                        Some(_) => {}
                    }
                }
            }
            Err(e) if Instant::now() >= deadline => {
                let detail = match context.errors.get() {
                    Some((_, reason)) => reason,
                    None => format!("{e} after {} s", timeout.as_secs()),
                };
                return Err(unreachable(&servers, &origin, detail));
            }
            Err(_) => {
                // All brokers refused: no point waiting out the whole timeout.
                if let Some((_, reason)) = context.errors.get() {
                    if Instant::now() + timeout / 2 >= deadline {
                        return Err(unreachable(&servers, &origin, reason));
                    }
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(unreachable(
                &servers,
                &origin,
                format!("no metadata for `{topic}` within {} s", timeout.as_secs()),
            ));
        }
        // Waiting serves events too.
        client.poll(Duration::from_millis(100));
    }
}

/// librdkafka's reason a client could not be made, without the property's value.
fn client_error(e: &KafkaError) -> String {
    match e {
        KafkaError::ClientCreation(reason) => reason.clone(),
        other => other.to_string(),
    }
}

fn unreachable(servers: &str, origin: &str, detail: String) -> ClusterError {
    ClusterError::Unreachable {
        servers: servers.to_string(),
        origin: origin.to_string(),
        detail,
    }
}

/// The leader broker of each partition of `topic`.
pub fn partition_leaders(
    settings: &ClientSettings,
    topic: &str,
) -> Result<Vec<(i32, i32)>, ClusterError> {
    Ok(partition_replicas(settings, topic)?
        .into_iter()
        .map(|(p, leader, _)| (p, leader))
        .collect())
}

/// Each partition of `topic` with its leader and its replicas, by partition.
pub fn partition_replicas(
    settings: &ClientSettings,
    topic: &str,
) -> Result<Vec<(i32, i32, Vec<i32>)>, ClusterError> {
    let client: BaseProducer = common_config(settings)
        .create()
        .map_err(|e: KafkaError| admin_error("look up", topic, e.to_string()))?;
    let metadata = client
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .map_err(|e| admin_error("look up", topic, e.to_string()))?;
    let mut placed: Vec<(i32, i32, Vec<i32>)> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| {
            t.partitions()
                .iter()
                .map(|p| (p.id(), p.leader(), p.replicas().to_vec()))
        })
        .collect();
    placed.sort_unstable();
    Ok(placed)
}

/// How many brokers the cluster has (as its metadata lists them).
pub fn broker_count(settings: &ClientSettings) -> Result<usize, ClusterError> {
    let client: BaseProducer = common_config(settings)
        .create()
        .map_err(|e: KafkaError| admin_error("look up", "the brokers", e.to_string()))?;
    let metadata = client
        .client()
        .fetch_metadata(None, Duration::from_secs(5))
        .map_err(|e| admin_error("look up", "the brokers", e.to_string()))?;
    Ok(metadata.brokers().len())
}

/// Creates a topic through the admin API (a real cluster; the embedded one has no admin API).
pub async fn create_topic(
    settings: &ClientSettings,
    topic: &str,
    partitions: i32,
    replication: i32,
    timeout: Duration,
) -> Result<(), ClusterError> {
    let admin = admin_client(settings, topic, "create")?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication));
    let results = admin.create_topics([&new], &admin_options(timeout)).await;
    admin_outcome(results, "create", topic)
}

/// Raises a topic's partition count through the admin API.
pub async fn add_partitions(
    settings: &ClientSettings,
    topic: &str,
    total: usize,
) -> Result<(), ClusterError> {
    let admin = admin_client(settings, topic, "add partitions to")?;
    let new = NewPartitions::new(topic, total);
    let results = admin
        .create_partitions([&new], &admin_options(Duration::from_secs(30)))
        .await;
    admin_outcome(results, "add partitions to", topic)
}

/// The first error of an admin request, if any.
fn admin_outcome(
    results: rdkafka::error::KafkaResult<Vec<rdkafka::admin::TopicResult>>,
    action: &'static str,
    topic: &str,
) -> Result<(), ClusterError> {
    let results = results.map_err(|e| admin_error(action, topic, e.to_string()))?;
    match results.into_iter().find_map(Result::err) {
        Some((_, code)) => Err(admin_error(action, topic, code.to_string())),
        None => Ok(()),
    }
}

fn admin_client(
    settings: &ClientSettings,
    topic: &str,
    action: &'static str,
) -> Result<AdminClient<DefaultClientContext>, ClusterError> {
    common_config(settings)
        .create()
        .map_err(|e: KafkaError| admin_error(action, topic, e.to_string()))
}

fn admin_options(timeout: Duration) -> AdminOptions {
    AdminOptions::new()
        .operation_timeout(Some(timeout))
        .request_timeout(Some(timeout))
}

pub(crate) fn admin_error(action: &'static str, topic: &str, detail: String) -> ClusterError {
    ClusterError::Admin {
        action,
        topic: topic.to_string(),
        detail,
    }
}
