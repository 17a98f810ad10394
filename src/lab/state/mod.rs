//! The lab's state, and `App::update`: the only place it changes.
//!
//! Events (keys, Kafka snapshots, a script's steps) go in; commands for the Kafka side come
//! out, and whether the screen needs drawing. Nothing here talks to Kafka or draws. At most
//! one overlay has the keyboard, by construction: [`Modal`].

mod consumer_runs;
pub use consumer_runs::{compare_consumers, Ledgered};
mod fold;
pub mod forms;
pub mod habits;
mod input;
pub mod keymap;
pub mod layout;
mod members;
mod mouse;
mod panel;
pub mod partition_view;
mod processors;
pub mod runs;
mod script;
pub use script::ScenarioStrip;
pub mod timeline;
pub mod views;
mod why;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};

use crossterm::event::KeyEventKind;

use crate::data::counts::Counts;
use crate::lab::protocol::{Command, Event, KafkaEvent};
use crate::lab::settings::{ConsumerSettings, ProducerSettings};
use crate::lab::snapshots::{
    MemberSnapshot, MemberState, ProducerSnapshot, ProducerState, TopicSnapshot,
};
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
    /// The help, lines from the top.
    pub help: usize,
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
    /// Typing where to rewind the group to; what was wrong with the last try.
    Rewind(tui_input::Input, Option<String>),
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
            Modal::Rewind(..) => Mode::Rewind,
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
    /// The consumer runs table: a run per change of consumer settings.
    ConsumerRuns,
}

/// The lab's state. Its three parts are written by [`App::update`] alone; the front ends
/// (`dashboard`, `ui`, `scenario`) read them.
pub struct App {
    /// What the lab knows: the cluster, the clients' figures, the runs, the group.
    pub(crate) model: Model,
    /// What the screen shows, and where the user is on it.
    pub(crate) screen: ScreenState,
    /// What the lab tells the user.
    pub(crate) status: Status,
}

/// What the lab knows, folded from the Kafka side's snapshots and the steps carried out.
pub(crate) struct Model {
    pub cluster: ClusterInfo,
    /// Where consumed records are written, while `w` has it on.
    pub sink: Option<String>,
    /// The records the producer sends: "bundled sample, 2,500 records".
    pub data: String,
    pub producer: ProducerView,
    /// Ended runs, oldest first (the last `RUNS` of them).
    pub runs: VecDeque<RunReport>,
    /// Ended consumer runs, oldest first, and the one going on (from the first member on).
    pub consumer_runs: VecDeque<crate::stats::ConsumerRunReport>,
    pub consumer_run: Option<consumer_runs::ConsumerMeter>,
    /// The group's ledger totals as the newest member snapshot had them, and its time.
    pub ledger: (SystemTime, Ledgered),
    /// The settings of the first run: the runs table shows what differs from them.
    pub defaults: BTreeMap<String, String>,
    /// The topic as the broker last described it.
    pub topic: Option<TopicSnapshot>,
    /// Records delivered per partition by the runs before the current one.
    pub produced_before: BTreeMap<i32, u64>,
    /// Runs before this one wrote to another topic.
    pub first_run_on_topic: u32,
    /// What members that have left had counted.
    pub counts_departed: Counts,
    /// The group's rebalances.
    pub timeline: Timeline,
    pub members: Vec<MemberView>,
    /// Members the user asked to hold (`h`): what the next `h` undoes, whatever the panes
    /// show yet.
    pub held: BTreeSet<u32>,
    /// Members asked to join and not asked to leave, by id (a member that rejoins keeps its
    /// id).
    pub in_group: BTreeSet<u32>,
    /// Members leaving to join again at once (a new isolation.level): their panes stay.
    pub coming_back: BTreeSet<u32>,
    next_member: u32,
    /// The settings in force (or being applied).
    pub applied: ProducerSettings,
    pub applied_consumer: ConsumerSettings,
    /// Members given their own work per record (`W`), overriding the panel's.
    pub work: BTreeMap<u32, Duration>,
    /// The embedded cluster's own re-reads were explained once.
    pub said_embedded_repeats: bool,
    /// The embedded cluster's aborted transactions seen by `read_committed` were explained.
    pub said_embedded_aborted: bool,
    /// Faults injected during the current run.
    pub run_faults: Vec<String>,
    /// Nodes kafka-lab has stopped and not brought back: how ("paused", "killed", "down")
    /// and since when.
    pub nodes_down: BTreeMap<i32, (&'static str, SystemTime)>,
    /// The latest wall-clock time the snapshots brought.
    pub now: SystemTime,
    /// The group's total lag over the last two minutes.
    pub group_lag: VecDeque<(SystemTime, u64)>,
    /// Runs whose read-back failed, and why.
    pub read_back_failed: BTreeMap<u32, String>,
    /// The scenario being played, as its strip shows it.
    pub scenario: Option<ScenarioStrip>,
    /// The first seconds of each run (producer or consumer) left out of its figures.
    pub warmup: Duration,
    /// The processors' panes, when they are on.
    pub processors: processors::ProcessorPanes,
    /// `kafka-lab worker` processes heard on the cluster's control topic (read-only).
    pub workers: Vec<crate::lab::snapshots::WorkerSeen>,
}

/// What the screen shows and where the user is on it.
pub(crate) struct ScreenState {
    pub modal: Modal,
    pub view: View,
    /// The partition view's order (`<`, `>`).
    pub partition_sort: partition_view::PartitionSort,
    /// The field the stream table groups by.
    pub group_by: GroupBy,
    pub focus: Focus,
    pub settings: SettingsForm,
    /// The terminal's size (columns, rows): mouse clicks find their pane by it.
    pub size: (u16, u16),
    pub scroll: Scroll,
    /// The screen is frozen: snapshots wait here until it resumes.
    pub paused: Option<VecDeque<KafkaEvent>>,
    /// Only records and deliveries whose key or value holds this text are listed.
    pub filter: Option<String>,
    /// The selected run of the runs table, by its number (None follows the latest): a
    /// sorted table moves its rows, the selection stays on its run.
    pub runs_selected: Option<u32>,
    /// Runs marked for comparison (at most two).
    pub marked: Vec<u32>,
    /// The same for the consumer runs table.
    pub consumer_selected: Option<u32>,
    pub consumer_marked: Vec<u32>,
    /// The lower half takes the whole screen.
    pub zoomed: bool,
    /// The fault dialog as last applied: the next `b` opens on it.
    pub last_fault: Option<FaultForm>,
    /// The column each runs table is sorted by, best first (None: by run).
    pub runs_sort: Option<runs::Column>,
    pub consumer_sort: Option<crate::stats::ConsumerColumn>,
    /// The charts' time window, an index of [`habits::CHART_WINDOWS`].
    pub chart_window: usize,
}

/// What the lab tells the user.
pub(crate) struct Status {
    pub quitting: bool,
    /// Something to tell the user, in the status bar, and how many producer snapshots ago
    /// (about four a second) it was said: it goes after a few seconds.
    pub message: Option<String>,
    pub message_age: u32,
    /// What happened, newest last: notices, faults and errors, with the time they were seen
    /// (the `l` overlay).
    pub events: VecDeque<(SystemTime, String)>,
    /// Every event seen, those dropped from `events` too.
    pub events_total: u64,
    /// Everything said since a front end without a screen last took it (None: nobody asks).
    pub said: Option<Vec<String>>,
}

/// What [`App::update`] made of an event.
#[derive(Debug, Default, PartialEq)]
pub struct Update {
    /// What the Kafka side must do.
    pub commands: Vec<Command>,
    /// The screen shows something new.
    pub redraw: bool,
}

impl Update {
    fn redraw(commands: Vec<Command>) -> Update {
        Update {
            commands,
            redraw: true,
        }
    }
}

impl App {
    pub fn new(
        cluster: ClusterInfo,
        settings: ProducerSettings,
        consumer: ConsumerSettings,
        origins: BTreeMap<String, String>,
    ) -> App {
        let mut form = SettingsForm::new(&settings, &consumer, origins);
        // The embedded cluster and kafka-local's brokers take short sessions; others 6 s.
        form.session_floor = if cluster.embedded || cluster.local_nodes.is_some() {
            crate::lab::settings::SHORTEST_SESSION_MS
        } else {
            crate::lab::settings::BROKER_SESSION_FLOOR_MS
        };
        App {
            model: Model {
                cluster,
                sink: None,
                data: String::new(),
                producer: ProducerView::default(),
                runs: VecDeque::new(),
                consumer_runs: VecDeque::new(),
                consumer_run: None,
                ledger: (SystemTime::UNIX_EPOCH, Ledgered::default()),
                defaults: settings.report_settings(),
                topic: None,
                produced_before: BTreeMap::new(),
                first_run_on_topic: 0,
                counts_departed: Counts::default(),
                timeline: Timeline::new(consumer.incremental()),
                members: Vec::new(),
                held: BTreeSet::new(),
                in_group: BTreeSet::new(),
                coming_back: BTreeSet::new(),
                next_member: 1,
                applied: settings,
                applied_consumer: consumer,
                work: BTreeMap::new(),
                said_embedded_repeats: false,
                said_embedded_aborted: false,
                run_faults: Vec::new(),
                nodes_down: BTreeMap::new(),
                now: SystemTime::UNIX_EPOCH,
                group_lag: VecDeque::new(),
                read_back_failed: BTreeMap::new(),
                scenario: None,
                warmup: crate::lab::snapshots::WARMUP,
                processors: processors::ProcessorPanes::default(),
                workers: Vec::new(),
            },
            screen: ScreenState {
                modal: Modal::None,
                view: View::Consumers,
                partition_sort: partition_view::PartitionSort::Number,
                group_by: GroupBy::Type,
                focus: Focus::Producer,
                settings: form,
                size: (0, 0),
                scroll: Scroll::default(),
                paused: None,
                filter: None,
                runs_selected: None,
                marked: Vec::new(),
                consumer_selected: None,
                consumer_marked: Vec::new(),
                zoomed: false,
                last_fault: None,
                runs_sort: None,
                consumer_sort: None,
                chart_window: habits::DEFAULT_WINDOW,
            },
            status: Status {
                quitting: false,
                message: None,
                message_age: 0,
                events: VecDeque::new(),
                events_total: 0,
                said: None,
            },
        }
    }

    /// The id the next added consumer gets; the next rebalance is put down to its joining.
    fn reserve_member(&mut self) -> u32 {
        let id = self.model.next_member;
        self.model.next_member += 1;
        self.model.in_group.insert(id);
        self.model
            .timeline
            .expect(format!("consumer-{id} joined"), self.model.now);
        id
    }

    /// Folds `event` into the state: the one place the state changes.
    pub fn update(&mut self, event: Event) -> Update {
        // A message set anew (a new string, even with the same words) stays its few
        // seconds, however long the one before it stood.
        let said = self.status.message.as_deref().map(str::as_ptr);
        let update = self.handle(event);
        let now = self.status.message.as_deref().map(str::as_ptr);
        if now.is_some() && now != said {
            self.status.message_age = 0;
        }
        update
    }

    fn handle(&mut self, event: Event) -> Update {
        let commands = match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => {
                let Some(action) = keymap::action(self.screen.modal.mode(), &key) else {
                    return Update::default();
                };
                self.key(action, key)
            }
            Event::Key(_) => return Update::default(),
            Event::Resize(width, height) => {
                self.screen.size = (width, height);
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
            Event::Stopping(text) => {
                self.status.message = Some(text);
                Vec::new()
            }
            Event::RewindUndone { text, members_left } => {
                // The rebalance coming (if any) is not the rewind's.
                self.model.timeline.withdraw(members::REWOUND);
                self.rewind_undone();
                if members_left && !self.model.in_group.is_empty() {
                    self.model.timeline.expect(
                        "a rewind failed: the members left and joined again where they were".into(),
                        self.model.now,
                    );
                }
                self.say(text);
                Vec::new()
            }
            Event::Fault { text, started } => {
                self.fault(text, started);
                Vec::new()
            }
            Event::NodeState { node, down } => {
                match down {
                    Some(how) => {
                        self.model.nodes_down.insert(node, (how, self.model.now));
                    }
                    None => {
                        self.model.nodes_down.remove(&node);
                    }
                }
                Vec::new()
            }
            Event::SinkChanged(path) => {
                self.model.sink = path;
                Vec::new()
            }
            Event::DataChanged(data) => {
                self.model.data = data;
                Vec::new()
            }
            Event::TopicSwitched { topic, partitions } => {
                self.topic_switched(topic, partitions);
                Vec::new()
            }
            Event::Script(step) => self.step(step),
            Event::ReportWritten(result) => {
                self.report_written(result);
                Vec::new()
            }
            Event::Kafka(event) => {
                let quiet = self.quiet(&event);
                // Snapshots wait while the screen is frozen; news of runs does not.
                let snapshot = matches!(
                    event,
                    KafkaEvent::Producer(_) | KafkaEvent::Member(_) | KafkaEvent::Topic(_)
                );
                match &mut self.screen.paused {
                    Some(waiting) if snapshot => {
                        let oldest = (waiting.len() == PAUSE_QUEUE)
                            .then(|| waiting.pop_front())
                            .flatten();
                        waiting.push_back(event);
                        if let Some(oldest) = oldest {
                            self.kafka(oldest);
                        }
                        return Update::default();
                    }
                    _ => self.kafka(event),
                }
                if quiet {
                    return Update::default();
                }
                Vec::new()
            }
        };
        Update::redraw(commands)
    }

    /// A snapshot that brings nothing the screen shows: a member's the same as its last but
    /// for its time, with no records or kicks since; the producer's while it stays stopped.
    /// Idle clients send four a second each; the screen's own clock (once a second) draws
    /// what time alone moves.
    fn quiet(&self, event: &KafkaEvent) -> bool {
        let new = match event {
            KafkaEvent::Member(new) => new,
            KafkaEvent::Producer(new) => {
                // Stopped, and still: nothing sent, delivered or said since.
                return self.model.producer.snapshot.as_ref().is_some_and(|old| {
                    old.state == ProducerState::Stopped
                        && new.state == ProducerState::Stopped
                        && (old.run, old.sent, old.delivered, old.failed, old.in_flight)
                            == (new.run, new.sent, new.delivered, new.failed, new.in_flight)
                        && new.latest.is_empty()
                        && new.run_ended.is_none()
                        && old.last_error == new.last_error
                        && old.settings == new.settings
                });
            }
            _ => return false,
        };
        if new.fresh.records > 0 || new.fresh.kicks > 0 {
            return false;
        }
        let Some(old) = self.model.members.iter().find(|m| m.snapshot.id == new.id) else {
            return false;
        };
        // Every field but the time and the news, named so that a new field is not missed.
        let MemberSnapshot {
            id: _,
            name,
            client_id,
            state,
            partitions,
            received,
            per_sec,
            e2e,
            latest,
            last_rebalance,
            last_revoke,
            last_error,
            counts,
            at: _,
            commit,
            work,
            isolation,
            aborted_seen,
            kicked,
            last_kicked,
            ledger,
            fresh: _,
        } = &old.snapshot;
        *received == new.received
            && *state == new.state
            && *partitions == new.partitions
            && per_sec.to_bits() == new.per_sec.to_bits()
            && *e2e == new.e2e
            && *latest == new.latest
            && (*last_rebalance, *last_revoke, *last_kicked)
                == (new.last_rebalance, new.last_revoke, new.last_kicked)
            && *last_error == new.last_error
            && (*kicked, *aborted_seen) == (new.kicked, new.aborted_seen)
            && (*commit, *work, *isolation) == (new.commit, new.work, new.isolation)
            && *name == new.name
            && *client_id == new.client_id
            && *counts == new.counts
            && *ledger == new.ledger
    }

    /// A fault was injected (`started`) or is over: marked in the send log, kept with the run.
    fn fault(&mut self, text: String, started: bool) {
        push_log(
            &mut self.model.producer.log,
            LogLine::Mark(format!("fault: {text}")),
        );
        if started {
            let run = self.model.producer.snapshot.as_ref().map_or(0, |s| s.run);
            // What, where (the text names the broker) and when, for the export.
            self.model.run_faults.push(format!(
                "{text} (run {run}, at {} UTC)",
                crate::text::time_of_day(self.model.now)
            ));
        }
        self.say_as("fault: ", text);
    }

    /// The warm-up a run leaves out of its figures: shorter when a scenario plays faster.
    pub fn set_warmup(&mut self, warmup: Duration) {
        self.model.warmup = warmup;
    }

    pub fn warmup(&self) -> Duration {
        self.model.warmup
    }

    /// The scenario being played, as its strip shows it.
    pub fn scenario(&self) -> Option<&ScenarioStrip> {
        self.model.scenario.as_ref()
    }

    /// The screen is frozen (Space): snapshots wait.
    pub fn frozen(&self) -> bool {
        self.screen.paused.is_some()
    }

    /// The nodes kafka-lab stopped and has not brought back: how, and since when.
    pub fn nodes_down(&self) -> &BTreeMap<i32, (&'static str, SystemTime)> {
        &self.model.nodes_down
    }

    /// The cluster the lab works on.
    pub fn cluster(&self) -> &ClusterInfo {
        &self.model.cluster
    }

    /// The latest producer snapshot.
    pub fn producer(&self) -> Option<&ProducerSnapshot> {
        self.model.producer.snapshot.as_ref()
    }

    /// Ended runs, oldest first.
    pub fn runs(&self) -> &VecDeque<RunReport> {
        &self.model.runs
    }

    /// The topic as the watcher last described it.
    pub fn topic_snapshot(&self) -> Option<&TopicSnapshot> {
        self.model.topic.as_ref()
    }

    /// Runs whose read-back failed, and why.
    pub fn read_back_failed(&self) -> &BTreeMap<u32, String> {
        &self.model.read_back_failed
    }

    /// What the lower half shows.
    pub fn view(&self) -> View {
        self.screen.view
    }

    /// Records delivered to `partition` in this session.
    pub fn produced(&self, partition: i32) -> u64 {
        let current = self
            .model
            .producer
            .snapshot
            .as_ref()
            .and_then(|s| s.by_partition.get(&partition))
            .copied()
            .unwrap_or(0);
        self.model
            .produced_before
            .get(&partition)
            .copied()
            .unwrap_or(0)
            + current
    }

    /// Crashed members the group has not noticed yet, a line each: how long ago, the
    /// partitions left unread, and what the group waits for.
    pub fn unnoticed_crashes(&self) -> Vec<String> {
        let c = &self.model.applied_consumer;
        let classic = c.protocol != crate::kafka::settings::GroupProtocol::Consumer;
        let waits_for = if classic {
            format!("session.timeout.ms = {} ms", c.session_timeout_ms)
        } else {
            "the broker's group.consumer.session.timeout.ms".to_string()
        };
        // Past the session (and a margin), the group has noticed: nobody took the partitions.
        let session = Duration::from_millis(if classic {
            c.session_timeout_ms.parse().unwrap_or(45_000)
        } else {
            45_000
        });
        self.model
            .timeline
            .unnoticed()
            .map(|(member, at, held)| {
                let ago = self.model.now.duration_since(at).unwrap_or_default();
                let held: Vec<String> = held.iter().map(ToString::to_string).collect();
                let unread = if held.is_empty() {
                    "it held no partition".to_string()
                } else {
                    format!("partitions {} unread", held.join(", "))
                };
                if ago > session + Duration::from_secs(10) {
                    format!(
                        "{member} crashed {} ago: {unread}; the group has dropped it by now, \
                         and no member took them",
                        crate::text::seconds(ago)
                    )
                } else {
                    format!(
                        "{member} crashed {} ago; the group has not noticed: {unread} until \
                         {waits_for} passes without its heartbeat",
                        crate::text::seconds(ago)
                    )
                }
            })
            .collect()
    }

    /// The member that owns `partition`, by the members' own assignments.
    pub fn owner(&self, partition: i32) -> Option<&MemberView> {
        let holds = |m: &&MemberView| {
            m.snapshot
                .partitions
                .iter()
                .any(|p| p.partition == partition)
        };
        let crashed = |m: &&MemberView| matches!(m.snapshot.state, MemberState::Crashed(_));
        // A crashed member keeps its last list: a live holder is the owner once the group
        // has moved the partition.
        self.model
            .members
            .iter()
            .filter(holds)
            .find(|m| !crashed(m))
            .or_else(|| self.model.members.iter().filter(holds).find(crashed))
    }

    /// Every owned partition's owner as [`App::owner`] says, with the owner's lag of it, in
    /// one pass over the members (the partition view asks for all of them every frame).
    pub fn owners(
        &self,
    ) -> std::collections::HashMap<i32, (&MemberView, &crate::lab::snapshots::PartitionLag)> {
        let mut owners = std::collections::HashMap::new();
        for m in &self.model.members {
            let crashed = matches!(m.snapshot.state, MemberState::Crashed(_));
            for p in &m.snapshot.partitions {
                let owner = owners.entry(p.partition).or_insert((m, p));
                // The first live holder wins over a crashed one.
                if !crashed && matches!(owner.0.snapshot.state, MemberState::Crashed(_)) {
                    *owner = (m, p);
                }
            }
        }
        owners
    }

    /// The group's consumed breweries counted by the chosen field, largest first.
    pub fn stream_table(&self) -> Vec<(String, u64)> {
        let mut total = self.model.counts_departed.clone();
        for m in &self.model.members {
            total.merge(&m.snapshot.counts);
        }
        let map = match self.screen.group_by {
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
        let mut rows: Vec<RunReport> = self.model.runs.iter().cloned().collect();
        if let Some(s) = &self.model.producer.snapshot {
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
        self.model
            .producer
            .snapshot
            .as_ref()
            .is_some_and(|s| s.state == ProducerState::Running)
    }

    /// Members in the group, not counting those on their way out.
    pub fn active_members(&self) -> usize {
        self.model
            .members
            .iter()
            .filter(|m| m.snapshot.state != MemberState::Leaving)
            .count()
    }

    /// The cluster looks unwell: an error was seen lately by the producer or a member.
    pub fn connection_problem(&self) -> Option<&str> {
        self.model
            .producer
            .error
            .iter()
            .chain(self.model.members.iter().filter_map(|m| m.error.as_ref()))
            .map(|(e, _)| e.as_str())
            .next()
    }
}
