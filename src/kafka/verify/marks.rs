//! The records of aborted transactions, shared while they are read: the producer marks them
//! as it plans a transaction's abort (or as a failed one is withdrawn), and the lab's members
//! look up each record they are handed by its run tag and sequence. That is how a
//! `read_uncommitted` member can tell, and count, what a `read_committed` one never sees.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use rdkafka::Message;

use super::ledger::Bits;
use super::MAX_TRACKED;

/// Runs whose marks are kept: a member may still be reading a run or two back.
const RUNS_KEPT: usize = 4;

#[derive(Default)]
struct Inner {
    /// Set once anything is marked: until then a member looks at no header.
    any: AtomicBool,
    /// Read for every record a member is handed: a read lock, rarely written.
    runs: RwLock<VecDeque<(String, Bits)>>,
}

/// Cheap to clone: every clone shares the same marks.
#[derive(Clone, Default)]
pub struct AbortedMarks(Arc<Inner>);

impl AbortedMarks {
    /// Records `first..=last` of run `run` are in an aborted transaction.
    pub fn mark(&self, run: &str, first: u64, last: u64) {
        let mut runs = self.0.runs.write().unwrap();
        if runs.back().is_none_or(|(r, _)| r != run) {
            if let Some(i) = runs.iter().position(|(r, _)| r == run) {
                let kept = runs.remove(i).unwrap_or_default();
                runs.push_back(kept);
            } else {
                if runs.len() == RUNS_KEPT {
                    runs.pop_front();
                }
                runs.push_back((run.to_string(), Bits::default()));
            }
        }
        let bits = &mut runs.back_mut().expect("pushed above").1;
        for seq in first..=last.min(MAX_TRACKED - 1) {
            bits.set(seq);
        }
        self.0.any.store(true, Ordering::Relaxed);
    }

    /// Anything marked yet.
    pub fn any(&self) -> bool {
        self.0.any.load(Ordering::Relaxed)
    }

    /// Record `seq` of run `run` is in an aborted transaction.
    pub fn is_aborted(&self, run: &[u8], seq: u64) -> bool {
        self.0
            .runs
            .read()
            .unwrap()
            .iter()
            .rev()
            .find(|(r, _)| r.as_bytes() == run)
            .is_some_and(|(_, bits)| bits.get(seq))
    }

    /// `m` carries a run tag and sequence marked aborted (false when nothing is marked, without
    /// reading its headers).
    pub fn of_message(&self, m: &impl Message) -> bool {
        if !self.any() {
            return false;
        }
        super::run_and_seq(m).is_some_and(|(run, seq)| self.is_aborted(run, seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_kept_by_run_and_the_oldest_run_goes_first() {
        let marks = AbortedMarks::default();
        assert!(!marks.any());
        marks.mark("run-a", 10, 19);
        assert!(marks.any());
        assert!(marks.is_aborted(b"run-a", 10) && marks.is_aborted(b"run-a", 19));
        assert!(!marks.is_aborted(b"run-a", 9) && !marks.is_aborted(b"run-a", 20));
        assert!(!marks.is_aborted(b"run-b", 10));
        // Marking an earlier run again keeps what it had.
        marks.mark("run-b", 0, 0);
        marks.mark("run-a", 30, 30);
        assert!(marks.is_aborted(b"run-a", 15) && marks.is_aborted(b"run-a", 30));
        for r in ["run-c", "run-d", "run-e"] {
            marks.mark(r, 1, 1);
        }
        // Four runs kept: run-b, marked least lately, went.
        assert!(!marks.is_aborted(b"run-b", 0));
        assert!(marks.is_aborted(b"run-a", 30) && marks.is_aborted(b"run-e", 1));
    }
}
