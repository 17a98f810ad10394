//! A script's steps as the lab carries them out: each becomes the commands a user's keys would
//! give, so the panes, the timeline and the runs table follow a scenario exactly as they follow
//! the keys.

use std::path::PathBuf;

use super::forms::SettingsForm;
use super::App;
use crate::lab::protocol::{Command, ProducerChange, Step};
use crate::lab::settings::{GroupSettings, ProducerSettings};

/// What the scenario strip shows: the steps, the one under way, and how it goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioStrip {
    pub title: String,
    /// Each step as a short label.
    pub steps: Vec<String>,
    /// The step carried out last (None before the first).
    pub current: Option<usize>,
    /// Seconds to the next step, when it waits for its time.
    pub next_in: Option<f64>,
    /// The next steps wait for the producer's new run to start (the old one is ending).
    pub waiting_for_run: bool,
    /// Space pauses the scenario (the clients go on).
    pub paused: bool,
    /// Assertions so far: passed, failed.
    pub passed: usize,
    pub failed: usize,
    /// Set once every step ran: what the scenario left (the report's place).
    pub done: Option<String>,
}

impl App {
    pub(super) fn step(&mut self, step: Step) -> Vec<Command> {
        match step {
            Step::Producer(change) => self.change_producer(&change),
            Step::Start => vec![Command::StartProducer],
            Step::Stop => vec![Command::StopProducer],
            Step::Members(n) => self.members_to(n),
            Step::Group {
                strategies,
                protocol,
            } => {
                let applied = &self.model.applied_group;
                let group = GroupSettings {
                    strategies: strategies.unwrap_or_else(|| applied.strategies.clone()),
                    protocol: protocol.unwrap_or(applied.protocol),
                };
                self.screen.settings = SettingsForm::new(&self.model.applied, &group);
                if !self.model.in_group.is_empty() {
                    self.model.timeline.expect(format!(
                        "consumers rejoined: {} · {}",
                        group.strategies, group.protocol
                    ));
                }
                self.model.applied_group = group.clone();
                vec![Command::Regroup(group)]
            }
            Step::Fault {
                kind,
                partition,
                length,
            } => vec![Command::NodeFault {
                kind,
                partition,
                back_after: length,
            }],
            Step::Recover => vec![Command::RecoverAll],
            Step::Progress(progress) => {
                let strip = self.model.scenario.get_or_insert_with(Default::default);
                *strip = ScenarioStrip {
                    paused: strip.paused,
                    done: strip.done.take().or(progress.done),
                    ..progress
                };
                Vec::new()
            }
            Step::Report { dir, files, passed } => {
                let said = if passed { "passed" } else { "FAILED" };
                self.status.message = Some(format!("scenario {said}: writing its report ..."));
                if let Some(strip) = self.model.scenario.as_mut() {
                    strip.done = Some(format!("{said}: writing the report"));
                }
                vec![Command::WriteReport { dir, files }]
            }
        }
    }

    /// New settings always make a new run, even unchanged (a scenario's runs are its steps);
    /// a stopped producer takes them for its next start.
    fn change_producer(&mut self, change: &ProducerChange) -> Vec<Command> {
        let settings: ProducerSettings = change.applied_to(&self.model.applied);
        self.screen.settings = SettingsForm::new(&settings, &self.model.applied_group);
        self.model.applied = settings.clone();
        self.status.message = Some(format!(
            "scenario: producer restarts with {}",
            settings.describe()
        ));
        vec![Command::SetSettings(settings)]
    }

    /// Adds or removes members until the group has `n` (the newest leave first).
    fn members_to(&mut self, n: usize) -> Vec<Command> {
        let mut commands = Vec::new();
        let now = self.model.in_group.len();
        for _ in now..n {
            let id = self.reserve_member();
            commands.push(Command::AddMember(id));
        }
        let leaving: Vec<u32> = self
            .model
            .in_group
            .iter()
            .rev()
            .take(now.saturating_sub(n))
            .copied()
            .collect();
        for id in leaving {
            self.model.in_group.remove(&id);
            self.model.timeline.expect(format!("consumer-{id} left"));
            commands.push(Command::RemoveMember(id));
        }
        commands
    }

    /// The script's report was written, or could not be.
    pub(super) fn report_written(&mut self, result: Result<PathBuf, String>) {
        let passed = self
            .model
            .scenario
            .as_ref()
            .and_then(|s| s.done.as_deref())
            .is_none_or(|d| d.starts_with("passed"));
        let said = match result {
            Ok(dir) => format!(
                "{}: report in {}/ (report.md, runs.csv, runs.json)",
                if passed { "passed" } else { "FAILED" },
                dir.display()
            ),
            Err(e) => format!("finished; the report could not be written: {e}"),
        };
        self.say(format!("scenario {said}"));
        if let Some(strip) = self.model.scenario.as_mut() {
            strip.done = Some(said);
        }
    }
}
