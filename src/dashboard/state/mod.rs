//! The dashboard's state, and `App::update`: the only place it changes.
//!
//! Events (keys, Kafka snapshots) go in; commands for the Kafka side come out. Nothing here
//! talks to Kafka or draws. At most one overlay has the keyboard, by construction: [`Modal`].

mod fold;
pub mod forms;
mod input;
pub mod keymap;
pub mod layout;
pub mod runs;
mod scenario;
pub use scenario::ScenarioStrip;
pub mod timeline;
pub mod views;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, VecDeque};

use crossterm::event::KeyEventKind;

use crate::dashboard::protocol::{Command, Event, KafkaEvent};
use crate::dashboard::settings::{GroupSettings, ProducerSettings};
use crate::dashboard::snapshots::MemberState;
use crate::dashboard::snapshots::ProducerState;
use crate::dashboard::snapshots::TopicSnapshot;
use crate::data::counts::Counts;
use crate::stats::RunReport;
use forms::{AdminForm, FaultForm, SettingsForm};
use keymap::Mode;
use timeline::Timeline;
use views::{push_log, Detail, LogLine, MemberView, ProducerView};

/// Runs kept in the runs table.
pub const RUNS: usize = 50;
/// Entries kept in the events log.
pub const EVENTS: usize = 200;
/// Producer snapshots (four a second) a status message stays.
const MESSAGE_SHOWN_FOR: u32 = 20;
/// Snapshots held while the screen is paused (about five minutes of them); older ones are
/// let through.
const PAUSE_QUEUE: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterInfo {
    /// `embedded (127.0.0.1:...)` or the bootstrap servers.
    pub label: String,
    /// librdkafka's mock cluster, whether kafka-lab serves it or `kafka-lab cluster` does.
    pub embedded: bool,
    /// kafka-lab serves the embedded cluster itself, so it can slow or stop its brokers.
    pub owned: bool,
    /// A cluster `scripts/kafka-local` started (its number of nodes): `b` can fail its nodes.
    pub local_nodes: Option<usize>,
    pub topic: String,
    pub partitions: usize,
    pub group: String,
}

/// Which pane is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Producer,
    /// A consumer pane, by its index in `App::members`.
    Member(usize),
    /// The lower half's view (partitions, rebalances or runs) when it is shown.
    View,
}

/// How far each list is scrolled: lines up from the newest (0 follows the newest), or for
/// lists read from the top, lines down.
#[derive(Debug, Clone, Default)]
pub struct Scroll {
    pub log: usize,
    /// Each member's latest records, by member id.
    pub records: BTreeMap<u32, usize>,
    /// The partition view and the rebalance timeline, from the top.
    pub view: usize,
}

/// What has the keyboard besides the main screen: one overlay at a time.
#[derive(Debug, Clone, Default)]
pub enum Modal {
    #[default]
    None,
    /// Editing the settings panel.
    Settings,
    Topics(Box<AdminForm>),
    /// The broker fault dialog of a `scripts/kafka-local` cluster.
    Fault(FaultForm),
    Detail(Detail),
    /// The events log, scrolled this many lines up from the newest.
    Events(usize),
    /// Typing the text to look for in keys and values.
    Filter(tui_input::Input),
    Help,
}

impl Modal {
    pub fn mode(&self) -> Mode {
        match self {
            Modal::None => Mode::Main,
            Modal::Settings => Mode::Settings,
            Modal::Topics(_) => Mode::Topics,
            Modal::Fault(_) => Mode::Fault,
            Modal::Detail(_) => Mode::Detail,
            Modal::Events(_) => Mode::Events,
            Modal::Filter(_) => Mode::Filter,
            Modal::Help => Mode::Help,
        }
    }
}

/// The field the stream table groups consumed breweries by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Type,
    State,
    Country,
}

impl GroupBy {
    pub fn field(self) -> &'static str {
        match self {
            GroupBy::Type => "brewery_type",
            GroupBy::State => "state",
            GroupBy::Country => "country",
        }
    }

    fn next(self) -> GroupBy {
        match self {
            GroupBy::Type => GroupBy::State,
            GroupBy::State => GroupBy::Country,
            GroupBy::Country => GroupBy::Type,
        }
    }
}

/// What the lower half of the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Consumers,
    Partitions,
    Timeline,
    Runs,
}

pub struct App {
    pub cluster: ClusterInfo,
    /// Where consumed records are written, while `w` has it on.
    pub sink: Option<String>,
    pub modal: Modal,
    pub producer: ProducerView,
    /// Ended runs, oldest first (the last `RUNS` of them).
    pub runs: VecDeque<RunReport>,
    /// The settings of the first run: the runs table shows what differs from them.
    pub defaults: BTreeMap<String, String>,
    pub view: View,
    /// The topic as the broker last described it.
    pub topic: Option<TopicSnapshot>,
    /// Records delivered per partition by the runs before the current one.
    pub produced_before: BTreeMap<i32, u64>,
    /// Runs before this one wrote to another topic.
    first_run_on_topic: u32,
    /// What members that have left had counted.
    pub counts_departed: Counts,
    /// The field the stream table groups by.
    pub group_by: GroupBy,
    /// The group's rebalances.
    pub timeline: Timeline,
    pub members: Vec<MemberView>,
    /// Members the user asked to hold (`h`): what the next `h` undoes, whatever the panes
    /// show yet.
    pub held: std::collections::BTreeSet<u32>,
    pub focus: Focus,
    pub settings: SettingsForm,
    /// The settings in force (or being applied).
    pub applied: ProducerSettings,
    pub applied_group: GroupSettings,
    pub quitting: bool,
    /// Something to tell the user, in the status bar, and how many producer snapshots ago
    /// (about four a second) it was said: it goes after a few seconds.
    pub message: Option<String>,
    message_age: u32,
    /// Faults injected during the current run.
    run_faults: Vec<String>,
    /// What happened, newest last: notices, faults and errors, with the time they were seen
    /// (the `l` overlay).
    pub events: VecDeque<(std::time::SystemTime, String)>,
    /// The latest wall-clock time the snapshots brought.
    pub now: std::time::SystemTime,
    /// The group's total lag over the last two minutes.
    pub group_lag: std::collections::VecDeque<(std::time::SystemTime, u64)>,
    next_member: u32,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// The terminal's size (columns, rows): mouse clicks find their pane by it.
    pub size: (u16, u16),
    pub scroll: Scroll,
    /// The screen is paused: snapshots wait here until it resumes.
    pub paused: Option<VecDeque<KafkaEvent>>,
    /// Only records and deliveries whose key or value holds this text are listed.
    pub filter: Option<String>,
    /// The selected row of the runs table (an index of `table_rows`; None follows the last).
    pub runs_selected: Option<usize>,
    /// Runs marked for comparison (at most two).
    pub marked: Vec<u32>,
    /// The lower half takes the whole screen.
    pub zoomed: bool,
    /// Members asked to join and not asked to leave, by id (a member that rejoins keeps its
    /// id).
    pub in_group: std::collections::BTreeSet<u32>,
    /// Runs whose read-back failed, and why.
    pub read_back_failed: BTreeMap<u32, String>,
    /// The scenario being played, as its strip shows it.
    pub scenario: Option<ScenarioStrip>,
}

impl App {
    pub fn new(cluster: ClusterInfo, settings: ProducerSettings, group: GroupSettings) -> App {
        App {
            cluster,
            sink: None,
            modal: Modal::None,
            producer: ProducerView::default(),
            runs: VecDeque::new(),
            defaults: settings.report_settings(),
            view: View::Consumers,
            topic: None,
            produced_before: BTreeMap::new(),
            first_run_on_topic: 0,
            counts_departed: Counts::default(),
            group_by: GroupBy::Type,
            timeline: Timeline::default(),
            members: Vec::new(),
            held: std::collections::BTreeSet::new(),
            focus: Focus::Producer,
            settings: SettingsForm::new(&settings, &group),
            applied: settings,
            applied_group: group,
            quitting: false,
            message: None,
            message_age: 0,
            run_faults: Vec::new(),
            events: VecDeque::new(),
            now: std::time::SystemTime::UNIX_EPOCH,
            group_lag: std::collections::VecDeque::new(),
            next_member: 1,
            dirty: true,
            size: (0, 0),
            scroll: Scroll::default(),
            paused: None,
            filter: None,
            runs_selected: None,
            marked: Vec::new(),
            zoomed: false,
            in_group: std::collections::BTreeSet::new(),
            read_back_failed: BTreeMap::new(),
            scenario: None,
        }
    }

    /// The id the next added consumer gets; the next rebalance is put down to its joining.
    pub fn reserve_member(&mut self) -> u32 {
        let id = self.next_member;
        self.next_member += 1;
        self.in_group.insert(id);
        self.timeline.expect(format!("consumer-{id} joined"));
        id
    }

    pub fn update(&mut self, event: Event) -> Vec<Command> {
        self.dirty = true;
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.key(key),
            Event::Key(_) => Vec::new(),
            Event::Resize(width, height) => {
                self.size = (width, height);
                Vec::new()
            }
            Event::Mouse(mouse) => {
                self.mouse(mouse);
                Vec::new()
            }
            Event::Notice(text) => {
                self.say(text);
                Vec::new()
            }
            Event::Fault { text, started } => {
                push_log(
                    &mut self.producer.log,
                    LogLine::Mark(format!("fault: {text}")),
                );
                if started {
                    let run = self.producer.snapshot.as_ref().map_or(0, |s| s.run);
                    // What, where (the text names the broker) and when, for the export.
                    self.run_faults.push(format!(
                        "{text} (run {run}, at {} UTC)",
                        crate::text::time_of_day(self.now)
                    ));
                }
                self.say(text);
                Vec::new()
            }
            Event::SinkChanged(path) => {
                self.sink = path;
                Vec::new()
            }
            Event::TopicSwitched { topic, partitions } => {
                self.topic_switched(topic, partitions);
                Vec::new()
            }
            Event::Kafka(event) => {
                match &mut self.paused {
                    // Snapshots wait while the screen is paused; news of runs does not.
                    Some(waiting)
                        if matches!(
                            event,
                            KafkaEvent::Producer(_) | KafkaEvent::Member(_) | KafkaEvent::Topic(_)
                        ) =>
                    {
                        if waiting.len() == PAUSE_QUEUE {
                            if let Some(oldest) = waiting.pop_front() {
                                self.kafka(oldest);
                            }
                        }
                        if let Some(waiting) = &mut self.paused {
                            waiting.push_back(event);
                        }
                    }
                    _ => self.kafka(event),
                }
                Vec::new()
            }
        }
    }

    /// Records delivered to `partition` in this session.
    pub fn produced(&self, partition: i32) -> u64 {
        let current = self
            .producer
            .snapshot
            .as_ref()
            .and_then(|s| s.by_partition.get(&partition))
            .copied()
            .unwrap_or(0);
        self.produced_before.get(&partition).copied().unwrap_or(0) + current
    }

    /// The member that owns `partition`, by the members' own assignments.
    pub fn owner(&self, partition: i32) -> Option<&MemberView> {
        self.members.iter().find(|m| {
            m.snapshot
                .partitions
                .iter()
                .any(|p| p.partition == partition)
        })
    }

    /// The group's consumed breweries counted by the chosen field, largest first.
    pub fn stream_table(&self) -> Vec<(String, u64)> {
        let mut total = self.counts_departed.clone();
        for m in &self.members {
            total.merge(&m.snapshot.counts);
        }
        let map = match self.group_by {
            GroupBy::Type => total.by_type,
            GroupBy::State => total.by_state,
            GroupBy::Country => total.by_country,
        };
        let mut rows: Vec<(String, u64)> = map.into_iter().collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows
    }

    /// The runs table: ended runs, then the current one (live).
    pub fn table_rows(&self) -> Vec<RunReport> {
        let mut rows: Vec<RunReport> = self.runs.iter().cloned().collect();
        if let Some(s) = &self.producer.snapshot {
            if let Some(current) = &s.report {
                if s.state == ProducerState::Running
                    && rows.last().is_none_or(|r| r.run != current.run)
                {
                    rows.push(current.clone());
                }
            }
        }
        rows
    }

    pub fn producer_running(&self) -> bool {
        self.producer
            .snapshot
            .as_ref()
            .is_some_and(|s| s.state == ProducerState::Running)
    }

    /// Members in the group, not counting those on their way out.
    pub fn active_members(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.snapshot.state != MemberState::Leaving)
            .count()
    }

    /// The cluster looks unwell: an error was seen lately by the producer or a member.
    pub fn connection_problem(&self) -> Option<&str> {
        self.producer
            .error
            .iter()
            .chain(self.members.iter().filter_map(|m| m.error.as_ref()))
            .map(|(e, _)| e.as_str())
            .next()
    }
}
