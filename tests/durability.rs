//! Durability, counted, on the embedded cluster with a broker taken down mid-run: with
//! idempotence nothing is lost or doubled; without retries the failures are counted.

mod common;

use std::time::Duration;

use common::*;
use kafka_lab::config::Role;
use kafka_lab::data::source::{bundled, Dataset, KeyField};
use kafka_lab::kafka::cluster::partition_leaders;
use kafka_lab::kafka::embedded::{EmbeddedCluster, EmbeddedOptions};
use kafka_lab::kafka::producer::{LabProducer, Reports};
use kafka_lab::kafka::verify;

/// Sends `n` records at about 400/s, taking partition 0's leader down for `down` after a
/// quarter of them; returns the producer after a flush.
fn run_with_outage(
    cluster: &EmbeddedCluster,
    topic: &str,
    extra: &[(&str, &str)],
    n: u64,
    down: Duration,
) -> LabProducer {
    let settings = client_settings(cluster.bootstrap_servers(), Role::Producer, extra);
    let leader = partition_leaders(&settings, topic).unwrap()[0].1;
    let producer = LabProducer::new(&settings, topic, Reports::None).unwrap();
    let data = Dataset::new(bundled());
    for seq in 0..n {
        if seq == n / 4 {
            cluster.broker_down(leader);
        }
        if seq == n / 4 + (down.as_millis() as u64 * 400 / 1000) {
            cluster.broker_up(leader);
        }
        let (record, payload) = data.get(seq);
        producer
            .send(seq, record.key(KeyField::Id).map(str::as_bytes), payload)
            .unwrap();
        producer.serve(Duration::from_micros(2500));
    }
    cluster.broker_up(leader);
    producer.flush(Duration::from_secs(60));
    producer
}

fn start(topic: &str) -> EmbeddedCluster {
    EmbeddedCluster::start(&EmbeddedOptions {
        topic: topic.to_string(),
        ..EmbeddedOptions::default()
    })
    .unwrap()
}

fn read_back(
    cluster: &EmbeddedCluster,
    topic: &str,
    producer: &LabProducer,
) -> kafka_lab::stats::Accounting {
    let consumer = client_settings(cluster.bootstrap_servers(), Role::Consumer, &[]);
    verify::read_back(
        &consumer,
        topic,
        producer.run_tag(),
        &producer.ledger(),
        Duration::from_secs(60),
    )
    .unwrap()
}

#[test]
fn idempotent_producer_loses_and_doubles_nothing_across_a_broker_outage() {
    let topic = unique_topic("idempotent");
    let cluster = start(&topic);
    let n = 1200;
    let producer = run_with_outage(
        &cluster,
        &topic,
        &[("enable.idempotence", "true"), ("acks", "all")],
        n,
        Duration::from_secs(2),
    );
    let totals = producer.totals();
    assert_eq!(totals.sent, n);
    assert_eq!(totals.delivered, n, "errors: {:?}", totals.errors);
    assert_eq!(totals.failed, 0);
    // Records waited for the broker: the outage shows in the latency.
    assert!(
        totals.latency.summary().max > 1000.0,
        "{:?}",
        totals.latency.summary()
    );
    let a = read_back(&cluster, &topic, &producer);
    assert_eq!(
        (a.received, a.missing, a.duplicated, a.unchecked),
        (n, 0, 0, 0),
        "{a:?}"
    );
}

#[test]
fn without_retries_the_outage_failures_are_counted_not_hidden() {
    let topic = unique_topic("no-retries");
    let cluster = start(&topic);
    let n = 1200;
    let producer = run_with_outage(
        &cluster,
        &topic,
        &[
            ("retries", "0"),
            ("message.timeout.ms", "1000"),
            ("enable.idempotence", "false"),
        ],
        n,
        Duration::from_secs(3),
    );
    let totals = producer.totals();
    assert_eq!(totals.sent, n);
    assert!(
        totals.failed > 0,
        "a 3 s outage with a 1 s timeout fails records"
    );
    assert_eq!(
        totals.delivered + totals.failed,
        n,
        "every record is accounted for"
    );
    assert_eq!(totals.errors.values().sum::<u64>(), totals.failed);
    let a = read_back(&cluster, &topic, &producer);
    // What was acknowledged is there; what failed is counted as failed, not as received.
    assert_eq!(a.received, totals.delivered, "{a:?}");
    assert_eq!(a.missing, 0, "{a:?}");
}

/// A read-back past its time that is still reading goes on (a cluster busy with the next
/// run serves it slowly): with no time at all it still reads every record.
#[test]
fn a_read_back_that_is_reading_outlives_its_timeout() {
    let topic = unique_topic("slow-read-back");
    let cluster = start(&topic);
    let settings = client_settings(cluster.bootstrap_servers(), Role::Producer, &[]);
    let producer = LabProducer::new(&settings, &topic, Reports::None).unwrap();
    let data = Dataset::new(bundled());
    let n = 5000;
    for seq in 0..n {
        let (record, payload) = data.get(seq);
        producer
            .send(seq, record.key(KeyField::Id).map(str::as_bytes), payload)
            .unwrap();
        producer.serve(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(60));
    assert_eq!(producer.totals().delivered, n);
    let consumer = client_settings(cluster.bootstrap_servers(), Role::Consumer, &[]);
    let a = verify::read_back(
        &consumer,
        &topic,
        producer.run_tag(),
        &producer.ledger(),
        Duration::ZERO,
    )
    .unwrap();
    assert_eq!((a.received, a.missing, a.duplicated), (n, 0, 0), "{a:?}");
}
