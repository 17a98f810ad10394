//! What flows through the dashboard: events into `App::update`, commands out of it, and what
//! the Kafka tasks report.

use std::time::{Duration, SystemTime};

use crossterm::event::KeyEvent;

use crate::dashboard::settings::{GroupSettings, ProducerSettings};
use crate::dashboard::snapshots::MemberSnapshot;
use crate::dashboard::snapshots::ProducerSnapshot;
use crate::dashboard::snapshots::TopicSnapshot;
use crate::kafka::local::FaultKind;
use crate::stats::{Accounting, RunReport};

#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Kafka(KafkaEvent),
    /// The terminal's size (columns, rows): at the start and whenever it changes.
    Resize(u16, u16),
    Mouse(crossterm::event::MouseEvent),
    /// Something the session did on a command (an export, a broker outage) has news.
    Notice(String),
    /// The consumers' sink was opened (its path) or closed.
    SinkChanged(Option<String>),
    /// A fault was injected into the cluster (`started`), or it is over.
    Fault {
        text: String,
        started: bool,
    },
    /// The producer and the consumers now work on another topic.
    TopicSwitched {
        topic: String,
        partitions: usize,
    },
}

/// What the Kafka side must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    StartProducer,
    StopProducer,
    ApplySettings(ProducerSettings),
    /// Settings for the producer's next start; restarts it only when it runs.
    SetSettings(ProducerSettings),
    AddMember(u32),
    RemoveMember(u32),
    /// Stop (or resume) this member's reading; it stays in the group.
    HoldMember {
        id: u32,
        held: bool,
    },
    /// Restart every consumer with this assignment strategy and group protocol.
    Regroup(GroupSettings),
    CreateTopic {
        name: String,
        partitions: i32,
        replication: i32,
    },
    AddPartitions {
        total: i32,
    },
    SwitchTopic(String),
    /// Start or stop writing consumed records to a JSON-lines file.
    ToggleSink,
    /// Write these runs to CSV and JSON files.
    Export(Vec<RunReport>),
    /// Take a partition leader of the embedded cluster down for a few seconds.
    BrokerOutage,
    /// On a cluster `scripts/kafka-local` started: the partition's leader fails as `kind`
    /// says, and comes back after `back_after` (never when `None`).
    NodeFault {
        kind: FaultKind,
        partition: i32,
        back_after: Option<Duration>,
    },
    /// Bring back every broker or node kafka-lab failed (a scenario's `recover`).
    RecoverAll,
    Quit,
}

/// What the Kafka side tells the dashboard: compact snapshots, a few per second.
#[derive(Debug, Clone)]
pub enum KafkaEvent {
    Producer(Box<ProducerSnapshot>),
    Member(Box<MemberSnapshot>),
    MemberLeft {
        id: u32,
        at: SystemTime,
    },
    /// A producer run ended: its final figures.
    RunEnded(Box<RunReport>),
    /// The topic's partitions, leaders and watermarks, every couple of seconds.
    Topic(TopicSnapshot),
    /// What the read-back of a run found.
    RunVerified {
        run: u32,
        result: Result<Accounting, String>,
    },
}
