//! Listens on the cluster's control topic for `kafka-lab worker` heartbeats, so that the
//! dashboard can show a distributed run going on against the same cluster. Read-only: it never
//! writes there, and never creates the topic. It has no token, so it shows what heartbeats
//! claim without checking their seals.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message as _, Offset, TopicPartitionList};
use tokio::sync::mpsc::Sender;

use crate::config::ClientSettings;
use crate::kafka::control::{peek, Envelope, Message, SILENCE};
use crate::lab::protocol::KafkaEvent;
use crate::lab::snapshots::WorkerSeen;

/// How often a cluster without the control topic is asked again whether it has it.
const LOOK_AGAIN: Duration = Duration::from_secs(15);

/// Stops the listener when dropped.
pub struct WorkersWatch {
    running: Arc<AtomicBool>,
}

impl Drop for WorkersWatch {
    fn drop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
    }
}

/// Listens on `topic` (the workers' `--control-topic`).
pub fn spawn(settings: &ClientSettings, topic: &str, events: Sender<KafkaEvent>) -> WorkersWatch {
    let running = Arc::new(AtomicBool::new(true));
    let mut config = settings.client_config();
    config
        .set("group.id", "kafka-lab-control")
        .set("enable.auto.commit", "false")
        .set("allow.auto.create.topics", "false")
        // A broker answers a fetch as soon as a heartbeat comes: a long wait costs nothing
        // in delay and saves the idle dashboard a request every 200 ms.
        .set("fetch.wait.max.ms", "1000");
    let flag = running.clone();
    let topic = topic.to_string();
    let spawned = std::thread::Builder::new()
        .name("workers-watch".into())
        .spawn(move || {
            let Ok(client) = config.create::<BaseConsumer>() else {
                return;
            };
            if wait_for_topic(&client, &topic, &flag) {
                listen(&client, &topic, &flag, &events);
            }
        });
    if let Err(e) = spawned {
        log::warn!("the workers' listener did not start: {e}");
    }
    WorkersWatch { running }
}

/// Waits until the control topic exists; false when told to stop first.
fn wait_for_topic(client: &BaseConsumer, topic: &str, running: &AtomicBool) -> bool {
    while running.load(Ordering::SeqCst) {
        let found = client
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .is_ok_and(|m| {
                m.topics()
                    .iter()
                    .any(|t| t.name() == topic && t.error().is_none())
            });
        if found {
            return true;
        }
        let until = Instant::now() + LOOK_AGAIN;
        while Instant::now() < until {
            if !running.load(Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    false
}

fn listen(client: &BaseConsumer, topic: &str, running: &AtomicBool, events: &Sender<KafkaEvent>) {
    let mut from = TopicPartitionList::new();
    // The last messages say who was there just before the dashboard started.
    if from
        .add_partition_offset(topic, 0, Offset::OffsetTail(200))
        .is_err()
        || client.assign(&from).is_err()
    {
        return;
    }
    let mut seen: BTreeMap<String, (Instant, WorkerSeen)> = BTreeMap::new();
    let mut shown: Vec<WorkerSeen> = Vec::new();
    let mut next_look = Instant::now();
    while running.load(Ordering::SeqCst) {
        if let Some(Ok(m)) = client.poll(Duration::from_millis(500)) {
            let envelope = m
                .payload()
                .and_then(|p| serde_json::from_slice::<Envelope>(p).ok());
            // Heartbeats of the past (the tail read at the start) age out by the time they
            // are read here, whatever the workers' clocks say.
            match envelope.as_ref().and_then(peek) {
                Some(Message::Heartbeat(h)) => {
                    let progress = h.progress.unwrap_or_default();
                    let worker = WorkerSeen {
                        name: h.worker.clone(),
                        host: h.host,
                        job: h.job,
                        records_per_sec: progress.records_per_sec,
                        p99_ms: progress.p99_ms,
                        delivered: progress.delivered,
                    };
                    seen.insert(h.worker, (Instant::now(), worker));
                }
                Some(Message::Gone { worker }) => {
                    seen.remove(&worker);
                }
                _ => {}
            }
        }
        if Instant::now() >= next_look {
            next_look = Instant::now() + Duration::from_secs(1);
            seen.retain(|_, (at, _)| at.elapsed() < SILENCE);
            let now: Vec<WorkerSeen> = seen.values().map(|(_, w)| w.clone()).collect();
            if now != shown {
                shown.clone_from(&now);
                let _ = events.try_send(KafkaEvent::Workers(now));
            }
        }
    }
}
