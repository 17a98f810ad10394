//! The partition view's order (`<` and `>` step through it) and its summary line: at a
//! thousand partitions, what stands out must be found without scrolling.

use super::App;
use crate::lab::snapshots::{MemberState, PartitionLag};

/// How the partition view orders its rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PartitionSort {
    #[default]
    Number,
    /// The most lag first (no owner, no lag: last).
    Lag,
    /// The most records produced first: the skew.
    Records,
    /// By owner, in the members' order (no owner first: what nobody reads), then by number.
    Owner,
}

impl PartitionSort {
    pub const ALL: [PartitionSort; 4] = [
        PartitionSort::Number,
        PartitionSort::Lag,
        PartitionSort::Records,
        PartitionSort::Owner,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PartitionSort::Number => "partition",
            PartitionSort::Lag => "lag, most first",
            PartitionSort::Records => "records produced, most first",
            PartitionSort::Owner => "owner (none first)",
        }
    }

    /// The next (`step` 1) or previous order, round.
    pub fn stepped(self, step: isize) -> PartitionSort {
        let n = Self::ALL.len() as isize;
        let at = Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as isize;
        Self::ALL[(at + step).rem_euclid(n) as usize]
    }
}

/// What the summary line says of the topic's partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSummary {
    pub partitions: usize,
    pub unowned: usize,
    /// Held by a member that crashed, the group not knowing yet.
    pub crashed: usize,
    /// The partition with the most lag, and its lag.
    pub max_lag: Option<(i32, i64)>,
    /// The partition with the most records produced, and its records over the mean, times
    /// 100.
    pub fullest: Option<(i32, u64)>,
}

impl App {
    /// The topic's partitions (indexes into the topic snapshot's list) in the view's order.
    pub fn partition_order(&self) -> Vec<usize> {
        let Some(topic) = &self.model.topic else {
            return Vec::new();
        };
        let mut order: Vec<usize> = (0..topic.partitions.len()).collect();
        let number = |i: &usize| topic.partitions[*i].partition;
        match self.screen.partition_sort {
            PartitionSort::Number => order.sort_by_key(number),
            PartitionSort::Lag => {
                let owners = self.owners();
                let lag = |i: &usize| {
                    owners
                        .get(&number(i))
                        .and_then(|(_, l)| PartitionLag::lag(l))
                        .unwrap_or(-1)
                };
                order.sort_by_key(|i| (std::cmp::Reverse(lag(i)), number(i)));
            }
            PartitionSort::Records => {
                order.sort_by_key(|i| (std::cmp::Reverse(self.produced(number(i))), number(i)));
            }
            PartitionSort::Owner => {
                let owners = self.owners();
                order.sort_by_key(|i| {
                    (
                        owners.get(&number(i)).map(|(m, _)| m.snapshot.id),
                        number(i),
                    )
                });
            }
        }
        order
    }

    pub fn partition_summary(&self) -> Option<PartitionSummary> {
        let topic = self.model.topic.as_ref()?;
        let owners = self.owners();
        let mut summary = PartitionSummary {
            partitions: topic.partitions.len(),
            unowned: 0,
            crashed: 0,
            max_lag: None,
            fullest: None,
        };
        let mut total = 0u64;
        let mut most = None::<(i32, u64)>;
        for p in &topic.partitions {
            match owners.get(&p.partition) {
                None => summary.unowned += 1,
                Some((m, lag)) => {
                    if matches!(m.snapshot.state, MemberState::Crashed(_)) {
                        summary.crashed += 1;
                    }
                    if let Some(l) = lag.lag() {
                        if summary.max_lag.is_none_or(|(_, max)| l > max) {
                            summary.max_lag = Some((p.partition, l));
                        }
                    }
                }
            }
            let n = self.produced(p.partition);
            total += n;
            if most.is_none_or(|(_, m)| n > m) {
                most = Some((p.partition, n));
            }
        }
        let mean = total as f64 / topic.partitions.len().max(1) as f64;
        summary.fullest = most
            .filter(|_| total > 0)
            .map(|(p, n)| (p, (n as f64 * 100.0 / mean).round() as u64));
        Some(summary)
    }
}
