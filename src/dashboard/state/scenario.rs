//! A scenario's steps as the dashboard carries them out: each becomes the commands a user's
//! keys would give, so the panes, the timeline and the runs table follow a scenario exactly as
//! they follow the keys.

use std::time::Duration;

use super::App;
use crate::dashboard::protocol::Command;
use crate::dashboard::settings::GroupSettings;
use crate::data::source::KeyField;
use crate::kafka::local::FaultKind;
use crate::kafka::settings::{GroupProtocol, Strategies};

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
    /// A scenario's producer properties: the producer starts a new run with them.
    pub fn scenario_producer(&mut self, set: &[(String, String)]) -> Vec<Command> {
        let mut settings = self.applied.clone();
        for (key, value) in set {
            settings.set(key, value);
        }
        self.restart_with(settings)
    }

    pub fn scenario_rate(&mut self, rate: Option<f64>) -> Vec<Command> {
        let mut settings = self.applied.clone();
        settings.rate = rate;
        self.restart_with(settings)
    }

    pub fn scenario_key(&mut self, key: KeyField) -> Vec<Command> {
        let mut settings = self.applied.clone();
        settings.key = key;
        self.restart_with(settings)
    }

    /// New settings always make a new run, even unchanged (a scenario's runs are its steps).
    fn restart_with(
        &mut self,
        settings: crate::dashboard::settings::ProducerSettings,
    ) -> Vec<Command> {
        self.settings = super::forms::SettingsForm::new(&settings, &self.applied_group);
        self.applied = settings.clone();
        self.message = Some(format!(
            "scenario: producer restarts with {}",
            settings.describe()
        ));
        vec![Command::ApplySettings(settings)]
    }

    /// Adds or removes members until the group has `n` (the newest leave first).
    pub fn scenario_members(&mut self, n: usize) -> Vec<Command> {
        let mut commands = Vec::new();
        let now = self.in_group.len();
        for _ in now..n {
            let id = self.reserve_member();
            commands.push(Command::AddMember(id));
        }
        let leaving: Vec<u32> = self
            .in_group
            .iter()
            .rev()
            .take(now.saturating_sub(n))
            .copied()
            .collect();
        for id in leaving {
            self.in_group.remove(&id);
            self.timeline.expect(format!("consumer-{id} left"));
            commands.push(Command::RemoveMember(id));
        }
        self.message = Some(format!("scenario: the group goes to {n} consumers"));
        commands
    }

    pub fn scenario_group(
        &mut self,
        strategies: Option<&Strategies>,
        protocol: Option<GroupProtocol>,
    ) -> Vec<Command> {
        let group = GroupSettings {
            strategies: strategies
                .cloned()
                .unwrap_or_else(|| self.applied_group.strategies.clone()),
            protocol: protocol.unwrap_or(self.applied_group.protocol),
        };
        self.settings = super::forms::SettingsForm::new(&self.applied, &group);
        if !self.in_group.is_empty() {
            self.timeline.expect(format!(
                "consumers rejoined: {} · {}",
                group.strategies, group.protocol
            ));
        }
        self.applied_group = group.clone();
        vec![Command::Regroup(group)]
    }

    pub fn scenario_fault(
        &mut self,
        kind: FaultKind,
        partition: i32,
        length: Option<Duration>,
    ) -> Vec<Command> {
        vec![Command::NodeFault {
            kind,
            partition,
            back_after: length,
        }]
    }
}
