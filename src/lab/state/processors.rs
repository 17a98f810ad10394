//! The processors as the screen has them: on or off, and each one's latest snapshot.

use super::keymap::{key, Action as A, Mode};
use super::App;
use crate::lab::protocol::Command;
use crate::lab::snapshots::{Guarantee, ProcessorSnapshot, ProcessorState};

#[derive(Debug, Default)]
pub struct ProcessorPanes {
    /// The user (or a scenario) started them and has not stopped them.
    pub on: bool,
    /// The latest snapshot of each, exactly once first.
    pub panes: Vec<ProcessorSnapshot>,
}

impl ProcessorPanes {
    pub fn of(&self, g: Guarantee) -> Option<&ProcessorSnapshot> {
        self.panes.iter().find(|p| p.guarantee == g)
    }
}

impl App {
    /// Starts or stops the processors; `by_key`: the user pressed it (a scenario step says
    /// no keys).
    pub(super) fn toggle_processors(&mut self, by_key: bool) -> Vec<Command> {
        let p = &mut self.model.processors;
        p.on = !p.on;
        let running = p
            .panes
            .iter()
            .any(|s| matches!(s.state, ProcessorState::Running | ProcessorState::Starting));
        p.panes.clear();
        if p.on {
            let topic = &self.model.cluster.topic;
            let mut said = format!(
                "two processors read {topic} in groups of their own and write \
                 {topic}.exactly-once and {topic}.at-least-once"
            );
            if by_key {
                said.push_str("; ");
                said.push_str(key(Mode::Main, A::CrashProcessors));
                said.push_str(" crashes them");
            }
            if self.model.cluster.embedded {
                said.push_str(
                    " (the embedded cluster's mock broker keeps no offsets a transaction commits \
                     and hides no aborted records: a restarted exactly-once processor reads \
                     from the start, and duplicates show; on Apache Kafka none do)",
                );
            }
            self.say(said);
            vec![Command::Processors(Some(self.model.cluster.partitions))]
        } else {
            self.say(if running {
                "the processors stop (a running one commits its last batch)".into()
            } else {
                "the processors are off".into()
            });
            vec![Command::Processors(None)]
        }
    }

    /// Crashes the running processors, or restarts the crashed (and failed) ones.
    pub(super) fn crash_processors(&mut self) -> Vec<Command> {
        let p = &self.model.processors;
        if !p.on {
            self.say(format!(
                "no processor runs: {} starts them",
                key(Mode::Main, A::Processors)
            ));
            return Vec::new();
        }
        let which = |want: fn(&ProcessorState) -> bool| -> Vec<Guarantee> {
            p.panes
                .iter()
                .filter(|s| want(&s.state))
                .map(|s| s.guarantee)
                .collect()
        };
        let running = which(|s| *s == ProcessorState::Running);
        if !running.is_empty() {
            let what: Vec<&str> = running
                .iter()
                .map(|g| match g {
                    Guarantee::ExactlyOnce => "exactly once leaves its transaction open",
                    Guarantee::AtLeastOnce => "at least once leaves its output written",
                })
                .collect();
            self.say(format!(
                "{} crash{}: nothing committed since the last batch; {}",
                names(&running),
                if running.len() == 1 { "es" } else { "" },
                what.join(", ")
            ));
            return running.into_iter().map(Command::CrashProcessor).collect();
        }
        let down = which(|s| matches!(s, ProcessorState::Crashed(_) | ProcessorState::Failed(_)));
        if down.is_empty() {
            self.say("the processors are starting: wait for them to run".into());
            return Vec::new();
        }
        self.say(format!(
            "{} start{} again: each resumes from its group's committed offsets (exactly once \
             first aborts what the crashed one left open)",
            names(&down),
            if down.len() == 1 { "s" } else { "" }
        ));
        down.into_iter().map(Command::RestartProcessor).collect()
    }

    pub(super) fn processor_snapshot(&mut self, s: ProcessorSnapshot) {
        let p = &mut self.model.processors;
        // A stopped processor's last words come after the panes were closed.
        if !p.on {
            return;
        }
        if let Some(pane) = p.panes.iter_mut().find(|x| x.guarantee == s.guarantee) {
            // The last words of one stopped before come after its successor's first.
            if s.instance >= pane.instance {
                *pane = s;
            }
        } else {
            p.panes.push(s);
            p.panes.sort_by_key(|x| x.guarantee);
        }
    }
}

/// "processor-exactly-once and processor-at-least-once".
fn names(which: &[Guarantee]) -> String {
    which
        .iter()
        .map(|g| format!("processor-{}", g.name()))
        .collect::<Vec<_>>()
        .join(" and ")
}
