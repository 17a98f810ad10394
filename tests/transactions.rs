//! The dashboard's transactional producer, driven by the shipped `transactions` scenario: transactions committed and
//! aborted, counted; the read-back expects no record of an aborted transaction, and counts
//! the ones it sees. On a real broker kcat checks the aborted records independently: a
//! `read_uncommitted` read finds exactly that many more than a `read_committed` one. Two
//! members read beside it, one at each isolation level: what each was handed of aborted
//! transactions is checked against the producer's own count per partition.

mod common;

use std::process::Command;

use common::play::{passed, play_in, run_in};
use common::*;
use serde_json::Value;

/// Plays the shipped scenario, with `asserts` added at its end; returns the report and its
/// one run.
fn play_transactions(extra: &[&str], asserts: &[&str]) -> (String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let shown = run_in(dir.path(), &["scenario", "show", "transactions"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let mut toml = stdout(&shown);
    for a in asserts {
        toml += "\n[[step]]\nassert = \"";
        toml += a;
        toml += "\"\n";
    }
    std::fs::write(dir.path().join("transactions.toml"), toml).unwrap();
    let (out, md, runs) = play_in(dir.path(), "transactions.toml", "2", extra);
    passed(&out, &md);
    assert_eq!(runs.len(), 1, "{md}");
    (md, runs[0].clone())
}

/// The value an assertion of the report compared, e.g. `aborted_seen_committed = 1,234`.
fn asserted(md: &str, figure: &str) -> u64 {
    let at = md
        .find(&format!("{figure} = "))
        .unwrap_or_else(|| panic!("no {figure} in {md}"));
    md[at + figure.len() + 3..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// The aborted records the producer counted in each partition.
fn aborted_by_partition(run: &Value) -> Vec<u64> {
    run["accounting"]["per_partition"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p["aborted"].as_u64().unwrap())
        .collect()
}

/// The sums of the partitions some members but not all own (each member reads whole
/// partitions): what one of two members can have been handed.
fn shares(per_partition: &[u64]) -> Vec<u64> {
    let n = per_partition.len();
    (1..(1u32 << n) - 1)
        .map(|set| {
            (0..n)
                .filter(|i| set & (1 << i) != 0)
                .map(|i| per_partition[i])
                .sum()
        })
        .collect()
}

/// The run's own bookkeeping adds up: every delivered record was either committed and read
/// back, or in an aborted transaction; a third of the transactions were aborted.
fn check_run(run: &Value, md: &str) -> (u64, u64) {
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("{v} in {md}"));
    let t = &run["transactions"];
    let (committed, aborted) = (n(&t["committed"]), n(&t["aborted"]));
    assert_eq!(n(&t["begun"]), committed + aborted, "{md}");
    // Every third begun is aborted: the last may have been cut short by the stop.
    let begun = committed + aborted;
    assert!(aborted == begun / 3 || aborted == begun.div_ceil(3), "{t}");
    let a = &run["accounting"];
    let delivered = n(&run["delivered"]);
    assert_eq!(n(&a["received"]) + n(&a["aborted"]), delivered, "{a}");
    // Whole transactions of 50 were aborted (the one the stop cut may be shorter).
    assert!(n(&a["aborted"]) >= (aborted - 1) * 50, "{a}");
    assert!(n(&a["aborted"]) <= aborted * 50, "{a}");
    (n(&a["aborted"]), n(&a["aborted_seen"]))
}

/// librdkafka's mock broker keeps no index of aborted transactions: its `read_committed`
/// reader sees their records, which the read-back counts and the lab says.
#[test]
fn transactions_on_the_embedded_cluster() {
    let (md, run) = play_transactions(&[], &["aborted_seen_committed > 0"]);
    let (aborted, seen) = check_run(&run, &md);
    assert_eq!(seen, aborted, "every aborted record is there to see: {md}");
    // Both members are handed every aborted record of their partitions, which between them
    // are all of the topic's.
    let (committed, uncommitted) = (
        asserted(&md, "aborted_seen_committed"),
        asserted(&md, "aborted_seen_uncommitted"),
    );
    assert_eq!(committed + uncommitted, aborted, "{md}");
    assert!(
        shares(&aborted_by_partition(&run)).contains(&uncommitted),
        "{md}"
    );
}

/// A real broker hides aborted transactions from `read_committed`: the read-back sees none,
/// and kcat finds them only when it reads uncommitted.
#[test]
fn transactions_on_a_real_broker_agree_with_kcat() {
    let Some(bootstrap) = real_bootstrap() else {
        skipped!("SKIPPED: {BOOTSTRAP_VAR} is not set");
        return;
    };
    let Some(kcat) = kcat() else {
        return;
    };
    let (md, run) = play_transactions(&["-b", &bootstrap], &["aborted_seen_committed == 0"]);
    let (aborted, seen) = check_run(&run, &md);
    assert_eq!(seen, 0, "read_committed sees no aborted record: {md}");
    // The read_committed member was handed none; the read_uncommitted one every aborted
    // record of the partitions it owns, as the producer counted them.
    assert_eq!(asserted(&md, "aborted_seen_committed"), 0, "{md}");
    let uncommitted = asserted(&md, "aborted_seen_uncommitted");
    assert!(
        shares(&aborted_by_partition(&run)).contains(&uncommitted),
        "{md}"
    );
    let topic = run["topic"].as_str().unwrap();
    let count = |isolation: &str| -> u64 {
        let out = Command::new(&kcat)
            .args(["-C", "-b", &bootstrap, "-t", topic, "-e", "-q"])
            .args(["-o", "beginning", "-f", "%o\n"])
            .args(["-X", &format!("isolation.level={isolation}")])
            .output()
            .unwrap();
        assert!(out.status.success(), "kcat: {}", stderr(&out));
        stdout(&out).lines().count() as u64
    };
    let (committed, uncommitted) = (count("read_committed"), count("read_uncommitted"));
    assert_eq!(uncommitted - committed, aborted, "{md}");
    assert_eq!(committed, run["accounting"]["received"].as_u64().unwrap());
}

/// A `transactional.id` given with -X makes `produce` transactional under that id (in
/// transactions of 100), says so, and every record is readable committed: on the embedded
/// cluster, and on a real broker where kcat counts them read committed.
#[test]
fn a_transactional_id_given_to_produce_is_used_and_shown() {
    let mut clusters = vec![Cluster::embedded("txn-id", 3)];
    clusters.extend(Cluster::real("txn-id", 3));
    for cluster in &clusters {
        let id = unique_topic("given-id");
        let out = cluster.run(&[
            "produce",
            "--count",
            "250",
            "--rate",
            "max",
            "--verify",
            "-X",
            &format!("transactional.id={id}"),
        ]);
        let (said, printed) = (stderr(&out), stdout(&out));
        assert!(out.status.success(), "{said}");
        assert!(
            said.contains(&format!(
                "transactions of 100 records (or fewer: each ends after 1 s), transactional.id {id} (command line -X"
            )),
            "{said}"
        );
        // 100 + 100 + 50, each committed.
        assert!(
            printed.contains("transactions: begun=3 committed=3 failed=0"),
            "{printed}"
        );
        assert!(
            printed.contains("read back: 250 received, 0 missing, 0 duplicated"),
            "{printed}"
        );
        if cluster.is_real() {
            let Some(kcat) = kcat() else { return };
            let read = Command::new(&kcat)
                .args(["-C", "-b", &cluster.bootstrap, "-t", &cluster.topic])
                .args(["-e", "-q", "-o", "beginning", "-f", "%o\n"])
                .args(["-X", "isolation.level=read_committed"])
                .output()
                .unwrap();
            assert_eq!(stdout(&read).lines().count(), 250, "{}", stderr(&read));
        }
    }
}
