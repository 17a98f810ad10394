//! Watches the topic every couple of seconds: its partitions, their leaders and watermarks, as
//! the broker reports them. While nothing changes (the producer stopped) it looks less often,
//! and at once again when the lab does something.

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
/// How often it looks once `QUIET_LOOKS` looks in a row found the same partitions: at a
/// thousand partitions a look is most of an idle lab's work (librdkafka matches each answer
/// to its request by a linear search). A change, or a nudge, brings `EVERY` back.
const QUIET_EVERY: Duration = Duration::from_secs(10);
const QUIET_LOOKS: u32 = 3;
/// The log start offsets are asked every `LOWS_EVERY` looks: only retention moves them.
const LOWS_EVERY: u32 = 5;
/// On a cluster of more than `FEW_TOPICS` topics, the names of all of them (for the topic
/// dialog) are asked every `LIST_ALL_EVERY` looks only: thousands of topics make a large
/// response. Fewer are asked at every look, so a topic just made is listed at once.
const LIST_ALL_EVERY: u32 = 15;
const FEW_TOPICS: usize = 100;

pub struct Watcher {
    running: Arc<AtomicBool>,
    /// Look now, and at the quick pace: the lab did something that may change the topic.
    nudged: Arc<AtomicBool>,
    /// Keep the quick pace whatever the looks find: a fault is going on.
    paced: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// The lab did something (started the producer, moved members, made a fault): the next
    /// look comes within a tenth of a second, and the quick pace is back.
    pub fn nudge(&self) {
        self.nudged.store(true, Ordering::Relaxed);
    }

    /// While `quick`, it looks every `EVERY` even when nothing changes (a broker is down:
    /// leaders and in-sync replicas move seconds later).
    pub fn keep_pace(&self, quick: bool) {
        self.paced.store(quick, Ordering::Relaxed);
    }
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
    let nudged = Arc::new(AtomicBool::new(false));
    let nudge = nudged.clone();
    let paced = Arc::new(AtomicBool::new(false));
    let pace = paced.clone();
    let thread = std::thread::Builder::new()
        .name("topic-watcher".into())
        .spawn(move || {
            let Ok(client) = config.create::<BaseConsumer>() else {
                return;
            };
            let mut known = Known::default();
            let mut looks = 0u32;
            let mut quiet = 0u32;
            let mut last: Option<(Vec<PartitionInfo>, Vec<String>)> = None;
            while flag.load(Ordering::SeqCst) {
                let list_all = looks % LIST_ALL_EVERY == 0 || known.topics.len() <= FEW_TOPICS;
                let lows = looks % LOWS_EVERY == 0;
                looks = looks.wrapping_add(1);
                if let Some(snapshot) = look(&client, &topic, list_all, lows, &mut known) {
                    let now = (snapshot.partitions.clone(), snapshot.topics.clone());
                    let same = last.as_ref() == Some(&now);
                    quiet = if same { quiet.saturating_add(1) } else { 0 };
                    last = Some(now);
                    let _ = events.try_send(KafkaEvent::Topic(snapshot));
                } else {
                    quiet = 0;
                }
                let pause = if quiet >= QUIET_LOOKS && !pace.load(Ordering::Relaxed) {
                    QUIET_EVERY
                } else {
                    EVERY
                };
                // Sleep in small steps so that dropping the watcher, or a nudge, is quick.
                for _ in 0..(pause.as_millis() / 100) {
                    if !flag.load(Ordering::SeqCst) {
                        return;
                    }
                    if nudge.swap(false, Ordering::Relaxed) {
                        quiet = 0;
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
        .expect("spawn the topic watcher");
    Watcher {
        running,
        nudged,
        paced,
        thread: Some(thread),
    }
}

/// What the watcher keeps between looks: every topic's name and the log start offsets.
#[derive(Default)]
struct Known {
    topics: Vec<String>,
    lows: std::collections::HashMap<i32, i64>,
}

/// The topic's partitions with their watermarks; with `list_all`, the names of every topic
/// of the cluster too, and with `lows` the log start offsets (both kept in `known` for the
/// looks between).
fn look(
    client: &BaseConsumer,
    topic: &str,
    list_all: bool,
    lows: bool,
    known: &mut Known,
) -> Option<TopicSnapshot> {
    let metadata = client
        .fetch_metadata(
            if list_all { None } else { Some(topic) },
            Duration::from_secs(2),
        )
        .ok()?;
    if list_all {
        known.topics = metadata
            .topics()
            .iter()
            .map(|t| t.name().to_string())
            .filter(|n| !n.starts_with("__"))
            .collect();
        known.topics.sort();
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
    // A partition added since the last time is asked at once.
    if lows || placed.iter().any(|(p, _)| !known.lows.contains_key(p)) {
        known.lows = ends(client, topic, &placed, Offset::Beginning);
    }
    let highs = ends(client, topic, &placed, Offset::End);
    let mut partitions: Vec<PartitionInfo> = t
        .partitions()
        .iter()
        .map(|p| PartitionInfo {
            partition: p.id(),
            leader: p.leader(),
            replicas: p.replicas().to_vec(),
            isr: p.isr().to_vec(),
            low_watermark: known.lows.get(&p.id()).copied().unwrap_or(-1),
            high_watermark: highs.get(&p.id()).copied().unwrap_or(-1),
        })
        .collect();
    partitions.sort_by_key(|p| p.partition);
    Some(TopicSnapshot {
        partitions,
        topics: known.topics.clone(),
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
