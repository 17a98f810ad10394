//! Where a member starts in the partitions it is assigned, and its commits after the work.

use std::time::Instant;

use super::{Member, Pace, COMMITTED_WAIT, COMMIT_EVERY};
use crate::kafka::consumer::LabConsumer;
use crate::lab::settings::Commit;

impl Member {
    /// Tells the ledger where the member starts in each of the `partitions` just assigned: a
    /// request to the group's coordinator, and to a leader where nothing was committed. (A
    /// partition committed to its end has no record to say it.)
    pub(super) fn start_from_commits(&mut self, consumer: &LabConsumer, partitions: &[i32]) {
        if partitions.is_empty() {
            return;
        }
        let Ok(committed) = consumer.committed(&self.topic, partitions, COMMITTED_WAIT) else {
            // Unknown: the first record read says where the member starts.
            return;
        };
        let mut ledger = self.ledger.lock().unwrap();
        for (partition, offset) in committed {
            // Without a commit: the log's start for earliest; for latest the first record
            // read says (the end moves on until the member's first fetch).
            let offset = offset.or_else(|| {
                self.from_earliest
                    .then(|| consumer.ask_low_watermark(&self.topic, partition, COMMITTED_WAIT))
                    .flatten()
            });
            if let (Some(offset), std::collections::btree_map::Entry::Vacant(e)) =
                (offset, self.started.entry(partition))
            {
                e.insert(offset);
                ledger.start(self.m.id, &self.topic, partition, offset);
            }
        }
    }
}

/// Commits what was worked on, at most every [`COMMIT_EVERY`], when the member commits after
/// its work.
pub(super) fn commit_due(consumer: &LabConsumer, commit: Commit, pace: &mut Pace) {
    if commit == Commit::After && pace.uncommitted && pace.last_commit.elapsed() >= COMMIT_EVERY {
        if consumer.commit_async().is_ok() {
            pace.uncommitted = false;
        }
        pace.last_commit = Instant::now();
    }
}
