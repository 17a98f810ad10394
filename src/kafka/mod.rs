//! Everything that talks to Kafka. Nothing in here knows about the screen.

pub mod cluster;
pub mod consumer;
pub mod member;
pub mod metrics;
pub mod producer;
pub mod producer_task;
pub mod properties;
pub mod verify;
pub mod watcher;

/// What the Kafka side tells the dashboard: compact snapshots, a few per second.
#[derive(Debug, Clone)]
pub enum KafkaEvent {
    Producer(Box<producer_task::ProducerSnapshot>),
    Member(Box<member::MemberSnapshot>),
    MemberLeft {
        id: u32,
        at: std::time::SystemTime,
    },
    /// A producer run ended: its final figures.
    RunEnded(Box<metrics::RunReport>),
    /// The topic's partitions, leaders and watermarks, every couple of seconds.
    Topic(watcher::TopicSnapshot),
    /// What the read-back of a run found.
    RunVerified {
        run: u32,
        result: Result<metrics::Accounting, String>,
    },
}
