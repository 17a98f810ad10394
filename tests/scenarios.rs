//! Scenarios through the real binary: every shipped one plays to the end with its assertions
//! on the embedded cluster (durability on the three local nodes), the report agrees with itself
//! and with the broker, a failed assertion fails the run, and bad files are refused before
//! anything connects.

mod common;

use std::time::{Duration, Instant};

use common::play::{passed, play, run_in};
use common::*;
use rdkafka::consumer::Consumer;
use serde_json::Value;

/// Each run's figures agree: delivered = what the read-back found (or could not check: the
/// embedded cluster keeps about 90,000 records a partition), nothing missing.
fn runs_check_out(runs: &[Value], md: &str) {
    for r in runs {
        let a = &r["accounting"];
        assert!(a.is_object(), "run {} was read back: {r}\n{md}", r["run"]);
        assert_eq!(a["missing"], 0, "{r}");
        assert_eq!(
            a["received"].as_u64().unwrap() + a["unchecked"].as_u64().unwrap(),
            r["delivered"].as_u64().unwrap(),
            "{r}"
        );
        assert_eq!(r["failed"], 0, "{r}");
        assert!(r["delivered"].as_u64().unwrap() > 0, "{r}");
    }
}

#[test]
fn partitions_and_keys_on_the_embedded_cluster() {
    let (out, md, runs) = play("partitions-and-keys", "5", &[]);
    passed(&out, &md);
    assert_eq!(runs.len(), 3, "one run per key: {md}");
    let keys: Vec<&str> = runs
        .iter()
        .map(|r| r["settings"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["id", "state", "none"]);
    runs_check_out(&runs, &md);
    // Each step is in the report, with its line in the file.
    assert!(md.contains("| 17 | key id |"), "{md}");
    assert!(md.contains("`skew > 1.5` | skew = "), "{md}");
}

#[test]
fn group_scaling_on_the_embedded_cluster() {
    let (out, md, runs) = play("group-scaling", "3", &[]);
    passed(&out, &md);
    assert_eq!(runs.len(), 1);
    runs_check_out(&runs, &md);
    // Every join and leave is in the rebalances table.
    for cause in ["consumer-1 joined", "consumer-7 joined", "consumer-7 left"] {
        assert!(md.contains(cause), "{cause}: {md}");
    }
}

#[test]
fn rebalance_protocols_on_the_embedded_cluster() {
    let (out, md, runs) = play("rebalance-protocols", "3", &[]);
    passed(&out, &md);
    runs_check_out(&runs, &md);
    assert!(
        md.contains("consumers rejoined: partition.assignment.strategy range → cooperative-sticky"),
        "{md}"
    );
    assert!(
        md.contains("consumers rejoined: group.protocol classic → consumer"),
        "{md}"
    );
}

#[test]
fn batching_on_the_embedded_cluster() {
    let (out, md, runs) = play("batching", "3", &[]);
    passed(&out, &md);
    assert_eq!(runs.len(), 5, "{md}");
    runs_check_out(&runs, &md);
    let linger: Vec<&str> = runs
        .iter()
        .map(|r| r["settings"]["linger.ms"].as_str().unwrap())
        .collect();
    assert_eq!(linger, ["0", "20", "100", "5", "5"]);
    assert_eq!(runs[3]["settings"]["batch.size"], "2000");
    assert_eq!(runs[4]["settings"]["rate"], "max");
    // The warm-up is on the scenario's clock, as its waits: 2 s / 3.
    for r in &runs {
        let warmup = r["warmup_s"].as_f64().unwrap();
        assert!((warmup - 2.0 / 3.0).abs() < 1e-6, "{warmup}");
    }
    // A report gives records per batch when librdkafka's statistics had them, and says how
    // much of a run the read-back could check.
    assert!(md.contains("| records/batch |"), "{md}");
}

/// The report's runs against the broker's own offsets: every record the runs delivered is in
/// the topic, and the topic holds nothing else.
#[test]
fn a_scenario_on_a_real_broker_matches_the_brokers_offsets() {
    let Some(bootstrap) = real_bootstrap() else {
        skipped!("SKIPPED a_scenario_on_a_real_broker_matches_the_brokers_offsets: {BOOTSTRAP_VAR} is not set");
        return;
    };
    let (out, md, runs) = play("partitions-and-keys", "5", &["-b", &bootstrap]);
    passed(&out, &md);
    runs_check_out(&runs, &md);
    let topic = runs[0]["topic"].as_str().unwrap().to_string();
    assert!(
        md.contains(&format!("| topic | {topic} (6 partitions) |")),
        "{md}"
    );
    let delivered: u64 = runs.iter().map(|r| r["delivered"].as_u64().unwrap()).sum();
    let consumer: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let mut in_topic = 0;
    for p in 0..6 {
        let (low, high) = consumer
            .fetch_watermarks(&topic, p, Duration::from_secs(10))
            .unwrap();
        in_topic += (high - low) as u64;
    }
    assert_eq!(
        in_topic, delivered,
        "the broker holds what the runs delivered"
    );
}

#[test]
fn a_failed_assertion_fails_the_run_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lab.toml"),
        "title = \"Too hopeful\"\n[[step]]\nrate = 500\n[[step]]\nstart = \"producer\"\n\
         [[step]]\nwait = \"2s\"\n[[step]]\nstop = \"producer\"\n\
         [[step]]\nassert = \"delivered > 1000000000\"\n[[step]]\nassert = \"missing == 0\"\n",
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &["scenario", "run", "lab.toml", "--report", "out"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("1 assertion(s) failed"), "{err}");
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("**failed**: 1 of 2 assertions"), "{md}");
    assert!(
        md.contains("| `delivered > 1000000000` | delivered = "),
        "{md}"
    );
    assert!(
        md.contains("| `missing == 0` | missing = 0 | pass |"),
        "{md}"
    );
}

#[test]
fn bad_scenarios_are_refused_before_anything_connects() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "typo.toml",
        "title = \"t\"\n[[step]]\nstart = \"producer\"\n[[step]]\nproducer = { \"linger.mss\" = 5 }\n",
    );
    write(
        "nodes.toml",
        "title = \"t\"\ncluster = { nodes = 5 }\n[[step]]\nwait = 1\n",
    );
    write(
        "pause.toml",
        "title = \"t\"\n[[step]]\nfault = { kind = \"pause\" }\n",
    );
    let started = Instant::now();
    // A broker nobody serves: an error about the cluster would come only after trying it.
    let out = run_in(
        dir.path(),
        &["scenario", "run", "typo.toml", "-b", "127.0.0.1:1"],
    );
    assert_clean_failure(
        &out,
        &["typo.toml:4: step 2 (producer): `linger.mss` is not a librdkafka property (did you mean `linger.ms`?)"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no connection was tried"
    );
    let out = run_in(dir.path(), &["scenario", "run", "nodes.toml"]);
    assert_clean_failure(
        &out,
        &["nodes.toml:2: the scenario needs 5 nodes; the embedded cluster has 3: add --brokers 5"],
    );
    let out = run_in(dir.path(), &["scenario", "run", "pause.toml"]);
    assert_clean_failure(&out, &["pause.toml:2: step 1 (fault): the embedded cluster can take a broker down, not pause it"]);
    let out = run_in(dir.path(), &["scenario", "run", "durability"]);
    assert_clean_failure(
        &out,
        &["the scenario needs a cluster scripts/kafka-local started, not the embedded one"],
    );
    let out = run_in(dir.path(), &["scenario", "run", "nothing.toml"]);
    assert_clean_failure(
        &out,
        &[
            "cannot read the scenario nothing.toml",
            "partitions-and-keys",
        ],
    );
    // The dashboard refuses the same way, before the terminal is touched.
    let out = run_in(dir.path(), &["--scenario", "typo.toml"]);
    assert_clean_failure(&out, &["typo.toml:4: step 2 (producer)"]);
    let out = run_in(
        dir.path(),
        &["scenario", "run", "typo.toml", "--speed", "0"],
    );
    assert_clean_failure(&out, &["is not a speed"]);
    // `check` lists the steps of a good file without connecting.
    let out = run_in(dir.path(), &["scenario", "check", "batching"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("ok: 24 steps"), "{}", stdout(&out));
}

/// acks=1 against acks=all with idempotence, the leader of partition 0 killed in each trial,
/// on the three nodes of scripts/kafka-local.
#[test]
fn durability_on_three_local_nodes() {
    let Ok(bootstrap) = std::env::var("KAFKA_LAB_REPLICATED_BOOTSTRAP") else {
        skipped!("SKIPPED durability_on_three_local_nodes: KAFKA_LAB_REPLICATED_BOOTSTRAP is not set (scripts/kafka-local start --nodes 3)");
        return;
    };
    let (out, md, runs) = play("durability", "2", &["-b", &bootstrap]);
    passed(&out, &md);
    assert_eq!(runs.len(), 4, "{md}");
    for (i, r) in runs.iter().enumerate() {
        let acks = r["settings"]["acks"].as_str().unwrap();
        assert_eq!(acks, if i % 2 == 0 { "1" } else { "all" }, "{r}");
        assert_eq!(
            r["faults"].as_array().unwrap().len(),
            1,
            "one kill per trial: {r}"
        );
        assert!(r["accounting"].is_object(), "read back: {r}");
    }
}

/// A fault with no end lasts until a `recover` step brings the broker back; the run still
/// loses nothing and names its fault.
#[test]
fn a_broker_down_until_a_recover_step_on_the_embedded_cluster() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lab.toml"),
        "title = \"Down and up\"\ncluster = \"embedded\"\n[[step]]\nrate = 500\n[[step]]\nstart = \"producer\"\n\
         [[step]]\nwait = \"1s\"\n[[step]]\nfault = { partition = 1, for = \"never\" }\n\
         [[step]]\nwait = \"3s\"\n[[step]]\nrecover = \"all\"\n[[step]]\nwait = \"3s\"\n\
         [[step]]\nstop = \"producer\"\n[[step]]\nassert = \"missing == 0\"\n",
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &["scenario", "run", "lab.toml", "--report", "out"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("(leader of partition 1) down until brought back"),
        "{err}"
    );
    assert!(err.contains("is back up"), "{err}");
    let runs: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/runs.json")).unwrap())
            .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0]["faults"].as_array().unwrap().len(),
        1,
        "{}",
        runs[0]
    );
    runs_check_out(&runs, &err);
}
