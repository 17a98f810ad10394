//! The dashboard's state, and `App::update`: the only place it changes.
//!
//! Events (keys, Kafka snapshots) go in; commands for the Kafka side come out. Nothing here
//! talks to Kafka or draws.

use std::collections::{BTreeMap, VecDeque};

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use crate::kafka::member::{Counts, GroupSettings, MemberSnapshot, MemberState, RecentRecord};
use crate::kafka::metrics::RunReport;
use crate::kafka::producer::Delivery;
use crate::kafka::producer_task::{ProducerSettings, ProducerSnapshot, ProducerState};
use crate::kafka::watcher::TopicSnapshot;
use crate::kafka::{properties, KafkaEvent};
use crate::source::KeyField;
use crate::timeline::Timeline;

/// Runs kept in the runs table.
pub const RUNS: usize = 50;
/// Lines kept in the send log.
const LOG_LINES: usize = 200;
/// Snapshots kept for the charts: two minutes at four a second.
const HISTORY: usize = 480;
/// A client error is shown this many snapshots (about ten seconds) after it was last seen.
const ERROR_SHOWN_FOR: u32 = 40;

#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Kafka(KafkaEvent),
    /// The terminal changed size: draw again.
    Resize,
    /// Something the run loop did on a command (an export, a broker outage) has news.
    Notice(String),
    /// The consumers' sink was opened (its path) or closed.
    SinkChanged(Option<String>),
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
    AddMember(u32),
    RemoveMember(u32),
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
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterInfo {
    /// `embedded (127.0.0.1:...)` or the bootstrap servers.
    pub label: String,
    /// librdkafka's mock cluster, whether kafka-lab serves it or `kafka-lab cluster` does.
    pub embedded: bool,
    /// kafka-lab serves the embedded cluster itself, so it can slow or stop its brokers.
    pub owned: bool,
    pub topic: String,
    pub partitions: usize,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LogLine {
    Delivery(Delivery),
    /// Deliveries that happened but are not listed (the log samples at high rates).
    Skipped(u64),
    Mark(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryPoint {
    /// Seconds since the producer started.
    pub t: f64,
    pub run: u32,
    pub per_sec: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, Default)]
pub struct ProducerView {
    pub snapshot: Option<ProducerSnapshot>,
    pub log: VecDeque<LogLine>,
    pub history: VecDeque<HistoryPoint>,
    /// The last client error and how many snapshots ago it was seen.
    pub error: Option<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberView {
    pub snapshot: MemberSnapshot,
    pub error: Option<(String, u32)>,
    /// End-to-end p99 latency, one point per snapshot, for the pane's chart.
    pub e2e_history: VecDeque<f64>,
}

fn push_point(history: &mut VecDeque<f64>, value: f64) {
    if history.len() == HISTORY {
        history.pop_front();
    }
    history.push_back(value);
}

/// The settings the panel edits, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Acks,
    BatchSize,
    LingerMs,
    Compression,
    Idempotence,
    Rate,
    Key,
    Partitioner,
    /// The consumers' partition.assignment.strategy.
    Assignment,
    /// The consumers' group.protocol.
    Protocol,
    /// The embedded cluster's simulated round trip (only when kafka-lab serves it).
    Rtt,
}

pub const FIELDS: [Field; 11] = [
    Field::Acks,
    Field::BatchSize,
    Field::LingerMs,
    Field::Compression,
    Field::Idempotence,
    Field::Rate,
    Field::Key,
    Field::Partitioner,
    Field::Assignment,
    Field::Protocol,
    Field::Rtt,
];

const PARTITIONERS: [&str; 7] = [
    "consistent_random",
    "consistent",
    "random",
    "murmur2",
    "murmur2_random",
    "fnv1a",
    "fnv1a_random",
];

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Acks => "acks",
            Field::BatchSize => "batch.size",
            Field::LingerMs => "linger.ms",
            Field::Compression => "compression.type",
            Field::Idempotence => "enable.idempotence",
            Field::Rate => "rate (records/s)",
            Field::Key => "key",
            Field::Partitioner => "partitioner",
            Field::Assignment => "group assignment",
            Field::Protocol => "group.protocol",
            Field::Rtt => "simulated rtt ms",
        }
    }

    /// Checks a typed value; the error says what is allowed.
    pub fn validate(self, text: &str) -> Result<(), String> {
        let t = text.trim();
        let one_of = |allowed: &[&str]| {
            if allowed.contains(&t) {
                Ok(())
            } else {
                Err(format!("one of {}", allowed.join(", ")))
            }
        };
        match self {
            Field::Acks => one_of(&["0", "1", "all"]),
            Field::BatchSize => properties::check_value("batch.size", t),
            Field::LingerMs => properties::check_value("linger.ms", t),
            Field::Compression => one_of(&["none", "gzip", "snappy", "lz4", "zstd"]),
            Field::Idempotence => one_of(&["true", "false"]),
            Field::Rate => match t.parse::<f64>() {
                _ if t == "max" => Ok(()),
                Ok(r) if r > 0.0 && r.is_finite() => Ok(()),
                _ => Err("records per second above 0, or max".to_string()),
            },
            Field::Key => one_of(&["id", "state", "city", "none"]),
            Field::Partitioner => one_of(&PARTITIONERS),
            Field::Assignment => {
                let known = ["range", "roundrobin", "cooperative-sticky"];
                match t.split(',').map(str::trim).find(|s| !known.contains(s)) {
                    None if !t.is_empty() => Ok(()),
                    _ => Err(format!("one or more of {}", known.join(", "))),
                }
            }
            Field::Protocol => one_of(&["classic", "consumer"]),
            Field::Rtt => match t.parse::<u64>() {
                Ok(ms) if ms <= 10_000 => Ok(()),
                _ => Err("milliseconds, 0 to 10000".to_string()),
            },
        }
    }

    fn value_of(self, s: &ProducerSettings, g: &GroupSettings) -> String {
        match self {
            Field::Acks => s.acks.clone(),
            Field::BatchSize => s.batch_size.clone(),
            Field::LingerMs => s.linger_ms.clone(),
            Field::Compression => s.compression.clone(),
            Field::Idempotence => s.idempotence.clone(),
            Field::Rate => s.rate.map_or("max".to_string(), |r| format!("{r}")),
            Field::Key => format!("{:?}", s.key).to_lowercase(),
            Field::Partitioner => s.partitioner.clone(),
            Field::Assignment => g.strategy.clone(),
            Field::Protocol => g.protocol.clone(),
            Field::Rtt => s.rtt_ms.unwrap_or(0).to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SettingsForm {
    pub inputs: Vec<Input>,
    /// Fields shown: the simulated rtt only where kafka-lab serves the cluster.
    pub visible: usize,
    pub selected: usize,
    /// Why the form cannot be applied as a whole (a field's own error is shown beside it).
    pub form_error: Option<String>,
}

impl SettingsForm {
    fn new(s: &ProducerSettings, g: &GroupSettings) -> Self {
        SettingsForm {
            inputs: FIELDS
                .iter()
                .map(|f| Input::new(f.value_of(s, g)))
                .collect(),
            visible: if s.rtt_ms.is_some() {
                FIELDS.len()
            } else {
                FIELDS.len() - 1
            },
            selected: 0,
            form_error: None,
        }
    }

    pub fn error(&self, i: usize) -> Option<String> {
        FIELDS[i].validate(self.inputs[i].value()).err()
    }

    pub fn value(&self, field: Field) -> &str {
        let i = FIELDS.iter().position(|f| *f == field).unwrap_or(0);
        self.inputs[i].value().trim()
    }

    /// The settings the form describes, if every field is valid and they fit together.
    pub fn parse(&self) -> Result<(ProducerSettings, GroupSettings), String> {
        for (i, f) in FIELDS.iter().enumerate().take(self.visible) {
            if let Some(e) = self.error(i) {
                return Err(format!("{}: {e}", f.label()));
            }
        }
        if self.value(Field::Idempotence) == "true" && self.value(Field::Acks) != "all" {
            return Err("enable.idempotence=true needs acks=all".to_string());
        }
        let key = match self.value(Field::Key) {
            "state" => KeyField::State,
            "city" => KeyField::City,
            "none" => KeyField::None,
            _ => KeyField::Id,
        };
        let group = GroupSettings {
            strategy: self.value(Field::Assignment).to_string(),
            protocol: self.value(Field::Protocol).to_string(),
        };
        let producer = ProducerSettings {
            acks: self.value(Field::Acks).to_string(),
            batch_size: self.value(Field::BatchSize).to_string(),
            linger_ms: self.value(Field::LingerMs).to_string(),
            compression: self.value(Field::Compression).to_string(),
            idempotence: self.value(Field::Idempotence).to_string(),
            partitioner: self.value(Field::Partitioner).to_string(),
            rate: self.value(Field::Rate).parse().ok(),
            key,
            rtt_ms: (self.visible == FIELDS.len())
                .then(|| self.value(Field::Rtt).parse().unwrap_or(0)),
        };
        Ok((producer, group))
    }
}

/// The topic form (`a`): create a topic, add partitions to the current one, switch topics.
#[derive(Debug, Clone)]
pub struct AdminForm {
    /// create: name, partitions, replication; add: total; switch: name.
    pub inputs: [Input; 5],
    pub selected: usize,
    pub error: Option<String>,
}

pub const ADMIN_ROWS: [&str; 5] = [
    "new topic name",
    "  partitions",
    "  replication factor",
    "partitions in all (add)",
    "switch to topic",
];

fn topic_name(t: &str) -> Result<String, String> {
    let ok = !t.is_empty()
        && t.len() <= 249
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(t.to_string())
    } else {
        Err("a topic name is 1 to 249 of a-z A-Z 0-9 . _ -".to_string())
    }
}

fn count(t: &str, what: &str, min: i32) -> Result<i32, String> {
    match t.trim().parse::<i32>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(format!("{what}: a whole number from {min}")),
    }
}

impl AdminForm {
    fn new(partitions: usize) -> AdminForm {
        AdminForm {
            inputs: [
                Input::default(),
                Input::new("6".into()),
                Input::new("1".into()),
                Input::new((partitions + 2).to_string()),
                Input::default(),
            ],
            selected: 0,
            error: None,
        }
    }

    /// The command of the selected row, if its values are valid.
    pub fn command(&self, current_partitions: usize) -> Result<Command, String> {
        let v = |i: usize| self.inputs[i].value().trim();
        match self.selected {
            0..=2 => {
                let replication = match v(2) {
                    "-1" => -1,
                    other => count(other, "replication factor", 1)?,
                };
                Ok(Command::CreateTopic {
                    name: topic_name(v(0))?,
                    partitions: count(v(1), "partitions", 1)?,
                    replication,
                })
            }
            3 => {
                let total = count(v(3), "partitions", 1)?;
                if total as usize <= current_partitions {
                    return Err(format!(
                        "a topic's partitions can only grow: it has {current_partitions}"
                    ));
                }
                Ok(Command::AddPartitions { total })
            }
            _ => Ok(Command::SwitchTopic(topic_name(v(4))?)),
        }
    }
}

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Producer,
    /// A consumer pane, by its index in `App::members`.
    Member(usize),
    Settings,
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
}

/// What the lower half of the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Consumers,
    Partitions,
    Timeline,
    Runs,
}

/// The record detail: a consumer's latest records as they were when it was opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub member: String,
    /// Newest first.
    pub records: Vec<RecentRecord>,
    pub selected: usize,
}

pub struct App {
    pub cluster: ClusterInfo,
    /// Where consumed records are written, while `w` has it on.
    pub sink: Option<String>,
    pub detail: Option<Detail>,
    pub admin: Option<AdminForm>,
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
    pub focus: Focus,
    pub settings: SettingsForm,
    /// The settings in force (or being applied).
    pub applied: ProducerSettings,
    pub applied_group: GroupSettings,
    pub help: bool,
    pub quitting: bool,
    /// Something to tell the user, in the status bar.
    pub message: Option<String>,
    next_member: u32,
    /// Something changed since the last frame.
    pub dirty: bool,
}

impl App {
    pub fn new(cluster: ClusterInfo, settings: ProducerSettings, group: GroupSettings) -> App {
        App {
            cluster,
            sink: None,
            detail: None,
            admin: None,
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
            focus: Focus::Producer,
            settings: SettingsForm::new(&settings, &group),
            applied: settings,
            applied_group: group,
            help: false,
            quitting: false,
            message: None,
            next_member: 1,
            dirty: true,
        }
    }

    /// The id the next added consumer gets; the next rebalance is put down to its joining.
    pub fn reserve_member(&mut self) -> u32 {
        let id = self.next_member;
        self.next_member += 1;
        self.timeline.expect(format!("consumer-{id} joined"));
        id
    }

    pub fn update(&mut self, event: Event) -> Vec<Command> {
        self.dirty = true;
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.key(key),
            Event::Key(_) | Event::Resize => Vec::new(),
            Event::Notice(text) => {
                self.message = Some(text);
                Vec::new()
            }
            Event::SinkChanged(path) => {
                self.sink = path;
                Vec::new()
            }
            Event::TopicSwitched { topic, partitions } => {
                self.message = Some(format!("now on topic {topic} ({partitions} partitions)"));
                push_log(
                    &mut self.producer.log,
                    LogLine::Mark(format!("switched to topic {topic}")),
                );
                self.cluster.topic = topic;
                self.cluster.partitions = partitions;
                self.topic = None;
                self.produced_before.clear();
                self.first_run_on_topic = self.producer.snapshot.as_ref().map_or(0, |s| s.run) + 1;
                self.timeline
                    .new_topic(format!("consumers moved to topic {}", self.cluster.topic));
                Vec::new()
            }
            Event::Kafka(KafkaEvent::Topic(t)) => {
                if self.topic.is_some() && t.partitions.len() > self.cluster.partitions {
                    self.timeline.expect(format!(
                        "partitions added ({} → {})",
                        self.cluster.partitions,
                        t.partitions.len()
                    ));
                }
                self.cluster.partitions = t.partitions.len();
                self.topic = Some(t);
                Vec::new()
            }
            Event::Kafka(KafkaEvent::RunEnded(report)) => {
                if self.runs.len() == RUNS {
                    self.runs.pop_front();
                }
                self.runs.push_back(*report);
                Vec::new()
            }
            Event::Kafka(KafkaEvent::RunVerified { run, result }) => {
                match result {
                    Ok(accounting) => {
                        if let Some(r) = self.runs.iter_mut().find(|r| r.run == run) {
                            r.accounting = Some(accounting);
                        }
                    }
                    Err(e) => self.message = Some(format!("run {run} could not be read back: {e}")),
                }
                Vec::new()
            }
            Event::Kafka(KafkaEvent::Producer(s)) => {
                self.producer_snapshot(*s);
                Vec::new()
            }
            Event::Kafka(KafkaEvent::Member(m)) => {
                self.member_snapshot(*m);
                Vec::new()
            }
            Event::Kafka(KafkaEvent::MemberLeft { id, at }) => {
                if let Some(m) = self.members.iter().find(|m| m.snapshot.id == id) {
                    self.counts_departed.merge(&m.snapshot.counts);
                    self.timeline.left(&m.snapshot.name, at);
                }
                self.members.retain(|m| m.snapshot.id != id);
                self.clamp_focus();
                Vec::new()
            }
        }
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Command> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return self.quit();
        }
        if self.help {
            // Any key closes the help; q still quits.
            self.help = false;
            return if key.code == KeyCode::Char('q') {
                self.quit()
            } else {
                Vec::new()
            };
        }
        if let Some(form) = &mut self.admin {
            match key.code {
                KeyCode::Esc => self.admin = None,
                KeyCode::Up => {
                    form.selected = (form.selected + ADMIN_ROWS.len() - 1) % ADMIN_ROWS.len()
                }
                KeyCode::Down | KeyCode::Tab => {
                    form.selected = (form.selected + 1) % ADMIN_ROWS.len()
                }
                KeyCode::Enter => match form.command(self.cluster.partitions) {
                    Ok(command) => {
                        self.admin = None;
                        self.message = Some("asking the cluster ...".into());
                        return vec![command];
                    }
                    Err(e) => form.error = Some(e),
                },
                _ => {
                    form.inputs[form.selected].handle_event(&TermEvent::Key(key));
                    form.error = None;
                }
            }
            return Vec::new();
        }
        if let Some(detail) = &mut self.detail {
            match key.code {
                KeyCode::Up => detail.selected = detail.selected.saturating_sub(1),
                KeyCode::Down => {
                    detail.selected =
                        (detail.selected + 1).min(detail.records.len().saturating_sub(1))
                }
                KeyCode::Char('q') => return self.quit(),
                _ => self.detail = None,
            }
            return Vec::new();
        }
        if self.focus == Focus::Settings {
            return self.settings_key(key);
        }
        match key.code {
            KeyCode::Char('q') => self.quit(),
            KeyCode::Char('?') => {
                self.help = true;
                Vec::new()
            }
            KeyCode::Char('p') => {
                let running = self
                    .producer
                    .snapshot
                    .as_ref()
                    .is_some_and(|s| s.state == ProducerState::Running);
                vec![if running {
                    Command::StopProducer
                } else {
                    Command::StartProducer
                }]
            }
            KeyCode::Char('c') => {
                let id = self.reserve_member();
                self.message = Some(format!("consumer-{id} joins group {}", self.cluster.group));
                vec![Command::AddMember(id)]
            }
            KeyCode::Char('x') => match self.focus {
                Focus::Member(i) => {
                    let m = &self.members[i].snapshot;
                    self.message = Some(format!("{} leaves group {}", m.name, self.cluster.group));
                    self.timeline.expect(format!("{} left", m.name));
                    vec![Command::RemoveMember(m.id)]
                }
                _ => {
                    self.message =
                        Some("select a consumer pane first (Tab), then x removes it".to_string());
                    Vec::new()
                }
            },
            KeyCode::Char('s') => {
                self.focus = Focus::Settings;
                Vec::new()
            }
            KeyCode::Enter => {
                match self.focus {
                    Focus::Member(i) if !self.members[i].snapshot.latest.is_empty() => {
                        let m = &self.members[i].snapshot;
                        self.detail = Some(Detail {
                            member: m.name.clone(),
                            records: m.latest.iter().rev().cloned().collect(),
                            selected: 0,
                        });
                    }
                    Focus::Member(_) => self.message = Some("no record received yet".into()),
                    _ => {
                        self.message = Some(
                            "select a consumer pane (Tab), then Enter shows its records".into(),
                        )
                    }
                }
                Vec::new()
            }
            KeyCode::Char('r') => {
                self.toggle_view(View::Runs);
                Vec::new()
            }
            KeyCode::Char('t') => {
                self.group_by = match self.group_by {
                    GroupBy::Type => GroupBy::State,
                    GroupBy::State => GroupBy::Country,
                    GroupBy::Country => GroupBy::Type,
                };
                self.view = View::Partitions;
                Vec::new()
            }
            KeyCode::Char('w') => vec![Command::ToggleSink],
            KeyCode::Char('a') => {
                self.admin = Some(AdminForm::new(self.cluster.partitions));
                Vec::new()
            }
            KeyCode::Char('g') => {
                self.toggle_view(View::Timeline);
                Vec::new()
            }
            KeyCode::Char('v') => {
                self.toggle_view(View::Partitions);
                Vec::new()
            }
            KeyCode::Char('e') => {
                let rows = self.table_rows();
                if rows.is_empty() {
                    self.message = Some("no run to export yet".into());
                    Vec::new()
                } else {
                    vec![Command::Export(rows)]
                }
            }
            KeyCode::Char('b') => {
                if self.cluster.owned {
                    vec![Command::BrokerOutage]
                } else {
                    self.message = Some(
                        "b takes a broker of the embedded cluster down; on this cluster it does nothing"
                            .into(),
                    );
                    Vec::new()
                }
            }
            KeyCode::Tab | KeyCode::Right | KeyCode::Down => {
                self.cycle(1);
                Vec::new()
            }
            KeyCode::BackTab | KeyCode::Left | KeyCode::Up => {
                self.cycle(-1);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn settings_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let form = &mut self.settings;
        match key.code {
            KeyCode::Esc => self.focus = Focus::Producer,
            KeyCode::Up | KeyCode::BackTab => {
                form.selected = (form.selected + form.visible - 1) % form.visible;
            }
            KeyCode::Down | KeyCode::Tab => form.selected = (form.selected + 1) % form.visible,
            KeyCode::Enter => match form.parse() {
                Ok((settings, group)) => {
                    form.form_error = None;
                    let mut commands = Vec::new();
                    let mut said = Vec::new();
                    if settings != self.applied {
                        self.applied = settings.clone();
                        said.push("restarting the producer");
                        commands.push(Command::ApplySettings(settings));
                    }
                    if group != self.applied_group {
                        self.timeline.expect(format!(
                            "consumers rejoined: {} · {}",
                            group.strategy, group.protocol
                        ));
                        self.applied_group = group.clone();
                        said.push("restarting the consumers");
                        commands.push(Command::Regroup(group));
                    }
                    self.message = Some(if said.is_empty() {
                        "nothing changed".to_string()
                    } else {
                        format!("{} with the new settings", said.join(" and "))
                    });
                    return commands;
                }
                Err(e) => form.form_error = Some(format!("not applied: {e}")),
            },
            _ => {
                let i = form.selected;
                form.inputs[i].handle_event(&TermEvent::Key(key));
                form.form_error = None;
            }
        }
        Vec::new()
    }

    /// Shows `view` in the lower half, or the consumer panes if it is already shown.
    fn toggle_view(&mut self, view: View) {
        self.view = if self.view == view {
            View::Consumers
        } else {
            view
        };
    }

    fn quit(&mut self) -> Vec<Command> {
        self.quitting = true;
        self.message = Some("quitting: flushing the producer, leaving the group ...".into());
        vec![Command::Quit]
    }

    /// Tab order: the producer, then each consumer pane.
    fn cycle(&mut self, step: isize) {
        let panes = 1 + self.members.len() as isize;
        let current = match self.focus {
            Focus::Member(i) => i as isize + 1,
            _ => 0,
        };
        let next = (current + step).rem_euclid(panes);
        self.focus = if next == 0 {
            Focus::Producer
        } else {
            Focus::Member(next as usize - 1)
        };
    }

    fn clamp_focus(&mut self) {
        if let Focus::Member(i) = self.focus {
            if self.members.is_empty() {
                self.focus = Focus::Producer;
            } else if i >= self.members.len() {
                self.focus = Focus::Member(self.members.len() - 1);
            }
        }
    }

    fn producer_snapshot(&mut self, s: ProducerSnapshot) {
        let view = &mut self.producer;
        let new_run = view.snapshot.as_ref().is_some_and(|old| old.run != s.run);
        if new_run {
            // The previous run's last snapshot holds its final counts (if it wrote to this topic).
            let this_topic = view
                .snapshot
                .as_ref()
                .filter(|old| old.run >= self.first_run_on_topic);
            for (p, n) in this_topic.iter().flat_map(|old| &old.by_partition) {
                *self.produced_before.entry(*p).or_insert(0) += n;
            }
        }
        if let Some(ended) = &s.run_ended {
            push_log(&mut view.log, LogLine::Mark(ended.clone()));
        }
        if new_run || (view.snapshot.is_none() && s.run > 0) {
            push_log(
                &mut view.log,
                LogLine::Mark(format!("run {} started: {}", s.run, describe(&s.settings))),
            );
        }
        if s.skipped > 0 {
            push_log(&mut view.log, LogLine::Skipped(s.skipped));
        }
        for d in &s.latest {
            push_log(&mut view.log, LogLine::Delivery(d.clone()));
        }
        if s.state == ProducerState::Running {
            if view.history.len() == HISTORY {
                view.history.pop_front();
            }
            view.history.push_back(HistoryPoint {
                t: s.since_start.as_secs_f64(),
                run: s.run,
                per_sec: s.window.per_sec,
                p99_ms: s.window.latency.p99,
            });
        }
        view.error = age(view.error.take(), s.last_error.clone());
        if let ProducerState::Error(e) = &s.state {
            view.error = Some((e.clone(), 0));
        }
        view.snapshot = Some(s);
    }

    fn member_snapshot(&mut self, m: MemberSnapshot) {
        // Only settled assignments count: mid-rebalance a member's list is in flux.
        if matches!(m.state, MemberState::Assigned | MemberState::Idle) {
            if let Some(at) = m.last_rebalance {
                let parts: Vec<i32> = m.partitions.iter().map(|p| p.partition).collect();
                self.timeline.report(&m.name, &parts, at, m.last_revoke);
            }
        }
        match self.members.iter_mut().find(|v| v.snapshot.id == m.id) {
            Some(view) => {
                view.error = age(view.error.take(), m.last_error.clone());
                if m.received > 0 {
                    push_point(&mut view.e2e_history, m.e2e.p99);
                }
                view.snapshot = m;
            }
            None => {
                let error = m.last_error.clone().map(|e| (e, 0));
                let at = self.members.partition_point(|v| v.snapshot.id < m.id);
                let view = MemberView {
                    snapshot: m,
                    error,
                    e2e_history: VecDeque::new(),
                };
                self.members.insert(at, view);
                if let Focus::Member(i) = self.focus {
                    if i >= at {
                        self.focus = Focus::Member(i + 1);
                    }
                }
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

/// Keeps an error for a while after it was last reported, then forgets it.
fn age(old: Option<(String, u32)>, new: Option<String>) -> Option<(String, u32)> {
    match (old, new) {
        (_, Some(e)) => Some((e, 0)),
        (Some((e, n)), None) if n + 1 < ERROR_SHOWN_FOR => Some((e, n + 1)),
        _ => None,
    }
}

fn push_log(log: &mut VecDeque<LogLine>, line: LogLine) {
    if log.len() == LOG_LINES {
        log.pop_front();
    }
    log.push_back(line);
}

/// `acks=all linger.ms=5 ...` for the log and the producer pane.
pub fn describe(s: &ProducerSettings) -> String {
    format!(
        "acks={} linger.ms={} batch.size={} compression={} idempotence={} rate={} key={} partitioner={}",
        s.acks,
        s.linger_ms,
        s.batch_size,
        s.compression,
        s.idempotence,
        s.rate.map_or("max".to_string(), |r| format!("{r}/s")),
        format!("{:?}", s.key).to_lowercase(),
        s.partitioner
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::member::PartitionLag;
    use crate::kafka::metrics::WindowFigures;
    use std::time::{Duration, SystemTime};

    pub fn settings() -> ProducerSettings {
        ProducerSettings {
            acks: "all".into(),
            batch_size: "1000000".into(),
            linger_ms: "5".into(),
            compression: "none".into(),
            idempotence: "false".into(),
            partitioner: "consistent_random".into(),
            rate: Some(50.0),
            key: KeyField::Id,
            rtt_ms: None,
        }
    }

    fn app() -> App {
        App::new(
            ClusterInfo {
                label: "embedded cluster 127.0.0.1:1".into(),
                embedded: true,
                owned: true,
                topic: "breweries".into(),
                partitions: 6,
                group: "kafka-lab".into(),
            },
            settings(),
            GroupSettings {
                strategy: "range,roundrobin".into(),
                protocol: "classic".into(),
            },
        )
    }

    fn key(app: &mut App, code: KeyCode) -> Vec<Command> {
        app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn producer(run: u32, state: ProducerState) -> Event {
        Event::Kafka(KafkaEvent::Producer(Box::new(ProducerSnapshot {
            run,
            state,
            settings: settings(),
            sent: 10,
            delivered: 10,
            failed: 0,
            in_flight: 0,
            run_elapsed: Duration::from_secs(1),
            window: WindowFigures::default(),
            latest: vec![],
            skipped: 0,
            last_error: None,
            run_ended: None,
            since_start: Duration::from_secs(1),
            report: None,
            by_partition: BTreeMap::new(),
        })))
    }

    fn member(id: u32, partitions: &[i32]) -> Event {
        Event::Kafka(KafkaEvent::Member(Box::new(MemberSnapshot {
            id,
            name: format!("consumer-{id}"),
            client_id: format!("kafka-lab-consumer-{id}"),
            state: if partitions.is_empty() {
                MemberState::Idle
            } else {
                MemberState::Assigned
            },
            partitions: partitions
                .iter()
                .map(|&partition| PartitionLag {
                    partition,
                    position: Some(1),
                    high_watermark: Some(2),
                })
                .collect(),
            received: 0,
            per_sec: 0.0,
            e2e: crate::kafka::metrics::LatencySummary::default(),
            latest: vec![],
            last_rebalance: Some(SystemTime::UNIX_EPOCH),
            last_revoke: None,
            last_error: None,
            counts: Counts::default(),
        })))
    }

    #[test]
    fn p_stops_a_running_producer_and_starts_a_stopped_one() {
        let mut a = app();
        assert_eq!(
            key(&mut a, KeyCode::Char('p')),
            vec![Command::StartProducer]
        );
        a.update(producer(1, ProducerState::Running));
        assert_eq!(key(&mut a, KeyCode::Char('p')), vec![Command::StopProducer]);
        a.update(producer(1, ProducerState::Stopped));
        assert_eq!(
            key(&mut a, KeyCode::Char('p')),
            vec![Command::StartProducer]
        );
    }

    #[test]
    fn c_adds_members_with_new_ids_and_x_removes_the_selected_one() {
        let mut a = app();
        assert_eq!(a.reserve_member(), 1);
        a.update(member(1, &[0, 1, 2, 3, 4, 5]));
        assert_eq!(key(&mut a, KeyCode::Char('c')), vec![Command::AddMember(2)]);
        a.update(member(2, &[3, 4, 5]));
        assert_eq!(a.members.len(), 2);
        // x needs a selected consumer.
        assert_eq!(key(&mut a, KeyCode::Char('x')), vec![]);
        key(&mut a, KeyCode::Tab);
        key(&mut a, KeyCode::Tab);
        assert_eq!(a.focus, Focus::Member(1));
        assert_eq!(
            key(&mut a, KeyCode::Char('x')),
            vec![Command::RemoveMember(2)]
        );
        a.update(Event::Kafka(KafkaEvent::MemberLeft {
            id: 2,
            at: SystemTime::UNIX_EPOCH,
        }));
        assert_eq!(a.members.len(), 1);
        assert_eq!(
            a.focus,
            Focus::Member(0),
            "focus moves to a pane that exists"
        );
    }

    #[test]
    fn tab_and_arrows_cycle_through_panes() {
        let mut a = app();
        a.update(member(1, &[0]));
        assert_eq!(a.focus, Focus::Producer);
        key(&mut a, KeyCode::Tab);
        assert_eq!(a.focus, Focus::Member(0));
        key(&mut a, KeyCode::Right);
        assert_eq!(a.focus, Focus::Producer);
        key(&mut a, KeyCode::Left);
        assert_eq!(a.focus, Focus::Member(0));
        key(&mut a, KeyCode::BackTab);
        assert_eq!(a.focus, Focus::Producer);
    }

    #[test]
    fn settings_edit_validate_and_apply() {
        let mut a = app();
        key(&mut a, KeyCode::Char('s'));
        assert_eq!(a.focus, Focus::Settings);
        // q is text here, not quit.
        key(&mut a, KeyCode::Down);
        key(&mut a, KeyCode::Down);
        assert_eq!(FIELDS[a.settings.selected], Field::LingerMs);
        key(&mut a, KeyCode::Backspace);
        for c in "-3".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        assert!(a
            .settings
            .error(a.settings.selected)
            .unwrap()
            .contains("range"));
        assert_eq!(
            key(&mut a, KeyCode::Enter),
            vec![],
            "an invalid form is not applied"
        );
        assert!(a
            .settings
            .form_error
            .as_ref()
            .unwrap()
            .contains("linger.ms"));
        key(&mut a, KeyCode::Backspace);
        key(&mut a, KeyCode::Backspace);
        for c in "20".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        assert_eq!(a.settings.error(a.settings.selected), None);
        let mut want = settings();
        want.linger_ms = "20".into();
        assert_eq!(
            key(&mut a, KeyCode::Enter),
            vec![Command::ApplySettings(want.clone())]
        );
        assert_eq!(a.applied, want);
        key(&mut a, KeyCode::Esc);
        assert_eq!(a.focus, Focus::Producer);
    }

    #[test]
    fn group_settings_restart_only_the_consumers() {
        let mut a = app();
        key(&mut a, KeyCode::Char('s'));
        assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
        assert_eq!(a.message.as_deref(), Some("nothing changed"));
        let i = FIELDS.iter().position(|f| *f == Field::Assignment).unwrap();
        while a.settings.selected != i {
            key(&mut a, KeyCode::Down);
        }
        for _ in 0..20 {
            key(&mut a, KeyCode::Backspace);
        }
        for c in "cooperative-sticky".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        let want = GroupSettings {
            strategy: "cooperative-sticky".into(),
            protocol: "classic".into(),
        };
        assert_eq!(key(&mut a, KeyCode::Enter), vec![Command::Regroup(want)]);
        for c in "x".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        assert!(
            a.settings.error(i).is_some(),
            "cooperative-stickyx is no strategy"
        );
    }

    #[test]
    fn topic_form_checks_values_and_issues_one_command() {
        let mut a = app();
        key(&mut a, KeyCode::Char('a'));
        assert!(a.admin.is_some());
        for c in "bad name".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
        assert!(a
            .admin
            .as_ref()
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .contains("topic name"));
        for _ in 0..8 {
            key(&mut a, KeyCode::Backspace);
        }
        for c in "beers".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        let create = Command::CreateTopic {
            name: "beers".into(),
            partitions: 6,
            replication: 1,
        };
        assert_eq!(key(&mut a, KeyCode::Enter), vec![create]);
        assert!(a.admin.is_none());
        // Partitions only grow.
        key(&mut a, KeyCode::Char('a'));
        for _ in 0..3 {
            key(&mut a, KeyCode::Down);
        }
        key(&mut a, KeyCode::Backspace);
        key(&mut a, KeyCode::Char('4'));
        assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
        assert!(a
            .admin
            .as_ref()
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .contains("only grow"));
        key(&mut a, KeyCode::Backspace);
        key(&mut a, KeyCode::Char('9'));
        assert_eq!(
            key(&mut a, KeyCode::Enter),
            vec![Command::AddPartitions { total: 9 }]
        );
        key(&mut a, KeyCode::Char('a'));
        key(&mut a, KeyCode::Up);
        for c in "beers".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        assert_eq!(
            key(&mut a, KeyCode::Enter),
            vec![Command::SwitchTopic("beers".into())]
        );
        a.update(Event::TopicSwitched {
            topic: "beers".into(),
            partitions: 6,
        });
        assert_eq!(a.cluster.topic, "beers");
    }

    #[test]
    fn idempotence_needs_acks_all() {
        let mut a = app();
        key(&mut a, KeyCode::Char('s'));
        key(&mut a, KeyCode::Backspace);
        key(&mut a, KeyCode::Backspace);
        key(&mut a, KeyCode::Backspace);
        key(&mut a, KeyCode::Char('1'));
        for _ in 0..4 {
            key(&mut a, KeyCode::Down);
        }
        for _ in 0..5 {
            key(&mut a, KeyCode::Backspace);
        }
        for c in "true".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
        assert!(a.settings.form_error.as_ref().unwrap().contains("acks=all"));
    }

    #[test]
    fn field_validation() {
        assert!(Field::Acks.validate("all").is_ok());
        assert!(Field::Acks.validate("2").is_err());
        assert!(Field::BatchSize.validate("abc").is_err());
        assert!(Field::Rate.validate("max").is_ok());
        assert!(Field::Rate.validate("0").is_err());
        assert!(Field::Compression.validate("zstd").is_ok());
        assert!(Field::Partitioner.validate("murmur2_random").is_ok());
        assert!(Field::Key.validate("country").is_err());
    }

    #[test]
    fn help_and_quit() {
        let mut a = app();
        key(&mut a, KeyCode::Char('?'));
        assert!(a.help);
        assert_eq!(
            key(&mut a, KeyCode::Char('c')),
            vec![],
            "a key closes the help first"
        );
        assert!(!a.help);
        assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Command::Quit]);
        let mut a = app();
        key(&mut a, KeyCode::Char('s'));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(a.update(Event::Key(ctrl_c)), vec![Command::Quit]);
        assert!(a.quitting);
    }

    #[test]
    fn snapshots_fill_a_bounded_log_and_history_and_mark_restarts() {
        let mut a = app();
        for _ in 0..(HISTORY + 50) {
            a.update(producer(1, ProducerState::Running));
        }
        assert_eq!(a.producer.history.len(), HISTORY);
        let Event::Kafka(KafkaEvent::Producer(mut s)) = producer(1, ProducerState::Restarting)
        else {
            unreachable!()
        };
        s.run_ended = Some("run 1 ended: 10 sent".into());
        s.skipped = 5000;
        a.update(Event::Kafka(KafkaEvent::Producer(s)));
        a.update(producer(2, ProducerState::Running));
        let marks: Vec<&LogLine> = a.producer.log.iter().collect();
        assert!(marks.contains(&&LogLine::Mark("run 1 ended: 10 sent".into())));
        assert!(marks.contains(&&LogLine::Skipped(5000)));
        assert!(matches!(marks.last(), Some(LogLine::Mark(m)) if m.starts_with("run 2 started")));
        for _ in 0..(LOG_LINES * 2) {
            a.update(producer(2, ProducerState::Running));
            let Event::Kafka(KafkaEvent::Producer(mut s)) = producer(2, ProducerState::Running)
            else {
                unreachable!()
            };
            s.skipped = 1;
            a.update(Event::Kafka(KafkaEvent::Producer(s)));
        }
        assert_eq!(a.producer.log.len(), LOG_LINES);
    }

    #[test]
    fn errors_show_for_a_while_then_clear() {
        let mut a = app();
        let Event::Kafka(KafkaEvent::Producer(mut s)) = producer(1, ProducerState::Running) else {
            unreachable!()
        };
        s.last_error = Some("broker down".into());
        a.update(Event::Kafka(KafkaEvent::Producer(s)));
        assert_eq!(a.connection_problem(), Some("broker down"));
        for _ in 0..ERROR_SHOWN_FOR {
            a.update(producer(1, ProducerState::Running));
        }
        assert_eq!(a.connection_problem(), None, "recovered");
    }
}
