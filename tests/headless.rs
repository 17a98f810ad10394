//! The headless subcommands through the real binary, against the embedded cluster and (when
//! `KAFKA_LAB_BOOTSTRAP` is set) a real Apache Kafka.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

cluster_test!(
    a_flush_cut_short_accounts_for_every_record_in_lines_and_summary,
    |cluster: &Cluster| {
        let n = 200_000u64;
        let out = cluster.run(&[
            "produce",
            "--count",
            &n.to_string(),
            "--rate",
            "max",
            "--flush-timeout",
            "0",
        ]);
        let text = stdout(&out);
        let (sent, delivered, failed, undelivered) = summary(&text);
        assert_eq!(sent, n);
        assert_eq!(delivered + failed + undelivered, sent);
        let lines: Vec<_> = text
            .lines()
            .filter(|l| l.starts_with("seq="))
            .map(logfmt)
            .collect();
        assert_eq!(lines.len() as u64, sent, "one line per record");
        let with_offset = lines
            .iter()
            .filter(|p| field(p, "offset").is_some() && field(p, "error").is_none())
            .count() as u64;
        let with_error = lines.iter().filter(|p| field(p, "error").is_some()).count() as u64;
        assert_eq!(with_offset, delivered);
        assert_eq!(with_error, failed + undelivered);
        // The broker holds every delivered record, and at most the undelivered ones besides.
        let written = high_watermarks(cluster).iter().sum::<i64>() as u64;
        assert!(
            (delivered..=delivered + undelivered).contains(&written),
            "broker {written}, delivered {delivered}, undelivered {undelivered}"
        );
        assert_eq!(out.status.success(), failed + undelivered == 0);
    }
);

cluster_test!(
    produce_then_consume_every_record_once,
    |cluster: &Cluster| {
        let n = 300;
        let out = cluster.run(&["produce", "--count", &n.to_string(), "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let sent = deliveries(&stdout(&out));
        assert_eq!(sent.len(), n);
        assert_eq!(summary(&stdout(&out)), (n as u64, n as u64, 0, 0));
        let seqs: BTreeSet<u64> = sent.iter().map(|d| d.seq).collect();
        assert_eq!(seqs, (0..n as u64).collect());
        // Offsets within each partition run 0, 1, 2, ... with no gap.
        let mut per_partition: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
        for d in &sent {
            per_partition.entry(d.partition).or_default().push(d.offset);
        }
        for offsets in per_partition.values_mut() {
            offsets.sort_unstable();
            assert_eq!(*offsets, (0..offsets.len() as i64).collect::<Vec<_>>());
        }
        assert!(per_partition.len() > 1, "keys by id spread over partitions");
        // The broker agrees on how many records each partition holds.
        let hw = high_watermarks(cluster);
        for (p, offsets) in &per_partition {
            assert_eq!(hw[*p as usize], offsets.len() as i64, "partition {p}");
        }

        let records = consume_json(cluster, "g-once", n);
        let mut got: Vec<Delivered> = records
            .iter()
            .map(|r| {
                let value: serde_json::Value =
                    serde_json::from_str(r["value"].as_str().unwrap()).unwrap();
                // The key is the brewery id (the default --key).
                assert_eq!(r["key"], value["id"]);
                assert_eq!(r["topic"], cluster.topic.as_str());
                assert_eq!(r["timestamp_type"], "create");
                Delivered {
                    partition: r["partition"].as_i64().unwrap() as i32,
                    offset: r["offset"].as_i64().unwrap(),
                    key: r["key"].as_str().unwrap().to_string(),
                    seq: r["headers"]["kafka-lab-seq"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap(),
                }
            })
            .collect();
        got.sort();
        let mut want = sent.clone();
        want.sort();
        assert_eq!(got, want);
    }
);

cluster_test!(
    bench_figures_agree_with_counts_and_a_second_clock,
    |cluster: &Cluster| {
        let n = 5000u64;
        let started = Instant::now();
        let out = cluster.run(&[
            "bench",
            "--messages",
            &n.to_string(),
            "--json",
            "--linger-ms",
            "2",
            "--warmup",
            "0",
        ]);
        let wall = started.elapsed().as_secs_f64();
        assert!(out.status.success(), "{}", stderr(&out));
        let r: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(r["records"], n);
        assert_eq!(r["failed"], 0);
        let duration = r["duration_s"].as_f64().unwrap();
        let rate = r["records_per_sec"].as_f64().unwrap();
        assert!(
            duration > 0.0 && duration < wall,
            "{duration} vs wall {wall}"
        );
        assert!(
            (rate * duration - n as f64).abs() < 1.0,
            "{rate} * {duration}"
        );
        let mb = r["mb_per_sec"].as_f64().unwrap();
        let bytes = r["bytes"].as_f64().unwrap();
        assert!((mb * duration * 1024.0 * 1024.0 - bytes).abs() < 1.0);
        let l = &r["latency_ms"];
        let v = |k: &str| l[k].as_f64().unwrap();
        assert!(v("p50") > 0.0 && v("p50") <= v("p95") && v("p95") <= v("p99"));
        assert!(v("p99") <= v("p999") && v("p999") <= v("max") && v("avg") <= v("max"));
        // No record can take longer than the whole run.
        assert!(v("max") <= duration * 1000.0 + 1.0, "{l} vs {duration}");
        assert_eq!(r["settings"]["linger.ms"], "2");
        assert_eq!(high_watermarks(cluster).iter().sum::<i64>(), n as i64);

        // A warm-up: its records are delivered and read back, but left out of the rate and
        // the latency, and the figures say so.
        let out = cluster.run(&["bench", "--messages", "5000", "--warmup", "1000", "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let r: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(
            (r["delivered"].as_u64(), r["records"].as_u64()),
            (Some(5000), Some(4000))
        );
        assert_eq!(r["accounting"]["received"], 5000, "all read back");
        let (warmup, duration) = (
            r["warmup_s"].as_f64().unwrap(),
            r["duration_s"].as_f64().unwrap(),
        );
        assert!(warmup > 0.0 && duration > 0.0, "{r}");
        let rate = r["records_per_sec"].as_f64().unwrap();
        assert!(
            (rate * duration - 4000.0).abs() < 1.0,
            "{rate} * {duration}"
        );
        assert!(stderr(&out).contains("warm-up: the first 1,000 records of each run"));

        let out = cluster.run(&["bench", "--messages", "1000", "--record-size", "100"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let line = stdout(&out);
        assert!(line.starts_with("1000 records sent, "), "{line}");
        assert!(
            line.contains("warm-up: the first 100 records ("),
            "10% by default: {line}"
        );
        for part in [
            " records/sec (",
            " MB/sec), ",
            " ms avg latency, ",
            " ms 99.9th.",
        ] {
            assert!(line.contains(part), "{line}");
        }
    }
);

cluster_test!(
    kcat_reads_what_kafka_lab_wrote_and_back,
    |cluster: &Cluster| {
        let Some(kcat) = kcat() else { return };
        let n = 120;
        let out = cluster.run(&[
            "produce",
            "--count",
            &n.to_string(),
            "--rate",
            "max",
            "--key",
            "state",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let sent = deliveries(&stdout(&out));
        let mut by_kcat: Vec<(i32, i64, String)> = kcat_read(&kcat, cluster, &["-J"])
            .lines()
            .map(|l| {
                let r: serde_json::Value = serde_json::from_str(l).unwrap();
                let value: serde_json::Value =
                    serde_json::from_str(r["payload"].as_str().unwrap()).unwrap();
                assert_eq!(r["key"], value["state"], "key is the brewery's state");
                (
                    r["partition"].as_i64().unwrap() as i32,
                    r["offset"].as_i64().unwrap(),
                    r["key"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut by_lab: Vec<(i32, i64, String)> = sent
            .iter()
            .map(|d| (d.partition, d.offset, d.key.clone()))
            .collect();
        by_kcat.sort();
        by_lab.sort();
        assert_eq!(by_kcat, by_lab);

        // kcat writes to a second topic of the same cluster; kafka-lab reads it.
        let topic2 = format!("{}-kcat", cluster.topic);
        let other = Cluster {
            bootstrap: cluster.bootstrap.clone(),
            topic: topic2.clone(),
            partitions: 1,
            kind: Kind::Real,
        };
        if cluster.is_real() {
            create_topic(&cluster.bootstrap, &topic2, 1);
        }
        let mut writer = std::process::Command::new(&kcat)
            .args([
                "-P",
                "-b",
                &cluster.bootstrap,
                "-t",
                &topic2,
                "-K",
                ":",
                "-p",
                "0",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        {
            let stdin = writer.stdin.as_mut().unwrap();
            for i in 0..25 {
                writeln!(stdin, "key-{i}:{{\"n\":{i},\"name\":\"Bräu {i}\"}}").unwrap();
            }
        }
        assert!(writer.wait().unwrap().success());
        let records = consume_json(&other, "g-kcat", 25);
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r["partition"], 0);
            assert_eq!(r["offset"], i as i64);
            assert_eq!(r["key"], format!("key-{i}"));
            assert_eq!(r["value"], format!("{{\"n\":{i},\"name\":\"Bräu {i}\"}}"));
        }
    }
);

cluster_test!(
    ctrl_c_flushes_and_accounts_for_every_record,
    |cluster: &Cluster| {
        let mut child = cluster
            .command(&["produce", "--rate", "200"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        while seen.len() < 40 {
            seen.push(lines.next().unwrap().unwrap());
        }
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        seen.extend(lines.map(Result::unwrap));
        let status = child.wait().unwrap();
        let out = seen.join("\n");
        let (sent, delivered, failed, undelivered) = summary(&out);
        // Interrupted, as a shell expects: 128 + SIGINT.
        assert_eq!(status.code(), Some(130), "{out}");
        assert_eq!(sent, delivered + failed + undelivered);
        assert_eq!(failed, 0);
        assert_eq!(deliveries(&out).len() as u64, delivered);
        // What was reported delivered is what the topic holds: nothing lost, nothing extra.
        assert_eq!(
            high_watermarks(cluster).iter().sum::<i64>(),
            delivered as i64
        );
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(err.contains("interrupted"), "{err}");
    }
);

cluster_test!(
    consume_exits_after_count_and_commits,
    |cluster: &Cluster| {
        let out = cluster.run(&["produce", "--count", "30", "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let first = consume_json(cluster, "g-commit", 10);
        let second = consume_json(cluster, "g-commit", 20);
        let key = |r: &serde_json::Value| (r["partition"].as_i64(), r["offset"].as_i64());
        let mut all: Vec<_> = first.iter().chain(&second).map(key).collect();
        all.sort();
        all.dedup();
        assert_eq!(
            all.len(),
            30,
            "the second run resumes where the first stopped"
        );
        let text = cluster.run(&[
            "consume",
            "-g",
            "g-text",
            "--from-beginning",
            "--count",
            "1",
        ]);
        assert!(text.status.success(), "{}", stderr(&text));
        let line = stdout(&text);
        let p = logfmt(line.lines().next().unwrap());
        assert_eq!(field(&p, "topic"), Some(cluster.topic.as_str()));
        assert!(field(&p, "timestamp").unwrap().ends_with('Z'));
        assert!(field(&p, "value").unwrap().chars().count() <= 120);
    }
);

cluster_test!(missing_topic_is_a_clear_error, |cluster: &Cluster| {
    let out = std::process::Command::new(BIN)
        .args([
            "-b",
            &cluster.bootstrap,
            "-t",
            "no-such-topic-here",
            "consume",
            "--count",
            "1",
        ])
        .output()
        .unwrap();
    assert_clean_failure(&out, &["topic `no-such-topic-here` does not exist"]);
});

#[test]
fn embedded_cluster_runs_in_process_with_no_config() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args(["produce", "--count", "12", "--rate", "max"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("embedded cluster: 3 brokers"));
    assert!(stderr(&out).contains("acks=1 and acks=all behave alike"));
    let partitions: BTreeSet<i32> = deliveries(&stdout(&out))
        .iter()
        .map(|d| d.partition)
        .collect();
    assert!(partitions.iter().all(|p| (0..6).contains(p)));
    let out = std::process::Command::new(BIN)
        .args(["bench", "--messages", "2000"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("2000 records sent"));
}

#[test]
fn cluster_serves_other_processes_and_rtt_slows_deliveries() {
    let fast = Cluster::embedded("rtt-fast", 3);
    let slow = Cluster::embedded_with("rtt-slow", 3, &["--rtt-ms", "40"]);
    // Paced, so that only the first records wait for the connection and the metadata: the
    // median is then a steady record's latency, whatever else the machine is doing.
    let run = |c: &Cluster| -> serde_json::Value {
        let out = c.run(&[
            "bench",
            "--messages",
            "200",
            "--rate",
            "400",
            "--json",
            "--linger-ms",
            "0",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(stdout(&out).trim()).unwrap()
    };
    let p50 = |r: &serde_json::Value| r["latency_ms"]["p50"].as_f64().unwrap();
    let (fast, slow) = (run(&fast), run(&slow));
    let (f, s) = (p50(&fast), p50(&slow));
    // A produce request cannot be answered faster than the injected round trip; a busy
    // machine only adds to both, so the order holds where an absolute bound would not.
    assert!(s >= 40.0, "p50 with 40 ms rtt: {s}");
    assert!(s > f, "p50 with 40 ms rtt ({s}) above p50 without ({f})");
    // librdkafka's statistics put the 40 ms where it belongs: in the broker stage (the
    // request's round trip), not in the queue.
    let stage = |r: &serde_json::Value, name: &str, what: &str| {
        r["stages_ms"][name][what]
            .as_f64()
            .unwrap_or_else(|| panic!("stages_ms.{name}.{what} in {r}"))
    };
    assert!(
        stage(&slow, "broker", "p50") >= 40.0,
        "{}",
        slow["stages_ms"]
    );
    assert!(
        stage(&slow, "queue", "p50") < stage(&slow, "broker", "p50"),
        "{}",
        slow["stages_ms"]
    );
    assert!(
        stage(&fast, "broker", "p50") < stage(&slow, "broker", "p50"),
        "{} against {}",
        fast["stages_ms"],
        slow["stages_ms"]
    );
    // The stages together make up a record's delivery latency, measured on another clock
    // (kafka-lab's own, per record): their averages add up to about the same.
    let parts: f64 = ["queue", "send", "broker"]
        .iter()
        .map(|n| stage(&slow, n, "avg"))
        .sum();
    let whole = slow["latency_ms"]["avg"].as_f64().unwrap();
    assert!(
        parts > whole * 0.5 && parts < whole * 1.5,
        "stages add up to {parts} ms, delivery latency averages {whole} ms"
    );
}

cluster_test!(bench_sweep_runs_every_combination, |cluster: &Cluster| {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("sweep.csv");
    let out = cluster.run(&[
        "bench",
        "--messages",
        "400",
        "--sweep",
        "acks=0,1,all",
        "--sweep",
        "linger.ms=0,5",
        "--json",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(rows.len(), 6, "one row per combination");
    let mut combos = Vec::new();
    for r in &rows {
        let s = &r["settings"];
        combos.push((
            s["acks"].as_str().unwrap().to_string(),
            s["linger.ms"].as_str().unwrap().to_string(),
        ));
        // Each run leaves its first 10% out of its rate and latency (a cold start), not out
        // of what it delivered.
        assert_eq!(
            (r["delivered"].as_u64(), r["records"].as_u64()),
            (Some(400), Some(360))
        );
        let (rate, secs) = (
            r["records_per_sec"].as_f64().unwrap(),
            r["duration_s"].as_f64().unwrap(),
        );
        assert!((rate * secs - 360.0).abs() < 0.5, "{rate} x {secs}");
        // Read back after each run: everything acknowledged is in the topic once.
        assert_eq!(r["accounting"]["missing"], 0, "{r}");
        assert_eq!(r["accounting"]["duplicated"], 0, "{r}");
    }
    let want: Vec<(String, String)> = ["0", "1", "all"]
        .iter()
        .flat_map(|a| ["0", "5"].map(|l| (a.to_string(), l.to_string())))
        .collect();
    assert_eq!(combos, want);
    // Same data for each run: 6 x 400 records in the topic.
    assert_eq!(high_watermarks(cluster).iter().sum::<i64>(), 2400);
    let csv = std::fs::read_to_string(csv).unwrap();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.starts_with("run,topic,started_at,settings,"), "{csv}");
    // Each row names its topic and when it began, in UTC.
    let row = csv.lines().nth(1).unwrap();
    let started = row.split(',').nth(2).unwrap();
    assert!(started.len() == 20 && started.ends_with('Z'), "{row}");

    let out = cluster.run(&[
        "bench",
        "--messages",
        "100",
        "--sweep",
        "compression.type=none,lz4",
        "--no-verify",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].contains("compression.type") && lines[0].contains("records/s"));
    assert!(lines[2].trim_start().starts_with("lz4"));
    assert!(stderr(&out).contains("run 2/2: compression.type=lz4"));
});

cluster_test!(
    consume_sinks_records_with_metadata_to_json_lines,
    |cluster: &Cluster| {
        let out = cluster.run(&["produce", "--count", "25", "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let dir = tempfile::tempdir().unwrap();
        let sink = dir.path().join("breweries.jsonl");
        let out = cluster.run(&[
            "consume",
            "-g",
            "g-sink",
            "--from-beginning",
            "--count",
            "25",
            "--output",
            "json",
            "--sink",
            sink.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("wrote 25 records to"),
            "{}",
            stderr(&out)
        );
        let written = std::fs::read_to_string(&sink).unwrap();
        // The sink holds exactly what was printed: every record once, with its metadata.
        assert_eq!(written, stdout(&out));
        for line in written.lines() {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(r["topic"], cluster.topic.as_str());
            assert!(r["offset"].is_i64() && r["partition"].is_i64() && r["timestamp_ms"].is_i64());
        }
    }
);

cluster_test!(
    partition_spread_counted_by_the_producer_matches_kcat,
    |cluster: &Cluster| {
        let Some(kcat) = kcat() else { return };
        let settings = producer_settings(&cluster.bootstrap);
        let producer = kafka_lab::kafka::producer::LabProducer::new(
            &settings,
            &cluster.topic,
            kafka_lab::kafka::producer::Reports::None,
        )
        .unwrap();
        let data = kafka_lab::data::source::Dataset::new(kafka_lab::data::source::bundled());
        // Keyed by id, then by state: the producer's own count per partition for both.
        for seq in 0..600 {
            let key = if seq < 300 {
                kafka_lab::data::source::KeyField::Id
            } else {
                kafka_lab::data::source::KeyField::State
            };
            let (record, payload) = data.get(seq);
            producer
                .send(seq, record.key(key).map(str::as_bytes), payload)
                .unwrap();
        }
        assert_eq!(producer.flush(Duration::from_secs(30)), 0);
        let ours = producer.totals().by_partition;
        let mut theirs: BTreeMap<i32, u64> = BTreeMap::new();
        for line in kcat_read(&kcat, cluster, &["-f", "%p\\n"]).lines() {
            *theirs.entry(line.trim().parse().unwrap()).or_insert(0) += 1;
        }
        assert_eq!(ours, theirs);
        assert_eq!(ours.values().sum::<u64>(), 600);
    }
);

cluster_test!(
    member_lag_and_high_watermarks_match_the_broker,
    |cluster: &Cluster| {
        let produced_at = Instant::now();
        let out = cluster.run(&["produce", "--count", "120", "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut layers = kafka_lab::config::Layers::default();
        layers.flag("bootstrap.servers", &cluster.bootstrap, "test");
        layers.flag("group.id", "g-lag", "test");
        layers.flag("auto.offset.reset", "earliest", "test");
        if !cluster.is_real() {
            for (k, v) in kafka_lab::kafka::embedded::MOCK_GROUP_SETTINGS {
                layers.flag(k, v, "test");
            }
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let _guard = rt.enter();
        let member = kafka_lab::lab::actors::member::spawn(
            kafka_lab::lab::actors::member::Start::new(1, layers, &cluster.topic, tx),
        );
        let snapshot = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), async {
                loop {
                    if let Some(kafka_lab::lab::protocol::KafkaEvent::Member(m)) = rx.recv().await {
                        let settled = m.received == 120
                            && m.partitions.len() == 6
                            && m.partitions
                                .iter()
                                .all(|p| p.position.is_some() && p.high_watermark.is_some());
                        if settled {
                            return m;
                        }
                    }
                }
            })
            .await
            .expect("the member consumes everything")
        });
        let hw = high_watermarks(cluster);
        for p in &snapshot.partitions {
            assert_eq!(
                p.high_watermark,
                Some(hw[p.partition as usize]),
                "partition {}",
                p.partition
            );
            assert_eq!(p.position, p.high_watermark, "all consumed");
            assert_eq!(p.lag(), Some(0));
        }
        assert_eq!(hw.iter().sum::<i64>(), 120);
        // End-to-end latency (receive time minus CreateTime, one clock) is positive and no longer
        // than the time since the records were produced, by a second clock.
        let bound_ms = produced_at.elapsed().as_secs_f64() * 1000.0;
        assert!(snapshot.e2e.p50 > 0.0, "{:?}", snapshot.e2e);
        assert!(
            snapshot.e2e.max <= bound_ms + 2.0,
            "{:?} vs {bound_ms}",
            snapshot.e2e
        );
        assert_eq!(snapshot.counts.by_type.values().sum::<u64>(), 120);
        rt.block_on(member.leave_and_wait(Duration::from_secs(10)));
    }
);

/// A paced run that the cluster cannot keep up with: its latency from the intended send
/// times counts the backlog that the latency from the actual sends leaves out.
#[test]
fn a_paced_run_behind_its_pace_counts_the_backlog() {
    let cluster = Cluster::embedded_with("behind-pace", 1, &["--rtt-ms", "20"]);
    let out = cluster.run(&[
        "bench",
        "--messages",
        "1500",
        "--rate",
        "1000",
        "--linger-ms",
        "0",
        "-X",
        "max.in.flight.requests.per.connection=1",
        "-X",
        "queue.buffering.max.messages=100",
        "--no-verify",
        "--json",
        // The whole run is timed against its pace.
        "--warmup",
        "0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let (sent, due) = (&r["latency_ms"], &r["latency_intended_ms"]);
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    for k in ["p50", "p99", "max"] {
        assert!(f(due, k) >= f(sent, k), "{k}: {due} against {sent}");
    }
    assert!(f(due, "p50") > f(sent, "p50"), "{due} against {sent}");
    // A second clock: the run took longer than its pace allows, and the last record was
    // due at 1.5 s; from its due time it waited at least what the run overran.
    let overran_ms = (f(&r, "duration_s") - 1.5) * 1000.0;
    assert!(overran_ms > 0.0, "the run kept its pace: {r}");
    assert!(
        f(due, "max") >= overran_ms * 0.9,
        "max from due {} against an overrun of {overran_ms} ms",
        f(due, "max")
    );

    // As fast as possible there is no pace, so no such figure.
    let out = cluster.run(&["bench", "--messages", "200", "--no-verify", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(r["latency_intended_ms"].is_null(), "{r}");
}
