//! What the group finished processing, partition by partition, shared by its members: a record
//! finished a second time is *reprocessed* (its member started from a committed offset older
//! than what had been processed); a record below the offset a member started from that nobody
//! finished is *skipped* (committed, never processed: lost to the application). Offsets, not
//! record contents: every record of a partition has one, and the ledger needs no copy of any.
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
    /// Of `reprocessed`, those read again because the group was rewound on purpose.
    pub rewound: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.finished += other.finished;
        self.reprocessed += other.reprocessed;
        self.skipped += other.skipped;
        self.rewound += other.rewound;
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
    /// Offsets counted as skipped already (never counted twice).
    skipped: Ranges,
    /// The lowest offset any member started from: nothing below it was ever the group's.
    low: Option<i64>,
    /// The member that finished a record of it last: the one a skip is put down to.
    last: Option<u32>,
}

/// The group's ledger. Shared by its members (see [`SharedLedger`]).
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    partitions: BTreeMap<i32, Partition>,
    members: BTreeMap<u32, Counts>,
    /// From this offset on (per partition), records read again were asked for: a rewind.
    rewound_below: BTreeMap<i32, i64>,
}

/// The ledger as the members hold it.
pub type SharedLedger = Arc<Mutex<Ledger>>;

impl Ledger {
    /// `member` finished the record at `offset` of `partition`; true when it had been finished
    /// before (reprocessed).
    pub fn finish(&mut self, member: u32, partition: i32, offset: i64) -> bool {
        let p = self.partitions.entry(partition).or_default();
        p.last = Some(member);
        let first_time = p.finished.insert(offset);
        let counts = self.members.entry(member).or_default();
        counts.finished += 1;
        if !first_time {
            counts.reprocessed += 1;
            if self
                .rewound_below
                .get(&partition)
                .is_some_and(|b| offset < *b)
            {
                counts.rewound += 1;
            }
        }
        !first_time
    }

    /// `member` starts reading `partition` at `offset` (its first record after an
    /// assignment): the offsets below it nobody finished are skipped, put down to the member
    /// that had the partition before. Returns how many.
    pub fn start(&mut self, member: u32, partition: i32, offset: i64) -> u64 {
        let p = self.partitions.entry(partition).or_default();
        let low = *p.low.get_or_insert(offset);
        if offset < low {
            p.low = Some(offset);
            return 0;
        }
        // Offsets nobody finished and not counted before: each gap once.
        let mut new = 0;
        for (from, to) in p.finished.gaps(low, offset) {
            new += p.skipped.missing(from, to);
            p.skipped.insert_range(from, to);
        }
        if new > 0 {
            let blamed = p.last.unwrap_or(member);
            self.members.entry(blamed).or_default().skipped += new;
        }
        new
    }

    /// The group was rewound on purpose: what is read again below the offsets it was at is a
    /// rewind's doing, not a fault's.
    pub fn rewound(&mut self, at: &BTreeMap<i32, i64>) {
        for (p, o) in at {
            self.rewound_below.insert(*p, *o);
        }
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
        assert_eq!(l.start(1, 0, 100), 0);
        for o in 100..150 {
            assert!(!l.finish(1, 0, o));
        }
        // Member 1 committed 140 and crashed; member 2 starts there.
        assert_eq!(l.start(2, 0, 140), 0);
        let again = (140..160).filter(|o| l.finish(2, 0, *o)).count();
        assert_eq!(again, 10);
        assert_eq!(l.members()[&2].reprocessed, 10);
        assert_eq!(l.total().skipped, 0);
    }

    /// Commit before processing, crash mid-batch: the survivor starts after the committed
    /// batch; what member 1 never finished is skipped, put down to member 1, once.
    #[test]
    fn at_most_once_skips() {
        let mut l = Ledger::default();
        l.start(1, 3, 0);
        for o in 0..20 {
            l.finish(1, 3, o);
        }
        // It committed up to 30, finished only 20: records 20-29 are lost.
        assert_eq!(l.start(2, 3, 30), 10);
        assert_eq!(l.members()[&1].skipped, 10);
        assert_eq!(l.start(2, 3, 30), 0, "counted once");
        for o in 30..40 {
            assert!(!l.finish(2, 3, o));
        }
        assert_eq!(l.total().reprocessed, 0);
        // Another crash further on: only the new gap counts.
        assert_eq!(l.start(3, 3, 45), 5);
        assert_eq!(l.total().skipped, 15);
    }

    #[test]
    fn a_rewind_is_counted_apart() {
        let mut l = Ledger::default();
        l.start(1, 0, 0);
        for o in 0..10 {
            l.finish(1, 0, o);
        }
        l.rewound(&BTreeMap::from([(0, 10)]));
        l.start(1, 0, 0);
        for o in 0..12 {
            l.finish(1, 0, o);
        }
        let c = l.members()[&1];
        assert_eq!((c.reprocessed, c.rewound, c.skipped), (10, 10, 0));
    }
}
