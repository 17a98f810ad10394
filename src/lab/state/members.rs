//! Keys on the selected consumer: remove, hold, crash or restart, slow down.

use std::time::Duration;

use super::forms::work_text;
use super::input::select_first;
use super::keymap::{self, Action, Mode};
use super::{App, Focus};
use crate::lab::protocol::Command;
use crate::lab::settings::{Isolation, Rewind, RewindTo};
use crate::lab::snapshots::MemberState;

/// How the timeline names a rewind's rebalance (and finds it again when the rewind is undone).
pub(super) const REWOUND: &str = "group rewound to";

impl App {
    /// The group's committed offsets move as `rewind` says: the members leave, the offsets
    /// are reset, they join again and read from there.
    pub(super) fn rewind(&mut self, rewind: Rewind) -> Vec<Command> {
        let partitions = self.model.cluster.partitions;
        if let Some(p) = rewind.partition.filter(|p| *p as usize >= partitions) {
            self.say(format!(
                "topic {} has {partitions} partitions: there is no partition {p} to rewind",
                self.model.cluster.topic
            ));
            return Vec::new();
        }
        if self.model.cluster.embedded && matches!(rewind.to, RewindTo::Ago(_) | RewindTo::At(_)) {
            self.say(
                "the embedded cluster cannot look offsets up by time (librdkafka's mock brokers \
                 answer none): rewind to earliest, latest or an offset here, or by time on a \
                 real broker"
                    .to_string(),
            );
            return Vec::new();
        }
        if !self.model.in_group.is_empty() {
            self.model.timeline.expect(
                format!(
                    "{REWOUND} {}: the members left and joined again",
                    rewind.describe()
                ),
                self.model.now,
            );
        }
        self.next_consumer_run(!self.model.in_group.is_empty(), Some(rewind.describe()));
        self.status.message = Some(format!("rewinding the group to {} ...", rewind.describe()));
        vec![Command::Rewind(rewind)]
    }

    /// Member `i` (of the panes) crashes.
    fn crash(&mut self, i: usize) -> Vec<Command> {
        let m = &self.model.members[i].snapshot;
        self.status.message = Some(format!("{} crashes", m.name));
        vec![Command::Crash(m.id)]
    }

    /// Crashed member `i` (of the panes) starts again, with its own work per record.
    fn restart(&mut self, i: usize) -> Vec<Command> {
        let m = &mut self.model.members[i].snapshot;
        let (id, name) = (m.id, m.name.clone());
        m.state = MemberState::Joining;
        self.model.in_group.insert(id);
        // The embedded cluster takes a group.instance.id but does not honour it.
        let as_static =
            self.model.applied_consumer.static_membership && !self.model.cluster.embedded;
        self.model.timeline.restarted(&name, as_static);
        self.status.message = Some(format!("{name} restarts"));
        let mut commands = vec![Command::Restart(id)];
        if let Some(work) = self.model.work.get(&id) {
            commands.push(Command::Work {
                id,
                per_record: Some(*work),
            });
        }
        commands
    }

    /// A scenario's `crash` step: member `id` crashes, if it is in the group.
    pub(super) fn script_crash(&mut self, id: u32) -> Vec<Command> {
        match self.pane_of(id) {
            Some(i) if !self.crashed(i) && self.model.in_group.contains(&id) => self.crash(i),
            _ => {
                self.say(format!(
                    "scenario: no consumer-{id} in the group to crash; the step does nothing"
                ));
                Vec::new()
            }
        }
    }

    /// A scenario's `restart` step: crashed member `id` starts again.
    pub(super) fn script_restart(&mut self, id: u32) -> Vec<Command> {
        match self.pane_of(id) {
            Some(i) if self.crashed(i) => self.restart(i),
            _ => {
                self.say(format!(
                    "scenario: consumer-{id} has not crashed; the restart step does nothing"
                ));
                Vec::new()
            }
        }
    }

    fn pane_of(&self, id: u32) -> Option<usize> {
        self.model.members.iter().position(|m| m.snapshot.id == id)
    }

    fn crashed(&self, i: usize) -> bool {
        matches!(
            self.model.members[i].snapshot.state,
            MemberState::Crashed(_)
        )
    }

    /// `x`, `h`, `X` and `W`: on the selected consumer.
    pub(super) fn member_action(&mut self, action: Action) -> Vec<Command> {
        let Focus::Member(i) = self.screen.focus else {
            let does = match action {
                Action::RemoveConsumer => "removes it",
                Action::HoldConsumer => "holds it",
                Action::CrashConsumer => "crashes it",
                Action::IsolateConsumer => "switches its isolation.level",
                _ => "slows it",
            };
            self.status.message = Some(select_first(action, does));
            return Vec::new();
        };
        let m = &self.model.members[i].snapshot;
        let (id, name) = (m.id, m.name.clone());
        let crashed = matches!(m.state, MemberState::Crashed(_));
        match action {
            Action::RemoveConsumer if crashed => {
                // Nothing runs: only its pane goes.
                self.model.members.remove(i);
                self.clamp_focus();
                self.status.message = Some(format!("{name} (crashed) removed"));
            }
            Action::RemoveConsumer => {
                let c = &self.model.applied_consumer;
                // librdkafka's static member closes without a LeaveGroup: the group waits
                // for its session to end, as for a crash (classic protocol).
                let quiet = c.static_membership
                    && c.protocol == crate::kafka::settings::GroupProtocol::Classic;
                let (said, cause) = if quiet {
                    (
                        format!(
                            "{name} leaves group {}; as a static member it sends no LeaveGroup: \
                             its partitions move after session.timeout.ms ({} ms)",
                            self.model.cluster.group, c.session_timeout_ms
                        ),
                        format!(
                            "{name} left (static: no LeaveGroup, moved when its session ended)"
                        ),
                    )
                } else {
                    (
                        format!("{name} leaves group {}", self.model.cluster.group),
                        format!("{name} left"),
                    )
                };
                self.status.message = Some(said);
                self.model.timeline.expect(cause, self.model.now);
                self.model.in_group.remove(&id);
                self.model.coming_back.remove(&id);
                return vec![Command::RemoveMember(id)];
            }
            Action::HoldConsumer if crashed => {
                self.status.message = Some(format!(
                    "{name} crashed: {} restarts it",
                    keymap::key(Mode::Main, Action::CrashConsumer)
                ));
            }
            Action::HoldConsumer => {
                let held = !self.model.held.contains(&id);
                if held {
                    self.model.held.insert(id);
                } else {
                    self.model.held.remove(&id);
                }
                self.status.message = Some(if held {
                    format!("{name} holds: it reads nothing, stays in the group")
                } else {
                    format!("{name} reads again")
                });
                return vec![Command::HoldMember { id, held }];
            }
            Action::CrashConsumer if crashed => return self.restart(i),
            Action::CrashConsumer if !self.model.in_group.contains(&id) => {
                self.status.message = Some(format!(
                    "{name} is not running in the group: nothing to crash ({} removes its pane)",
                    keymap::key(Mode::Main, Action::RemoveConsumer)
                ));
            }
            Action::CrashConsumer => return self.crash(i),
            Action::IsolateConsumer => return self.isolate(id, m.isolation.other()),
            Action::WorkConsumer => {
                let per_record = next_work(self.model.work.get(&id).copied());
                self.status.message = Some(if let Some(d) = per_record {
                    self.model.work.insert(id, d);
                    format!("{name} works {} per record", work_text(d))
                } else {
                    self.model.work.remove(&id);
                    format!(
                        "{name} works as the panel says ({} per record)",
                        work_text(self.model.applied_consumer.work)
                    )
                });
                self.next_consumer_run(false, None);
                return vec![Command::Work { id, per_record }];
            }
            _ => {}
        }
        Vec::new()
    }
}

impl App {
    /// Member `id` reads at `level` from its next join (a crashed one when it restarts): its
    /// own unless the panel's.
    pub(super) fn isolate(&mut self, id: u32, level: Isolation) -> Vec<Command> {
        let name = format!("consumer-{id}");
        let own = (level != self.model.applied_consumer.isolation).then_some(level);
        let does = match level {
            Isolation::ReadUncommitted => {
                "it is handed records of open and aborted transactions too"
            }
            Isolation::ReadCommitted => "it reads up to the last stable offset only",
        };
        if self.model.in_group.contains(&id) {
            self.model.coming_back.insert(id);
            self.status.message = Some(format!("{name} rejoins with {level}: {does}"));
            self.model
                .timeline
                .expect(format!("{name} rejoined ({level})"), self.model.now);
        } else {
            self.status.message = Some(format!("{name} reads {level} once it joins: {does}"));
        }
        vec![Command::Isolation { id, level: own }]
    }
}

/// The steps of `W`: a member's own work per record, then none (the panel's again).
const WORK_STEPS: [Duration; 4] = [
    Duration::from_millis(1),
    Duration::from_millis(10),
    Duration::from_millis(100),
    Duration::from_secs(1),
];

fn next_work(now: Option<Duration>) -> Option<Duration> {
    match now {
        None => Some(WORK_STEPS[0]),
        Some(d) => WORK_STEPS.iter().copied().find(|s| *s > d),
    }
}
