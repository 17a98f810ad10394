//! The embedded cluster: librdkafka's mock cluster, served by a thread of its own.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer};

use crate::kafka::cluster::{admin_error, ClusterError};

pub const DEFAULT_BROKERS: i32 = 3;
pub const DEFAULT_PARTITIONS: i32 = 6;

/// What the embedded cluster's thread can be asked to do.
enum Command {
    Rtt(Duration),
    BrokerDown(i32),
    BrokerUp(i32),
    CreateTopic(String, i32, mpsc::Sender<Result<(), String>>),
    Stop,
}

/// librdkafka's mock cluster, owned by a thread of its own (the mock handle is not `Send`).
/// Dropping it stops the brokers.
pub struct EmbeddedCluster {
    bootstrap: String,
    control: EmbeddedControl,
    thread: Option<JoinHandle<()>>,
}

/// Asks the embedded cluster's thread for changes; cheap to clone and to send to a task.
/// Once the cluster is stopped, requests are ignored.
#[derive(Clone)]
pub struct EmbeddedControl(mpsc::Sender<Command>);

/// How to build the embedded cluster.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    pub brokers: i32,
    pub topic: String,
    pub partitions: i32,
    pub rtt: Duration,
    /// The group coordinator waits this long before the first rebalance.
    pub rebalance_delay: Duration,
}

impl EmbeddedOptions {
    /// `3 brokers, topic `breweries` with 6 partitions[, 20 ms simulated round trip]`.
    pub fn describe(&self) -> String {
        let rtt = if self.rtt.is_zero() {
            String::new()
        } else {
            format!(", {} ms simulated round trip", self.rtt.as_millis())
        };
        format!(
            "{} brokers, topic `{}` with {} partitions{rtt}",
            self.brokers, self.topic, self.partitions
        )
    }
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            brokers: DEFAULT_BROKERS,
            topic: "breweries".to_string(),
            partitions: DEFAULT_PARTITIONS,
            rtt: Duration::ZERO,
            rebalance_delay: Duration::from_millis(100),
        }
    }
}

impl EmbeddedCluster {
    pub fn start(options: &EmbeddedOptions) -> Result<EmbeddedCluster, ClusterError> {
        if options.brokers < 1 || options.partitions < 1 {
            return Err(ClusterError::Embedded(
                "it needs at least one broker and one partition".to_string(),
            ));
        }
        let (ready_tx, ready_rx) = mpsc::channel();
        let (commands, command_rx) = mpsc::channel();
        let options = options.clone();
        let thread = std::thread::Builder::new()
            .name("embedded-cluster".to_string())
            .spawn(move || run_embedded(&options, &ready_tx, &command_rx))
            .map_err(|e| ClusterError::Embedded(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok(bootstrap)) => Ok(EmbeddedCluster {
                bootstrap,
                control: EmbeddedControl(commands),
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(ClusterError::Embedded(e)),
            Err(_) => Err(ClusterError::Embedded(
                "its thread ended unexpectedly".to_string(),
            )),
        }
    }

    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    pub fn control(&self) -> EmbeddedControl {
        self.control.clone()
    }
}

impl std::ops::Deref for EmbeddedCluster {
    type Target = EmbeddedControl;

    fn deref(&self) -> &EmbeddedControl {
        &self.control
    }
}

impl EmbeddedControl {
    fn send(&self, command: Command) {
        let _ = self.0.send(command);
    }

    /// Sets every broker's simulated network round trip.
    pub fn set_rtt(&self, rtt: Duration) {
        self.send(Command::Rtt(rtt));
    }

    /// Makes a broker refuse connections (its partitions keep it as leader).
    pub fn broker_down(&self, broker: i32) {
        self.send(Command::BrokerDown(broker));
    }

    pub fn broker_up(&self, broker: i32) {
        self.send(Command::BrokerUp(broker));
    }

    /// Creates a topic in the embedded cluster (it has no admin API); blocks up to 5 s.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), ClusterError> {
        let (reply, answer) = mpsc::channel();
        self.send(Command::CreateTopic(topic.to_string(), partitions, reply));
        answer
            .recv_timeout(Duration::from_secs(5))
            .map_err(|_| {
                admin_error(
                    "create",
                    topic,
                    "the embedded cluster did not answer".into(),
                )
            })?
            .map_err(|e| admin_error("create", topic, e))
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        // Controls held elsewhere may outlive the cluster: stop it by asking, not by hanging up.
        self.control.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run_embedded(
    options: &EmbeddedOptions,
    ready: &mpsc::Sender<Result<String, String>>,
    commands: &mpsc::Receiver<Command>,
) {
    // The mock cluster lives inside this client handle and dies with it.
    let holder: Result<BaseProducer, _> = ClientConfig::new()
        .set("test.mock.num.brokers", options.brokers.to_string())
        .create();
    let holder = match holder {
        Ok(h) => h,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    let Some(mock) = holder.client().mock_cluster() else {
        let _ = ready.send(Err("librdkafka created no mock cluster".to_string()));
        return;
    };
    let setup = (|| -> Result<(), KafkaError> {
        mock.create_topic(&options.topic, options.partitions, 1)?;
        // Workers and their coordinators meet there (the served cluster has no admin API).
        if options.topic != super::control::CONTROL_TOPIC {
            mock.create_topic(super::control::CONTROL_TOPIC, 1, 1)?;
        }
        if !options.rtt.is_zero() {
            mock.broker_round_trip_time(-1, options.rtt)?;
        }
        let delay = i32::try_from(options.rebalance_delay.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: the pointer is the live mock cluster of `holder`, which outlives this call.
        unsafe {
            let raw = rdkafka_sys::rd_kafka_handle_mock_cluster(holder.client().native_ptr());
            rdkafka_sys::rd_kafka_mock_group_initial_rebalance_delay_ms(raw, delay);
        }
        Ok(())
    })();
    if let Err(e) = setup {
        let _ = ready.send(Err(e.to_string()));
        return;
    }
    let _ = ready.send(Ok(mock.bootstrap_servers()));
    // Serve until the owner is gone.
    while let Ok(command) = commands.recv() {
        let _ = match command {
            Command::Stop => break,
            Command::Rtt(rtt) => mock.broker_round_trip_time(-1, rtt),
            Command::BrokerDown(id) => mock.broker_down(id),
            Command::BrokerUp(id) => mock.broker_up(id),
            Command::CreateTopic(name, partitions, reply) => {
                let result = mock.create_topic(&name, partitions, 1);
                let _ = reply.send(result.as_ref().copied().map_err(ToString::to_string));
                result
            }
        };
    }
}

/// Consumer settings that make group changes quick on the mock cluster: after the first join
/// it holds each rebalance for `session.timeout.ms - 1000` ms (45 s with the defaults).
pub const MOCK_GROUP_SETTINGS: [(&str, &str); 2] = [
    ("session.timeout.ms", "2000"),
    ("heartbeat.interval.ms", "400"),
];

/// The mock cluster holds every fetch for `fetch.wait.max.ms` (500 ms by default) instead of
/// answering when records arrive, as a real broker does; this keeps its end-to-end latency
/// close to a real broker's.
pub const MOCK_FETCH_SETTINGS: [(&str, &str); 1] = [("fetch.wait.max.ms", "10")];
