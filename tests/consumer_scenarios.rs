//! The consumer half's shipped scenarios through the real binary, at speed 1 (a session
//! timeout does not shrink). A binary of their own: they run apart from the durability trials,
//! whose timings a busy machine would bend.

mod common;

use common::play::{passed, play};
use common::*;

/// A member crashed in each commit mode: after the work repeats and loses nothing, before the
/// work loses and repeats nothing (the scenario's own assertions), each phase in the report's
/// Delivery table.
#[test]
fn delivery_semantics_on_the_embedded_cluster() {
    let (out, md, _) = play("delivery-semantics", "1", &[]);
    passed(&out, &md);
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
