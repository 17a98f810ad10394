//! Durability, counted: which acknowledged records of a run are in the topic, which are
//! missing, which are there twice. Each record carries its run tag and sequence number in
//! headers; the producer keeps a ledger of what was acknowledged where, and a reader goes over
//! the partitions' offsets afterwards.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::config::ClientSettings;
use crate::kafka::consumer::FAST_FETCH;
use crate::stats::Accounting;

pub const RUN_HEADER: &str = "kafka-lab-run";
pub const SEQ_HEADER: &str = "kafka-lab-seq";
/// Runs longer than this many records are not tracked (the ledger's memory stays bounded).
pub const MAX_TRACKED: u64 = 20_000_000;

mod ledger;
mod marks;
pub use ledger::{Ledger, Tally};
pub use marks::AbortedMarks;

/// How long the read-back waits for a partition's end to pass its acknowledged records (with
/// acks=1 a follower catches up shortly after the answer) or, with acks=0, to stop growing. A
/// high watermark held back by a slow follower moves once the follower leaves the in-sync
/// replicas (`replica.lag.time.max.ms`, 30 s by default), so this waits longer than that; a
/// partition still short after it lost records (a leader died before its followers had them).
const SETTLE: Duration = Duration::from_secs(35);

/// Errors after which a read-back goes on: the cluster is moving leaders or a broker is down.
fn transient(e: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    e.rdkafka_error_code().is_some_and(|c| {
        matches!(
            c,
            C::BrokerTransportFailure
                | C::AllBrokersDown
                | C::NotLeaderForPartition
                | C::LeaderNotAvailable
                | C::RequestTimedOut
                | C::OperationTimedOut
                | C::NetworkException
                | C::NotCoordinator
                | C::FencedLeaderEpoch
                | C::UnknownLeaderEpoch
                | C::OffsetNotAvailable
                | C::PartitionEOF
                | C::MessageTimedOut
                | C::Resolve
                | C::DestroyBroker
                | C::UnknownTopicOrPartition
                | C::UnknownPartition
        )
    })
}

/// Each of the run's partitions with its low watermark and the end to read to: its high
/// watermark once that passes the last acknowledged offset, or stops growing (acks=0), or
/// [`SETTLE`] has passed. Watermark lookups that fail while leaders move are retried.
fn settled_ends(
    consumer: &BaseConsumer,
    topic: &str,
    ledger: &Ledger,
    deadline: Instant,
) -> Result<BTreeMap<i32, (i64, i64)>, String> {
    let settle = Instant::now() + SETTLE;
    let mut found: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    let mut settled: BTreeMap<i32, bool> = ledger.partitions.keys().map(|p| (*p, false)).collect();
    loop {
        let mut last_error = None;
        for (p, done) in &mut settled {
            if *done {
                continue;
            }
            let range = &ledger.partitions[p];
            match consumer.fetch_watermarks(topic, *p, Duration::from_secs(5)) {
                Ok((low, high)) => {
                    let before = found.insert(*p, (low, high));
                    *done = if range.first_offset < 0 {
                        // acks=0: the reports came before the broker wrote anything.
                        before.is_some_and(|(_, h)| h == high)
                    } else {
                        high > range.last_offset
                    };
                }
                Err(e) if transient(&e) => last_error = Some(format!("partition {p}: {e}")),
                Err(e) => return Err(format!("partition {p}: {e}")),
            }
        }
        if last_error.is_some() {
            // A client that only asks for watermarks keeps asking the old leader: a metadata
            // request names the new one.
            let _ = consumer.fetch_metadata(Some(topic), Duration::from_secs(5));
        }
        if settled.values().all(|d| *d) {
            return Ok(found);
        }
        // Past the settling time, what is known is the end; a partition not reached yet
        // (its leader moving) is waited for until the read-back's deadline.
        if Instant::now() >= settle && found.len() == settled.len() {
            return Ok(found);
        }
        if Instant::now() >= deadline {
            return Err(last_error.unwrap_or_else(|| "no watermarks".to_string()));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// How long a read-back may go without reading a record before it gives up.
const STALL: Duration = Duration::from_secs(30);
/// Without a record for this long, the unfinished partitions are fetched afresh from where
/// they stand (a fetch that never came back, seen on a busy embedded cluster, is dropped).
const NUDGE: Duration = Duration::from_secs(8);

/// Where the read-back stood on each partition it had not finished: "0 at 1200 of 1500".
fn unfinished(consumer: &BaseConsumer, topic: &str, ends: &BTreeMap<i32, i64>) -> String {
    let at = consumer.position().ok();
    let parts: Vec<String> = ends
        .iter()
        .map(|(p, end)| {
            let position = at
                .as_ref()
                .and_then(|l| l.find_partition(topic, *p))
                .and_then(|e| e.offset().to_raw())
                .filter(|o| *o >= 0)
                .map_or_else(|| "not begun".to_string(), |o| format!("at {o}"));
            format!("partition {p} {position} of {end}")
        })
        .collect();
    parts.join(", ")
}

/// How long a read-back of `records` acknowledged records may take.
pub fn timeout_for(records: u64) -> Duration {
    Duration::from_secs(60) + Duration::from_millis(records / 20)
}

/// Reads the run's partitions from its first acknowledged offsets to their current ends and
/// counts its records. `settings` are consumer settings for the same cluster.
pub fn read_back(
    settings: &ClientSettings,
    topic: &str,
    run_tag: &str,
    ledger: &Ledger,
    timeout: Duration,
) -> Result<Accounting, String> {
    read_back_showing(settings, topic, run_tag, ledger, timeout, |_, _| {})
}

/// The run tag and sequence a lab record carries in its headers.
pub fn run_and_seq<M: Message>(m: &M) -> Option<(&[u8], u64)> {
    let (mut run, mut seq) = (None, None);
    for h in m.headers()?.iter() {
        match h.key {
            RUN_HEADER => run = h.value,
            SEQ_HEADER => seq = h.value,
            _ => {}
        }
    }
    let seq = std::str::from_utf8(seq?).ok()?.parse().ok()?;
    Some((run?, seq))
}

/// The read-back's consumer: it commits nothing and starts where it is told (or at the
/// earliest offset).
fn reader(settings: &ClientSettings, ledger: &Ledger) -> Result<BaseConsumer, String> {
    let mut config = settings.client_config();
    // Bootstrap from every broker the producer knew, not only the configured ones: one of
    // those may be the broker that just died.
    if let Some(servers) = config.get("bootstrap.servers").map(str::to_string) {
        let mut all: Vec<String> = servers.split(',').map(|s| s.trim().to_string()).collect();
        for b in &ledger.brokers {
            if !all.contains(b) {
                all.push(b.clone());
            }
        }
        config.set("bootstrap.servers", all.join(","));
    }
    config
        .set("group.id", "kafka-lab-verify")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set(FAST_FETCH.0, FAST_FETCH.1);
    config.create().map_err(|e| e.to_string())
}

/// [`read_back`], telling `progress` every few thousand records how many were read of how
/// many there are to read.
pub fn read_back_showing(
    settings: &ClientSettings,
    topic: &str,
    run_tag: &str,
    ledger: &Ledger,
    timeout: Duration,
    mut progress: impl FnMut(u64, u64),
) -> Result<Accounting, String> {
    if ledger.overflow {
        return Err(format!("runs over {MAX_TRACKED} records are not verified"));
    }
    let consumer = reader(settings, ledger)?;
    let started = Instant::now();
    let settle_by = started + timeout;
    let mut last_read = started;
    let mut tally = Tally::new(ledger);
    let mut ends: BTreeMap<i32, i64> = BTreeMap::new();
    // The next offset to read of each partition, as far as the records read say.
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    let mut to_read = 0u64;
    let mut read = 0u64;
    let mut assignment = TopicPartitionList::new();
    for (p, (low, high)) in settled_ends(&consumer, topic, ledger, settle_by)? {
        let range = &ledger.partitions[&p];
        // With acks=0 the producer learns no offsets: read the whole partition.
        let start = if range.first_offset >= 0 {
            range.first_offset.max(low)
        } else {
            low
        };
        if range.first_offset >= 0 && low > range.first_offset {
            tally.deleted_below(p, low);
        }
        if high > start {
            to_read += u64::try_from(high - start).unwrap_or(0);
            ends.insert(p, high);
            next.insert(p, start);
            assignment
                .add_partition_offset(topic, p, Offset::Offset(start))
                .map_err(|e| e.to_string())?;
        }
    }
    consumer.assign(&assignment).map_err(|e| e.to_string())?;
    let mut last_nudge = Instant::now();
    let mut last_error = None;
    while !ends.is_empty() {
        // A read-back that is reading goes on: a cluster busy with the next run serves it
        // slowly, not never. It gives up when its time is out and nothing came for a while.
        if Instant::now() >= settle_by.max(last_read + STALL) {
            return Err(format!(
                "read-back gave up after {} s ({read} records read, the last {} s ago): {}{}",
                started.elapsed().as_secs(),
                last_read.elapsed().as_secs(),
                unfinished(&consumer, topic, &ends),
                last_error
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            ));
        }
        let Some(result) = consumer.poll(Duration::from_millis(200)) else {
            drop_passed(&consumer, topic, &mut ends);
            if last_read.elapsed() >= NUDGE && last_nudge.elapsed() >= NUDGE {
                last_nudge = Instant::now();
                refetch(&consumer, topic, &mut ends, &next, &mut tally);
            }
            continue;
        };
        let m = match result {
            Ok(m) => m,
            // A broker down or a leader moving: librdkafka goes on with the new leader.
            Err(e) if transient(&e) => {
                last_error = Some(e.to_string());
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        let (partition, offset) = (m.partition(), m.offset());
        read += 1;
        last_read = Instant::now();
        if read % 4096 == 0 {
            progress(read, to_read);
        }
        if let Some((run, seq)) = run_and_seq(&m) {
            if run == run_tag.as_bytes() {
                tally.record(partition, seq);
            }
        }
        next.insert(partition, offset + 1);
        if ends.get(&partition).is_some_and(|end| offset + 1 >= *end) {
            ends.remove(&partition);
        }
    }
    Ok(tally.finish())
}

/// Seeks each unfinished partition to where its reading stands: librdkafka drops what it
/// waits for and fetches from there again. Where the cluster has deleted the records there
/// meanwhile (a busy next run fills the embedded cluster's partitions, and their oldest
/// records go), the read goes on from the partition's new start and what was deleted is
/// unchecked; a partition whose start has passed its end is done.
fn refetch(
    consumer: &BaseConsumer,
    topic: &str,
    ends: &mut BTreeMap<i32, i64>,
    next: &BTreeMap<i32, i64>,
    tally: &mut Tally<'_>,
) {
    let unfinished: Vec<(i32, i64)> = ends.iter().map(|(p, e)| (*p, *e)).collect();
    for (p, end) in unfinished {
        let Some(mut from) = next.get(&p).copied() else {
            continue;
        };
        if let Ok((low, _)) = consumer.fetch_watermarks(topic, p, Duration::from_secs(2)) {
            if low > from {
                tally.deleted_below(p, low);
                from = low;
            }
        }
        if from >= end {
            ends.remove(&p);
        } else {
            let _ = consumer.seek(topic, p, Offset::Offset(from), Duration::from_secs(1));
        }
    }
}

/// A transaction's commit marker takes the last offset and is never handed out: a partition
/// whose position has passed its end is read.
fn drop_passed(consumer: &BaseConsumer, topic: &str, ends: &mut BTreeMap<i32, i64>) {
    let Ok(positions) = consumer.position() else {
        return;
    };
    for e in positions.elements_for_topic(topic) {
        if let Offset::Offset(at) = e.offset() {
            if ends.get(&e.partition()).is_some_and(|end| at >= *end) {
                ends.remove(&e.partition());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of aborted transactions are neither expected nor missing; a read that sees
    /// them counts them apart.
    #[test]
    fn aborted_transactions_are_not_expected() {
        let mut ledger = Ledger::default();
        for seq in 0..10u64 {
            if (4..8).contains(&seq) {
                ledger.aborting(seq);
            }
            ledger.acknowledged(seq, 0, Some(seq as i64));
        }
        assert_eq!(ledger.acknowledged_total(), 6);
        // A read_committed read: the committed ones, one of them missing.
        let mut tally = Tally::new(&ledger);
        for seq in [0, 1, 2, 8, 9] {
            tally.record(0, seq);
        }
        let a = tally.finish();
        assert_eq!(
            (a.received, a.missing, a.aborted, a.aborted_seen),
            (5, 1, 4, 0)
        );
        // A read_uncommitted one sees everything: nothing missing, the aborted seen.
        let mut tally = Tally::new(&ledger);
        for seq in 0..10 {
            tally.record(0, seq);
        }
        let a = tally.finish();
        assert_eq!((a.received, a.missing, a.duplicated), (6, 0, 0));
        assert_eq!((a.aborted, a.aborted_seen), (4, 4));
        assert!(a
            .line()
            .contains("4 in aborted transactions, not expected (4 of them seen)"));
    }

    /// A transaction whose commit failed is withdrawn: its records acknowledged so far and
    /// those acknowledged later are not expected, never missing; the next one counts again.
    #[test]
    fn a_failed_transaction_is_withdrawn_not_missing() {
        let mut ledger = Ledger::default();
        ledger.transaction(Some(0));
        for seq in 0..3u64 {
            ledger.acknowledged(seq, (seq % 2) as i32, Some(seq as i64));
        }
        ledger.withdraw_transaction(4);
        // A report that comes after the failure.
        ledger.acknowledged(3, 1, Some(3));
        ledger.transaction(Some(5));
        ledger.acknowledged(5, 0, Some(5));
        ledger.transaction(None);
        assert_eq!(ledger.acknowledged_total(), 1);
        let mut tally = Tally::new(&ledger);
        tally.record(0, 5);
        let a = tally.finish();
        assert_eq!((a.received, a.missing, a.aborted), (1, 0, 4));
    }

    #[test]
    fn counts_received_missing_duplicated_and_failed_but_written() {
        let mut ledger = Ledger::default();
        // seq 0..6 acknowledged, alternating partitions 0 and 1; seq 6 failed.
        for seq in 0..6u64 {
            ledger.acknowledged(seq, (seq % 2) as i32, Some(100 + seq as i64));
        }
        ledger.failed(6);
        assert_eq!(ledger.acknowledged_total(), 6);
        let mut tally = Tally::new(&ledger);
        for (partition, seq) in [
            (0, 0),
            (1, 1),
            (0, 2),
            (0, 2),
            (1, 5),
            (0, 6),
            (0, 6),
            (1, 99),
        ] {
            tally.record(partition, seq);
        }
        let a = tally.finish();
        assert_eq!(a.unchecked, 0);
        assert_eq!(a.received, 4);
        assert_eq!(a.duplicated, 1);
        assert_eq!(a.missing, 2, "seq 3 (partition 1) and seq 4 (partition 0)");
        assert_eq!(a.failed_but_written, 1);
        assert_eq!(a.per_partition[&0].missing, 1);
        assert_eq!(a.per_partition[&1].missing, 1);
        assert_eq!(a.per_partition[&0].duplicated, 1);
        assert_eq!(a.per_partition[&0].acknowledged, 3);
    }

    #[test]
    fn records_of_partitions_cut_by_retention_are_unchecked_not_missing() {
        let mut ledger = Ledger::default();
        for seq in 0..10u64 {
            ledger.acknowledged(seq, (seq % 2) as i32, Some(seq as i64 / 2));
        }
        let mut tally = Tally::new(&ledger);
        tally.deleted_below(0, 3);
        for seq in [6, 8, 1, 3, 5, 7, 9] {
            tally.record((seq % 2) as i32, seq);
        }
        let a = tally.finish();
        assert_eq!(a.missing, 0);
        assert_eq!(a.unchecked, 3, "seqs 0, 2, 4 were below the low watermark");
        assert_eq!(a.per_partition[&0].deleted_below, Some(3));
    }

    #[test]
    fn the_ledger_stays_bounded() {
        let mut ledger = Ledger::default();
        ledger.acknowledged(MAX_TRACKED + 1, 0, Some(0));
        assert!(ledger.overflow);
        assert_eq!(ledger.acknowledged_total(), 0);
    }

    #[test]
    fn without_confirmations_nothing_is_missing_what_was_found_is_counted() {
        let mut ledger = Ledger::default();
        for seq in 0..10u64 {
            ledger.acknowledged(seq, (seq % 2) as i32, None);
        }
        let mut tally = Tally::new(&ledger);
        for seq in [0, 1, 2, 3, 4, 5, 5] {
            tally.record((seq % 2) as i32, seq);
        }
        let a = tally.finish();
        assert!(a.unconfirmed);
        assert_eq!(
            (a.received, a.missing, a.not_found, a.duplicated),
            (6, 0, 4, 1)
        );
        assert!(a.line().contains("6 of 10 sent found"), "{}", a.line());
    }
}
