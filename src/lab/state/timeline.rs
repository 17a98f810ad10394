//! The group's rebalance timeline, built from what the members report: each rebalance with its
//! cause, the partitions revoked and assigned per member, and how long each moved partition was
//! without an owner. Pure: fed assignments and times, no clock of its own.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};

/// Rebalances kept.
const KEEP: usize = 50;
/// Assignment changes this close to the start of a rebalance belong to it.
const SAME_REBALANCE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
pub struct MemberChange {
    pub member: String,
    pub revoked: Vec<i32>,
    pub assigned: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rebalance {
    /// Its number in the session, from 1: the list and the map say the same.
    pub number: u64,
    pub at: SystemTime,
    pub cause: String,
    pub changes: Vec<MemberChange>,
    /// Partitions that changed hands, and how long they had no owner.
    pub unowned: Vec<(i32, Duration)>,
    /// The owner of each partition once the rebalance was done.
    pub owners: BTreeMap<i32, String>,
    /// A member reported twice within it: a cooperative rebalance, which first revokes what
    /// moves and then assigns it.
    pub two_phases: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub rebalances: VecDeque<Rebalance>,
    /// The group rebalances incrementally: a member's second report within one is the
    /// second phase (eager rebalances revoke everything, then assign).
    pub cooperative: bool,
    /// Each member's partitions as last reported.
    held: BTreeMap<String, BTreeSet<i32>>,
    /// Partitions without an owner, since when.
    lost_at: BTreeMap<i32, SystemTime>,
    /// When each partition's owner reported it got it: the old owner's revocation can be
    /// reported after that (snapshots cross), and the gap is then the one between the two.
    got_at: BTreeMap<i32, (String, SystemTime)>,
    /// Why the next rebalance happens, when kafka-lab knows (it added or removed members):
    /// every cause since the last one, in order, with when it was asked for (a change
    /// reported later that happened before it belongs to the rebalance before).
    pending_causes: Vec<(String, SystemTime)>,
    /// Rebalances so far, kept or not.
    count: u64,
    /// Members that crashed, and when: the group notices later (a session timeout), and the
    /// rebalance it then makes says how much later.
    crashed: Vec<(String, SystemTime, Vec<i32>)>,
    /// Crashed members restarted before the group noticed, and whether as static members
    /// (the broker then gives them their partitions back with no rebalance).
    back: Vec<(String, bool)>,
}

/// The cause of a rebalance kafka-lab did not ask for (until something explains it).
const UNEXPLAINED: &str = "group change";

impl Timeline {
    /// Something that happened before it was reported (a member taken out for
    /// max.poll.interval.ms is told at its next read): it explains the latest unexplained
    /// rebalance since `since`, and the next one (the member's rejoin) gets `next`.
    pub fn explain_late(
        &mut self,
        cause: String,
        since: SystemTime,
        next: String,
        now: SystemTime,
    ) {
        if let Some(r) = self
            .rebalances
            .iter_mut()
            .rev()
            .take_while(|r| r.at >= since)
            .find(|r| r.cause == UNEXPLAINED)
        {
            r.cause = cause;
            self.pending_causes.push((next, now));
        } else {
            self.pending_causes.push((cause, now));
        }
    }

    pub fn new(cooperative: bool) -> Timeline {
        Timeline {
            cooperative,
            ..Timeline::default()
        }
    }

    /// Partitions whose owner changed in rebalance `i` (of `rebalances`): owned before by
    /// another member, or by none after.
    pub fn moved(&self, i: usize) -> usize {
        let Some(now) = self.rebalances.get(i) else {
            return 0;
        };
        let Some(before) = i.checked_sub(1).and_then(|j| self.rebalances.get(j)) else {
            return 0;
        };
        before
            .owners
            .iter()
            .filter(|(p, owner)| now.owners.get(*p) != Some(*owner))
            .count()
    }

    /// The next rebalance has this cause, asked for at `at`.
    pub fn expect(&mut self, cause: String, at: SystemTime) {
        self.pending_causes.push((cause, at));
    }

    /// A cause asked for will not happen after all: the newest pending cause that begins
    /// with `prefix` goes.
    pub fn withdraw(&mut self, prefix: &str) {
        // The newest only: an earlier one may be under way still.
        if let Some(i) = self
            .pending_causes
            .iter()
            .rposition(|(cause, _)| cause.starts_with(prefix))
        {
            self.pending_causes.remove(i);
        }
    }

    /// The group moved to another topic: partitions start afresh; the history stays.
    pub fn new_topic(&mut self, cause: String, at: SystemTime) {
        self.held.clear();
        self.lost_at.clear();
        self.got_at.clear();
        // A crash on the old topic leaves nothing unread on the new one.
        self.crashed.clear();
        self.back.clear();
        self.pending_causes.push((cause, at));
    }

    /// A member's partitions as of `at`; `revoked_at` is when it last lost some.
    pub fn report(
        &mut self,
        member: &str,
        partitions: &[i32],
        at: SystemTime,
        revoked_at: Option<SystemTime>,
    ) {
        let new: BTreeSet<i32> = partitions.iter().copied().collect();
        if let Some(i) = self.crashed.iter().position(|(m, ..)| m == member) {
            // Back before the group noticed: static membership gives it its partitions
            // again without a rebalance; otherwise it joins as a new member.
            let (_, crashed_at, held) = self.crashed.remove(i);
            let later = crate::text::seconds(at.duration_since(crashed_at).unwrap_or_default());
            let same = held.iter().copied().collect::<BTreeSet<i32>>() == new;
            let as_static = self
                .back
                .iter()
                .position(|(m, _)| m == member)
                .is_some_and(|j| self.back.remove(j).1);
            let cause = match (as_static, same) {
                (true, true) => format!(
                    "{member} crashed and was back {later} later with the same partitions \
                         (static membership: no rebalance)"
                ),
                (true, false) => format!("{member} crashed and was back {later} later"),
                (false, _) => {
                    format!("{member} crashed and was back {later} later, as a new member")
                }
            };
            self.pending_causes.insert(0, (cause, at));
        }
        let joined = !self.held.contains_key(member);
        let old = self.held.get(member).cloned().unwrap_or_default();
        if new == old && !joined {
            return;
        }
        self.held.insert(member.to_string(), new.clone());
        let revoked: Vec<i32> = old.difference(&new).copied().collect();
        let assigned: Vec<i32> = new.difference(&old).copied().collect();
        // A member that joins with nothing (more members than partitions) is news too.
        if revoked.is_empty() && assigned.is_empty() && !joined {
            return;
        }
        let mut unowned = Vec::new();
        let lost = revoked_at.unwrap_or(at).min(at);
        for p in &revoked {
            unowned.extend(self.lose(*p, member, lost));
        }
        for p in &assigned {
            self.got_at.insert(*p, (member.to_string(), at));
            if let Some(lost) = self.lost_at.remove(p) {
                unowned.push((*p, at.duration_since(lost).unwrap_or_default()));
            }
        }
        let owners = self.owners();
        let cooperative = self.cooperative;
        let event = self.current(at, !assigned.is_empty());
        event.at = event.at.max(at);
        match event.changes.iter_mut().find(|c| c.member == member) {
            // Its second report in the same rebalance: the second phase of a cooperative one,
            // or an eager one's assignment after its revocation.
            Some(c) => {
                event.two_phases |= cooperative;
                c.revoked.extend(revoked);
                c.assigned.extend(assigned);
                // Taken and given back within the rebalance: it kept it.
                let both: BTreeSet<i32> = c
                    .revoked
                    .iter()
                    .filter(|p| c.assigned.contains(p))
                    .copied()
                    .collect();
                c.revoked.retain(|p| !both.contains(p));
                c.assigned.retain(|p| !both.contains(p));
                c.revoked.sort_unstable();
                c.assigned.sort_unstable();
                // Everything given back: it kept what it had, no change to list.
                if c.revoked.is_empty() && c.assigned.is_empty() {
                    let member = c.member.clone();
                    event.changes.retain(|c| c.member != member);
                }
            }
            None => event.changes.push(MemberChange {
                member: member.to_string(),
                revoked,
                assigned,
            }),
        }
        event.unowned.extend(unowned);
        event.owners = owners;
    }

    /// A member left the group at `at`; its partitions have no owner from then on.
    pub fn left(&mut self, member: &str, at: SystemTime) {
        let Some(held) = self.held.remove(member) else {
            return;
        };
        let mut unowned = Vec::new();
        for p in &held {
            unowned.extend(self.lose(*p, member, at));
        }
        if !held.is_empty() {
            let owners = self.owners();
            let event = self.current(at, false);
            event.unowned.extend(unowned);
            event.changes.push(MemberChange {
                member: member.to_string(),
                revoked: held.into_iter().collect(),
                assigned: Vec::new(),
            });
            event.owners = owners;
        }
    }

    /// `member` lost `p` at `lost`: from then on it has no owner, unless the new owner's
    /// report came first; then the gap between the two is returned (none when they overlap,
    /// as when a member taken out hears of it late).
    fn lose(&mut self, p: i32, member: &str, lost: SystemTime) -> Option<(i32, Duration)> {
        if let Some(got) = self.owned_since(p, member) {
            return got.duration_since(lost).ok().map(|gap| (p, gap));
        }
        self.lost_at.insert(p, lost);
        None
    }

    /// When another member than `member` got `p`, if it holds it still: a revocation reported
    /// after that leaves it owned.
    fn owned_since(&self, p: i32, member: &str) -> Option<SystemTime> {
        let (owner, got) = self.got_at.get(&p)?;
        (owner != member && self.held.get(owner).is_some_and(|ps| ps.contains(&p))).then_some(*got)
    }

    fn owners(&self) -> BTreeMap<i32, String> {
        self.held
            .iter()
            .flat_map(|(m, ps)| ps.iter().map(move |p| (*p, m.clone())))
            .collect()
    }

    /// A member crashed at `at`: its partitions have no owner from then on, but nothing
    /// happens in the group until it notices the member gone (or the member comes back).
    pub fn crashed(&mut self, member: &str, at: SystemTime) {
        let held: Vec<i32> = self
            .held
            .remove(member)
            .unwrap_or_default()
            .into_iter()
            .collect();
        for p in &held {
            if self.owned_since(*p, member).is_none() {
                self.lost_at.insert(*p, at);
            }
        }
        self.crashed.push((member.to_string(), at, held));
    }

    /// Crashed members the group has not noticed yet: who, when, the partitions left unread.
    pub fn unnoticed(&self) -> impl Iterator<Item = (&str, SystemTime, &[i32])> {
        self.crashed
            .iter()
            .map(|(m, at, held)| (m.as_str(), *at, held.as_slice()))
    }

    /// A crashed member was started again: when the group has not noticed the crash yet,
    /// what it reports next tells whether it got its partitions back.
    pub fn restarted(&mut self, member: &str, as_static: bool) {
        if self.crashed.iter().any(|(m, ..)| m == member) {
            self.back.retain(|(m, _)| m != member);
            self.back.push((member.to_string(), as_static));
        } else {
            let since = self
                .rebalances
                .back()
                .map_or(SystemTime::UNIX_EPOCH, |r| r.at);
            self.pending_causes
                .push((format!("{member} restarted"), since));
        }
    }

    /// The rebalance that a change at `at` belongs to: the latest one if it began just
    /// before, else a new one.
    /// `gains`: the change assigns partitions. Only such a change shows the group has noticed
    /// a crash (a survivor takes what the crashed member had); a revocation first may be the
    /// end of a rebalance the crashed member took part in before it died.
    fn current(&mut self, at: SystemTime, gains: bool) -> &mut Rebalance {
        // A known cause (a member added or removed) starts a new rebalance, for the changes
        // that happened after it was asked for (a late report of the rebalance before stays
        // with it); otherwise changes close together are one.
        let due = self.pending_causes.iter().any(|(_, asked)| *asked <= at);
        let noticed = gains && !self.crashed.is_empty();
        let fresh =
            due || noticed
                || self.rebalances.back().is_none_or(|last| {
                    at.duration_since(last.at).unwrap_or_default() > SAME_REBALANCE
                });
        if fresh {
            if self.rebalances.len() == KEEP {
                self.rebalances.pop_front();
            }
            // What happened first comes first: the crashes, then kafka-lab's own doings.
            let mut causes = Vec::new();
            let mut changes = Vec::new();
            let crashed = if noticed {
                std::mem::take(&mut self.crashed)
            } else {
                Vec::new()
            };
            for (member, crashed_at, held) in crashed {
                let later = at.duration_since(crashed_at).unwrap_or_default();
                causes.push(format!(
                    "{member} crashed (no heartbeat for {})",
                    crate::text::seconds(later)
                ));
                if !held.is_empty() {
                    changes.push(MemberChange {
                        member,
                        revoked: held,
                        assigned: Vec::new(),
                    });
                }
            }
            let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_causes)
                .into_iter()
                .partition(|(_, asked)| *asked <= at);
            self.pending_causes = later;
            causes.extend(now.into_iter().map(|(cause, _)| cause));
            self.count += 1;
            self.rebalances.push_back(Rebalance {
                number: self.count,
                at,
                cause: if causes.is_empty() {
                    UNEXPLAINED.to_string()
                } else {
                    causes.join(", ")
                },
                changes,
                unowned: Vec::new(),
                owners: BTreeMap::new(),
                two_phases: false,
            });
        }
        self.rebalances.back_mut().expect("just pushed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(1_000_000 + ms)
    }

    #[test]
    fn a_join_then_a_leave() {
        let mut tl = Timeline::default();
        tl.expect("consumer-1 joined".into(), t(0));
        tl.report("consumer-1", &[0, 1, 2, 3], t(0), None);
        assert_eq!(tl.rebalances.len(), 1);
        assert_eq!(tl.rebalances[0].cause, "consumer-1 joined");
        assert!(
            tl.rebalances[0].unowned.is_empty(),
            "never owned before: no gap to measure"
        );

        tl.expect("consumer-2 joined".into(), t(9_000));
        // consumer-1 gives up 2 and 3 at 10.0 s; consumer-2 gets them at 10.8 s.
        tl.report("consumer-1", &[0, 1], t(10_900), Some(t(10_000)));
        tl.report("consumer-2", &[2, 3], t(10_800), None);
        let r = &tl.rebalances[1];
        assert_eq!(r.cause, "consumer-2 joined");
        assert_eq!(r.changes.len(), 2);
        assert_eq!(r.changes[0].revoked, [2, 3]);
        assert_eq!(r.changes[1].assigned, [2, 3]);
        assert_eq!(
            r.unowned,
            [
                (2, Duration::from_millis(800)),
                (3, Duration::from_millis(800))
            ]
        );
        assert_eq!(r.owners[&3], "consumer-2");
        assert_eq!(r.owners[&0], "consumer-1");

        // consumer-2 leaves at 20 s; consumer-1 takes everything back at 21.5 s.
        tl.expect("consumer-2 left".into(), t(20_000));
        tl.left("consumer-2", t(20_000));
        tl.report("consumer-1", &[0, 1, 2, 3], t(21_500), Some(t(20_000)));
        let r = &tl.rebalances[2];
        assert_eq!(r.cause, "consumer-2 left");
        assert_eq!(
            r.unowned,
            [
                (2, Duration::from_millis(1500)),
                (3, Duration::from_millis(1500))
            ]
        );
        assert_eq!(r.owners.len(), 4);
        assert!(r.owners.values().all(|m| m == "consumer-1"));
    }

    #[test]
    fn unchanged_reports_add_nothing_and_the_timeline_is_bounded() {
        let mut tl = Timeline::default();
        tl.report("consumer-1", &[0], t(0), None);
        tl.report("consumer-1", &[0], t(100), None);
        assert_eq!(tl.rebalances.len(), 1);
        for i in 0..(KEEP as u64 + 10) {
            let parts: Vec<i32> = if i % 2 == 0 { vec![1] } else { vec![0] };
            tl.report("consumer-1", &parts, t(10_000 * (i + 1)), None);
        }
        assert_eq!(tl.rebalances.len(), KEEP);
    }

    #[test]
    fn an_idle_join_is_recorded_and_quick_causes_are_kept_together() {
        let mut tl = Timeline::default();
        tl.expect("consumer-1 joined".into(), t(0));
        tl.report("consumer-1", &[0], t(0), None);
        // consumer-2 joins with nothing left for it, then consumer-1 leaves.
        tl.expect("consumer-2 joined".into(), t(5_000));
        tl.report("consumer-2", &[], t(5_000), None);
        assert_eq!(tl.rebalances.len(), 2);
        assert_eq!(tl.rebalances[1].cause, "consumer-2 joined");
        assert_eq!(tl.rebalances[1].changes[0].member, "consumer-2");
        // Two causes before one rebalance: both are named.
        tl.expect("consumer-3 joined".into(), t(19_000));
        tl.expect("consumer-1 left".into(), t(19_500));
        tl.left("consumer-1", t(20_000));
        assert_eq!(tl.rebalances[2].cause, "consumer-3 joined, consumer-1 left");
    }

    /// A report that comes after kafka-lab asked for the next rebalance, of a change made
    /// before, belongs to the rebalance before; the numbers go on past those dropped.
    #[test]
    fn a_late_report_stays_with_its_rebalance() {
        let mut tl = Timeline::default();
        tl.expect("consumer-1 joined".into(), t(0));
        tl.report("consumer-1", &[0, 1, 2, 3], t(100), None);
        tl.expect("consumer-2 joined".into(), t(5_000));
        tl.report("consumer-1", &[0, 1], t(5_500), Some(t(5_400)));
        // consumer-3 is asked for before consumer-2's report (of 5.6 s) reaches the lab.
        tl.expect("consumer-3 joined".into(), t(6_000));
        tl.report("consumer-2", &[2, 3], t(5_600), None);
        assert_eq!(tl.rebalances.len(), 2);
        assert_eq!(tl.rebalances[1].cause, "consumer-2 joined");
        assert_eq!(tl.rebalances[1].changes.len(), 2);
        assert_eq!(tl.rebalances[1].number, 2);
        // Its own change starts the next one.
        tl.report("consumer-3", &[], t(6_300), None);
        assert_eq!(tl.rebalances[2].cause, "consumer-3 joined");
        assert_eq!(tl.rebalances[2].number, 3);
    }

    /// A cooperative rebalance: the joiner gets nothing in the first phase and the moved
    /// partitions in the second; one line per member, not "idle", and marked as two phases.
    #[test]
    fn a_cooperative_rebalance_is_one_with_two_phases() {
        let mut tl = Timeline::new(true);
        tl.report("consumer-1", &[0, 1, 2, 3], t(0), None);
        tl.expect("consumer-2 joined".into(), t(10_000));
        tl.report("consumer-2", &[], t(10_200), None);
        tl.report("consumer-1", &[0, 1], t(10_250), Some(t(10_250)));
        tl.report("consumer-2", &[2, 3], t(10_400), None);
        let r = &tl.rebalances[1];
        assert!(r.two_phases);
        assert_eq!(r.changes.len(), 2, "{:?}", r.changes);
        assert_eq!(r.changes[0].member, "consumer-2");
        assert_eq!(r.changes[0].assigned, [2, 3]);
        assert_eq!(r.changes[1].revoked, [2, 3]);
        assert!(!tl.rebalances[0].two_phases);
    }

    /// An eager rebalance revokes everything, then assigns: not two phases, and a member
    /// given back what it had is no change.
    #[test]
    fn an_eager_rebalance_is_not_called_cooperative() {
        let mut tl = Timeline::default();
        tl.report("consumer-1", &[0, 1, 2, 3], t(0), None);
        tl.expect("consumer-2 joined".into(), t(10_000));
        tl.report("consumer-1", &[], t(10_100), Some(t(10_100)));
        tl.report("consumer-2", &[], t(10_150), None);
        tl.report("consumer-1", &[0, 1], t(10_300), None);
        tl.report("consumer-2", &[2, 3], t(10_300), None);
        let r = &tl.rebalances[1];
        assert!(!r.two_phases);
        assert_eq!(r.changes.len(), 2, "{:?}", r.changes);
        assert_eq!(r.changes[0].revoked, [2, 3]);
        assert_eq!(r.changes[1].assigned, [2, 3]);
        // consumer-3 joins and gets nothing; the others get back what they had.
        tl.expect("consumer-3 joined".into(), t(20_000));
        tl.report("consumer-1", &[], t(20_100), Some(t(20_100)));
        tl.report("consumer-2", &[], t(20_100), Some(t(20_100)));
        tl.report("consumer-3", &[], t(20_150), None);
        tl.report("consumer-1", &[0, 1], t(20_300), None);
        tl.report("consumer-2", &[2, 3], t(20_300), None);
        let r = &tl.rebalances[2];
        let members: Vec<&str> = r.changes.iter().map(|c| c.member.as_str()).collect();
        assert_eq!(
            members,
            ["consumer-3"],
            "only the joiner is news: {:?}",
            r.changes
        );
    }

    /// A member taken out for max.poll.interval.ms is told later, at its next read: the
    /// cause goes to the rebalance it made, and its rejoin is the next one's.
    #[test]
    fn a_late_kick_explains_the_rebalance_it_made() {
        let mut tl = Timeline::default();
        tl.report("consumer-1", &[0, 1], t(0), None);
        tl.report("consumer-2", &[2, 3], t(0), None);
        // At 10 s the group took consumer-2 out: consumer-1 got everything.
        tl.report("consumer-1", &[0, 1, 2, 3], t(10_000), None);
        assert_eq!(tl.rebalances[1].cause, "group change");
        // Its next read, 4 s later, tells of it.
        tl.explain_late(
            "consumer-2 exceeded max.poll.interval.ms = 6 s".into(),
            t(2_000),
            "consumer-2 rejoined after being taken out".into(),
            t(14_000),
        );
        assert_eq!(
            tl.rebalances[1].cause,
            "consumer-2 exceeded max.poll.interval.ms = 6 s"
        );
        tl.report("consumer-1", &[0, 1], t(15_000), None);
        assert_eq!(
            tl.rebalances[2].cause,
            "consumer-2 rejoined after being taken out"
        );
    }

    /// A member that crashes while it joins: the rebalance that ends its join (the others give
    /// it partitions it never reads) is the join's; the crash is the one that gives them back.
    #[test]
    fn a_crash_during_a_join_is_noticed_when_its_partitions_come_back() {
        let mut tl = Timeline::default();
        tl.report("consumer-1", &[0, 1, 2, 3], t(0), None);
        tl.expect("consumer-2 joined".into(), t(10_000));
        tl.crashed("consumer-2", t(11_000));
        tl.report("consumer-1", &[0, 1], t(14_000), Some(t(14_000)));
        assert_eq!(tl.rebalances[1].cause, "consumer-2 joined");
        assert_eq!(tl.unnoticed().count(), 1, "not noticed yet");
        tl.report("consumer-1", &[0, 1, 2, 3], t(31_000), None);
        assert_eq!(
            tl.rebalances[2].cause,
            "consumer-2 crashed (no heartbeat for 20 s)"
        );
        assert_eq!(tl.unnoticed().count(), 0);
    }

    /// The new owner's snapshot can reach the lab before the old owner's revocation: the
    /// partition is owned from the new owner's report, and the next move's gap counts from
    /// its own revocation.
    #[test]
    fn a_revocation_reported_after_the_new_owner_leaves_the_partition_owned() {
        let mut tl = Timeline::default();
        tl.report("consumer-1", &[0, 1, 2, 3], t(0), None);
        tl.expect("consumer-2 joined".into(), t(9_000));
        tl.report("consumer-2", &[2, 3], t(10_800), None);
        tl.report("consumer-1", &[0, 1], t(10_900), Some(t(10_000)));
        let r = &tl.rebalances[1];
        assert_eq!(
            r.unowned,
            [
                (2, Duration::from_millis(800)),
                (3, Duration::from_millis(800))
            ]
        );
        assert_eq!(r.owners[&2], "consumer-2");
        // A minute later consumer-3 joins, and the reports cross again: partition 3 was
        // without an owner for 0.5 s, not since the revocation a minute before.
        tl.expect("consumer-3 joined".into(), t(69_000));
        tl.report("consumer-3", &[3], t(70_500), None);
        tl.report("consumer-2", &[2], t(70_600), Some(t(70_000)));
        assert_eq!(tl.rebalances[2].unowned, [(3, Duration::from_millis(500))]);
        assert_eq!(tl.rebalances[2].owners[&3], "consumer-3");
        // consumer-3 leaves at 80 s, and consumer-1's report of partition 3 (at 80.4 s) comes
        // before the leave is told: 0.4 s without an owner.
        tl.expect("consumer-3 left".into(), t(79_000));
        tl.report("consumer-1", &[0, 1, 3], t(80_400), None);
        tl.left("consumer-3", t(80_000));
        assert_eq!(tl.rebalances[3].unowned, [(3, Duration::from_millis(400))]);
        assert_eq!(tl.rebalances[3].owners[&3], "consumer-1");
    }

    #[test]
    fn a_crash_is_a_rebalance_when_the_group_notices_it() {
        let mut tl = Timeline::default();
        tl.report("consumer-1", &[0, 1], t(0), None);
        tl.report("consumer-2", &[2, 3], t(0), None);
        tl.crashed("consumer-2", t(10_000));
        assert_eq!(tl.rebalances.len(), 1, "the crash itself moves nothing yet");
        // The session times out 6.5 s later: consumer-1 gets everything.
        tl.report("consumer-1", &[0, 1, 2, 3], t(16_500), Some(t(16_400)));
        let r = &tl.rebalances[1];
        assert_eq!(r.cause, "consumer-2 crashed (no heartbeat for 6.5 s)");
        assert_eq!(r.changes[0].member, "consumer-2");
        assert_eq!(r.changes[0].revoked, [2, 3]);
        assert_eq!(
            r.unowned,
            [
                (2, Duration::from_millis(6_500)),
                (3, Duration::from_millis(6_500))
            ],
            "unowned from the crash, not from the rebalance"
        );
    }

    #[test]
    fn a_static_member_back_in_time_keeps_its_partitions() {
        let mut tl = Timeline::default();
        tl.report("consumer-1", &[0, 1], t(0), None);
        tl.report("consumer-2", &[2, 3], t(0), None);
        tl.crashed("consumer-2", t(10_000));
        tl.restarted("consumer-2", true);
        tl.report("consumer-2", &[2, 3], t(12_500), None);
        let r = &tl.rebalances[1];
        assert_eq!(
            r.cause,
            "consumer-2 crashed and was back 2.5 s later with the same partitions (static \
             membership: no rebalance)"
        );
        assert_eq!(r.changes.len(), 1, "only its own: {:?}", r.changes);
        assert_eq!(r.changes[0].assigned, [2, 3]);
        assert_eq!(
            r.unowned,
            [
                (2, Duration::from_millis(2_500)),
                (3, Duration::from_millis(2_500))
            ]
        );
        // Restarted after the group noticed: a join like any other.
        tl.crashed("consumer-2", t(20_000));
        tl.report("consumer-1", &[0, 1, 2, 3], t(26_000), None);
        tl.restarted("consumer-2", true);
        tl.report("consumer-2", &[2, 3], t(40_000), None);
        assert_eq!(tl.rebalances[3].cause, "consumer-2 restarted");
        // Back in time but not static: the broker takes it as a new member, whatever it gets.
        tl.crashed("consumer-2", t(50_000));
        tl.restarted("consumer-2", false);
        tl.report("consumer-2", &[2, 3], t(53_000), None);
        assert_eq!(
            tl.rebalances[4].cause,
            "consumer-2 crashed and was back 3 s later, as a new member"
        );
    }
}
