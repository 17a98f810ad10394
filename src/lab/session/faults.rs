//! Faults kafka-lab injects into the cluster: an embedded broker taken down, a node of a
//! `scripts/kafka-local` cluster paused or killed, and each brought back.

use std::time::Duration;

use super::{Outcome, Session, OUTAGE};
use crate::kafka::cluster;
use crate::kafka::local::FaultKind;
use crate::lab::protocol::Event;

impl Session {
    /// `b` on the embedded cluster: the next partition's leader goes down for a few seconds.
    pub(super) fn broker_outage(&self) -> Vec<Event> {
        if self.cluster.embedded.is_none() {
            return vec![Event::Notice(
                "only the embedded cluster's brokers can be taken down here".to_string(),
            )];
        }
        self.find_leaders(None, Some(OUTAGE));
        Vec::new()
    }

    /// Asks the cluster for the partition leaders (off the driver's task), for an outage.
    fn find_leaders(&self, partition: Option<i32>, length: Option<Duration>) {
        let (settings, topic) = (
            self.clients.producer_settings.clone(),
            self.cluster.topic.clone(),
        );
        self.later(move || Outcome::LeadersFound {
            found: cluster::partition_leaders(&settings, &topic).map_err(|e| e.to_string()),
            partition,
            length,
        });
    }

    /// Fails the leader of `partition` of a `scripts/kafka-local` cluster (or, killed, of the
    /// embedded cluster), off the driver's task.
    pub(super) fn node_fault(
        &self,
        kind: FaultKind,
        partition: i32,
        back_after: Option<Duration>,
    ) -> Vec<Event> {
        let Some(local) = self.cluster.local.clone() else {
            if self.cluster.embedded.is_some() && kind == FaultKind::Kill {
                self.find_leaders(Some(partition), back_after);
                return Vec::new();
            }
            return vec![Event::Notice(
                "this cluster was not started by scripts/kafka-local".into(),
            )];
        };
        let (settings, topic) = (
            self.clients.producer_settings.clone(),
            self.cluster.topic.clone(),
        );
        let outcomes = self.outcome_tx.clone();
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
                Ok(node) => {
                    let _ = outcomes.blocking_send(Outcome::NodeFaulting {
                        node,
                        role: format!("leader of partition {partition}"),
                        kind,
                    });
                    (node, local.fault(node, kind))
                }
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

    /// The acks=1 loss, every time, on a `scripts/kafka-local` cluster: the partition's
    /// followers hang for a moment while its leader takes records alone, then the leader dies
    /// and the followers resume; one of them leads without those records. Off the driver's
    /// task; each node is said before it is touched.
    pub(super) fn loss_recipe(&self, partition: i32, back_after: Option<Duration>) -> Vec<Event> {
        let Some(local) = self.cluster.local.clone() else {
            return vec![Event::Notice(
                "the loss recipe needs a cluster scripts/kafka-local started".into(),
            )];
        };
        let (settings, topic) = (
            self.clients.producer_settings.clone(),
            self.cluster.topic.clone(),
        );
        let outcomes = self.outcome_tx.clone();
        self.later(move || {
            let placed = cluster::partition_replicas(&settings, &topic)
                .map_err(|e| e.to_string())
                .and_then(|all| {
                    all.into_iter()
                        .find(|(p, l, _)| *p == partition && *l >= 0)
                        .ok_or(format!("partition {partition} has no leader now"))
                });
            let (leader, replicas) = match placed {
                Ok((_, leader, replicas)) if replicas.len() > 1 => (leader, replicas),
                Ok(_) => {
                    return Outcome::Notice(format!(
                        "partition {partition} has one replica: no follower to hold back \
                         (create a topic with replication 3 in the topic dialog)"
                    ))
                }
                Err(e) => return Outcome::Notice(e),
            };
            let say = |o: Outcome| {
                let _ = outcomes.blocking_send(o);
            };
            let mut paused = Vec::new();
            for f in replicas.into_iter().filter(|r| *r != leader) {
                say(Outcome::NodeFaulting {
                    node: f,
                    role: format!("follower of partition {partition}"),
                    kind: FaultKind::Pause,
                });
                let result = local.fault(f, FaultKind::Pause);
                let ok = result.is_ok();
                if ok {
                    paused.push(f);
                } else {
                    say(Outcome::NodeFaulted {
                        node: f,
                        partition,
                        kind: FaultKind::Pause,
                        back_after: Some(Duration::ZERO),
                        result,
                    });
                }
            }
            std::thread::sleep(crate::lab::state::forms::RECIPE_PAUSE);
            say(Outcome::NodeFaulting {
                node: leader,
                role: format!("leader of partition {partition}"),
                kind: FaultKind::Kill,
            });
            let killed = local.fault(leader, FaultKind::Kill);
            let done = killed.is_ok();
            // Said in the order done: the kill, then the followers back.
            say(Outcome::NodeFaulted {
                node: leader,
                partition,
                kind: FaultKind::Kill,
                back_after,
                result: killed,
            });
            let held: Vec<String> = paused.iter().map(ToString::to_string).collect();
            for f in paused {
                say(Outcome::NodeRecovered {
                    node: f,
                    result: local.recover(f, FaultKind::Pause),
                });
            }
            Outcome::Notice(if done {
                format!(
                    "loss recipe done on partition {partition}: followers {} held {} s, leader \
                     {leader} killed; under acks=1 what it took alone is lost (the run's \
                     read-back counts it when the run ends)",
                    held.join(", "),
                    crate::lab::state::forms::RECIPE_PAUSE.as_secs()
                )
            } else {
                format!("loss recipe on partition {partition}: the leader could not be killed")
            })
        });
        Vec::new()
    }

    /// Brings back every broker or node kafka-lab failed.
    pub(super) fn recover_all(&mut self) -> Vec<Event> {
        if self.down.is_empty() {
            return vec![Event::Notice(
                "no broker is down: nothing to bring back".into(),
            )];
        }
        let mut events = Vec::new();
        for (node, kind) in self.down.clone() {
            if self.cluster.embedded.is_some() {
                events.extend(self.on_fault_outcome(Outcome::BrokerBack(node)));
            } else {
                events.extend(self.on_fault_outcome(Outcome::NodeRecover { node, kind }));
            }
        }
        events
    }

    /// Sends `outcome` back to the driver after `after`.
    fn after(&self, after: Duration, outcome: Outcome) {
        let outcomes = self.outcome_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = outcomes.send(outcome).await;
        });
    }

    /// Acts on the outcome of a fault's background work.
    pub(super) fn on_fault_outcome(&mut self, outcome: Outcome) -> Vec<Event> {
        match outcome {
            Outcome::LeadersFound {
                found,
                partition,
                length,
            } => self.outage(found, partition, length),
            Outcome::NodeFaulting { node, role, kind } => {
                // Known down from now: a quit in the middle brings it back.
                if !self.down.iter().any(|(n, _)| *n == node) {
                    self.down.push((node, kind));
                }
                vec![
                    Event::NodeState {
                        node,
                        down: Some(kind.past()),
                    },
                    Event::Fault {
                        text: format!("node {node} ({role}): {}", kind.describe()),
                        started: true,
                    },
                ]
            }
            Outcome::NodeFaulted {
                node,
                partition,
                kind,
                back_after,
                result,
            } => self.node_faulted(node, partition, kind, back_after, result),
            Outcome::NodeRecover { node, kind } => {
                if !self.down.iter().any(|(n, _)| *n == node) {
                    return Vec::new();
                }
                if let Some(local) = self.cluster.local.clone() {
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
                    vec![
                        Event::NodeState { node, down: None },
                        Event::Fault {
                            // The script's own words name the node already.
                            text: if said.starts_with(&format!("node {node} ")) {
                                said
                            } else {
                                format!("node {node}: {said}")
                            },
                            started: false,
                        },
                    ]
                }
                Err(e) => vec![Event::Notice(e)],
            },
            Outcome::BrokerBack(broker) => {
                // Brought back already (a scenario's `recover`).
                if !self.down.iter().any(|(b, _)| *b == broker) {
                    return Vec::new();
                }
                self.down.retain(|(b, _)| *b != broker);
                if let Some(cluster) = &self.cluster.embedded {
                    cluster.broker_up(broker);
                }
                vec![
                    Event::NodeState {
                        node: broker,
                        down: None,
                    },
                    Event::Fault {
                        text: format!("broker {broker} is back up"),
                        started: false,
                    },
                ]
            }
            Outcome::Notice(_)
            | Outcome::TopicFound { .. }
            | Outcome::SinkToggled { .. }
            | Outcome::DataLoaded(_)
            | Outcome::ReportWritten(_)
            | Outcome::Rewound { .. }
            | Outcome::ProcessorsReady(_) => Vec::new(),
        }
    }

    /// A node of a `scripts/kafka-local` cluster was taken down (or could not be): it is
    /// brought back after `back_after`, or at the end.
    fn node_faulted(
        &mut self,
        node: i32,
        partition: i32,
        kind: FaultKind,
        back_after: Option<Duration>,
        result: Result<String, String>,
    ) -> Vec<Event> {
        let said = match result {
            Ok(said) => said,
            Err(e) => {
                self.down.retain(|(n, _)| *n != node);
                return vec![Event::NodeState { node, down: None }, Event::Notice(e)];
            }
        };
        if kind == FaultKind::Pause && !self.paused.contains(&node) {
            self.paused.push(node);
        }
        if !self.down.iter().any(|(n, _)| *n == node) {
            self.down.push((node, kind));
        }
        let back = match back_after {
            Some(after) => {
                self.after(after, Outcome::NodeRecover { node, kind });
                format!("back in {} s", after.as_secs())
            }
            None => format!(
                "it stays down until kafka-lab quits (or scripts/kafka-local {} {node})",
                kind.recovery()
            ),
        };
        // The fault was counted when it began; this says how it went.
        vec![Event::Fault {
            text: format!("{said} (leader of partition {partition}); {back}"),
            started: false,
        }]
    }

    /// Takes down the leader of the next partition (in turn) for a few seconds.
    fn outage(
        &mut self,
        leaders: Result<Vec<(i32, i32)>, String>,
        partition: Option<i32>,
        length: Option<Duration>,
    ) -> Vec<Event> {
        let (leaders, cluster) = match (leaders, &self.cluster.embedded) {
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
                self.after(length, Outcome::BrokerBack(broker));
                format!("for {}", crate::text::seconds(length))
            }
            None => "until brought back".to_string(),
        };
        vec![
            Event::NodeState {
                node: broker,
                down: Some("down"),
            },
            Event::Fault {
                text: format!(
                    "broker {broker} (leader of partition {partition}) down {how_long}: records to it wait in flight and are sent again when it is back"
                ),
                started: true,
            },
        ]
    }
}
