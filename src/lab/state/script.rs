//! A script's steps as the lab carries them out: each becomes the commands a user's keys would
//! give, so the panes, the timeline and the runs table follow a scenario exactly as they follow
//! the keys.

use std::path::PathBuf;

use super::App;
use crate::lab::protocol::{Command, ProducerChange, Step};
use crate::lab::settings::ProducerSettings;

/// The most members a step can ask for.
pub const MOST_MEMBERS: usize = 32;

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
    /// Whether every assertion held, once the scenario is over.
    pub passed_all: Option<bool>,
}

impl App {
    pub(super) fn step(&mut self, step: Step) -> Vec<Command> {
        match step {
            Step::Producer(change) => self.change_producer(&change),
            Step::Start => vec![Command::StartProducer],
            Step::Stop => vec![Command::StopProducer],
            Step::Members(m) => {
                let n = m.after(self.model.in_group.len(), MOST_MEMBERS);
                self.status.message = Some(format!(
                    "the group goes to {n} consumer{}",
                    if n == 1 { "" } else { "s" }
                ));
                self.members_to(n)
            }
            Step::Consumer(change) => match change
                .applied_to(&self.model.applied_consumer)
                .and_then(|c| c.check_on(self.screen.settings.session_floor).map(|()| c))
            {
                Ok(consumer) => {
                    self.screen.settings =
                        self.screen.settings.renew(&self.model.applied, &consumer);
                    let mut commands = Vec::new();
                    let said = self.change_consumers(consumer, &mut commands);
                    self.status.message = Some(format!("scenario: {said}"));
                    commands
                }
                Err(e) => {
                    self.say(format!("scenario: the consumer step is refused: {e}"));
                    Vec::new()
                }
            },
            Step::Work { member, per_record } => {
                match per_record {
                    Some(d) => self.model.work.insert(member, d),
                    None => self.model.work.remove(&member),
                };
                self.next_consumer_run(false, None);
                vec![Command::Work {
                    id: member,
                    per_record,
                }]
            }
            Step::Isolation { member, level } => self.isolate(member, level),
            Step::Crash(id) => self.script_crash(id),
            Step::Restart(id) => self.script_restart(id),
            Step::Processors(on) => {
                if on == self.model.processors.on {
                    Vec::new()
                } else {
                    self.toggle_processors(false)
                }
            }
            Step::ProcessorCrash(g) => vec![Command::CrashProcessor(g)],
            Step::ProcessorRestart(g) => vec![Command::RestartProcessor(g)],
            Step::Rewind(rewind) => self.rewind(rewind),
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
                    passed_all: strip.passed_all.or(progress.passed_all),
                    ..progress
                };
                Vec::new()
            }
            Step::Report { dir, files, passed } => {
                let said = if passed { "passed" } else { "FAILED" };
                self.status.message = Some(format!("scenario {said}: writing its report ..."));
                if let Some(strip) = self.model.scenario.as_mut() {
                    strip.done = Some(format!("{said}: writing the report"));
                    strip.passed_all = Some(passed);
                }
                vec![Command::WriteReport { dir, files }]
            }
        }
    }

    /// New settings always make a new run, even unchanged (a scenario's runs are its steps);
    /// a stopped producer takes them for its next start.
    fn change_producer(&mut self, change: &ProducerChange) -> Vec<Command> {
        let settings: ProducerSettings = change.applied_to(&self.model.applied);
        self.screen.settings = self
            .screen
            .settings
            .renew(&settings, &self.model.applied_consumer);
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
            self.model.coming_back.remove(&id);
            self.model
                .timeline
                .expect(format!("consumer-{id} left"), self.model.now);
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
            .and_then(|s| s.passed_all)
            .unwrap_or(true);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::protocol::{Event, Members};
    use crate::lab::state::tests::app;

    fn step(a: &mut App, step: Step) -> Vec<Command> {
        a.update(Event::Script(step)).commands
    }

    /// Steps due in one tick come one after the other: a relative step counts from the group
    /// the step before made, not from the group before the tick.
    #[test]
    fn relative_member_steps_add_up() {
        let mut a = app();
        let mut commands = step(&mut a, Step::Members(Members::To(2)));
        commands.extend(step(&mut a, Step::Members(Members::Add(1))));
        assert_eq!(
            commands,
            [1, 2, 3].map(Command::AddMember).to_vec(),
            "2, then one more"
        );
        assert_eq!(
            step(&mut a, Step::Members(Members::Remove(2))),
            vec![Command::RemoveMember(3), Command::RemoveMember(2)],
            "the newest leave first"
        );
        assert_eq!(a.model.in_group.len(), 1);
        assert_eq!(
            step(&mut a, Step::Members(Members::Add(99))).len(),
            31,
            "at most 32"
        );
    }

    /// The strip's pause is the user's (Space) and its end the lab's: progress from the player
    /// changes neither.
    #[test]
    fn progress_keeps_the_pause_and_the_end() {
        let mut a = app();
        let shown = |current| ScenarioStrip {
            title: "t".into(),
            steps: vec!["a".into(), "b".into()],
            current,
            ..ScenarioStrip::default()
        };
        step(&mut a, Step::Progress(shown(Some(0))));
        a.model.scenario.as_mut().unwrap().paused = true;
        step(&mut a, Step::Progress(shown(Some(1))));
        let strip = a.scenario().unwrap();
        assert_eq!((strip.current, strip.paused), (Some(1), true));
        let commands = step(
            &mut a,
            Step::Report {
                dir: PathBuf::from("rep"),
                files: vec![("report.md".into(), "x".into())],
                passed: false,
            },
        );
        assert!(matches!(commands.as_slice(), [Command::WriteReport { .. }]));
        step(&mut a, Step::Progress(shown(Some(1))));
        assert!(a.scenario().unwrap().done.is_some(), "the end stays");
        let _ = a.update(Event::ReportWritten(Ok(PathBuf::from("rep"))));
        let done = a.scenario().unwrap().done.clone().unwrap();
        assert!(done.starts_with("FAILED: report in rep/"), "{done}");
        let _ = a.update(Event::ReportWritten(Err("disk full".into())));
        let done = a.scenario().unwrap().done.clone().unwrap();
        assert!(done.contains("could not be written: disk full"), "{done}");
    }
}
