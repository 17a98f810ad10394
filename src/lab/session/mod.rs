//! The Kafka side of a lab: the producer, the group's members, the topic watcher, the sink,
//! and the cluster when kafka-lab serves it. It carries out every [`Command`] the same way:
//! what is a message to an actor happens at once; what asks the cluster or touches a file
//! runs in the background and answers later with an [`Outcome`]. The driver therefore never
//! waits for the cluster or a disk.

mod data;
mod faults;
mod files;
mod members;
mod processors;
mod rewind;

pub use data::DataSets;
pub use files::write_files;
use files::{export, toggle_sink};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::mpsc;

use crate::config::{ClientSettings, Layers};
use crate::data::sink::SharedSink;
use crate::kafka::cluster::{self, TopicInfo};
use crate::kafka::embedded::EmbeddedControl;
use crate::kafka::local::{FaultKind, LocalCluster};
use crate::kafka::verify::AbortedMarks;
use crate::lab::actors::member::{Keeps, MemberHandle};
use crate::lab::actors::producer::{ProducerCommand, ProducerHandle};
use crate::lab::actors::watcher::{self, Watcher};
use crate::lab::ledger::SharedLedger;
use crate::lab::protocol::{Command, Event, KafkaEvent};
use crate::lab::settings::{ConsumerSettings, Isolation};
use crate::lab::state::keymap::{key, Action as A, Mode};

/// How long quitting waits for consumers to leave the group.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `b` keeps a broker down.
pub const OUTAGE: Duration = Duration::from_secs(5);

/// News from work the session started in the background.
#[derive(Debug)]
pub enum Outcome {
    /// Something to tell the user.
    Notice(String),
    /// The topic to switch to, as the cluster describes it.
    TopicFound {
        name: String,
        found: Result<TopicInfo, String>,
    },
    /// The sink was opened (its path) or closed, and what to say of it.
    SinkToggled { path: Option<String>, said: String },
    /// The other data set, loaded (or why not).
    DataLoaded(
        Result<
            (
                crate::data::source::Source,
                Arc<crate::data::source::Dataset>,
            ),
            String,
        >,
    ),
    /// A script's report was written (its folder), or could not be.
    ReportWritten(Result<PathBuf, String>),
    /// The partition leaders, for an outage of the embedded cluster: of `partition` (the
    /// next one in turn when `None`), for `length` (until brought back when `None`).
    LeadersFound {
        found: Result<Vec<(i32, i32)>, String>,
        partition: Option<i32>,
        length: Option<Duration>,
    },
    /// An embedded broker's outage is over.
    BrokerBack(i32),
    /// The processors stopped on the topic have ended: they can start again (on so many
    /// partitions).
    ProcessorsReady(usize),
    /// The group's offsets were reset (or could not be).
    Rewound {
        rewind: crate::lab::settings::Rewind,
        result: Result<crate::kafka::rewind::Reset, String>,
    },
    /// A node of a `scripts/kafka-local` cluster is about to be taken down: said before the
    /// clients' complaints about it.
    NodeFaulting {
        node: i32,
        /// What the node is to the partition: "leader of partition 0".
        role: String,
        kind: FaultKind,
    },
    /// A node of a `scripts/kafka-local` cluster was taken down (or could not be).
    NodeFaulted {
        node: i32,
        partition: i32,
        kind: FaultKind,
        back_after: Option<Duration>,
        result: Result<String, String>,
    },
    /// Time to bring a node back.
    NodeRecover { node: i32, kind: FaultKind },
    NodeRecovered {
        node: i32,
        result: Result<String, String>,
    },
}

/// The clients the session runs, and the settings they were made from.
pub struct Clients {
    pub producer: ProducerHandle,
    pub watcher: Watcher,
    /// Hears `kafka-lab worker` heartbeats on the control topic.
    pub workers: crate::lab::actors::workers::WorkersWatch,
    pub producer_settings: ClientSettings,
    pub consumer_settings: ClientSettings,
    /// The members' settings without the panel's consumer settings.
    pub base_layers: Layers,
    /// The panel's consumer settings, on top of `base_layers` for each member.
    pub consumer: ConsumerSettings,
    /// The records of aborted transactions, marked by the producer for the members.
    pub marks: AbortedMarks,
    /// The producer's records, and the other set `d` switches to.
    pub data: DataSets,
}

/// The cluster the session works on, and what kafka-lab did to it.
pub struct Cluster {
    /// The topic the producer and the members work on now.
    pub topic: String,
    /// The embedded cluster's controls, when kafka-lab serves it.
    pub embedded: Option<EmbeddedControl>,
    /// librdkafka's mock cluster (served here or by `kafka-lab cluster`).
    pub mock: bool,
    /// The embedded brokers' simulated round trip in force.
    pub rtt: Option<u64>,
    /// The `scripts/kafka-local` cluster this is, when it is one.
    pub local: Option<Arc<LocalCluster>>,
}

pub struct Session {
    pub clients: Clients,
    cluster: Cluster,
    members: Vec<MemberHandle>,
    /// Members to start again (new consumer settings or topic) once they have left, with what
    /// they keep of themselves (held, their own work per record).
    rejoining: Vec<(u32, Keeps)>,
    /// A rewind under way.
    rewinding: Option<rewind::Rewinding>,
    processors: processors::Processors,
    /// The group's ledger of records finished: reprocessed and skipped.
    ledger: SharedLedger,
    /// Members with an `isolation.level` of their own (they start with it), and whether the
    /// producer runs transactions (`read_committed` members then ask for stable offsets).
    isolation: BTreeMap<u32, Isolation>,
    transactions: bool,
    sink: SharedSink,
    /// Outages of the embedded cluster so far: the next takes the next partition's leader.
    outages: usize,
    /// Nodes of a kafka-local cluster kafka-lab paused: resumed when the lab stops, whatever
    /// happens.
    paused: Vec<i32>,
    /// Brokers (embedded) or nodes (kafka-local) kafka-lab has failed and not brought back.
    down: Vec<(i32, FaultKind)>,
    kafka_tx: mpsc::Sender<KafkaEvent>,
    outcome_tx: mpsc::Sender<Outcome>,
}

impl Session {
    pub fn new(
        clients: Clients,
        cluster: Cluster,
        kafka_tx: mpsc::Sender<KafkaEvent>,
        outcome_tx: mpsc::Sender<Outcome>,
    ) -> Session {
        Session {
            clients,
            cluster,
            members: Vec::new(),
            rejoining: Vec::new(),
            rewinding: None,
            processors: processors::Processors::default(),
            ledger: SharedLedger::default(),
            isolation: BTreeMap::new(),
            transactions: false,
            sink: SharedSink::default(),
            outages: 0,
            paused: Vec::new(),
            down: Vec::new(),
            kafka_tx,
            outcome_tx,
        }
    }

    /// Runs `work` off the driver's task; its outcome comes back through the driver.
    fn later<F>(&self, work: F)
    where
        F: FnOnce() -> Outcome + Send + 'static,
    {
        let outcomes = self.outcome_tx.clone();
        tokio::spawn(async move {
            if let Ok(outcome) = tokio::task::spawn_blocking(work).await {
                let _ = outcomes.send(outcome).await;
            }
        });
    }

    /// Does what a command asks without waiting for the cluster or a disk; returns what the
    /// screen should hear now.
    pub fn carry_out(&mut self, command: Command) -> Vec<Event> {
        let events = self.command(command);
        // Whatever the lab does may change the topic: the watcher looks soon.
        self.clients.watcher.nudge();
        self.clients.watcher.keep_pace(!self.down.is_empty());
        events
    }

    fn command(&mut self, command: Command) -> Vec<Event> {
        match command {
            Command::Quit | Command::Copy(_) => {} // the front end's (`Lab::take_copied`)
            Command::StartProducer => self.clients.producer.send(ProducerCommand::Start),
            Command::StopProducer => self.clients.producer.send(ProducerCommand::Stop),
            Command::ApplySettings(s) => {
                self.set_rtt(s.rtt_ms);
                self.set_transactions(s.txn_plan().is_some());
                self.clients.producer.send(ProducerCommand::Apply(s));
            }
            Command::SetSettings(s) => {
                self.set_rtt(s.rtt_ms);
                self.set_transactions(s.txn_plan().is_some());
                self.clients.producer.send(ProducerCommand::Set(s));
            }
            Command::Consumers(_)
            | Command::Work { .. }
            | Command::Isolation { .. }
            | Command::Crash(_)
            | Command::Restart(_)
            | Command::AddMember(_)
            | Command::RemoveMember(_)
            | Command::HoldMember { .. }
            | Command::Rewind(_) => return self.member_command(command),
            Command::Processors(_) | Command::CrashProcessor(_) | Command::RestartProcessor(_) => {
                return self.processor_command(&command)
            }
            Command::CreateTopic {
                name,
                partitions,
                replication,
            } => self.create_topic(name, partitions, replication),
            Command::AddPartitions { total } => return self.add_partitions(total),
            Command::SwitchTopic(name) => {
                let settings = self.clients.producer_settings.clone();
                self.later(move || {
                    let found = cluster::probe(&settings, &name, Duration::from_secs(5))
                        .map_err(|e| e.to_string());
                    Outcome::TopicFound { name, found }
                });
            }
            Command::Export(rows, consumer_rows) => self.later(move || {
                Outcome::Notice(match export(&rows, &consumer_rows) {
                    Ok(paths) => format!(
                        "exported {} and {} to {paths}",
                        crate::text::count(rows.len() as u64, "run", "runs"),
                        crate::text::count(
                            consumer_rows.len() as u64,
                            "consumer run",
                            "consumer runs"
                        )
                    ),
                    Err(e) => format!("export failed: {e:#}"),
                })
            }),
            Command::WriteReport { dir, files } => self.later(move || {
                Outcome::ReportWritten(write_files(&dir, &files).map_err(|e| format!("{e:#}")))
            }),
            Command::SwitchData => return self.switch_data(),
            Command::ToggleSink => {
                let sink = self.sink.clone();
                self.later(move || toggle_sink(&sink));
            }
            Command::BrokerOutage => return self.broker_outage(),
            Command::NodeFault {
                kind,
                partition,
                back_after,
            } => return self.node_fault(kind, partition, back_after),
            Command::LossRecipe {
                partition,
                back_after,
            } => return self.loss_recipe(partition, back_after),
            Command::RecoverAll => return self.recover_all(),
        }
        Vec::new()
    }

    /// The embedded brokers' simulated round trip, when it changes.
    fn set_rtt(&mut self, rtt: Option<u64>) {
        if let (Some(cluster), Some(rtt)) = (&self.cluster.embedded, rtt) {
            if self.cluster.rtt != Some(rtt) {
                cluster.set_rtt(Duration::from_millis(rtt));
                self.cluster.rtt = Some(rtt);
            }
        }
    }

    fn create_topic(&self, name: String, partitions: i32, replication: i32) {
        let embedded = self.cluster.embedded.clone();
        let settings = self.clients.producer_settings.clone();
        self.later(move || {
            let result = match embedded {
                Some(c) => c.create_topic(&name, partitions),
                None => block_on(cluster::create_topic(
                    &settings,
                    &name,
                    partitions,
                    replication,
                    Duration::from_secs(30),
                )),
            };
            Outcome::Notice(match result {
                Ok(()) => format!(
                    "created topic {name} with {partitions} partitions ({}, then switch, moves to it)",
                    key(Mode::Main, A::Topics)
                ),
                Err(e) => e.to_string(),
            })
        });
    }

    fn add_partitions(&self, total: i32) -> Vec<Event> {
        if self.cluster.embedded.is_some() {
            return vec![Event::Notice(format!(
                "the embedded cluster cannot add partitions to an existing topic: \
                     create a topic with more ({}) and switch to it",
                key(Mode::Main, A::Topics)
            ))];
        }
        let (settings, name) = (
            self.clients.producer_settings.clone(),
            self.cluster.topic.clone(),
        );
        self.later(move || {
            Outcome::Notice(
                match block_on(cluster::add_partitions(&settings, &name, total as usize)) {
                    Ok(()) => format!(
                        "topic {name} now has {total} partitions: watch the group rebalance ({})",
                        key(Mode::Main, A::Timeline)
                    ),
                    Err(e) => e.to_string(),
                },
            )
        });
        Vec::new()
    }

    /// Acts on the outcome of background work; returns what the screen should hear.
    pub fn on_outcome(&mut self, outcome: Outcome) -> Vec<Event> {
        let events = self.outcome(outcome);
        // A fault began or ended, a topic was made: the watcher looks soon, and keeps its
        // quick pace while a broker is down (leaders move seconds later).
        self.clients.watcher.nudge();
        self.clients.watcher.keep_pace(!self.down.is_empty());
        events
    }

    fn outcome(&mut self, outcome: Outcome) -> Vec<Event> {
        match outcome {
            Outcome::Notice(text) => vec![Event::Notice(text)],
            Outcome::SinkToggled { path, said } => {
                vec![Event::SinkChanged(path), Event::Notice(said)]
            }
            Outcome::ReportWritten(result) => vec![Event::ReportWritten(result)],
            Outcome::DataLoaded(loaded) => self.data_loaded(loaded),
            Outcome::TopicFound { name, found } => match found {
                Ok(info) => {
                    self.clients
                        .producer
                        .send(ProducerCommand::SwitchTopic(name.clone()));
                    // The processors read the topic they started on: they stop.
                    let stopped = self.processor_command(&Command::Processors(None));
                    self.cluster.topic.clone_from(&name);
                    self.clients.watcher = watcher::spawn(
                        &self.clients.consumer_settings,
                        &self.cluster.topic,
                        self.kafka_tx.clone(),
                    );
                    self.rejoin_all();
                    let mut events = vec![Event::TopicSwitched {
                        topic: name,
                        partitions: info.partitions.len(),
                    }];
                    events.extend(stopped);
                    events
                }
                Err(e) => vec![Event::Notice(e)],
            },
            Outcome::Rewound { rewind, result } => self.rewound(rewind, result),
            Outcome::ProcessorsReady(partitions) => self
                .start_processors(partitions)
                .map(Event::Notice)
                .into_iter()
                .collect(),
            fault => self.on_fault_outcome(fault),
        }
    }

    /// For each node kafka-lab failed and has not brought back: the command that does.
    pub fn recoveries(&self) -> Vec<String> {
        let Some(local) = &self.cluster.local else {
            return Vec::new();
        };
        self.down
            .iter()
            .map(|(node, kind)| {
                format!(
                    "node {node} is {}: {}",
                    kind.past(),
                    local.recovery_command(*node, *kind)
                )
            })
            .collect()
    }

    /// Flushes the producer and has every member leave (bounded), and brings back the nodes
    /// of a kafka-local cluster it paused or killed (a cluster left hanging or short of a node
    /// would surprise whoever uses it next); says how the last run ended and what it did.
    pub async fn shut_down(mut self) -> ShutDown {
        let mut said = Vec::new();
        self.stop_processors(LEAVE_TIMEOUT).await;
        let recovering: Vec<_> = match self.cluster.local.clone() {
            Some(local) => self
                .down
                .iter()
                .copied()
                .map(|(node, kind)| {
                    let local = local.clone();
                    tokio::task::spawn_blocking(move || (node, kind, local.recover(node, kind)))
                })
                .collect(),
            None => Vec::new(),
        };
        let producer = self.clients.producer;
        let flushing = tokio::task::spawn_blocking(move || producer.shutdown());
        let leaving: Vec<_> = self
            .members
            .into_iter()
            .map(|m| tokio::spawn(m.leave_and_wait(LEAVE_TIMEOUT)))
            .collect();
        for l in leaving {
            let _ = l.await;
        }
        if let Ok(mut open) = self.sink.lock() {
            if let Some(mut s) = open.take() {
                let _ = s.flush();
                said.push(s.summary());
            }
        }
        for r in recovering {
            if let Ok((node, kind, result)) = r.await {
                said.push(match result {
                    Ok(done) => format!("node {node} that kafka-lab had {} is back: {done}", kind.past()),
                    Err(e) => format!(
                        "node {node} that kafka-lab had {} could not be brought back ({e}): scripts/kafka-local {} {node}",
                        kind.past(),
                        kind.recovery()
                    ),
                });
            }
        }
        ShutDown {
            last_run: flushing.await.ok().flatten(),
            said,
        }
    }
}

/// How a session ended.
#[derive(Debug, Default)]
pub struct ShutDown {
    /// How the last producer run ended (its flush).
    pub last_run: Option<String>,
    /// What else the shutdown did (nodes brought back, the sink closed).
    pub said: Vec<String>,
}

/// Runs an async admin call to its end on a blocking thread of the runtime.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Handle::current().block_on(future)
}
