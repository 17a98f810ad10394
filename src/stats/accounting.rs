//! What a read-back found of a run: by the sequence number in each record's header.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the consumers got back of a run: by the sequence number in each record's header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accounting {
    /// Acknowledged records found in the topic.
    pub received: u64,
    /// Acknowledged records not found.
    pub missing: u64,
    /// Extra copies of records found more than once.
    pub duplicated: u64,
    /// Records reported failed that are in the topic all the same.
    pub failed_but_written: u64,
    /// Acknowledged records that could not be checked: the cluster had already deleted the
    /// oldest offsets of their partition (retention).
    pub unchecked: u64,
    /// The broker confirmed nothing (acks=0): records not found are `not_found`, never
    /// `missing`, since nothing promised they were written.
    pub unconfirmed: bool,
    /// Sent without confirmation and not found (acks=0).
    pub not_found: u64,
    /// Acknowledged records of transactions the producer aborted: written, never to be read
    /// committed, so neither expected nor missing.
    pub aborted: u64,
    /// Records of aborted transactions the read-back saw (0 when it reads committed only).
    pub aborted_seen: u64,
    /// How long the read-back took, in seconds (0 when it was not timed).
    pub read_back_s: f64,
    pub per_partition: BTreeMap<i32, PartitionAccount>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartitionAccount {
    pub acknowledged: u64,
    /// Acknowledged records of aborted transactions (not in `acknowledged`).
    pub aborted: u64,
    pub received: u64,
    pub missing: u64,
    pub duplicated: u64,
    /// Set when the partition no longer starts at the run's first offset: offsets below this
    /// were deleted by the cluster, so records not found are unchecked, not missing.
    pub deleted_below: Option<i64>,
}

impl Accounting {
    /// `read back: N received, ...` for a summary.
    pub fn line(&self) -> String {
        if self.unconfirmed {
            return format!(
                "read back: {} of {} sent found, {} duplicated (acks=0: the cluster confirmed \
                 nothing, so the {} not found are not counted missing){}.",
                self.received,
                self.received + self.not_found,
                self.duplicated,
                self.not_found,
                self.unchecked_note()
            );
        }
        format!(
            "read back: {} received, {} missing, {} duplicated, {} failed but written{}{}.",
            self.received,
            self.missing,
            self.duplicated,
            self.failed_but_written,
            self.aborted_note(),
            self.unchecked_note()
        )
    }

    /// Says what aborted transactions held, if any.
    pub fn aborted_note(&self) -> String {
        if self.aborted == 0 && self.aborted_seen == 0 {
            return String::new();
        }
        format!(
            "; {} in aborted transactions, not expected ({} of them seen)",
            self.aborted, self.aborted_seen
        )
    }

    /// Says which records could not be checked, if any.
    pub fn unchecked_note(&self) -> String {
        if self.unchecked == 0 {
            return String::new();
        }
        let cut: Vec<String> = self
            .per_partition
            .iter()
            .filter(|(_, p)| p.deleted_below.is_some())
            .map(|(p, _)| p.to_string())
            .collect();
        format!(
            "; {} not checked: the cluster had deleted the oldest records of partitions [{}] \
             (retention; the embedded cluster keeps at most 5 MB or 100,000 records per partition)",
            self.unchecked,
            cut.join(",")
        )
    }
}
