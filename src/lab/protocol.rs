//! What flows through the lab: events into `App::update`, commands out of it, the steps a
//! script (a scenario) gives, and what the Kafka tasks report.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crossterm::event::KeyEvent;

use crate::data::source::KeyField;
use crate::kafka::local::FaultKind;
use crate::kafka::processor::Guarantee;
use crate::lab::settings::{ConsumerChange, ConsumerSettings, Isolation, ProducerSettings};
use crate::lab::snapshots::{
    MemberSnapshot, ProcessorSnapshot, ProducerSnapshot, TopicSnapshot, WorkerSeen,
};
use crate::lab::state::ScenarioStrip;
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
    /// The producer sends other records now (described).
    DataChanged(String),
    /// A fault was injected into the cluster (`started`), or it is over.
    Fault {
        text: String,
        started: bool,
    },
    /// kafka-lab stopped a node of the cluster (`down` says how: "paused", "killed", "down")
    /// or brought it back (`None`): shown at once, before the cluster notices.
    NodeState {
        node: i32,
        down: Option<&'static str>,
    },
    /// The producer and the consumers now work on another topic.
    TopicSwitched {
        topic: String,
        partitions: usize,
    },
    /// What a script asks for: the same changes the keys make.
    Script(Step),
    /// A script's report was written (where), or could not be (why).
    ReportWritten(Result<PathBuf, String>),
    /// The lab is shutting down: what it waits for.
    Stopping(String),
    /// A rewind did not happen: refused (`members_left` false: nothing moved), or failed once
    /// the members had left (they join again where they were). The text says which.
    RewindUndone {
        text: String,
        members_left: bool,
    },
}

/// A step of a script (a scenario, or the dashboard's own start): the lab carries it out as
/// the keys would, so the panes, the timeline and the runs table follow it the same way.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The producer's next run takes these changes; a running producer restarts with them.
    Producer(ProducerChange),
    Start,
    Stop,
    /// The group grows or shrinks (the newest leave first), from its size when the step is
    /// carried out: steps due together add up.
    Members(Members),
    /// The consumers' settings change as named: members rejoin when a client property
    /// changed; the commit mode and the work per record reach them as they run.
    Consumer(ConsumerChange),
    /// Member `member`'s own work per record (None: the one every member has).
    Work {
        member: u32,
        per_record: Option<Duration>,
    },
    /// Member `member` reads at this `isolation.level` (its own, unless the group's).
    Isolation {
        member: u32,
        level: Isolation,
    },
    /// Member `member` crashes (no leave, no commit).
    Crash(u32),
    /// A crashed member starts again.
    Restart(u32),
    /// The processors (one exactly once, one at least once) start, or stop.
    Processors(bool),
    /// This processor crashes (no commit, no abort).
    ProcessorCrash(Guarantee),
    /// A crashed processor starts again: it resumes where its group committed.
    ProcessorRestart(Guarantee),
    /// The group's committed offsets are reset as a rewind says.
    Rewind(crate::lab::settings::Rewind),
    /// The leader of `partition` fails as `kind` says, for `length` (until recovered: None).
    Fault {
        kind: FaultKind,
        partition: i32,
        length: Option<Duration>,
    },
    /// Bring back every broker or node kafka-lab failed.
    Recover,
    /// How the script goes, for its strip (the strip's pause and end are the app's own).
    Progress(ScenarioStrip),
    /// The script is over: its report's files, to be written into `dir`.
    Report {
        dir: PathBuf,
        files: Vec<(String, String)>,
        passed: bool,
    },
}

/// How many consumers a step wants: so many, or so many more or fewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Members {
    To(u32),
    Add(u32),
    Remove(u32),
}

impl Members {
    /// The group's size after the step, from `now` members; at most `most`.
    pub fn after(self, now: usize, most: usize) -> usize {
        match self {
            Members::To(n) => n as usize,
            Members::Add(n) => now + n as usize,
            Members::Remove(n) => now.saturating_sub(n as usize),
        }
        .min(most)
    }
}

/// Changes to the producer's settings, as a script gives them: librdkafka properties, the
/// rate, the key. Changes due together are merged into one (one restart).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProducerChange {
    pub properties: Vec<(String, String)>,
    /// Records per second; `Some(None)`: as fast as possible.
    pub rate: Option<Option<f64>>,
    pub key: Option<KeyField>,
}

impl ProducerChange {
    /// `later` on top of these changes.
    pub fn merge(&mut self, later: ProducerChange) {
        self.properties.extend(later.properties);
        if later.rate.is_some() {
            self.rate = later.rate;
        }
        if later.key.is_some() {
            self.key = later.key;
        }
    }

    /// `settings` with these changes.
    pub fn applied_to(&self, settings: &ProducerSettings) -> ProducerSettings {
        let mut s = settings.clone();
        for (key, value) in &self.properties {
            s.set(key, value);
        }
        if let Some(rate) = self.rate {
            s.rate = rate;
        }
        if let Some(key) = self.key {
            s.key = key;
        }
        s
    }
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
    /// The consumers' settings: members rejoin when their client properties change; the
    /// commit mode and the work per record apply as they run.
    Consumers(ConsumerSettings),
    /// This member's own work per record (None: the one every member has).
    Work {
        id: u32,
        per_record: Option<Duration>,
    },
    /// This member's own `isolation.level` (None: the one every member has): it leaves the
    /// group and joins again with it.
    Isolation {
        id: u32,
        level: Option<Isolation>,
    },
    /// The member stops as a crashed process does: no `LeaveGroup`, no final commit.
    Crash(u32),
    /// A crashed member starts again (with the same `group.instance.id`, when static).
    Restart(u32),
    /// Start the processors (one per guarantee) on the topic, of `partitions` partitions, or
    /// stop them (`None`).
    Processors(Option<usize>),
    CrashProcessor(Guarantee),
    RestartProcessor(Guarantee),
    /// Reset the group's committed offsets: the members leave, the offsets move, they join
    /// again.
    Rewind(crate::lab::settings::Rewind),
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
    /// Switch the producer's records: the bundled sample, the Open Brewery DB.
    SwitchData,
    /// Put this text on the terminal's clipboard (the front end writes it: OSC 52).
    Copy(String),
    /// Write the producer runs and the consumer runs to CSV and JSON files.
    Export(Vec<RunReport>, Vec<crate::stats::ConsumerRunReport>),
    /// Write a script's report: these files (name, text) into `dir`.
    WriteReport {
        dir: PathBuf,
        files: Vec<(String, String)>,
    },
    /// Take a partition leader of the embedded cluster down for a few seconds.
    BrokerOutage,
    /// On a cluster `scripts/kafka-local` started: the partition's leader fails as `kind`
    /// says, and comes back after `back_after` (never when `None`).
    NodeFault {
        kind: FaultKind,
        partition: i32,
        back_after: Option<Duration>,
    },
    /// On a cluster `scripts/kafka-local` started: the partition's followers hang, its leader
    /// dies (what it acknowledged alone is lost under acks=1), the followers resume; the
    /// leader comes back after `back_after`.
    LossRecipe {
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
    Processor(Box<ProcessorSnapshot>),
    MemberLeft {
        id: u32,
        at: SystemTime,
    },
    /// The member crashed at `at` (on purpose): it said nothing to the group.
    MemberCrashed {
        id: u32,
        at: SystemTime,
    },
    /// A producer run ended: its final figures.
    RunEnded(Box<RunReport>),
    /// The topic's partitions, leaders and watermarks, every couple of seconds.
    Topic(TopicSnapshot),
    /// The workers heard on the control topic, when that changes.
    Workers(Vec<WorkerSeen>),
    /// What the read-back of a run found.
    RunVerified {
        run: u32,
        result: Result<Accounting, String>,
    },
}
