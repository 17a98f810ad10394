//! The cluster goes away under a running command: it says what is wrong while it waits, and
//! leaves within seconds when asked to.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

/// Lines of a child's stream, as they come.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`; all lines seen so far on failure.
fn expect(rx: &mpsc::Receiver<String>, needle: &str, timeout: Duration, seen: &mut Vec<String>) {
    let end = std::time::Instant::now() + timeout;
    while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no line with `{needle}`; seen:\n{}", seen.join("\n"));
}

fn kill(cluster: &mut Cluster) {
    if let Kind::Embedded(child) = &mut cluster.kind {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn produce_says_why_it_waits_when_the_cluster_is_gone() {
    let mut cluster = Cluster::embedded("gone-produce", 3);
    let mut child = cluster
        .command(&["produce", "--rate", "200", "--flush-timeout", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    expect(&out, "seq=", Duration::from_secs(30), &mut seen);
    kill(&mut cluster);
    expect(
        &err,
        "warning: no delivery report",
        Duration::from_secs(30),
        &mut seen,
    );
    interrupt(&child);
    expect(&out, "summary: ", Duration::from_secs(30), &mut seen);
    let status = child.wait().unwrap();
    assert!(!status.success(), "records were left undelivered");
    let summary = seen.iter().find(|l| l.starts_with("summary: ")).unwrap();
    let (sent, delivered, failed, undelivered) = summary_of(summary);
    assert_eq!(sent, delivered + failed + undelivered, "{summary}");
    assert!(undelivered > 0, "{summary}");
}

#[test]
fn consume_leaves_within_seconds_when_the_cluster_is_gone() {
    let mut cluster = Cluster::embedded("gone-consume", 3);
    let produced = cluster.run(&["produce", "--count", "20", "--rate", "max"]);
    assert!(produced.status.success(), "{}", stderr(&produced));
    let mut child = cluster
        .command(&["consume", "--from-beginning"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    expect(&out, "offset=", Duration::from_secs(30), &mut seen);
    kill(&mut cluster);
    std::thread::sleep(Duration::from_secs(1));
    interrupt(&child);
    // Leaving is bounded (5 s); a minute only guards against a hang.
    let status =
        wait_for(Duration::from_secs(60), || child.try_wait().unwrap()).unwrap_or_else(|| {
            let _ = child.kill();
            panic!("consume did not leave within 60 s of Ctrl-C with the cluster gone")
        });
    seen.extend(err.try_iter());
    assert!(
        seen.iter().any(|l| l.contains("could not commit")),
        "{status}: {}",
        seen.iter()
            .filter(|l| !l.starts_with("warning: "))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!status.success());
    let said = seen.join("\n");
    assert!(said.contains("read again"), "{said}");
}

fn summary_of(line: &str) -> (u64, u64, u64, u64) {
    summary(line)
}

#[test]
fn a_topic_cannot_be_created_on_a_served_embedded_cluster_and_it_is_said_at_once() {
    let cluster = Cluster::embedded("served", 3);
    let mut cmd = Command::new(BIN);
    cmd.args([
        "-b",
        &cluster.bootstrap,
        "-t",
        "fresh-topic",
        "--partitions",
        "3",
    ])
    .args(["produce", "--count", "1"])
    .current_dir(std::env::temp_dir());
    let out = cmd.output().unwrap();
    assert_clean_failure(&out, &["embedded cluster", "no admin API", "fresh-topic"]);
    // Reading a topic it does not have: the advice fits this cluster.
    let out = Command::new(BIN)
        .args(["-b", &cluster.bootstrap, "-t", "fresh-topic", "consume"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_clean_failure(&out, &["kafka-lab cluster -t fresh-topic"]);
    assert!(!stderr(&out).contains("--partitions"), "{}", stderr(&out));
}

#[test]
fn a_long_simulated_round_trip_still_starts_and_delivers() {
    // Connecting, finding the topic and producing take about six round trips: longer than a
    // fixed 10 s flush, so the default flush timeout grows with the round trip.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "--rtt-ms", "2500", "produce", "--count", "3", "--rate", "max",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // Each delivery waited for the simulated round trip.
    for d in stdout(&out).lines().filter(|l| l.starts_with("seq=")) {
        let ms: f64 = field(&logfmt(d), "latency_ms").unwrap().parse().unwrap();
        assert!(ms >= 2500.0, "{d}");
    }
    assert_eq!(summary(&stdout(&out)), (3, 3, 0, 0));
}
