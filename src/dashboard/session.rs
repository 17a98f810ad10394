//! The Kafka side of a dashboard session: the producer, the group's members, the topic
//! watcher, the sink, and the cluster when kafka-lab serves it. It carries out every
//! [`Command`] the same way: what is quick (a message to an actor, a local file) happens at
//! once; what asks the cluster runs in the background and answers later with an [`Outcome`].
//! The run loop therefore never waits for the cluster.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use crate::config::{ClientSettings, Layers};
use crate::dashboard::actors::member::{self, MemberHandle};
use crate::dashboard::actors::producer::{ProducerCommand, ProducerHandle};
use crate::dashboard::actors::watcher::{self, Watcher};
use crate::dashboard::protocol::{Command, Event, KafkaEvent};
use crate::data::sink::{SharedSink, Sink};
use crate::kafka::cluster::{self, TopicInfo};
use crate::kafka::embedded::EmbeddedControl;
use crate::kafka::local::{FaultKind, LocalCluster};
use crate::stats::RunReport;

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
    /// The partition leaders, for an outage of the embedded cluster: of `partition` (the
    /// next one in turn when `None`), for `length` (until brought back when `None`).
    LeadersFound {
        found: Result<Vec<(i32, i32)>, String>,
        partition: Option<i32>,
        length: Option<Duration>,
    },
    /// An embedded broker's outage is over.
    BrokerBack(i32),
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

pub struct Session {
    /// The topic the producer and the members work on now.
    pub topic: String,
    /// The embedded cluster's controls, when kafka-lab serves it.
    pub embedded: Option<EmbeddedControl>,
    pub mock: bool,
    pub producer_settings: ClientSettings,
    pub consumer_settings: ClientSettings,
    /// The members' settings without the panel's group settings.
    pub base_layers: Layers,
    pub member_layers: Layers,
    pub rtt_in_force: Option<u64>,
    pub producer: ProducerHandle,
    /// Members held by the user; a member that rejoins (new settings, another topic) is held
    /// again.
    pub held: std::collections::BTreeSet<u32>,
    pub members: Vec<MemberHandle>,
    /// Members to start again (new group settings or topic) once they have left.
    pub rejoining: Vec<u32>,
    pub watcher: Watcher,
    pub sink: SharedSink,
    pub outages: usize,
    /// The `scripts/kafka-local` cluster this is, when it is one.
    pub local: Option<Arc<LocalCluster>>,
    /// Its nodes kafka-lab paused: resumed when the dashboard quits, whatever happens.
    pub paused: Vec<i32>,
    /// Brokers (embedded) or nodes (kafka-local) kafka-lab has failed and not brought back.
    pub down: Vec<(i32, FaultKind)>,
    pub kafka_tx: mpsc::Sender<KafkaEvent>,
    pub outcome_tx: mpsc::Sender<Outcome>,
}

impl Session {
    pub fn add_member(&mut self, id: u32) {
        let member = member::spawn(
            id,
            &self.member_layers,
            &self.topic,
            self.kafka_tx.clone(),
            self.sink.clone(),
        );
        member.hold(self.held.contains(&id));
        self.members.push(member);
    }

    /// Every member leaves, and joins again (with the settings and topic in force) once gone.
    fn rejoin_all(&mut self) {
        for m in &mut self.members {
            self.rejoining.push(m.id);
            m.leave();
        }
    }

    pub fn on_kafka_event(&mut self, event: &KafkaEvent) {
        if let KafkaEvent::MemberLeft { id, .. } = event {
            self.members.retain(|m| m.id != *id);
            if let Some(i) = self.rejoining.iter().position(|r| r == id) {
                self.rejoining.remove(i);
                self.add_member(*id);
            }
        }
    }

    /// Runs `work` off the loop; its outcome comes back through the loop.
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

    /// Does what a command asks without waiting for the cluster; returns what the screen
    /// should hear now.
    pub fn carry_out(&mut self, command: Command) -> Vec<Event> {
        let notice = |text: String| vec![Event::Notice(text)];
        match command {
            Command::Quit => Vec::new(),
            Command::StartProducer => {
                self.producer.send(ProducerCommand::Start);
                Vec::new()
            }
            Command::StopProducer => {
                self.producer.send(ProducerCommand::Stop);
                Vec::new()
            }
            Command::ApplySettings(s) => {
                self.set_rtt(s.rtt_ms);
                self.producer.send(ProducerCommand::Apply(s));
                Vec::new()
            }
            Command::SetSettings(s) => {
                self.set_rtt(s.rtt_ms);
                self.producer.send(ProducerCommand::Set(s));
                Vec::new()
            }
            Command::Regroup(group) => {
                self.member_layers = group.layers(&self.base_layers, self.mock);
                self.rejoin_all();
                Vec::new()
            }
            Command::AddMember(id) => {
                self.add_member(id);
                Vec::new()
            }
            Command::RemoveMember(id) => {
                // Leaving for good: not back when its rejoin (new group settings) completes.
                self.rejoining.retain(|r| *r != id);
                if let Some(m) = self.members.iter_mut().find(|m| m.id == id) {
                    m.leave();
                }
                Vec::new()
            }
            Command::HoldMember { id, held } => {
                if held {
                    self.held.insert(id);
                } else {
                    self.held.remove(&id);
                }
                if let Some(m) = self.members.iter().find(|m| m.id == id) {
                    m.hold(held);
                }
                Vec::new()
            }
            Command::CreateTopic {
                name,
                partitions,
                replication,
            } => {
                self.create_topic(name, partitions, replication);
                Vec::new()
            }
            Command::AddPartitions { total } => self.add_partitions(total),
            Command::SwitchTopic(name) => {
                let settings = self.producer_settings.clone();
                self.later(move || {
                    let found = cluster::probe(&settings, &name, Duration::from_secs(5))
                        .map_err(|e| e.to_string());
                    Outcome::TopicFound { name, found }
                });
                Vec::new()
            }
            Command::Export(rows) => notice(match export(&rows) {
                Ok(paths) => format!("exported {} runs to {paths}", rows.len()),
                Err(e) => format!("export failed: {e:#}"),
            }),
            Command::BrokerOutage => {
                if self.embedded.is_none() {
                    return notice("b only works on the embedded cluster".to_string());
                }
                let (settings, topic) = (self.producer_settings.clone(), self.topic.clone());
                self.later(move || Outcome::LeadersFound {
                    found: cluster::partition_leaders(&settings, &topic).map_err(|e| e.to_string()),
                    partition: None,
                    length: Some(OUTAGE),
                });
                Vec::new()
            }
            Command::ToggleSink => self.toggle_sink(),
            Command::NodeFault {
                kind,
                partition,
                back_after,
            } => self.node_fault(kind, partition, back_after),
            Command::RecoverAll => self.recover_all(),
        }
    }

    /// Brings back every broker or node kafka-lab failed.
    fn recover_all(&mut self) -> Vec<Event> {
        if self.down.is_empty() {
            return vec![Event::Notice(
                "no broker is down: nothing to bring back".into(),
            )];
        }
        let mut events = Vec::new();
        for (node, kind) in self.down.clone() {
            if self.embedded.is_some() {
                events.extend(self.on_outcome(Outcome::BrokerBack(node)));
            } else {
                events.extend(self.on_outcome(Outcome::NodeRecover { node, kind }));
            }
        }
        events
    }

    /// The embedded brokers' simulated round trip, when it changes.
    fn set_rtt(&mut self, rtt: Option<u64>) {
        if let (Some(cluster), Some(rtt)) = (&self.embedded, rtt) {
            if self.rtt_in_force != Some(rtt) {
                cluster.set_rtt(Duration::from_millis(rtt));
                self.rtt_in_force = Some(rtt);
            }
        }
    }

    /// Fails the leader of `partition` of a `scripts/kafka-local` cluster, off the loop.
    fn node_fault(
        &self,
        kind: FaultKind,
        partition: i32,
        back_after: Option<Duration>,
    ) -> Vec<Event> {
        let Some(local) = self.local.clone() else {
            if self.embedded.is_some() && kind == FaultKind::Kill {
                let (settings, topic) = (self.producer_settings.clone(), self.topic.clone());
                self.later(move || Outcome::LeadersFound {
                    found: cluster::partition_leaders(&settings, &topic).map_err(|e| e.to_string()),
                    partition: Some(partition),
                    length: back_after,
                });
                return Vec::new();
            }
            return vec![Event::Notice(
                "this cluster was not started by scripts/kafka-local".into(),
            )];
        };
        let (settings, topic) = (self.producer_settings.clone(), self.topic.clone());
        self.later(move || {
            let leader = cluster::partition_leaders(&settings, &topic)
                .map_err(|e| e.to_string())
                .and_then(|leaders| {
                    leaders
                        .into_iter()
                        .find(|(p, l)| *p == partition && *l >= 0)
                        .map(|(_, l)| l)
                        .ok_or(format!("partition {partition} has no leader now"))
                });
            let (node, result) = match leader {
                Ok(node) => (node, local.fault(node, kind)),
                Err(e) => (-1, Err(e)),
            };
            Outcome::NodeFaulted {
                node,
                partition,
                kind,
                back_after,
                result,
            }
        });
        Vec::new()
    }

    fn create_topic(&self, name: String, partitions: i32, replication: i32) {
        let embedded = self.embedded.clone();
        let settings = self.producer_settings.clone();
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
                    "created topic {name} with {partitions} partitions (a, then switch, moves to it)"
                ),
                Err(e) => e.to_string(),
            })
        });
    }

    fn add_partitions(&self, total: i32) -> Vec<Event> {
        if self.embedded.is_some() {
            return vec![Event::Notice(
                "the embedded cluster cannot add partitions to an existing topic: \
                 create a topic with more (a) and switch to it"
                    .into(),
            )];
        }
        let (settings, name) = (self.producer_settings.clone(), self.topic.clone());
        self.later(move || {
            Outcome::Notice(
                match block_on(cluster::add_partitions(&settings, &name, total as usize)) {
                    Ok(()) => format!(
                        "topic {name} now has {total} partitions: watch the group rebalance (g)"
                    ),
                    Err(e) => e.to_string(),
                },
            )
        });
        Vec::new()
    }

    /// Acts on the outcome of background work; returns what the screen should hear.
    pub fn on_outcome(&mut self, outcome: Outcome) -> Vec<Event> {
        match outcome {
            Outcome::Notice(text) => vec![Event::Notice(text)],
            Outcome::TopicFound { name, found } => match found {
                Ok(info) => {
                    self.producer
                        .send(ProducerCommand::SwitchTopic(name.clone()));
                    self.topic.clone_from(&name);
                    self.watcher =
                        watcher::spawn(&self.consumer_settings, &self.topic, self.kafka_tx.clone());
                    self.rejoin_all();
                    vec![Event::TopicSwitched {
                        topic: name,
                        partitions: info.partitions.len(),
                    }]
                }
                Err(e) => vec![Event::Notice(e)],
            },
            Outcome::LeadersFound {
                found,
                partition,
                length,
            } => self.outage(found, partition, length),
            Outcome::NodeFaulted {
                node,
                partition,
                kind,
                back_after,
                result,
            } => {
                let said = match result {
                    Ok(said) => said,
                    Err(e) => return vec![Event::Notice(e)],
                };
                if kind == FaultKind::Pause {
                    self.paused.push(node);
                }
                self.down.push((node, kind));
                let back = match back_after {
                    Some(after) => {
                        let outcomes = self.outcome_tx.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(after).await;
                            let _ = outcomes.send(Outcome::NodeRecover { node, kind }).await;
                        });
                        format!("back in {} s", after.as_secs())
                    }
                    None => format!(
                        "it stays down: scripts/kafka-local {} {node} brings it back",
                        if kind == FaultKind::Pause {
                            "resume"
                        } else {
                            "start-node"
                        }
                    ),
                };
                vec![Event::Fault {
                    text: format!("{said} (leader of partition {partition}); {back}"),
                    started: true,
                }]
            }
            Outcome::NodeRecover { node, kind } => {
                if !self.down.iter().any(|(n, _)| *n == node) {
                    return Vec::new();
                }
                if let Some(local) = self.local.clone() {
                    self.later(move || Outcome::NodeRecovered {
                        node,
                        result: local.recover(node, kind),
                    });
                }
                Vec::new()
            }
            Outcome::NodeRecovered { node, result } => match result {
                Ok(said) => {
                    // Only now: a resume that failed leaves it for the shutdown to try again.
                    self.paused.retain(|n| *n != node);
                    self.down.retain(|(n, _)| *n != node);
                    vec![Event::Fault {
                        text: format!("node {node}: {said}"),
                        started: false,
                    }]
                }
                Err(e) => vec![Event::Notice(e)],
            },
            Outcome::BrokerBack(broker) => {
                // Brought back already (a scenario's `recover`).
                if !self.down.iter().any(|(b, _)| *b == broker) {
                    return Vec::new();
                }
                self.down.retain(|(b, _)| *b != broker);
                if let Some(cluster) = &self.embedded {
                    cluster.broker_up(broker);
                }
                vec![Event::Fault {
                    text: format!("broker {broker} is back up"),
                    started: false,
                }]
            }
        }
    }

    /// Takes down the leader of the next partition (in turn) for a few seconds.
    fn outage(
        &mut self,
        leaders: Result<Vec<(i32, i32)>, String>,
        partition: Option<i32>,
        length: Option<Duration>,
    ) -> Vec<Event> {
        let (leaders, cluster) = match (leaders, &self.embedded) {
            (Ok(l), Some(c)) if !l.is_empty() => (l, c),
            (Ok(_), _) => return vec![Event::Notice("no partition leader found".to_string())],
            (Err(e), _) => return vec![Event::Notice(e)],
        };
        let chosen = match partition {
            None => Some(leaders[self.outages % leaders.len()]),
            Some(p) => leaders.iter().copied().find(|(q, l)| *q == p && *l >= 0),
        };
        let Some((partition, broker)) = chosen else {
            return vec![Event::Notice(format!(
                "partition {} has no leader now: no broker taken down",
                partition.unwrap_or(0)
            ))];
        };
        self.outages += 1;
        cluster.broker_down(broker);
        self.down.push((broker, FaultKind::Kill));
        let how_long = match length {
            Some(length) => {
                let outcomes = self.outcome_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(length).await;
                    let _ = outcomes.send(Outcome::BrokerBack(broker)).await;
                });
                format!("for {}", crate::text::seconds(length))
            }
            None => "until brought back".to_string(),
        };
        vec![Event::Fault {
            text: format!(
                "broker {broker} (leader of partition {partition}) down {how_long}: records to it wait in flight and are sent again when it is back"
            ),
            started: true,
        }]
    }

    fn toggle_sink(&mut self) -> Vec<Event> {
        let mut open = self.sink.lock().unwrap();
        if let Some(mut s) = open.take() {
            let _ = s.flush();
            vec![
                Event::SinkChanged(None),
                Event::Notice(format!(
                    "stopped writing: {} records in {}",
                    s.written,
                    s.path().display()
                )),
            ]
        } else {
            let path = std::env::current_dir().unwrap_or_default().join(format!(
                "kafka-lab-sink-{}.jsonl",
                file_stamp(std::time::SystemTime::now())
            ));
            match Sink::open(&path) {
                Ok(s) => {
                    *open = Some(s);
                    vec![
                        Event::SinkChanged(Some(path.display().to_string())),
                        Event::Notice(format!(
                            "writing consumed records to {} (w stops)",
                            path.display()
                        )),
                    ]
                }
                Err(e) => vec![Event::Notice(format!(
                    "cannot open {}: {e}",
                    path.display()
                ))],
            }
        }
    }

    /// Flushes the producer and has every member leave (bounded); returns how the last run
    /// ended.
    pub async fn shut_down(self) -> Option<String> {
        // A node left paused would hang the cluster for everyone after kafka-lab is gone.
        if let Some(local) = self.local.clone() {
            for node in self.paused.clone() {
                let local = local.clone();
                let _ = tokio::task::spawn_blocking(move || local.recover(node, FaultKind::Pause))
                    .await;
            }
        }
        let producer = self.producer;
        let flushing = tokio::task::spawn_blocking(move || producer.shutdown());
        let leaving: Vec<_> = self
            .members
            .into_iter()
            .map(|m| tokio::spawn(m.leave_and_wait(LEAVE_TIMEOUT)))
            .collect();
        for l in leaving {
            let _ = l.await;
        }
        flushing.await.ok().flatten()
    }
}

/// Runs an async admin call to its end on a blocking thread of the runtime.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Handle::current().block_on(future)
}

/// A time for a file name, in UTC: `2026-11-25T22-05-03Z` (no colons, which some systems
/// refuse in names).
fn file_stamp(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace(':', "-")
}

/// Writes the runs to `kafka-lab-runs-<UTC time>.csv` and `.json` in the current folder.
fn export(rows: &[RunReport]) -> Result<String> {
    let stamp = file_stamp(std::time::SystemTime::now());
    let csv_path = format!("kafka-lab-runs-{stamp}.csv");
    let json_path = format!("kafka-lab-runs-{stamp}.json");
    std::fs::write(&csv_path, RunReport::csv(rows))
        .with_context(|| format!("cannot write {csv_path}"))?;
    std::fs::write(&json_path, serde_json::to_string_pretty(rows)?)
        .with_context(|| format!("cannot write {json_path}"))?;
    let dir = std::env::current_dir().unwrap_or_default();
    Ok(format!("{}/{{{csv_path}, {json_path}}}", dir.display()))
}
