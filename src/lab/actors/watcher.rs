//! Watches the topic every couple of seconds: its partitions, their leaders and watermarks, as
//! the broker reports them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc::Sender;

use crate::config::ClientSettings;
use crate::lab::protocol::KafkaEvent;
use crate::lab::snapshots::{PartitionInfo, TopicSnapshot};

const EVERY: Duration = Duration::from_secs(2);
/// On a cluster of more than `FEW_TOPICS` topics, the names of all of them (for the topic
/// dialog) are asked every `LIST_ALL_EVERY` looks only: thousands of topics make a large
/// response. Fewer are asked at every look, so a topic just made is listed at once.
const LIST_ALL_EVERY: u32 = 15;
const FEW_TOPICS: usize = 100;

pub struct Watcher {
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    /// Asks the thread to end, without waiting for it: it may be inside a metadata request
    /// (seconds against a cluster that is gone), and the one who drops it is the lab's loop.
    /// It ends at its next look, and sends nothing more.
    fn drop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        drop(self.thread.take());
    }
}

/// Starts watching `topic` with consumer `settings` (no group is joined).
pub fn spawn(settings: &ClientSettings, topic: &str, events: Sender<KafkaEvent>) -> Watcher {
    let running = Arc::new(AtomicBool::new(true));
    let mut config = settings.client_config();
    config.set("group.id", "kafka-lab-watcher");
    // Asked by a read_committed client, a partition's end is its last stable offset: the high
    // watermark is what a read_uncommitted one is told.
    config.set("isolation.level", "read_uncommitted");
    let topic = topic.to_string();
    let flag = running.clone();
    let thread = std::thread::Builder::new()
        .name("topic-watcher".into())
        .spawn(move || {
            let Ok(client) = config.create::<BaseConsumer>() else {
                return;
            };
            let mut topics = Vec::new();
            let mut looks = 0u32;
            while flag.load(Ordering::SeqCst) {
                let list_all = looks % LIST_ALL_EVERY == 0 || topics.len() <= FEW_TOPICS;
                looks = looks.wrapping_add(1);
                if let Some(snapshot) = look(&client, &topic, list_all, &mut topics) {
                    let _ = events.try_send(KafkaEvent::Topic(snapshot));
                }
                // Sleep in small steps so that dropping the watcher is quick.
                for _ in 0..(EVERY.as_millis() / 100) {
                    if !flag.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
        .expect("spawn the topic watcher");
    Watcher {
        running,
        thread: Some(thread),
    }
}

/// The topic's partitions with their watermarks; with `list_all`, the names of every topic
/// of the cluster too (kept in `topics` for the looks between).
fn look(
    client: &BaseConsumer,
    topic: &str,
    list_all: bool,
    topics: &mut Vec<String>,
) -> Option<TopicSnapshot> {
    let metadata = client
        .fetch_metadata(
            if list_all { None } else { Some(topic) },
            Duration::from_secs(2),
        )
        .ok()?;
    if list_all {
        *topics = metadata
            .topics()
            .iter()
            .map(|t| t.name().to_string())
            .filter(|n| !n.starts_with("__"))
            .collect();
        topics.sort();
    }
    // A topic that does not exist comes back as an entry with an error and no partitions.
    let t = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())?;
    let placed: Vec<(i32, i32)> = t
        .partitions()
        .iter()
        .map(|p| (p.id(), p.leader()))
        .collect();
    // One request per leader for every partition's ends (not two per partition): at a
    // thousand partitions, or a cluster far away, a look stays a look. Asked leader by
    // leader, a leader that fails (the faults this lab makes) loses its own partitions' ends
    // only: librdkafka fails a whole call for one partition's error.
    let lows = ends(client, topic, &placed, Offset::Beginning);
    let highs = ends(client, topic, &placed, Offset::End);
    let mut partitions: Vec<PartitionInfo> = t
        .partitions()
        .iter()
        .map(|p| PartitionInfo {
            partition: p.id(),
            leader: p.leader(),
            replicas: p.replicas().to_vec(),
            isr: p.isr().to_vec(),
            low_watermark: lows.get(&p.id()).copied().unwrap_or(-1),
            high_watermark: highs.get(&p.id()).copied().unwrap_or(-1),
        })
        .collect();
    partitions.sort_by_key(|p| p.partition);
    Some(TopicSnapshot {
        partitions,
        topics: topics.clone(),
    })
}

/// The first (`Offset::Beginning`) or next (`Offset::End`) offset of each partition (given
/// with its leader), as the leaders' `ListOffsets` answer, one request per leader; the
/// partitions of a leader that did not answer are left out.
fn ends(
    client: &BaseConsumer,
    topic: &str,
    placed: &[(i32, i32)],
    which: Offset,
) -> std::collections::HashMap<i32, i64> {
    let mut by_leader: std::collections::BTreeMap<i32, TopicPartitionList> =
        std::collections::BTreeMap::new();
    for (p, leader) in placed {
        // A list this function made takes any partition.
        let _ = by_leader
            .entry(*leader)
            .or_default()
            .add_partition_offset(topic, *p, which);
    }
    let mut found = std::collections::HashMap::new();
    for (_, tpl) in by_leader {
        let Ok(answer) = client.offsets_for_times(tpl, Duration::from_secs(2)) else {
            continue;
        };
        found.extend(
            answer
                .elements()
                .iter()
                .filter(|e| e.error().is_ok())
                .filter_map(|e| match e.offset() {
                    Offset::Offset(o) => Some((e.partition(), o)),
                    _ => None,
                }),
        );
    }
    found
}
