//! The producer's snapshot, each tick: the run's totals, window and latest deliveries.

use std::time::Instant;

use super::Task;
use crate::kafka::producer::Live;
use crate::lab::protocol::KafkaEvent;
use crate::lab::snapshots::ProducerSnapshot;
use crate::stats::BatchStats;

impl Task {
    pub(super) fn snapshot(&mut self) {
        let figures = match &self.producer {
            Some(p) => {
                p.totals_into(&mut self.totals);
                Some(Figures {
                    live: p.take_live(self.next_interval.take().unwrap_or_default()),
                    batches: p.batch_stats(),
                    error: p.take_error(),
                })
            }
            None => None,
        };
        self.snapshot_of(figures);
    }

    fn snapshot_of(&mut self, figures: Option<Figures>) {
        let snapshot = self.snapshot_with(figures);
        // A full channel means the screen is behind: drop this snapshot, the next one carries
        // the same totals.
        let _ = self
            .events
            .try_send(KafkaEvent::Producer(Box::new(snapshot)));
    }

    pub(super) fn snapshot_with(&mut self, figures: Option<Figures>) -> ProducerSnapshot {
        let now = Instant::now();
        let mut snapshot = ProducerSnapshot {
            run_elapsed: now.saturating_duration_since(self.run_started),
            run_ended: self.run_ended.take(),
            since_start: now.saturating_duration_since(self.started),
            at: std::time::SystemTime::now(),
            ..ProducerSnapshot::new(self.run, self.state.clone(), self.settings.clone())
        };
        if let Some(Figures {
            mut live,
            batches,
            error,
        }) = figures
        {
            live.interval.duration = now.saturating_duration_since(self.last_tick);
            self.meter.add(&live.interval);
            self.next_interval = Some(self.window.push(live.interval));
            snapshot.stages = batches.latest_stages();
            snapshot.would.clone_from(&self.would);
            let t = &self.totals;
            snapshot.report = Some(self.report(t, &batches));
            snapshot.sent = t.sent;
            snapshot.delivered = t.delivered;
            snapshot.failed = t.failed;
            snapshot.in_flight = t.in_flight();
            snapshot.by_partition.clone_from(&t.by_partition);
            snapshot.window = self.window.figures();
            snapshot.latest = live.latest;
            snapshot.skipped = live.skipped;
            snapshot.last_error = error;
        }
        self.last_tick = now;
        snapshot
    }
}

/// A run's figures at a tick (the totals are in `Task::totals`).
pub(super) struct Figures {
    pub(super) live: Live,
    pub(super) batches: BatchStats,
    pub(super) error: Option<String>,
}
