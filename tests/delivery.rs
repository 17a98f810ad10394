//! What a crash costs a group, by commit mode: the ledger's reprocessed and skipped records
//! checked against the broker's own numbers (its committed offsets at the crash, its high
//! watermarks) and what each member read.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use kafka_lab::config::Layers;
use kafka_lab::lab::actors::member::{self, Start};
use kafka_lab::lab::ledger::SharedLedger;
use kafka_lab::lab::protocol::KafkaEvent;
use kafka_lab::lab::settings::{Commit, ConsumerSettings};
use kafka_lab::lab::snapshots::{MemberSnapshot, MemberState};
use tokio::sync::mpsc::Receiver;

const RECORDS: i64 = 600;

/// The next snapshot of member `id` that `pred` accepts, within a minute.
fn snapshot_where(
    rt: &tokio::runtime::Runtime,
    rx: &mut Receiver<KafkaEvent>,
    id: u32,
    what: &str,
    pred: impl Fn(&MemberSnapshot) -> bool,
) -> MemberSnapshot {
    let mut seen = None;
    let found = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(90), async {
            loop {
                match rx.recv().await {
                    Some(KafkaEvent::Member(m)) if m.id == id => {
                        if pred(&m) {
                            return *m;
                        }
                        seen = Some(m);
                    }
                    Some(_) => {}
                    None => panic!("events closed before {what}"),
                }
            }
        })
        .await
    });
    found.unwrap_or_else(|_| {
        panic!("no snapshot of consumer-{id} where {what} within 90 s; the last: {seen:#?}")
    })
}

/// The group's committed offset of each partition, as the broker has it (0 where none: the
/// members start from the earliest record then).
fn committed(cluster: &Cluster, group: &str) -> BTreeMap<i32, i64> {
    committed_offsets(cluster, group)
        .into_iter()
        .map(|(p, o)| (p, o.unwrap_or(0)))
        .collect()
}

struct Outcome {
    /// Records the crashed member finished, and the one that took over.
    first: u64,
    second: u64,
    /// The broker's committed offsets just after the crash, and its high watermarks.
    committed: BTreeMap<i32, i64>,
    high: BTreeMap<i32, i64>,
    reprocessed: u64,
    skipped: u64,
}

/// 600 records; consumer-1 works 2 ms on each, commits as `commit` says, and crashes a
/// third of the way; consumer-2 takes over from the committed offsets and reads to the end.
fn crash_and_take_over(cluster: &Cluster, commit: Commit) -> Outcome {
    let out = cluster.run(&["produce", "--count", &RECORDS.to_string(), "--rate", "max"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let group = unique_topic("delivery");
    let mut base = Layers::default();
    base.flag("bootstrap.servers", &cluster.bootstrap, "test");
    base.flag("group.id", &group, "test");
    let mock = !cluster.is_real();
    let consumer = ConsumerSettings {
        commit,
        work: Duration::from_millis(2),
        auto_offset_reset: "earliest".parse().unwrap(),
        // A real broker takes no less than its group.min.session.timeout.ms (6 s).
        session_timeout_ms: if mock { "2000" } else { "6000" }.into(),
        heartbeat_interval_ms: if mock { "400" } else { "1000" }.into(),
        ..ConsumerSettings::starting(&base, mock).0
    };
    let ledger = SharedLedger::default();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let start = |id: u32, tx| Start {
        ledger: ledger.clone(),
        commit: consumer.commit,
        work: consumer.work,
        ..Start::new(id, consumer.layers(&base, mock, id), &cluster.topic, tx)
    };
    let first = member::spawn(start(1, tx.clone()));
    snapshot_where(&rt, &mut rx, 1, "200 records are done", |m| {
        m.received >= 200
    });
    first.crash();
    let last = snapshot_where(&rt, &mut rx, 1, "it crashed", |m| {
        matches!(m.state, MemberState::Crashed(_))
    });
    assert!(
        last.received < RECORDS as u64,
        "crashed before the end: {}",
        last.received
    );
    // A commit under way as it crashed has landed by now.
    std::thread::sleep(Duration::from_secs(1));
    let committed = committed(cluster, &group);
    let high: BTreeMap<i32, i64> = (0..).zip(high_watermarks(cluster)).collect();
    assert_eq!(high.values().sum::<i64>(), RECORDS);

    let started = Instant::now();
    let second = member::spawn(Start {
        work: Duration::ZERO,
        ..start(2, tx)
    });
    // A partition committed to its end gives it nothing to read (and no position).
    let done = snapshot_where(&rt, &mut rx, 2, "it read to the end", |m| {
        m.partitions.len() == high.len()
            && m.partitions
                .iter()
                .all(|p| p.position.unwrap_or(committed[&p.partition]) == high[&p.partition])
    });
    eprintln!(
        "{commit}: consumer-2 read to the end {:.1} s after it started",
        started.elapsed().as_secs_f64()
    );
    rt.block_on(second.leave_and_wait(Duration::from_secs(10)));
    let total = ledger.lock().unwrap().total();
    Outcome {
        first: last.received,
        second: done.received,
        committed,
        high,
        reprocessed: total.reprocessed,
        skipped: total.skipped,
    }
}

impl Outcome {
    /// What the broker says the second member had to read: from each committed offset to
    /// the end.
    fn left_after_commit(&self) -> u64 {
        self.high
            .iter()
            .map(|(p, h)| (h - self.committed[p]).max(0) as u64)
            .sum()
    }

    /// Records finished at least once.
    fn distinct(&self) -> u64 {
        self.first + self.second - self.reprocessed
    }
}

cluster_test!(
    commit_after_the_work_repeats_what_was_not_committed_and_loses_nothing,
    |cluster: &Cluster| {
        let o = crash_and_take_over(cluster, Commit::After);
        eprintln!(
            "after: first {} second {} committed {:?} reprocessed {} skipped {}",
            o.first, o.second, o.committed, o.reprocessed, o.skipped
        );
        assert_eq!(
            o.second,
            o.left_after_commit(),
            "read from the committed offsets on"
        );
        assert_eq!(o.skipped, 0, "at least once: nothing lost");
        assert_eq!(o.distinct(), RECORDS as u64, "every record finished");
        // What the first finished past its last commit, the second did again.
        let committed: i64 = o.committed.values().sum();
        assert_eq!(o.reprocessed, o.first - committed as u64);
    }
);

cluster_test!(
    commit_before_the_work_skips_what_was_committed_and_not_done,
    |cluster: &Cluster| {
        let o = crash_and_take_over(cluster, Commit::Before);
        eprintln!(
            "before: first {} second {} committed {:?} reprocessed {} skipped {}",
            o.first, o.second, o.committed, o.reprocessed, o.skipped
        );
        assert_eq!(
            o.second,
            o.left_after_commit(),
            "read from the committed offsets on"
        );
        assert_eq!(o.reprocessed, 0, "at most once: nothing read twice");
        let committed: i64 = o.committed.values().sum();
        assert!(
            committed as u64 > o.first,
            "its batch was committed before the work: {committed} committed, {} done",
            o.first
        );
        assert_eq!(
            o.skipped,
            committed as u64 - o.first,
            "committed, never done"
        );
        assert_eq!(o.distinct() + o.skipped, RECORDS as u64);
    }
);

cluster_test!(
    a_polite_leave_with_auto_commit_commits_only_what_was_done,
    |cluster: &Cluster| {
        // librdkafka stores an offset as it hands a record over (auto-commit's way); closing
        // serves the queue, and must not hand over (and so commit) records nobody processed.
        // Enough records that it leaves with many still fetched and not processed.
        let records = 10 * RECORDS;
        let out = cluster.run(&["produce", "--count", &records.to_string(), "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let rt = tokio::runtime::Runtime::new().unwrap();
        let _guard = rt.enter();
        let group = unique_topic("leave");
        let mut base = Layers::default();
        base.flag("bootstrap.servers", &cluster.bootstrap, "test");
        base.flag("group.id", &group, "test");
        let mock = !cluster.is_real();
        let consumer = ConsumerSettings {
            commit: Commit::Auto,
            work: Duration::from_millis(2),
            auto_offset_reset: "earliest".parse().unwrap(),
            ..ConsumerSettings::starting(&base, mock).0
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let member = member::spawn(Start {
            commit: consumer.commit,
            work: consumer.work,
            ..Start::new(1, consumer.layers(&base, mock, 1), &cluster.topic, tx)
        });
        snapshot_where(&rt, &mut rx, 1, "200 records are done", |m| {
            m.received >= 200
        });
        rt.block_on(member.leave_and_wait(Duration::from_secs(20)));
        let last = snapshot_where(&rt, &mut rx, 1, "it left", |m| {
            m.state == MemberState::Leaving
        });
        assert!(last.received < records as u64, "{}", last.received);
        let committed: i64 = committed(cluster, &group).values().sum();
        assert_eq!(
            committed as u64, last.received,
            "committed exactly what it processed"
        );
    }
);
