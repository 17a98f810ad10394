//! The dashboard's state, and `App::update`: the only place it changes.
//!
//! Events (keys, Kafka snapshots) go in; commands for the Kafka side come out. Nothing here
//! talks to Kafka or draws. At most one overlay has the keyboard, by construction: [`Modal`].

pub mod forms;
pub mod keymap;
pub mod runs;
pub mod timeline;
pub mod views;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};

use crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind};
use tui_input::backend::crossterm::EventHandler;

use crate::dashboard::actors::member::{MemberSnapshot, MemberState};
use crate::dashboard::actors::producer::{ProducerSnapshot, ProducerState};
use crate::dashboard::actors::watcher::TopicSnapshot;
use crate::dashboard::protocol::{Command, Event, KafkaEvent};
use crate::dashboard::settings::{GroupSettings, ProducerSettings};
use crate::data::counts::Counts;
use crate::stats::RunReport;
use forms::{AdminForm, SettingsForm};
use keymap::{Action, Mode};
use timeline::Timeline;
use views::{
    age, push_bounded, push_log, Detail, HistoryPoint, LogLine, MemberView, ProducerView, HISTORY,
};

/// Runs kept in the runs table.
pub const RUNS: usize = 50;

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

/// Which pane is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Producer,
    /// A consumer pane, by its index in `App::members`.
    Member(usize),
}

/// What has the keyboard besides the main screen: one overlay at a time.
#[derive(Debug, Clone, Default)]
pub enum Modal {
    #[default]
    None,
    /// Editing the settings panel.
    Settings,
    Topics(Box<AdminForm>),
    Detail(Detail),
    Help,
}

impl Modal {
    pub fn mode(&self) -> Mode {
        match self {
            Modal::None => Mode::Main,
            Modal::Settings => Mode::Settings,
            Modal::Topics(_) => Mode::Topics,
            Modal::Detail(_) => Mode::Detail,
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
    pub focus: Focus,
    pub settings: SettingsForm,
    /// The settings in force (or being applied).
    pub applied: ProducerSettings,
    pub applied_group: GroupSettings,
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
            focus: Focus::Producer,
            settings: SettingsForm::new(&settings, &group),
            applied: settings,
            applied_group: group,
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
                self.topic_switched(topic, partitions);
                Vec::new()
            }
            Event::Kafka(event) => {
                self.kafka(event);
                Vec::new()
            }
        }
    }

    fn kafka(&mut self, event: KafkaEvent) {
        match event {
            KafkaEvent::Topic(t) => {
                if self.topic.is_some() && t.partitions.len() > self.cluster.partitions {
                    self.timeline.expect(format!(
                        "partitions added ({} → {})",
                        self.cluster.partitions,
                        t.partitions.len()
                    ));
                }
                self.cluster.partitions = t.partitions.len();
                self.topic = Some(t);
            }
            KafkaEvent::RunEnded(report) => push_bounded(&mut self.runs, *report, RUNS),
            KafkaEvent::RunVerified { run, result } => match result {
                Ok(accounting) => {
                    if let Some(r) = self.runs.iter_mut().find(|r| r.run == run) {
                        r.accounting = Some(accounting);
                    }
                }
                Err(e) => self.message = Some(format!("run {run} could not be read back: {e}")),
            },
            KafkaEvent::Producer(s) => self.producer_snapshot(*s),
            KafkaEvent::Member(m) => self.member_snapshot(*m),
            KafkaEvent::MemberLeft { id, at } => {
                if let Some(m) = self.members.iter().find(|m| m.snapshot.id == id) {
                    self.counts_departed.merge(&m.snapshot.counts);
                    self.timeline.left(&m.snapshot.name, at);
                }
                self.members.retain(|m| m.snapshot.id != id);
                self.clamp_focus();
            }
        }
    }

    fn topic_switched(&mut self, topic: String, partitions: usize) {
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
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Some(action) = keymap::action(self.modal.mode(), &key) else {
            return Vec::new();
        };
        if action == Action::Quit {
            return self.quit();
        }
        match &mut self.modal {
            Modal::None => self.main_action(action),
            Modal::Help => {
                self.modal = Modal::None;
                Vec::new()
            }
            Modal::Detail(detail) => {
                match action {
                    Action::Up => detail.up(),
                    Action::Down => detail.down(),
                    _ => self.modal = Modal::None,
                }
                Vec::new()
            }
            Modal::Topics(form) => {
                match action {
                    Action::Up => form.up(),
                    Action::Down => form.down(),
                    Action::Close => self.modal = Modal::None,
                    Action::Apply => match form.command(self.cluster.partitions) {
                        Ok(command) => {
                            self.modal = Modal::None;
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
                Vec::new()
            }
            Modal::Settings => self.settings_action(action, key),
        }
    }

    fn main_action(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Help => self.modal = Modal::Help,
            Action::ToggleProducer => {
                return vec![if self.producer_running() {
                    Command::StopProducer
                } else {
                    Command::StartProducer
                }];
            }
            Action::AddConsumer => {
                let id = self.reserve_member();
                self.message = Some(format!("consumer-{id} joins group {}", self.cluster.group));
                return vec![Command::AddMember(id)];
            }
            Action::RemoveConsumer => match self.focus {
                Focus::Member(i) => {
                    let m = &self.members[i].snapshot;
                    self.message = Some(format!("{} leaves group {}", m.name, self.cluster.group));
                    self.timeline.expect(format!("{} left", m.name));
                    return vec![Command::RemoveMember(m.id)];
                }
                Focus::Producer => {
                    self.message =
                        Some("select a consumer pane first (Tab), then x removes it".to_string());
                }
            },
            Action::Settings => self.modal = Modal::Settings,
            Action::Detail => match self.focus {
                Focus::Member(i) if !self.members[i].snapshot.latest.is_empty() => {
                    let m = &self.members[i].snapshot;
                    self.modal = Modal::Detail(Detail {
                        member: m.name.clone(),
                        records: m.latest.iter().rev().cloned().collect(),
                        selected: 0,
                    });
                }
                Focus::Member(_) => self.message = Some("no record received yet".into()),
                Focus::Producer => {
                    self.message =
                        Some("select a consumer pane (Tab), then Enter shows its records".into());
                }
            },
            Action::Runs => self.toggle_view(View::Runs),
            Action::Partitions => self.toggle_view(View::Partitions),
            Action::Timeline => self.toggle_view(View::Timeline),
            Action::GroupBy => {
                self.group_by = self.group_by.next();
                self.view = View::Partitions;
            }
            Action::Sink => return vec![Command::ToggleSink],
            Action::Topics => {
                self.modal = Modal::Topics(Box::new(AdminForm::new(self.cluster.partitions)));
            }
            Action::Export => {
                let rows = self.table_rows();
                if rows.is_empty() {
                    self.message = Some("no run to export yet".into());
                } else {
                    return vec![Command::Export(rows)];
                }
            }
            Action::BrokerOutage => {
                if self.cluster.owned {
                    return vec![Command::BrokerOutage];
                }
                self.message = Some(
                    "b takes a broker of the embedded cluster down; on this cluster it does nothing"
                        .into(),
                );
            }
            Action::NextPane => self.cycle(1),
            Action::PrevPane => self.cycle(-1),
            Action::Quit
            | Action::Up
            | Action::Down
            | Action::Apply
            | Action::Close
            | Action::Edit => {}
        }
        Vec::new()
    }

    fn settings_action(&mut self, action: Action, key: KeyEvent) -> Vec<Command> {
        let form = &mut self.settings;
        match action {
            Action::Close => self.modal = Modal::None,
            Action::Up => form.up(),
            Action::Down => form.down(),
            Action::Apply => match form.parse() {
                Ok((settings, group)) => {
                    form.form_error = None;
                    return self.apply(settings, group);
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

    /// Restarts what the new settings change: the producer, the consumers, or both.
    fn apply(&mut self, settings: ProducerSettings, group: GroupSettings) -> Vec<Command> {
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
                group.strategies, group.protocol
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
        commands
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
        self.modal = Modal::None;
        self.message = Some("quitting: flushing the producer, leaving the group ...".into());
        vec![Command::Quit]
    }

    /// Tab order: the producer, then each consumer pane.
    fn cycle(&mut self, step: isize) {
        let panes = 1 + self.members.len() as isize;
        let current = match self.focus {
            Focus::Member(i) => i as isize + 1,
            Focus::Producer => 0,
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
                LogLine::Mark(format!("run {} started: {}", s.run, s.settings.describe())),
            );
        }
        if s.skipped > 0 {
            push_log(&mut view.log, LogLine::Skipped(s.skipped));
        }
        for d in &s.latest {
            push_log(&mut view.log, LogLine::Delivery(d.clone()));
        }
        if s.state == ProducerState::Running {
            push_bounded(
                &mut view.history,
                HistoryPoint {
                    t: s.since_start.as_secs_f64(),
                    run: s.run,
                    per_sec: s.window.per_sec,
                    p99_ms: s.window.latency.p99,
                },
                HISTORY,
            );
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
        if let Some(view) = self.members.iter_mut().find(|v| v.snapshot.id == m.id) {
            view.error = age(view.error.take(), m.last_error.clone());
            if m.received > 0 {
                push_bounded(&mut view.e2e_history, m.e2e.p99, HISTORY);
            }
            view.snapshot = m;
        } else {
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
