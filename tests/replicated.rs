//! What acks really buys, counted on a replicated Apache Kafka: three nodes started by
//! `scripts/kafka-local start --nodes 3`, found through `KAFKA_LAB_REPLICATED_BOOTSTRAP` (its
//! `env` prints it). kafka-lab fails nodes through the script, as the dashboard's `b` does.
//! Without the variable each test says it is skipped and passes.
//!
//! The tests take nodes down and bring them back: they run one at a time (a lock), and each
//! leaves every node up.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use kafka_lab::config::Role;
use kafka_lab::data::source::{bundled, Dataset, KeyField};
use kafka_lab::kafka::local::{FaultKind, LocalCluster};
use kafka_lab::kafka::producer::{LabProducer, Reports};
use kafka_lab::kafka::verify;
use kafka_lab::stats::Accounting;
use rdkafka::consumer::{BaseConsumer, Consumer};

const VAR: &str = "KAFKA_LAB_REPLICATED_BOOTSTRAP";
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

struct Replicated {
    bootstrap: String,
    local: LocalCluster,
}

fn replicated(name: &str) -> Option<Replicated> {
    let Ok(bootstrap) = std::env::var(VAR) else {
        skipped!("SKIPPED {name}: {VAR} is not set (scripts/kafka-local start --nodes 3, then eval its env)");
        return None;
    };
    let local = LocalCluster::find(&bootstrap)
        .unwrap_or_else(|| panic!("no scripts/kafka-local state names the nodes of {bootstrap}"));
    assert!(local.nodes.len() >= 3, "these tests need three nodes");
    Some(Replicated { bootstrap, local })
}

/// A node taken down; brought back when dropped, so a failing test leaves the cluster whole.
struct Down<'a> {
    local: &'a LocalCluster,
    node: i32,
    kind: FaultKind,
    back: bool,
}

impl<'a> Down<'a> {
    fn new(c: &'a Replicated, node: i32, kind: FaultKind) -> Down<'a> {
        c.local.fault(node, kind).unwrap();
        Down {
            local: &c.local,
            node,
            kind,
            back: false,
        }
    }

    fn back(mut self) {
        self.back = true;
        self.local.recover(self.node, self.kind).unwrap();
    }
}

impl Drop for Down<'_> {
    fn drop(&mut self) {
        if !self.back {
            let _ = self.local.recover(self.node, self.kind);
        }
    }
}

/// A partition's leader, replicas and in-sync replicas, as the cluster's metadata says.
fn replicas(bootstrap: &str, topic: &str, partition: i32) -> Option<(i32, Vec<i32>, Vec<i32>)> {
    let consumer: BaseConsumer = client_settings(bootstrap, Role::Consumer, &[])
        .client_config()
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .ok()?;
    let p = metadata
        .topics()
        .first()?
        .partitions()
        .iter()
        .find(|p| p.id() == partition)?;
    Some((p.leader(), p.replicas().to_vec(), p.isr().to_vec()))
}

/// Waits until partition 0 has a leader with every replica in sync.
fn healthy(bootstrap: &str, topic: &str) -> (i32, Vec<i32>) {
    wait_for(Duration::from_secs(90), || {
        replicas(bootstrap, topic, 0)
            .filter(|(leader, replicas, isr)| *leader >= 0 && isr.len() == replicas.len())
            .map(|(leader, replicas, _)| (leader, replicas))
    })
    .expect("partition 0 has a leader and all its replicas in sync")
}

fn new_topic(c: &Replicated, name: &str) -> String {
    let topic = unique_topic(name);
    let settings = producer_settings(&c.bootstrap);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(kafka_lab::kafka::cluster::create_topic(
            &settings,
            &topic,
            1,
            3,
            Duration::from_secs(30),
        ))
        .expect("create a topic with three replicas");
    healthy(&c.bootstrap, &topic);
    topic
}

/// Sends `n` records as fast as the producer takes them.
fn send(producer: &LabProducer, data: &Dataset, from: u64, n: u64) {
    for seq in from..from + n {
        let (record, payload) = data.get(seq);
        while producer
            .send(seq, record.key(KeyField::Id).map(str::as_bytes), payload)
            .is_err()
        {
            producer.serve(Duration::from_millis(5));
        }
        producer.serve(Duration::ZERO);
    }
}

fn read_back(c: &Replicated, topic: &str, producer: &LabProducer) -> Accounting {
    let consumer = client_settings(&c.bootstrap, Role::Consumer, &[]);
    verify::read_back(
        &consumer,
        topic,
        producer.run_tag(),
        &producer.ledger(),
        Duration::from_secs(120),
    )
    .expect("the read-back finishes with a node restarting")
}

/// The followers of partition 0 hang (SIGSTOP) while the leader takes records; then the leader
/// dies (SIGKILL) and the followers come back: one of them leads, without what it never
/// fetched. Returns the producer (flushed) and its run's accounting.
fn followers_behind_then_leader_killed(
    c: &Replicated,
    name: &str,
    extra: &[(&str, &str)],
) -> (LabProducer, Accounting) {
    let topic = new_topic(c, name);
    let (leader, replicas) = healthy(&c.bootstrap, &topic);
    let followers: Vec<i32> = replicas.into_iter().filter(|r| *r != leader).collect();
    let settings = client_settings(&c.bootstrap, Role::Producer, extra);
    let producer = LabProducer::new(&settings, &topic, Reports::None).unwrap();
    let data = Dataset::new(bundled());
    // Everyone has the first records.
    send(&producer, &data, 0, 200);
    assert_eq!(producer.flush(Duration::from_secs(30)), 0);
    let paused: Vec<Down> = followers
        .iter()
        .map(|f| Down::new(c, *f, FaultKind::Pause))
        .collect();
    // Well within broker.session.timeout.ms (3 s in kafka-local): the followers stay in the
    // ISR, so one of them can lead afterwards.
    let began = Instant::now();
    send(&producer, &data, 200, 2_000);
    producer.serve(Duration::from_millis(300));
    let killed = Down::new(c, leader, FaultKind::Kill);
    for p in paused {
        p.back();
    }
    let paused_for = began.elapsed();
    // acks=all: the records waiting for the followers go to the new leader.
    producer.flush(Duration::from_secs(90));
    killed.back();
    healthy(&c.bootstrap, &topic);
    let accounting = read_back(c, &topic, &producer);
    eprintln!(
        "{name}: followers paused {paused_for:?}; {:?}; {accounting:?}",
        producer.totals().errors
    );
    (producer, accounting)
}

#[test]
fn acks_1_loses_what_the_followers_never_had_and_acks_all_with_idempotence_loses_nothing() {
    let Some(c) = replicated("acks_1_vs_acks_all") else {
        return;
    };
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);

    let (producer, a) = followers_behind_then_leader_killed(
        &c,
        "acks-1",
        &[("acks", "1"), ("enable.idempotence", "false")],
    );
    let t = producer.totals();
    assert_eq!(
        t.delivered, 2_200,
        "acks=1: the leader acknowledged every record"
    );
    assert!(
        a.missing > 0,
        "acks=1: acknowledged records that only the dead leader had are gone: {a:?}"
    );
    assert_eq!(a.received + a.missing, t.delivered, "{a:?}");

    let (producer, a) = followers_behind_then_leader_killed(
        &c,
        "acks-all",
        &[("acks", "all"), ("enable.idempotence", "true")],
    );
    let t = producer.totals();
    assert_eq!(t.sent, 2_200);
    assert_eq!(t.failed, 0, "{:?}", t.errors);
    assert_eq!(
        t.delivered, 2_200,
        "acks=all: every record acknowledged in the end"
    );
    assert_eq!(
        (a.received, a.missing, a.duplicated),
        (2_200, 0, 0),
        "acks=all + idempotence: everything acknowledged is there once: {a:?}"
    );
}

#[test]
fn a_leader_killed_mid_run_loses_and_doubles_nothing_with_acks_all_and_idempotence() {
    let Some(c) = replicated("leader_killed_mid_run") else {
        return;
    };
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for trial in 1..=3 {
        let topic = new_topic(&c, "kill-mid-run");
        let (leader, _) = healthy(&c.bootstrap, &topic);
        let settings = client_settings(
            &c.bootstrap,
            Role::Producer,
            &[("acks", "all"), ("enable.idempotence", "true")],
        );
        let producer = LabProducer::new(&settings, &topic, Reports::None).unwrap();
        let data = Dataset::new(bundled());
        let n = 3_000;
        let mut killed = None;
        for seq in 0..n {
            if seq == n / 3 {
                killed = Some(Down::new(&c, leader, FaultKind::Kill));
            }
            send(&producer, &data, seq, 1);
            producer.serve(Duration::from_micros(500));
        }
        producer.flush(Duration::from_secs(90));
        killed.unwrap().back();
        healthy(&c.bootstrap, &topic);
        let t = producer.totals();
        let a = read_back(&c, &topic, &producer);
        eprintln!(
            "trial {trial}: killed node {leader}; delivered {} failed {}; {a:?}",
            t.delivered, t.failed
        );
        assert_eq!(
            (t.delivered, t.failed),
            (n, 0),
            "trial {trial}: {:?}",
            t.errors
        );
        assert_eq!(
            (a.received, a.missing, a.duplicated),
            (n, 0, 0),
            "trial {trial}: {a:?}"
        );
    }
}

#[test]
fn the_read_back_goes_on_past_a_dead_broker() {
    let Some(c) = replicated("read_back_past_a_dead_broker") else {
        return;
    };
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let topic = new_topic(&c, "read-back");
    let (leader, _) = healthy(&c.bootstrap, &topic);
    let settings = client_settings(&c.bootstrap, Role::Producer, &[("acks", "all")]);
    let producer = LabProducer::new(&settings, &topic, Reports::None).unwrap();
    send(&producer, &Dataset::new(bundled()), 0, 1_000);
    assert_eq!(producer.flush(Duration::from_secs(30)), 0);
    // The leader dies just before the read-back, and it is the only bootstrap server the
    // read-back is given: it reads from the new leader, found through the brokers the
    // producer knew.
    let port = c.local.nodes.iter().find(|n| n.id == leader).unwrap().port;
    let killed = Down::new(&c, leader, FaultKind::Kill);
    let a = verify::read_back(
        &client_settings(&format!("127.0.0.1:{port}"), Role::Consumer, &[]),
        &topic,
        producer.run_tag(),
        &producer.ledger(),
        Duration::from_secs(120),
    )
    .expect("the read-back finishes past the dead bootstrap server");
    killed.back();
    healthy(&c.bootstrap, &topic);
    assert_eq!(
        (a.received, a.missing, a.duplicated),
        (1_000, 0, 0),
        "{a:?}"
    );
}

/// The exactly-once processor on three nodes: the leader of its output is killed while it
/// runs, the processor itself is killed (SIGKILL) during the outage and started again, and
/// again until it has read everything: its output, read committed, holds every input record
/// once.
#[test]
fn exactly_once_processor_survives_a_killed_leader_and_a_crash() {
    let Some(c) = replicated("processor_leader_killed") else {
        return;
    };
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (input, output) = (new_topic(&c, "eos-in"), new_topic(&c, "eos-out"));
    let records: u64 = 8_000;
    let kafka_lab = |args: &[&str], topic: &str| {
        let mut cmd = std::process::Command::new(BIN);
        cmd.args(args)
            .args(["-b", &c.bootstrap, "-t", topic])
            .current_dir(std::env::temp_dir())
            .stdin(std::process::Stdio::null());
        cmd
    };
    let produced = kafka_lab(
        &["produce", "--count", &records.to_string(), "--rate", "max"],
        &input,
    )
    .output()
    .unwrap();
    assert!(produced.status.success(), "{}", stderr(&produced));
    let process = ["process", "--to", &output, "--exactly-once"];
    let mut first = kafka_lab(&process, &input)
        .args(["-X", "session.timeout.ms=6000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Under way: a good part of the input committed to the output before the outage (the
    // watermark client reads committed, so its end is the stable offset).
    let watermarks: BaseConsumer = client_settings(&c.bootstrap, Role::Consumer, &[])
        .client_config()
        .create()
        .unwrap();
    wait_for(Duration::from_secs(60), || {
        let (_, high) = watermarks
            .fetch_watermarks(&output, 0, Duration::from_secs(5))
            .ok()?;
        u64::try_from(high).ok().filter(|h| *h > records / 4)
    })
    .expect("the processor writes its output");
    let (leader, _) = healthy(&c.bootstrap, &output);
    let down = Down::new(&c, leader, FaultKind::Kill);
    std::thread::sleep(Duration::from_secs(4));
    first.kill().unwrap(); // SIGKILL: its open transaction is neither committed nor aborted
    first.wait().unwrap();
    down.back();
    healthy(&c.bootstrap, &output);
    // Started again until one instance ends idle, having read everything (an instance may end
    // on the outage's errors, as an application would, and be started again).
    let mut said = Vec::new();
    for _ in 0..4 {
        let out = kafka_lab(&process, &input)
            .args(["-X", "session.timeout.ms=6000", "--idle-exit", "5s"])
            .output()
            .unwrap();
        said.push(stderr(&out));
        if out.status.success() {
            break;
        }
    }
    let seen = copies(&c.bootstrap, &output);
    let missing = (0..records).filter(|s| !seen.contains_key(s)).count();
    let duplicated: u32 = seen.values().map(|n| n - 1).sum();
    eprintln!(
        "killed node {leader} (the output's leader) and the processor: {missing} missing, \
         {duplicated} duplicated; {}",
        said.last().and_then(|s| s.lines().last()).unwrap_or("")
    );
    assert_eq!((missing, duplicated), (0, 0), "{said:?}");
    assert!(seen.keys().all(|s| *s < records));
}
