//! What the producer learnt of a run from its delivery reports (the ledger), and a read-back's
//! count against it (the tally).

use std::collections::BTreeMap;

use super::MAX_TRACKED;
use crate::stats::{Accounting, PartitionAccount};

/// A growable bit set, capped at [`MAX_TRACKED`] bits.
#[derive(Debug, Clone, Default)]
pub(super) struct Bits(Vec<u64>);

impl Bits {
    pub(super) fn set(&mut self, i: u64) -> bool {
        let (word, bit) = ((i / 64) as usize, i % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        let was = self.0[word] & (1 << bit) != 0;
        self.0[word] |= 1 << bit;
        was
    }

    pub(super) fn get(&self, i: u64) -> bool {
        self.0
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct PartitionRange {
    /// -1 when the acknowledgements carried no offsets (acks=0).
    pub(super) first_offset: i64,
    pub(super) last_offset: i64,
    acknowledged: u64,
    /// Acknowledged records of aborted transactions: in the log, never to be read committed.
    aborted: u64,
}

/// What the producer learnt from its delivery reports.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    acked: Bits,
    failed: Bits,
    /// Records of transactions the producer aborts.
    aborted: Bits,
    /// The open transaction's first record, and its records acknowledged so far (where):
    /// withdrawn if the transaction fails.
    open_txn: Option<(u64, Vec<(u64, i32)>)>,
    pub(super) partitions: BTreeMap<i32, PartitionRange>,
    /// More records than [`MAX_TRACKED`]: not verifiable.
    pub overflow: bool,
    /// Some acknowledgements carried no offset: the broker confirmed nothing (acks=0).
    pub unconfirmed: bool,
    /// The cluster's brokers as the producer last knew them (`host:port`).
    pub brokers: Vec<String>,
}

impl Ledger {
    /// Record `seq` was acknowledged in `partition`, at `offset` when the broker said (with
    /// acks=0 it does not).
    pub fn acknowledged(&mut self, seq: u64, partition: i32, offset: Option<i64>) {
        if seq >= MAX_TRACKED {
            self.overflow = true;
            return;
        }
        if !self.acked.set(seq) {
            self.unconfirmed |= offset.is_none();
            let offset = offset.unwrap_or(-1);
            let range = self.partitions.entry(partition).or_insert(PartitionRange {
                first_offset: offset,
                last_offset: offset,
                acknowledged: 0,
                aborted: 0,
            });
            if offset >= 0 && (range.first_offset < 0 || offset < range.first_offset) {
                range.first_offset = offset;
            }
            range.last_offset = range.last_offset.max(offset);
            if self.aborted.get(seq) {
                range.aborted += 1;
            } else {
                range.acknowledged += 1;
                if let Some((first, acked)) = &mut self.open_txn {
                    if seq >= *first {
                        acked.push((seq, partition));
                    }
                }
            }
        }
    }

    /// A transaction begins at record `first` (None: the open one ended as planned).
    pub fn transaction(&mut self, first: Option<u64>) {
        self.open_txn = first.map(|f| (f, Vec::new()));
    }

    /// The open transaction failed and was aborted (or will be, by the broker): its records
    /// from `first` to `last` are not expected, whether acknowledged yet or not. Returns
    /// `first` (None: no transaction was open).
    pub fn withdraw_transaction(&mut self, last: u64) -> Option<u64> {
        let (first, acked) = self.open_txn.take()?;
        for (seq, partition) in acked {
            if let Some(range) = self.partitions.get_mut(&partition) {
                range.acknowledged -= 1;
                range.aborted += 1;
            }
            self.aborted.set(seq);
        }
        for seq in first..=last.min(MAX_TRACKED - 1) {
            self.aborted.set(seq);
        }
        Some(first)
    }

    /// Record `seq` belongs to a transaction the producer aborts (said before it is sent).
    pub fn aborting(&mut self, seq: u64) {
        if seq < MAX_TRACKED {
            self.aborted.set(seq);
        }
    }

    pub fn failed(&mut self, seq: u64) {
        if seq < MAX_TRACKED {
            self.failed.set(seq);
        }
    }

    pub fn acknowledged_total(&self) -> u64 {
        self.partitions.values().map(|p| p.acknowledged).sum()
    }
}

/// Counts what a read-back found, against the ledger. Pure: fed one record at a time.
#[derive(Debug)]
pub struct Tally<'a> {
    ledger: &'a Ledger,
    seen: Bits,
    failed_seen: Bits,
    accounting: Accounting,
}

impl<'a> Tally<'a> {
    pub fn new(ledger: &'a Ledger) -> Tally<'a> {
        let per_partition = ledger
            .partitions
            .iter()
            .map(|(p, r)| {
                (
                    *p,
                    PartitionAccount {
                        acknowledged: r.acknowledged,
                        aborted: r.aborted,
                        ..PartitionAccount::default()
                    },
                )
            })
            .collect();
        Tally {
            ledger,
            seen: Bits::default(),
            failed_seen: Bits::default(),
            accounting: Accounting {
                per_partition,
                ..Accounting::default()
            },
        }
    }

    /// One record of this run, found in `partition`.
    pub fn record(&mut self, partition: i32, seq: u64) {
        if seq >= MAX_TRACKED {
            return;
        }
        if self.ledger.aborted.get(seq) {
            // Seen only by a read that does not skip aborted transactions.
            self.accounting.aborted_seen += 1;
        } else if self.ledger.acked.get(seq) {
            let account = self.accounting.per_partition.entry(partition).or_default();
            if self.seen.set(seq) {
                account.duplicated += 1;
                self.accounting.duplicated += 1;
            } else {
                account.received += 1;
                self.accounting.received += 1;
            }
        } else if self.ledger.failed.get(seq) && !self.failed_seen.set(seq) {
            self.accounting.failed_but_written += 1;
        }
    }

    /// The partition's offsets below `low` are gone: what is not found there is unchecked.
    pub fn deleted_below(&mut self, partition: i32, low: i64) {
        self.accounting
            .per_partition
            .entry(partition)
            .or_default()
            .deleted_below = Some(low);
    }

    pub fn finish(mut self) -> Accounting {
        let (mut unchecked, mut not_found_total) = (0, 0);
        let unconfirmed = self.ledger.unconfirmed;
        for account in self.accounting.per_partition.values_mut() {
            let not_found = account.acknowledged.saturating_sub(account.received);
            if account.deleted_below.is_some() {
                unchecked += not_found;
            } else if unconfirmed {
                not_found_total += not_found;
            } else {
                account.missing = not_found;
            }
        }
        self.accounting.aborted = self
            .accounting
            .per_partition
            .values()
            .map(|a| a.aborted)
            .sum();
        self.accounting.unchecked = unchecked;
        self.accounting.unconfirmed = unconfirmed;
        self.accounting.not_found = not_found_total;
        self.accounting.missing = self
            .accounting
            .per_partition
            .values()
            .map(|a| a.missing)
            .sum();
        self.accounting
    }
}
