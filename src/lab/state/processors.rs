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
    pub(super) fn toggle_processors(&mut self) -> Vec<Command> {
        let p = &mut self.model.processors;
        p.on = !p.on;
        p.panes.clear();
        if p.on {
            let mut said = format!(
                "two processors read {} in groups of their own and write {}.exactly-once and \
                 {}.at-least-once; {} crashes them",
                self.model.cluster.topic,
                self.model.cluster.topic,
                self.model.cluster.topic,
                key(Mode::Main, A::CrashProcessors)
            );
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
            self.say("the processors stop (each commits its last batch)".into());
            vec![Command::Processors(None)]
        }
    }

    /// Crashes the running processors, or restarts the crashed ones.
    pub(super) fn crash_processors(&mut self) -> Vec<Command> {
        let p = &self.model.processors;
        if !p.on {
            self.say(format!(
                "no processor runs: {} starts them",
                key(Mode::Main, A::Processors)
            ));
            return Vec::new();
        }
        let running: Vec<Guarantee> = p
            .panes
            .iter()
            .filter(|s| s.state == ProcessorState::Running)
            .map(|s| s.guarantee)
            .collect();
        if !running.is_empty() {
            self.say(
                "the processors crash: nothing committed since their last batch; \
                 exactly once leaves its transaction open, at least once its output written"
                    .into(),
            );
            return running.into_iter().map(Command::CrashProcessor).collect();
        }
        let crashed: Vec<Guarantee> = p
            .panes
            .iter()
            .filter(|s| matches!(s.state, ProcessorState::Crashed(_)))
            .map(|s| s.guarantee)
            .collect();
        if crashed.is_empty() {
            self.say("the processors are starting: wait for them to run".into());
            return Vec::new();
        }
        self.say(
            "the processors start again: each resumes from its group's committed offsets \
             (exactly once first aborts what the crashed one left open)"
                .into(),
        );
        crashed.into_iter().map(Command::RestartProcessor).collect()
    }

    pub(super) fn processor_snapshot(&mut self, s: ProcessorSnapshot) {
        let p = &mut self.model.processors;
        // A stopped processor's last words come after the panes were closed.
        if !p.on {
            return;
        }
        if let Some(pane) = p.panes.iter_mut().find(|x| x.guarantee == s.guarantee) {
            *pane = s;
        } else {
            p.panes.push(s);
            p.panes.sort_by_key(|x| x.guarantee);
        }
    }
}
