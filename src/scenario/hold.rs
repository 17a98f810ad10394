//! A step that started a run holds the steps after it until the producer runs it.

use std::time::{Duration, Instant};

use crate::lab::snapshots::ProducerState;
use crate::lab::state::App;

/// How long the steps after a start or restart wait for the producer's new run.
const HOLD: Duration = Duration::from_secs(30);

/// A step started a run: the next steps wait until the producer runs it, so that their times
/// count from the run's start and not from the command (ending a run flushes for up to 5 s, and
/// a fault meant for the next run would otherwise land in the one ending).
#[derive(Debug, Clone, Copy)]
pub(super) struct Hold {
    /// When the step ran, on the scenario's clock: settings steps due by then join its
    /// restart.
    pub(super) at: Duration,
    /// The producer's run when the step ran.
    before: u32,
    /// A restart (not a start): a producer stopped by hand ends the wait.
    pub(super) restart: bool,
    since: Instant,
}

impl Hold {
    /// None when the producer is failing: its error would end the wait at once, and whether
    /// the new settings make a new run cannot be told.
    pub(super) fn new(app: &App, at: Duration, restart: bool) -> Option<Hold> {
        let snapshot = app.producer();
        if snapshot.is_some_and(|s| matches!(s.state, ProducerState::Error(_))) {
            return None;
        }
        Some(Hold {
            at,
            before: snapshot.map_or(0, |s| s.run),
            restart,
            since: Instant::now(),
        })
    }

    pub(super) fn over(&self, app: &App, now: Instant) -> bool {
        let Some(s) = app.producer() else {
            return now - self.since >= HOLD;
        };
        let started = s.run > self.before && s.state == ProducerState::Running;
        started
            || matches!(s.state, ProducerState::Error(_))
            || (self.restart && s.state == ProducerState::Stopped)
            || now - self.since >= HOLD
    }
}
