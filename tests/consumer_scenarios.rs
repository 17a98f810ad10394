//! The consumer half's shipped scenarios through the real binary, at speed 1 (a session
//! timeout does not shrink). A binary of their own: they run apart from the durability trials,
//! whose timings a busy machine would bend.

mod common;

use common::play::{passed, play, play_in};
use common::*;

/// A member crashed in each commit mode: after the work repeats and loses nothing, before the
/// work loses and repeats nothing (the scenario's own assertions), each phase in the report's
/// Delivery table.
#[test]
fn delivery_semantics_on_the_embedded_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let (out, md, _) = play_in(dir.path(), "delivery-semantics", "1", &[]);
    passed(&out, &md);
    // Each commit step began a consumer run, which counts its own crash's cost.
    let mut csv = csv::Reader::from_path(dir.path().join("out/consumer-runs.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "{md}");
    let counts = |i: usize| -> (u64, u64) {
        let n = |name: &str| rows[i][at(name)].parse::<u64>().unwrap();
        (n("reprocessed"), n("skipped"))
    };
    assert!(rows[0][at("settings")].contains("commit=after"), "{md}");
    assert!(rows[1][at("settings")].contains("commit=before"), "{md}");
    let (after, before) = (counts(0), counts(1));
    assert!(after.0 > 0 && after.1 == 0, "after: at least once: {md}");
    // The run also holds consumer-2's restart, whose rebalance the embedded cluster's
    // coordinator makes re-read (it refuses commits mid-rebalance): reprocessed is counted from
    // the scenario's mark, after it.
    assert!(before.1 > 0, "before: at most once: {md}");
    assert!(md.contains("## Delivery"), "{md}");
    for mark in [
        "| commit after the work | ",
        "| commit before the work | 0 | ",
        "| librdkafka's auto-commit | ",
    ] {
        assert!(md.contains(mark), "{mark}: {md}");
    }
    assert_eq!(
        md.matches("consumer-2 crashed (no heartbeat for").count(),
        3,
        "{md}"
    );
}

/// Leave, crash with 45 s and 6 s sessions, and a static member back in time, on a real
/// broker (the embedded cluster does not honour static membership).
#[test]
fn failure_detection_on_a_local_broker() {
    let Some(bootstrap) = real_bootstrap() else {
        skipped!("SKIPPED failure_detection_on_a_local_broker: KAFKA_LAB_BOOTSTRAP is not set (scripts/kafka-local start)");
        return;
    };
    let (out, md, _) = play("failure-detection", "1", &["-b", &bootstrap]);
    passed(&out, &md);
    assert!(
        md.contains("with the same partitions (static membership: no rebalance)"),
        "{md}"
    );
}

/// The consumer runs (`R`, the report's Consumer runs, consumer-runs.csv) on a real broker, at
/// 20 records/s: fetch.min.bytes 1 MB makes every fetch wait fetch.wait.max.ms, so latency goes
/// up and fetch requests down, and back; each consumer step is a run, each run consumed at the
/// rate the broker confirmed the producer's records.
#[test]
fn consumer_runs_of_the_fetch_lesson_on_a_local_broker() {
    let Some(bootstrap) = real_bootstrap() else {
        skipped!("SKIPPED consumer_runs_of_the_fetch_lesson_on_a_local_broker: KAFKA_LAB_BOOTSTRAP is not set (scripts/kafka-local start)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (out, md, runs) = play_in(dir.path(), "consumer-fetching", "1", &["-b", &bootstrap]);
    passed(&out, &md);
    assert!(md.contains("## Consumer runs"), "{md}");
    let mut csv = csv::Reader::from_path(dir.path().join("out/consumer-runs.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4, "a run per consumer step: {md}");
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let num = |row: &csv::StringRecord, name: &str| -> f64 {
        row[at(name)]
            .parse()
            .unwrap_or_else(|_| panic!("{name} of run {}: {md}", &row[0]))
    };
    assert!(rows[1][at("settings")].contains("fetch.min.bytes=1000000"));
    // The producer's rate, from its deliveries (which other tests check against the broker).
    let produced = runs[0]["records_per_sec"].as_f64().unwrap();
    for row in &rows {
        let rate = num(row, "records_per_sec");
        assert!(
            (rate - produced).abs() <= produced * 0.15,
            "run {} consumed {rate}/s of {produced}/s: {md}",
            &row[0]
        );
        assert_eq!(num(row, "skipped"), 0.0, "{md}");
    }
    let (p50, fetches) = (
        |i: usize| num(&rows[i], "e2e_p50_ms"),
        |i: usize| num(&rows[i], "fetch_requests_per_sec"),
    );
    // The broker holds every fetch for the whole wait when 1 MB never comes.
    assert!(p50(1) > 150.0 && p50(1) < 500.0, "{md}");
    assert!(p50(2) > 20.0 && p50(2) < 100.0, "{md}");
    assert!(p50(0) < 50.0 && p50(3) < 50.0, "{md}");
    assert!(fetches(1) < fetches(2) && fetches(2) < fetches(0), "{md}");
    assert!(fetches(1) <= 4.0, "two fetches a second: {md}");
}

/// A scenario that rewinds a group of two to the log's start while 200 records/s flow, with
/// the group protocol `protocol`.
fn rewind_scenario(dir: &std::path::Path, protocol: &str, reprocessed: bool) -> String {
    // The embedded cluster's coordinator refuses commits while a group rebalances, so there
    // some records are read again by the rebalance itself.
    let reprocessed = if reprocessed {
        "[[step]]\nassert = \"reprocessed == 0\"\n"
    } else {
        ""
    };
    let path = dir.join("rewind.toml");
    std::fs::write(
        &path,
        format!(
            r#"title = "Rewind"
description = "A group of two reads, is rewound to the log's start, and reads it all again."
cluster = "any"

[topic]
partitions = 6

[[step]]
group = {{ "group.protocol" = "{protocol}" }}

[[step]]
consumer = {{ "auto.offset.reset" = "earliest" }}

[[step]]
commit = "after"

[[step]]
rate = 200

[[step]]
start = "producer"

[[step]]
consumers = 2

[[step]]
assert = "members == 2"
within = "60s"

[[step]]
wait = "8s"

[[step]]
mark = "rewound"

[[step]]
rewind = "earliest"

[[step]]
assert = "reread > 1000"
within = "60s"

[[step]]
assert = "skipped == 0"

{reprocessed}
[[step]]
assert = "members == 2"
within = "30s"

[[step]]
stop = "producer"
"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// What a rewind re-reads is said apart (re-read, not reprocessed), and loses nothing; the
/// group is whole again after it; with either group protocol (the embedded cluster takes the
/// new offsets only from a member: the lab joins the group alone to commit them).
#[test]
fn a_rewind_rereads_on_the_embedded_cluster() {
    for protocol in ["classic", "consumer"] {
        let dir = tempfile::tempdir().unwrap();
        let file = rewind_scenario(dir.path(), protocol, false);
        let (out, md, _) = play_in(dir.path(), &file, "1", &[]);
        passed(&out, &md);
        assert!(
            md.contains("group rewound to the log's start (earliest)"),
            "{protocol}: {md}"
        );
    }
}

#[test]
fn a_rewind_rereads_and_never_reprocesses_on_a_local_broker() {
    let Some(bootstrap) = real_bootstrap() else {
        skipped!("SKIPPED a_rewind_rereads_and_never_reprocesses_on_a_local_broker: KAFKA_LAB_BOOTSTRAP is not set (scripts/kafka-local start)");
        return;
    };
    for protocol in ["classic", "consumer"] {
        let dir = tempfile::tempdir().unwrap();
        let file = rewind_scenario(dir.path(), protocol, true);
        let (out, md, _) = play_in(dir.path(), &file, "1", &["-b", &bootstrap]);
        passed(&out, &md);
        assert!(md.contains("| reread"), "{protocol}: {md}");
    }
}
