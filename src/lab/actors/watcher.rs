//! Watches the topic every couple of seconds: its partitions, their leaders and watermarks, as
//! the broker reports them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use tokio::sync::mpsc::Sender;

use crate::config::ClientSettings;
use crate::lab::protocol::KafkaEvent;
use crate::lab::snapshots::{PartitionInfo, TopicSnapshot};

const EVERY: Duration = Duration::from_secs(2);

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
            while flag.load(Ordering::SeqCst) {
                if let Some(snapshot) = look(&client, &topic) {
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

fn look(client: &BaseConsumer, topic: &str) -> Option<TopicSnapshot> {
    // All topics in one request: their names for the topic dialog, this one's partitions.
    let metadata = client.fetch_metadata(None, Duration::from_secs(2)).ok()?;
    let mut topics: Vec<String> = metadata
        .topics()
        .iter()
        .map(|t| t.name().to_string())
        .filter(|n| !n.starts_with("__"))
        .collect();
    topics.sort();
    let t = metadata.topics().iter().find(|t| t.name() == topic)?;
    let mut partitions: Vec<PartitionInfo> = t
        .partitions()
        .iter()
        .map(|p| {
            let (low, high) = client
                .fetch_watermarks(topic, p.id(), Duration::from_secs(2))
                .unwrap_or((-1, -1));
            PartitionInfo {
                partition: p.id(),
                leader: p.leader(),
                replicas: p.replicas().to_vec(),
                isr: p.isr().to_vec(),
                low_watermark: low,
                high_watermark: high,
            }
        })
        .collect();
    partitions.sort_by_key(|p| p.partition);
    Some(TopicSnapshot { partitions, topics })
}
