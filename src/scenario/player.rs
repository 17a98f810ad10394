//! Plays a scenario against the lab's state: each step, when due, becomes the lab's steps
//! ([`Step`]: what the keys would do). Shared by `scenario run` (headless) and the dashboard's
//! `--scenario`, so both carry out a step the same way. The player reads the state; only the
//! lab changes it.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::expr::Checked;
use super::file::{Action, Scenario, When};
use super::hold::Hold;
use super::readings::AppFigures;
use crate::lab::protocol::{Event, ProducerChange, Step};
use crate::lab::settings::ConsumerChange;
use crate::lab::snapshots::ProducerState;
use crate::lab::state::Ledgered;
use crate::lab::state::{App, ScenarioStrip};
use crate::stats::RunReport;

/// How long the end of a scenario, or an assertion, waits for runs to end and be read back.
const SETTLE: Duration = Duration::from_secs(120);

/// A step carried out, as the report lists it.
#[derive(Debug, Clone)]
pub struct Done {
    /// Since the scenario started, at its speed (what the file's times mean).
    pub at: Duration,
    pub wall: SystemTime,
    pub step: usize,
    pub line: usize,
    pub text: String,
    /// The producer's run when the step ran.
    pub run: u32,
    pub checked: Option<Checked>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Steps,
    /// Every step ran: the producer is stopped and the runs read back.
    Ending {
        since: Instant,
    },
    Over,
}

pub struct Player {
    pub scenario: Scenario,
    speed: f64,
    next: usize,
    began: Instant,
    /// Time spent paused (Space), kept out of the scenario's clock.
    paused_for: Duration,
    paused_at: Option<Instant>,
    /// When the step before ran, on the scenario's clock.
    previous_at: Duration,
    /// An assertion waiting for runs to settle, since when.
    waiting: Option<Instant>,
    hold: Option<Hold>,
    /// The runs of the app before the scenario began (the dashboard may have had some).
    first_run: u32,
    /// Runs the scenario's steps have ended so far, and whether one is under way.
    ended: u32,
    producing: bool,
    phase: Phase,
    pub done: Vec<Done>,
    pub started_at: SystemTime,
    /// The scenario's runs as the app reported them (the app keeps only the latest few).
    runs: Vec<RunReport>,
    /// Where the report goes once the scenario is over (on the dashboard; headless play
    /// writes it itself), and whether it was asked for.
    report_to: Option<PathBuf>,
    reported: bool,
    /// The strip as last shown: progress is sent only when it changes.
    shown: Option<ScenarioStrip>,
    /// The group's ledger totals at the last `mark`: its figures count from there.
    marked: Ledgered,
    /// Each mark's label and the ledger's totals then, for the report's delivery table.
    pub marks: Vec<(String, Ledgered)>,
}

impl Player {
    /// `speed` > 1 shortens every wait and offset (not the rates).
    pub fn new(scenario: Scenario, speed: f64, app: &App) -> Player {
        let first_run = app.runs().iter().map(|r| r.run).max().unwrap_or(0) + 1;
        Player {
            scenario,
            speed,
            next: 0,
            began: Instant::now(),
            paused_for: Duration::ZERO,
            paused_at: None,
            previous_at: Duration::ZERO,
            waiting: None,
            hold: None,
            first_run,
            ended: 0,
            producing: false,
            phase: Phase::Steps,
            done: Vec::new(),
            started_at: SystemTime::now(),
            runs: Vec::new(),
            report_to: None,
            reported: false,
            marked: Ledgered::default(),
            marks: Vec::new(),
            shown: None,
        }
    }

    /// Once over, the player asks the lab to write its report into `dir`.
    pub fn report_to(mut self, dir: PathBuf) -> Player {
        self.report_to = Some(dir);
        self
    }

    /// The scenario's clock: real time since the start, less pauses, times the speed.
    fn clock(&self, now: Instant) -> Duration {
        let paused = self.paused_for + self.paused_at.map_or(Duration::ZERO, |p| now - p);
        now.saturating_duration_since(self.began)
            .saturating_sub(paused)
            .mul_f64(self.speed)
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    pub fn is_over(&self) -> bool {
        self.phase == Phase::Over
    }

    /// The runs this scenario made.
    pub fn runs(&self) -> Vec<&RunReport> {
        self.runs.iter().collect()
    }

    /// Takes the app's news of runs: new ones, and read-backs of known ones.
    fn sync_runs(&mut self, app: &App) {
        for r in app.runs().iter().filter(|r| r.run >= self.first_run) {
            match self.runs.iter_mut().find(|k| k.run == r.run) {
                Some(known) => known.clone_from(r),
                None => self.runs.push(r.clone()),
            }
        }
    }

    /// Every run the steps ended has come back from its read-back (or failed it).
    fn settled(&self, app: &App) -> bool {
        let verified = self.runs.iter().all(|r| {
            r.accounting.is_some()
                || app.read_back_failed().contains_key(&r.run)
                || r.delivered == 0
        });
        if !verified {
            return false;
        }
        // A producer that could not start with the settings ends no run.
        self.runs.len() >= self.ended as usize
            || matches!(
                app.producer().map(|s| &s.state),
                Some(ProducerState::Error(_))
            )
    }

    /// Carries out what is due; returns the events for the lab: the steps, the strip's
    /// progress, and once over (on the dashboard) the report.
    pub fn tick(&mut self, app: &App) -> Vec<Event> {
        let now = Instant::now();
        let scenario_paused = app.scenario().is_some_and(|s| s.paused);
        match (scenario_paused, self.paused_at) {
            (true, None) => self.paused_at = Some(now),
            (false, Some(p)) => {
                self.paused_for += now - p;
                self.paused_at = None;
            }
            _ => {}
        }
        self.sync_runs(app);
        let mut steps = Vec::new();
        if self.paused_at.is_some() {
            return self.show(steps, now, app);
        }
        while self.phase == Phase::Steps && self.next < self.scenario.steps.len() {
            let step = self.scenario.steps[self.next].clone();
            let clock = self.clock(now);
            let mut due = self.due(&step.when);
            if let Some(hold) = self.hold {
                // Settings due with the one that restarted still join its restart.
                let joins = step.action.restarts() && due <= hold.at;
                if !joins {
                    if !hold.over(app, now) {
                        break;
                    }
                    self.hold = None;
                    self.previous_at = self.previous_at.max(clock);
                    due = self.due(&step.when);
                }
            }
            if clock < due {
                break;
            }
            if let Action::Assert(a) = &step.action {
                if a.reads_runs() && !self.settled(app) {
                    let since = *self.waiting.get_or_insert(now);
                    if now - since < SETTLE {
                        break;
                    }
                }
                // `within`: checked again until it holds, or its time is up.
                if let Some(within) = step.within {
                    let holds = a
                        .check(&AppFigures {
                            app,
                            runs: self.runs(),
                            since: self.marked,
                        })
                        .passed;
                    if !holds && clock < due + within {
                        self.waiting.get_or_insert(now);
                        break;
                    }
                }
            }
            // A step that waited (an assertion for its runs) moves the next ones along, and
            // one due before the step before ran runs now.
            let waited = self.waiting.take().is_some();
            let ran_at = if waited || due < self.previous_at {
                clock
            } else {
                due
            };
            let checked = self.carry_out(&step.action, ran_at, app, &mut steps);
            // An assertion names the run it read; other steps the run under way.
            let run = match (&checked, self.runs.last()) {
                (Some(_), Some(r)) => r.run,
                _ => Self::current_run(app),
            };
            self.done.push(Done {
                at: ran_at,
                wall: SystemTime::now(),
                step: step.number,
                line: step.line,
                text: step.action.to_string(),
                run,
                checked,
            });
            self.previous_at = ran_at
                + match step.action {
                    Action::Wait(d) => d,
                    _ => Duration::ZERO,
                };
            self.next += 1;
        }
        if self.phase == Phase::Steps && self.next == self.scenario.steps.len() {
            self.hold = None;
            if self.producing {
                steps.push(Step::Stop);
                self.producing = false;
                self.ended += 1;
            }
            self.phase = Phase::Ending { since: now };
        }
        if let Phase::Ending { since } = self.phase {
            if self.settled(app) || now - since >= SETTLE {
                self.phase = Phase::Over;
            }
        }
        self.show(steps, now, app)
    }

    fn due(&self, when: &When) -> Duration {
        match *when {
            When::At(at) => at,
            When::After(d) => self.previous_at + d,
        }
    }

    fn current_run(app: &App) -> u32 {
        app.producer()
            .map_or(0, |s| s.run)
            .max(app.runs().iter().map(|r| r.run).max().unwrap_or(0))
    }

    fn carry_out(
        &mut self,
        action: &Action,
        at: Duration,
        app: &App,
        steps: &mut Vec<Step>,
    ) -> Option<Checked> {
        // A run under way ends when the producer restarts or stops.
        let restarts = action.restarts();
        let before = steps.len();
        // A producer started by hand (dashboard) ignores a start: no new run comes of it.
        let running = app
            .producer()
            .is_some_and(|s| s.state == ProducerState::Running);
        match action {
            Action::Producer(set) => steps.push(Step::Producer(ProducerChange {
                properties: set.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                ..ProducerChange::default()
            })),
            Action::Rate(r) => steps.push(Step::Producer(ProducerChange {
                rate: Some(*r),
                ..ProducerChange::default()
            })),
            Action::Key(k) => steps.push(Step::Producer(ProducerChange {
                key: Some(*k),
                ..ProducerChange::default()
            })),
            Action::Start if !self.producing => steps.push(Step::Start),
            Action::Stop if self.producing => steps.push(Step::Stop),
            Action::Consumers(m) => steps.push(Step::Members(*m)),
            Action::Group {
                strategies,
                protocol,
            } => steps.push(Step::Consumer(group_change(strategies.as_ref(), *protocol))),
            Action::Consumer(change) => steps.push(Step::Consumer(change.clone())),
            Action::MemberWork { member, per_record } => steps.push(Step::Work {
                member: *member,
                per_record: Some(*per_record),
            }),
            Action::MemberIsolation { member, level } => steps.push(Step::Isolation {
                member: *member,
                level: *level,
            }),
            Action::Crash(m) => steps.push(Step::Crash(*m)),
            Action::Restart(m) => steps.push(Step::Restart(*m)),
            Action::Processors(on) => steps.push(Step::Processors(*on)),
            Action::ProcessorCrash(g) => steps.push(Step::ProcessorCrash(*g)),
            Action::ProcessorRestart(g) => steps.push(Step::ProcessorRestart(*g)),
            Action::Rewind(r) => steps.push(Step::Rewind(r.on_clock(self.speed))),
            Action::Fault {
                kind,
                partition,
                length,
            } => steps.push(Step::Fault {
                kind: *kind,
                partition: *partition,
                length: length.map(|l| l.div_f64(self.speed)),
            }),
            Action::Recover => steps.push(Step::Recover),
            Action::Mark(label) => {
                self.marked = Ledgered::of(app);
                self.marks.push((label.clone(), self.marked));
            }
            Action::Start | Action::Stop | Action::Wait(_) => {}
            Action::Assert(a) => {
                let checked = a.check(&AppFigures {
                    app,
                    runs: self.runs(),
                    since: self.marked,
                });
                return Some(checked);
            }
        }
        if restarts && self.producing {
            // Settings steps due together restart the producer once, with all of them.
            let together = before > 0 && matches!(steps[before - 1], Step::Producer(_));
            if together {
                if let (Some(Step::Producer(later)), Some(Step::Producer(earlier))) =
                    (steps.pop(), steps.get_mut(before - 1))
                {
                    earlier.merge(later);
                }
            } else if before > 0 && steps[before - 1] == Step::Start && !running {
                // Settings due with the start: the stopped producer takes them, then starts
                // (no run in between).
                steps.swap(before - 1, before);
            } else {
                self.ended += 1;
                self.hold = Hold::new(app, at, true);
            }
        }
        if *action == Action::Stop && self.producing {
            self.ended += 1;
        }
        if restarts && !self.producing {
            return None;
        }
        if *action == Action::Start && !self.producing && !running {
            self.hold = Hold::new(app, at, false);
        }
        if restarts || *action == Action::Start {
            self.producing = true;
        } else if *action == Action::Stop {
            self.producing = false;
        }
        None
    }

    /// `steps` as events, with the strip's progress when it changed, and the report once the
    /// scenario is over (when the lab writes it).
    fn show(&mut self, steps: Vec<Step>, now: Instant, app: &App) -> Vec<Event> {
        let mut events: Vec<Event> = steps.into_iter().map(Event::Script).collect();
        // Tenths of a second: the strip shows whole seconds.
        let next_in = self.scenario.steps.get(self.next).and_then(|s| {
            self.due(&s.when)
                .checked_sub(self.clock(now))
                .map(|left| (left.as_secs_f64() / self.speed * 10.0).round() / 10.0)
        });
        let checked: Vec<&Checked> = self
            .done
            .iter()
            .filter_map(|d| d.checked.as_ref())
            .collect();
        let passed = checked.iter().filter(|c| c.passed).count();
        let strip = ScenarioStrip {
            title: self.scenario.title.clone(),
            steps: self
                .scenario
                .steps
                .iter()
                .map(|s| s.action.to_string())
                .collect(),
            current: self.next.checked_sub(1),
            next_in,
            waiting_for_run: self.hold.is_some(),
            paused: false,
            passed,
            failed: checked.len() - passed,
            done: None,
            passed_all: None,
        };
        if self.shown.as_ref() != Some(&strip) {
            self.shown = Some(strip.clone());
            events.push(Event::Script(Step::Progress(strip)));
        }
        if let (true, false, Some(dir)) = (self.is_over(), self.reported, &self.report_to) {
            self.reported = true;
            let report = super::report::Report::new(self, app);
            events.push(Event::Script(Step::Report {
                dir: dir.clone(),
                files: report.files(),
                passed: report.passed,
            }));
        }
        events
    }

    /// Assertions that failed.
    pub fn failures(&self) -> Vec<&Checked> {
        self.done
            .iter()
            .filter_map(|d| d.checked.as_ref())
            .filter(|c| !c.passed)
            .collect()
    }
}

/// A `group` step as the consumers' change it is.
fn group_change(
    strategies: Option<&crate::kafka::settings::Strategies>,
    protocol: Option<crate::kafka::settings::GroupProtocol>,
) -> ConsumerChange {
    let mut change = ConsumerChange::default();
    if let Some(s) = strategies {
        change
            .properties
            .insert("partition.assignment.strategy".into(), s.to_string());
    }
    if let Some(p) = protocol {
        change
            .properties
            .insert("group.protocol".into(), p.as_str().to_string());
    }
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::protocol::Command;
    use crate::lab::state::tests::{app, producer};

    /// The lab's part: the events applied to the state, the commands they give.
    fn apply(app: &mut App, events: Vec<Event>) -> Vec<Command> {
        events
            .into_iter()
            .flat_map(|e| app.update(e).commands)
            .collect()
    }

    fn player(steps: &str, app: &App) -> Player {
        let text = format!("title = \"t\"\n{steps}");
        let scenario = super::super::file::parse(&text, "t.toml").unwrap();
        // 1000x: a wait of 5 s takes 5 ms.
        Player::new(scenario, 1000.0, app)
    }

    /// Ticks for a while (real time), returning the commands given.
    fn tick_for(p: &mut Player, app: &mut App, ms: u64) -> Vec<Command> {
        let mut commands = Vec::new();
        let until = Instant::now() + Duration::from_millis(ms);
        while Instant::now() < until {
            let events = p.tick(app);
            commands.extend(apply(app, events));
            std::thread::sleep(Duration::from_millis(2));
        }
        commands
    }

    /// Ticks until `marks` marks were carried out (at most 5 s: a busy machine may stall).
    fn tick_until_marks(p: &mut Player, app: &mut App, marks: usize) -> Vec<Command> {
        let mut commands = Vec::new();
        let until = Instant::now() + Duration::from_secs(5);
        while self::marks(p).len() < marks && Instant::now() < until {
            let events = p.tick(app);
            commands.extend(apply(app, events));
            std::thread::sleep(Duration::from_millis(2));
        }
        commands
    }

    fn marks(p: &Player) -> Vec<(String, u32)> {
        p.done
            .iter()
            .filter(|d| d.text.starts_with("mark"))
            .map(|d| (d.text.clone(), d.run))
            .collect()
    }

    fn restarts(commands: &[Command]) -> usize {
        commands
            .iter()
            .filter(|c| matches!(c, Command::SetSettings(_)))
            .count()
    }

    const START: &str = "[[step]]\nstart = \"producer\"\n";

    /// The steps after a start or a restart wait until the producer runs the new run, so a
    /// fault "5 s after" new settings lands in the new run even when ending the old one takes
    /// seconds (its flush).
    #[test]
    fn steps_after_a_restart_wait_for_the_new_run() {
        let mut app = app();
        let mut p = player(
            &format!(
                "{START}[[step]]\nwait = \"5s\"\n[[step]]\nmark = \"one\"\n\
                 [[step]]\nproducer = {{ acks = \"1\" }}\n[[step]]\nrate = 100\n\
                 [[step]]\nmark = \"two\"\n"
            ),
            &app,
        );
        app.update(producer(0, ProducerState::Stopped));
        let commands = tick_for(&mut p, &mut app, 30);
        assert!(commands.contains(&Command::StartProducer), "{commands:?}");
        assert!(marks(&p).is_empty(), "the start has not happened yet");
        app.update(producer(1, ProducerState::Running));
        let commands = tick_until_marks(&mut p, &mut app, 1);
        assert_eq!(marks(&p), vec![("mark: one".to_string(), 1)]);
        // Both settings steps, due together, restart once; the mark waits while run 1 ends.
        let commands = [commands, tick_for(&mut p, &mut app, 30)].concat();
        assert_eq!(restarts(&commands), 1, "{commands:?}");
        app.update(producer(1, ProducerState::Restarting));
        tick_for(&mut p, &mut app, 30);
        assert_eq!(marks(&p).len(), 1, "still ending run 1");
        app.update(producer(2, ProducerState::Running));
        tick_until_marks(&mut p, &mut app, 2);
        assert_eq!(marks(&p)[1], ("mark: two".to_string(), 2));
    }

    /// A settings step due later than a restart, while that restart is still under way, is a
    /// restart of its own, and waits for the first one's run.
    #[test]
    fn settings_due_later_wait_for_the_restart_before() {
        let mut app = app();
        let mut p = player(
            &format!(
                "{START}[[step]]\nwait = \"1s\"\n[[step]]\nproducer = {{ acks = \"1\" }}\n\
                 [[step]]\nafter = \"2s\"\nrate = 100\n[[step]]\nmark = \"x\"\n"
            ),
            &app,
        );
        app.update(producer(0, ProducerState::Stopped));
        let mut commands = tick_for(&mut p, &mut app, 30);
        app.update(producer(1, ProducerState::Running));
        commands.extend(tick_for(&mut p, &mut app, 30));
        assert_eq!(restarts(&commands), 1, "the rate step waits: {commands:?}");
        app.update(producer(2, ProducerState::Running));
        commands.extend(tick_for(&mut p, &mut app, 30));
        assert_eq!(restarts(&commands), 2, "{commands:?}");
        assert!(marks(&p).is_empty(), "the rate's run has not started");
        app.update(producer(3, ProducerState::Running));
        tick_until_marks(&mut p, &mut app, 1);
        assert_eq!(marks(&p), vec![("mark: x".to_string(), 3)]);
    }

    /// Settings due with the start go to the stopped producer before it starts: one run.
    #[test]
    fn settings_due_with_the_start_come_before_it() {
        let mut app = app();
        let mut p = player(
            &format!("{START}[[step]]\nproducer = {{ acks = \"1\" }}\n[[step]]\nmark = \"x\"\n"),
            &app,
        );
        app.update(producer(0, ProducerState::Stopped));
        let commands = tick_for(&mut p, &mut app, 30);
        assert!(matches!(
            commands.as_slice(),
            [Command::SetSettings(_), Command::StartProducer]
        ));
        assert!(marks(&p).is_empty(), "the start's run has not started");
        assert_eq!(p.ended, 0, "no run ended in between");
        app.update(producer(1, ProducerState::Running));
        tick_until_marks(&mut p, &mut app, 1);
        assert_eq!(marks(&p), vec![("mark: x".to_string(), 1)]);
    }

    /// What ends a wait, or spares it, other than the new run: a producer that cannot start; a
    /// producer stopped by hand during a restart; a producer already started by hand (its
    /// start makes no run); a producer failing already (no run to wait for can be told).
    #[test]
    fn failing_stopped_or_running_producers_end_the_wait() {
        let steps = format!(
            "{START}[[step]]\nmark = \"one\"\n[[step]]\nrate = 100\n[[step]]\nmark = \"two\"\n"
        );
        let mut app = app();
        let mut p = player(&steps, &app);
        app.update(producer(0, ProducerState::Stopped));
        tick_for(&mut p, &mut app, 30);
        assert!(marks(&p).is_empty());
        app.update(producer(0, ProducerState::Error("refused".into())));
        tick_until_marks(&mut p, &mut app, 2);
        assert_eq!(marks(&p).len(), 2, "{:?}", marks(&p));

        let mut app = self::app();
        let mut p = player(&steps, &app);
        app.update(producer(0, ProducerState::Stopped));
        tick_for(&mut p, &mut app, 30);
        app.update(producer(1, ProducerState::Running));
        tick_until_marks(&mut p, &mut app, 1);
        tick_for(&mut p, &mut app, 30);
        assert_eq!(marks(&p).len(), 1, "the restart's run has not started");
        app.update(producer(1, ProducerState::Stopped));
        tick_until_marks(&mut p, &mut app, 2);
        assert_eq!(marks(&p).len(), 2);

        let mut app = self::app();
        let mut p = player(&steps, &app);
        app.update(producer(4, ProducerState::Running));
        tick_until_marks(&mut p, &mut app, 1);
        assert_eq!(marks(&p)[0], ("mark: one".to_string(), 4));

        app.update(producer(4, ProducerState::Error("send failed".into())));
        let mut p = player("[[step]]\nrate = 50\n[[step]]\nmark = \"x\"\n", &app);
        p.producing = true;
        tick_until_marks(&mut p, &mut app, 1);
        assert_eq!(marks(&p).len(), 1);
        assert!(p.hold.is_none());
    }
}
