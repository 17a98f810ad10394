//! What the group finished processing, partition by partition, shared by its members: a record
//! finished a second time is *reprocessed* (its member started from a committed offset older
//! than what had been processed); a record below the offset a member started from that nobody
//! finished is *skipped* (committed, never processed: lost to the application). Offsets, not
//! record contents: every record of a partition has one, and the ledger needs no copy of any.
//!
//! A rewind (the group's offsets reset on purpose) is said apart: the records it makes the
//! group read again are *re-read*, not reprocessed, and the records it moves the group past
//! are not skipped.
//!
//! Memory stays small: a partition's finished offsets are kept as ranges, which merge as the
//! members go along (one range per partition in a run without faults).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Counts of one member, or of the whole group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records finished, each time.
    pub finished: u64,
    /// Records finished again.
    pub reprocessed: u64,
    /// Records committed that nobody finished.
    pub skipped: u64,
    /// Records finished again because a rewind moved the group back to them.
    pub reread: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.finished += other.finished;
        self.reprocessed += other.reprocessed;
        self.skipped += other.skipped;
        self.reread += other.reread;
    }
}

/// Offsets as sorted, disjoint, non-adjacent ranges `[start, end)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ranges(Vec<(i64, i64)>);

impl Ranges {
    #[cfg(test)]
    fn contains(&self, offset: i64) -> bool {
        let i = self.0.partition_point(|(_, end)| *end <= offset);
        self.0.get(i).is_some_and(|(start, _)| *start <= offset)
    }

    /// Adds `offset`; false when it was there already.
    fn insert(&mut self, offset: i64) -> bool {
        // The common case: the next offset of the last range.
        if let Some(last) = self.0.last_mut() {
            if last.1 == offset {
                last.1 += 1;
                return true;
            }
        }
        // The first range that ends at or after `offset`.
        let i = self.0.partition_point(|(_, end)| *end < offset);
        match self.0.get(i).copied() {
            Some((start, end)) if start <= offset && offset < end => return false,
            Some((_, end)) if end == offset => {
                self.0[i].1 = offset + 1;
                if self.0.get(i + 1).is_some_and(|next| next.0 == offset + 1) {
                    self.0[i].1 = self.0[i + 1].1;
                    self.0.remove(i + 1);
                }
            }
            Some((start, _)) if start == offset + 1 => self.0[i].0 = offset,
            _ => self.0.insert(i, (offset, offset + 1)),
        }
        true
    }

    /// Takes `offset` out; false when it was not there.
    fn remove(&mut self, offset: i64) -> bool {
        let i = self.0.partition_point(|(_, end)| *end <= offset);
        let Some(&(start, end)) = self.0.get(i) else {
            return false;
        };
        if offset < start {
            return false;
        }
        match (start == offset, end == offset + 1) {
            (true, true) => {
                self.0.remove(i);
            }
            (true, false) => self.0[i].0 = offset + 1,
            (false, true) => self.0[i].1 = offset,
            (false, false) => {
                self.0[i].1 = offset;
                self.0.insert(i + 1, (offset + 1, end));
            }
        }
        true
    }

    /// How many offsets of `[from, to)` are not in the set.
    fn missing(&self, from: i64, to: i64) -> u64 {
        if to <= from {
            return 0;
        }
        let covered: i64 = self
            .0
            .iter()
            .map(|(s, e)| ((*e).min(to) - (*s).max(from)).max(0))
            .sum();
        u64::try_from(to - from - covered).unwrap_or(0)
    }

    /// The ranges of `[from, to)` not in the set.
    fn gaps(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut at = from;
        for &(s, e) in &self.0 {
            if e <= at {
                continue;
            }
            if s >= to {
                break;
            }
            if s > at {
                out.push((at, s.min(to)));
            }
            at = at.max(e);
        }
        if at < to {
            out.push((at, to));
        }
        out
    }

    /// Adds every offset of `[from, to)`.
    fn insert_range(&mut self, from: i64, to: i64) {
        if to <= from {
            return;
        }
        let mut merged = Vec::with_capacity(self.0.len() + 1);
        let (mut start, mut end) = (from, to);
        for &(s, e) in &self.0 {
            if e < start || s > end {
                merged.push((s, e));
            } else {
                start = start.min(s);
                end = end.max(e);
            }
        }
        merged.push((start, end));
        merged.sort_unstable();
        self.0 = merged;
    }
}

#[derive(Debug, Clone, Default)]
struct Partition {
    /// Offsets finished at least once.
    finished: Ranges,
    /// Offsets counted as skipped (never counted twice).
    skipped: Ranges,
    /// How many of them each member was blamed for.
    skipped_by: BTreeMap<u32, u64>,
    /// The lowest offset any member started from: nothing below it was ever the group's.
    low: Option<i64>,
    /// The member that finished a record of it last: the one a skip is put down to.
    last: Option<u32>,
    /// Offsets a rewind moved the group back over: each may be finished once more as a
    /// re-read.
    rewound: Ranges,
    /// Offsets a rewind moved the group past: never skipped.
    passed: Ranges,
    /// Rewound to this offset, and no member has started reading the partition again yet:
    /// what a member still finishes from there (work under way when the group was reset) is
    /// read again by design too.
    rewinding_from: Option<i64>,
}

/// The group's ledger. Shared by its members (see [`SharedLedger`]).
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// By topic and partition: the group may move to another topic.
    partitions: BTreeMap<String, BTreeMap<i32, Partition>>,
    members: BTreeMap<u32, Counts>,
}

/// The ledger as the members hold it.
pub type SharedLedger = Arc<Mutex<Ledger>>;

impl Ledger {
    fn partition(&mut self, topic: &str, partition: i32) -> &mut Partition {
        // Looked up by reference: a String is made once per topic, not per record.
        if !self.partitions.contains_key(topic) {
            self.partitions.insert(topic.to_string(), BTreeMap::new());
        }
        self.partitions
            .get_mut(topic)
            .expect("just inserted")
            .entry(partition)
            .or_default()
    }

    /// `member` finished the record at `offset` of `partition`; true when it had been finished
    /// before (reprocessed).
    pub fn finish(&mut self, member: u32, topic: &str, partition: i32, offset: i64) -> bool {
        let p = self.partition(topic, partition);
        p.last = Some(member);
        let first_time = p.finished.insert(offset);
        if first_time && p.rewinding_from.is_some_and(|to| offset >= to) {
            p.rewound.insert_range(offset, offset + 1);
        }
        // Counted as skipped when another member started past it, and finished after all (a
        // member out of the group for max.poll.interval.ms finishing its batch): not lost.
        let unskipped = first_time && p.skipped.remove(offset);
        let reread = !first_time && p.rewound.remove(offset);
        let blamed = unskipped
            .then(|| {
                let blamed = if p.skipped_by.get(&member).is_some_and(|n| *n > 0) {
                    member
                } else {
                    *p.skipped_by.iter().find(|(_, n)| **n > 0)?.0
                };
                *p.skipped_by.get_mut(&blamed)? -= 1;
                Some(blamed)
            })
            .flatten();
        if let Some(b) = blamed {
            let c = self.members.entry(b).or_default();
            c.skipped = c.skipped.saturating_sub(1);
        }
        let counts = self.members.entry(member).or_default();
        counts.finished += 1;
        if reread {
            counts.reread += 1;
        } else if !first_time {
            counts.reprocessed += 1;
        }
        !first_time && !reread
    }

    /// The group's committed offset of `partition` was reset to `to` on purpose: what it
    /// finished from there on may be read once more as a re-read, and nothing below `to` it
    /// did not finish counts as skipped.
    pub fn rewind(&mut self, topic: &str, partition: i32, to: i64) {
        let p = self.partition(topic, partition);
        for &(start, end) in &p.finished.0 {
            if end > to {
                p.rewound.insert_range(start.max(to), end);
            }
        }
        let from = p.low.unwrap_or(to).min(to);
        p.passed.insert_range(from, to);
        p.rewinding_from = Some(to);
    }

    /// `member` starts reading `partition` at `offset` (where the group committed, or its
    /// first record): the offsets below it nobody finished are skipped, put down to the member
    /// that had the partition before. Returns how many.
    pub fn start(&mut self, member: u32, topic: &str, partition: i32, offset: i64) -> u64 {
        let p = self.partition(topic, partition);
        p.rewinding_from = None;
        let low = *p.low.get_or_insert(offset);
        if offset < low {
            p.low = Some(offset);
            return 0;
        }
        // Offsets nobody finished, nor a rewind passed, and not counted before: each gap once.
        let mut new = 0;
        for (from, to) in p.finished.gaps(low, offset) {
            for (from, to) in p.passed.gaps(from, to) {
                new += p.skipped.missing(from, to);
                p.skipped.insert_range(from, to);
            }
        }
        if new > 0 {
            let blamed = p.last.unwrap_or(member);
            *p.skipped_by.entry(blamed).or_default() += new;
            self.members.entry(blamed).or_default().skipped += new;
        }
        new
    }

    /// Each member's counts.
    pub fn members(&self) -> &BTreeMap<u32, Counts> {
        &self.members
    }

    /// The group's counts.
    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for c in self.members.values() {
            total.add(c);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_count_gaps() {
        let mut r = Ranges::default();
        for o in [5, 6, 7, 9, 8, 3] {
            assert!(r.insert(o));
        }
        assert!(!r.insert(6), "twice");
        assert_eq!(r.0, vec![(3, 4), (5, 10)]);
        assert!(r.contains(3) && !r.contains(4) && r.contains(9) && !r.contains(10));
        assert_eq!(r.missing(0, 12), 6, "0,1,2,4,10,11");
        assert_eq!(r.gaps(0, 12), vec![(0, 3), (4, 5), (10, 12)]);
        assert_eq!(r.gaps(5, 9), vec![]);
        r.insert(4);
        assert_eq!(r.0, vec![(3, 10)]);
        r.insert_range(12, 15);
        r.insert_range(9, 13);
        assert_eq!(r.0, vec![(3, 15)]);
    }

    /// Commit after processing, crash: the survivor starts from the last commit, older than
    /// what was processed, and reads those records again. Nothing is skipped.
    #[test]
    fn at_least_once_reprocesses() {
        let mut l = Ledger::default();
        assert_eq!(l.start(1, "t", 0, 100), 0);
        for o in 100..150 {
            assert!(!l.finish(1, "t", 0, o));
        }
        // Member 1 committed 140 and crashed; member 2 starts there.
        assert_eq!(l.start(2, "t", 0, 140), 0);
        let again = (140..160).filter(|o| l.finish(2, "t", 0, *o)).count();
        assert_eq!(again, 10);
        assert_eq!(l.members()[&2].reprocessed, 10);
        assert_eq!(l.total().skipped, 0);
    }

    /// Commit before processing, crash mid-batch: the survivor starts after the committed
    /// batch; what member 1 never finished is skipped, put down to member 1, once.
    #[test]
    fn at_most_once_skips() {
        let mut l = Ledger::default();
        l.start(1, "t", 3, 0);
        for o in 0..20 {
            l.finish(1, "t", 3, o);
        }
        // It committed up to 30, finished only 20: records 20-29 are lost.
        assert_eq!(l.start(2, "t", 3, 30), 10);
        assert_eq!(l.members()[&1].skipped, 10);
        assert_eq!(l.start(2, "t", 3, 30), 0, "counted once");
        for o in 30..40 {
            assert!(!l.finish(2, "t", 3, o));
        }
        assert_eq!(l.total().reprocessed, 0);
        // Another crash further on: only the new gap counts.
        assert_eq!(l.start(3, "t", 3, 45), 5);
        assert_eq!(l.total().skipped, 15);
    }

    /// A member out of the group for max.poll.interval.ms finishes the batch it committed
    /// before its work, after another member started past it: skipped, then not lost.
    #[test]
    fn a_skip_finished_after_all_is_taken_back() {
        let mut l = Ledger::default();
        l.start(1, "t", 0, 0);
        for o in 0..10 {
            l.finish(1, "t", 0, o);
        }
        assert_eq!(l.start(2, "t", 0, 30), 20);
        for o in 10..30 {
            l.finish(1, "t", 0, o);
        }
        assert_eq!(l.total().skipped, 0);
        assert_eq!(l.total().reprocessed, 0);
        // Another topic's partition 0 is another partition.
        assert_eq!(l.start(2, "other", 0, 500), 0);
        assert!(!l.finish(2, "other", 0, 5));
    }

    /// Work under way when the group was reset, finished after the reset, is read again by
    /// design too: a re-read, not reprocessing.
    #[test]
    fn work_finished_after_a_reset_is_reread_not_reprocessed() {
        let mut l = Ledger::default();
        l.start(1, "t", 0, 0);
        for o in 0..100 {
            l.finish(1, "t", 0, o);
        }
        l.rewind("t", 0, 40);
        // Member 1 was still working: 100..110 finished after the reset.
        for o in 100..110 {
            assert!(!l.finish(1, "t", 0, o));
        }
        assert_eq!(l.start(2, "t", 0, 40), 0);
        let again = (40..120).filter(|o| l.finish(2, "t", 0, *o)).count();
        assert_eq!(again, 0, "no reprocessing");
        assert_eq!(l.members()[&2].reread, 70);
        assert_eq!(l.total().reprocessed, 0);
        // Once the group reads again, a record finished twice is reprocessing again.
        assert!(l.finish(3, "t", 0, 115));
    }

    /// A rewind's re-reads are said apart from reprocessing, once each; the records a rewind
    /// moves the group past are not skipped.
    #[test]
    fn rewinds_are_not_faults() {
        let mut l = Ledger::default();
        l.start(1, "t", 0, 0);
        for o in 0..100 {
            l.finish(1, "t", 0, o);
        }
        // Back to 40: 40..100 are read again, by design.
        l.rewind("t", 0, 40);
        assert_eq!(l.start(2, "t", 0, 40), 0);
        let again = (40..120).filter(|o| l.finish(2, "t", 0, *o)).count();
        assert_eq!(again, 0, "no reprocessing");
        assert_eq!(l.members()[&2].reread, 60);
        assert_eq!(l.total().reprocessed, 0);
        // A crash that makes a member read some of them a third time: that is reprocessing.
        assert_eq!(l.start(3, "t", 0, 110), 0);
        assert!(l.finish(3, "t", 0, 110));
        assert_eq!(l.total().reprocessed, 1);
        // Forward to 500: 120..500 were never read, on purpose.
        l.rewind("t", 0, 500);
        assert_eq!(l.start(2, "t", 0, 500), 0);
        assert_eq!(l.total().skipped, 0);
        // Later, a real skip still counts.
        l.finish(2, "t", 0, 500);
        assert_eq!(l.start(3, "t", 0, 510), 9);
    }

    #[test]
    fn ranges_take_offsets_out() {
        let mut r = Ranges::default();
        r.insert_range(0, 10);
        assert!(r.remove(5) && !r.remove(5) && !r.remove(10));
        assert!(r.remove(0) && r.remove(9));
        assert_eq!(r.0, vec![(1, 5), (6, 9)]);
    }
}
