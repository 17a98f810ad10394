//! `kafka-lab worker` and `bench --workers`: three worker processes and a coordinator, on the
//! embedded cluster and on the real broker. The merged figures are checked against the
//! workers' own figures and against the broker's offsets; a killed worker, a wrong token and a
//! coordinator gone mid-run are each played.

mod common;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{high_watermarks, stderr, stdout, unique_topic, wait_for, Cluster, KillOnDrop, BIN};
use kafka_lab::kafka::control::{now_ms, peek, seal, Envelope, Heartbeat, Job, Message, Share};
use serde_json::Value;

const TOKEN: &str = "a-test-token-of-some-length";

/// The workers' and coordinators' meeting place: the embedded cluster has its own; tests on
/// the shared real broker each take one, so that no test's coordinator finds another's
/// workers.
struct Meeting {
    cluster: Cluster,
    control: Vec<String>,
    logs: tempfile::TempDir,
    workers: Vec<(String, KillOnDrop)>,
}

impl Meeting {
    fn new(cluster: Cluster) -> Meeting {
        let control = if cluster.is_real() {
            vec!["--control-topic".into(), unique_topic("control")]
        } else {
            Vec::new()
        };
        Meeting {
            cluster,
            control,
            logs: tempfile::tempdir().unwrap(),
            workers: Vec::new(),
        }
    }

    fn log(&self, worker: &str) -> PathBuf {
        self.logs.path().join(format!("{worker}.log"))
    }

    fn read_log(&self, worker: &str) -> String {
        std::fs::read_to_string(self.log(worker)).unwrap_or_default()
    }

    /// Starts a worker and waits until it says it waits for jobs.
    fn worker(&mut self, name: &str, token: &str) {
        let log = File::create(self.log(name)).unwrap();
        let child = Command::new(BIN)
            .args(["worker", "--name", name, "--token", token, "-b"])
            .arg(&self.cluster.bootstrap)
            .args(&self.control)
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start kafka-lab worker");
        self.workers.push((name.to_string(), KillOnDrop(child)));
        let ready = wait_for(Duration::from_secs(60), || {
            self.read_log(name)
                .contains("waiting for jobs")
                .then_some(())
        });
        assert!(
            ready.is_some(),
            "worker {name} never got ready:\n{}",
            self.read_log(name)
        );
    }

    fn control_topic(&self) -> String {
        self.control
            .get(1)
            .cloned()
            .unwrap_or_else(|| "kafka-lab.control".to_string())
    }

    /// Every record of the control topic, as text.
    fn control_records(&self) -> Vec<String> {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        use rdkafka::Message as _;
        let topic = self.control_topic();
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &self.cluster.bootstrap)
            .set("group.id", "test-control-reader")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let (_, high) = consumer
            .fetch_watermarks(&topic, 0, Duration::from_secs(10))
            .unwrap();
        let mut from = rdkafka::TopicPartitionList::new();
        from.add_partition_offset(&topic, 0, rdkafka::Offset::Beginning)
            .unwrap();
        consumer.assign(&from).unwrap();
        let mut out = Vec::new();
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
                out.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
                if m.offset() + 1 >= high {
                    break;
                }
            }
        }
        out
    }

    /// Writes a record to the control topic as anyone with access could.
    fn write_control(&self, payload: &[u8]) {
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
        let producer: BaseProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &self.cluster.bootstrap)
            .create()
            .unwrap();
        let topic = self.control_topic();
        producer
            .send(
                BaseRecord::<str, [u8]>::to(&topic)
                    .partition(0)
                    .payload(payload),
            )
            .unwrap();
        producer.flush(Duration::from_secs(10)).unwrap();
    }

    /// The latest heartbeat of a worker, as the control topic holds it.
    fn heartbeat(&self, worker: &str) -> Heartbeat {
        let found = wait_for(Duration::from_secs(20), || {
            self.control_records().iter().rev().find_map(|r| {
                let envelope: Envelope = serde_json::from_str(r).ok()?;
                match peek(&envelope)? {
                    Message::Heartbeat(h) if h.worker == worker => Some(h),
                    _ => None,
                }
            })
        });
        found.unwrap_or_else(|| panic!("no heartbeat of {worker}"))
    }

    fn kill(&mut self, name: &str) {
        let (_, child) = self.workers.iter_mut().find(|(n, _)| n == name).unwrap();
        child.0.kill().unwrap();
        child.0.wait().unwrap();
    }

    /// `bench --workers N ... --json` as a child, not yet waited for.
    fn coordinator(&self, n: u32, token: &str, extra: &[&str]) -> Command {
        let mut cmd = self
            .cluster
            .command(&["bench", "--workers", &n.to_string(), "--json"]);
        cmd.args(["--token", token]).args(&self.control).args(extra);
        if !extra.contains(&"--workers-timeout") {
            cmd.args(["--workers-timeout", "60"]);
        }
        cmd
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_str(stdout(out).trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", stdout(out), stderr(out)))
}

/// The p99 of every worker's latencies, from a histogram built here of their own buckets (of
/// the same bounds and precision as kafka-lab's).
fn p99_of_all(workers: &[Value]) -> f64 {
    let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap();
    for w in workers {
        for pair in w["figures"]["latency_us"].as_array().unwrap() {
            h.record_n(pair[0].as_u64().unwrap(), pair[1].as_u64().unwrap())
                .unwrap();
        }
    }
    h.value_at_quantile(0.99) as f64 / 1000.0
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn three_workers_add_up(cluster: Cluster) {
    let mut m = Meeting::new(cluster);
    for w in ["w1", "w2", "w3"] {
        m.worker(w, TOKEN);
    }
    let out = m
        .coordinator(
            3,
            TOKEN,
            &["--messages", "3001", "--rate", "1500", "--warmup", "0"],
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let j = json(&out);
    assert_eq!(j["complete"], true, "{j}");
    let workers = j["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 3);
    // Each worker sent its share; the merged counts are their sums.
    let shares: Vec<u64> = workers
        .iter()
        .map(|w| u(&w["figures"]["delivered"]))
        .collect();
    assert_eq!(shares, vec![1001, 1000, 1000], "{j}");
    assert_eq!(u(&j["delivered"]), 3001);
    let received: u64 = workers
        .iter()
        .map(|w| u(&w["figures"]["accounting"]["received"]))
        .sum();
    assert_eq!(u(&j["accounting"]["received"]), received);
    assert_eq!(received, 3001, "{j}");
    assert_eq!(u(&j["accounting"]["missing"]), 0);
    assert_eq!(u(&j["accounting"]["duplicated"]), 0);
    // The broker's own count of what was written.
    assert_eq!(high_watermarks(&m.cluster).iter().sum::<i64>(), 3001);
    // Rates are summed; the p99 is that of all latencies together, not an average.
    // Each worker's rate from its own figures: measured records over measured seconds.
    let rates: f64 = workers
        .iter()
        .map(|w| {
            let f = &w["figures"];
            u(&f["measured"]) as f64 / f["duration_s"].as_f64().unwrap()
        })
        .sum();
    assert!(
        (j["records_per_sec"].as_f64().unwrap() - rates).abs() < 1e-6,
        "{j}"
    );
    assert_eq!(
        j["latency_ms"]["p99"].as_f64().unwrap(),
        p99_of_all(workers),
        "{j}"
    );
    let tags: std::collections::BTreeSet<&str> = workers
        .iter()
        .map(|w| w["figures"]["run_tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags.len(), 3, "each worker has its own run tag: {j}");
    // The text summary: the merged line, the read-back, a row per worker.
    let out = m
        .cluster
        .command(&[
            "bench",
            "--workers",
            "3",
            "--messages",
            "300",
            "--token",
            TOKEN,
        ])
        .args(&m.control)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(
        text.starts_with("3 workers: 300 records sent, 300 delivered, 0 failed"),
        "{text}"
    );
    assert!(
        text.contains(
            "read back (each worker its own records): 300 received, 0 missing, 0 duplicated"
        ),
        "{text}"
    );
    for w in ["w1", "w2", "w3"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(w) && l.ends_with("done")),
            "{text}"
        );
    }
}

#[test]
fn three_workers_on_the_embedded_cluster_add_up() {
    three_workers_add_up(Cluster::embedded("workers", 6));
}

#[test]
fn three_workers_on_the_real_broker_add_up() {
    let Some(cluster) = Cluster::real("workers", 6) else {
        return;
    };
    three_workers_add_up(cluster);
}

#[test]
fn a_worker_killed_mid_run_is_reported_and_accounted() {
    killed_mid_run(Cluster::embedded("workers-killed", 6));
}

#[test]
fn a_worker_killed_mid_run_on_the_real_broker_is_reported_and_accounted() {
    let Some(cluster) = Cluster::real("workers-killed", 6) else {
        return;
    };
    killed_mid_run(cluster);
}

fn killed_mid_run(cluster: Cluster) {
    let mut m = Meeting::new(cluster);
    for w in ["k1", "k2", "k3"] {
        m.worker(w, TOKEN);
    }
    // 3 x 2,000 records at 200 records/s each: 10 s.
    let child = m
        .coordinator(
            3,
            TOKEN,
            &["--messages", "6000", "--rate", "600", "--warmup", "0"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = wait_for(Duration::from_secs(60), || {
        m.read_log("k3")
            .contains("starting in")
            .then_some(Instant::now())
    });
    assert!(started.is_some(), "{}", m.read_log("k3"));
    std::thread::sleep(Duration::from_secs(8));
    m.kill("k3");
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "an incomplete run fails");
    let j = json(&out);
    assert_eq!(j["complete"], false, "{j}");
    let workers = j["workers"].as_array().unwrap();
    let gone = workers.iter().find(|w| w["worker"] == "k3").unwrap();
    assert_eq!(gone["status"], "gone", "{j}");
    let at = gone["at_s"].as_f64().unwrap();
    assert!((1.0..10.0).contains(&at), "{j}");
    let acknowledged = u(&gone["acknowledged"]);
    assert!(acknowledged > 0 && acknowledged < 2000, "{j}");
    for w in workers.iter().filter(|w| w["worker"] != "k3") {
        assert_eq!(w["status"], "done", "{j}");
        assert_eq!(u(&w["figures"]["delivered"]), 2000, "{j}");
        assert_eq!(u(&w["figures"]["accounting"]["missing"]), 0, "{j}");
    }
    // What the killed worker had acknowledged is in the topic, beside the others' records.
    let written: i64 = high_watermarks(&m.cluster).iter().sum();
    assert!(written >= 4000 + acknowledged as i64, "{written} {j}");
    let said = j["incomplete"].to_string();
    assert!(said.contains("worker k3 stopped heartbeating"), "{said}");
}

#[test]
fn a_coordinator_with_another_token_finds_no_worker_and_a_busy_worker_says_so() {
    wrong_token_and_busy(Cluster::embedded("workers-token", 3));
}

#[test]
fn on_the_real_broker_a_coordinator_with_another_token_finds_no_worker() {
    let Some(cluster) = Cluster::real("workers-token", 3) else {
        return;
    };
    wrong_token_and_busy(cluster);
}

fn wrong_token_and_busy(cluster: Cluster) {
    let mut m = Meeting::new(cluster);
    m.worker("t1", TOKEN);
    let out = m
        .coordinator(
            1,
            "some-other-token",
            &["--messages", "10", "--workers-timeout", "5"],
        )
        .output()
        .unwrap();
    // Its messages are sealed with another token: the coordinator hears the worker but
    // cannot take it, and says why.
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("only 0 of 1 workers came"), "{err}");
    assert!(err.contains("heard with another token: t1"), "{err}");
    // Neither token is anywhere on the control topic, nor in the worker's log.
    let records = m.control_records();
    assert!(records.len() > 3, "{records:?}");
    for secret in [TOKEN, "some-other-token"] {
        assert!(!m.read_log("t1").contains(secret));
        assert!(!records.iter().any(|r| r.contains(secret)), "{records:?}");
    }
    assert_eq!(high_watermarks(&m.cluster).iter().sum::<i64>(), 0);

    // A second coordinator while the worker runs the first one's job finds it busy.
    let first = m
        .coordinator(1, TOKEN, &["--messages", "1500", "--rate", "150"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = KillOnDrop(first);
    wait_for(Duration::from_secs(60), || {
        m.read_log("t1").contains("starting in").then_some(())
    })
    .expect("the first job starts");
    let out = m
        .coordinator(1, TOKEN, &["--messages", "10", "--workers-timeout", "4"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("only 0 of 1 workers came") && err.contains("busy: t1 (running"),
        "{err}"
    );
    assert!(first.0.wait().unwrap().success());
}

#[test]
fn workers_stop_a_job_whose_coordinator_is_gone_and_wait_again() {
    let mut m = Meeting::new(Cluster::embedded("workers-orphan", 3));
    m.worker("o1", TOKEN);
    let child = m
        .coordinator(1, TOKEN, &["--messages", "100000", "--rate", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut coordinator = KillOnDrop(child);
    wait_for(Duration::from_secs(60), || {
        m.read_log("o1").contains("starting in").then_some(())
    })
    .expect("the job starts");
    std::thread::sleep(Duration::from_secs(3));
    coordinator.0.kill().unwrap();
    let stopped = wait_for(Duration::from_secs(60), || {
        m.read_log("o1")
            .contains("stopped: cancelled")
            .then_some(())
    });
    assert!(stopped.is_some(), "{}", m.read_log("o1"));
    assert!(m.read_log("o1").contains("its coordinator has been silent"));
    // Back to waiting: the next job runs.
    let out = m
        .coordinator(1, TOKEN, &["--messages", "100", "--warmup", "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(u(&json(&out)["accounting"]["received"]), 100);
}

#[test]
fn workers_refuse_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .env_remove("KAFKA_LAB_TOKEN")
            .output()
            .unwrap()
    };
    let out = run(&["worker", "-b", "127.0.0.1:1"]);
    common::assert_clean_failure(&out, &["--token", "KAFKA_LAB_TOKEN"]);
    let out = run(&["worker", "-b", "127.0.0.1:1", "--token", "short"]);
    common::assert_clean_failure(&out, &["too short"]);
    let out = run(&["worker", "--token", TOKEN]);
    common::assert_clean_failure(&out, &["-b HOST:PORT", "kafka-lab cluster"]);
    let out = run(&["bench", "--workers", "2", "--token", TOKEN]);
    common::assert_clean_failure(&out, &["--workers needs a cluster"]);
    let out = run(&[
        "bench",
        "--workers",
        "2",
        "--token",
        TOKEN,
        "--sweep",
        "acks=0,1",
        "-b",
        "x:1",
    ]);
    common::assert_clean_failure(&out, &["--sweep does not go with --workers"]);
    // The token never shows in help, even from the environment.
    let help = Command::new(BIN)
        .args(["worker", "--help"])
        .env("KAFKA_LAB_TOKEN", "a-secret-in-the-env")
        .output()
        .unwrap();
    assert!(!stdout(&help).contains("a-secret-in-the-env"));
    assert!(stdout(&help).contains("KAFKA_LAB_TOKEN"));
}

/// Jobs written straight to the control topic with the right token: one carrying a security
/// property, the same job again, and one for an earlier worker of the same name.
#[test]
fn a_worker_refuses_jobs_that_carry_connection_settings_or_are_replayed() {
    let mut m = Meeting::new(Cluster::embedded("workers-forged", 3));
    m.worker("f1", TOKEN);
    let nonce = m.heartbeat("f1").nonce;
    let job = |id: &str, nonce: u64, key: &str| Job {
        id: id.into(),
        coordinator: "test".into(),
        topic: m.cluster.topic.clone(),
        properties: [(key.to_string(), "1".to_string())].into(),
        shares: vec![Share {
            worker: "f1".into(),
            nonce,
            messages: 5,
            rate: None,
            warmup: 0,
        }],
        record_size: None,
        key: "id".into(),
        start_at_ms: now_ms() + 1000,
        deadline_ms: now_ms() + 60_000,
        verify: true,
    };
    let send = |job: Job| {
        let envelope = seal(TOKEN, &Message::Job(Box::new(job)));
        let bytes = serde_json::to_vec(&envelope).unwrap();
        m.write_control(&bytes);
        bytes
    };
    send(job("j-ssl", nonce, "ssl.ca.location"));
    let log = wait_for(Duration::from_secs(60), || {
        let log = m.read_log("f1");
        log.contains("refused job j-ssl").then_some(log)
    })
    .unwrap_or_else(|| {
        panic!(
            "{}:\n{}",
            "the job with ssl.ca.location is refused",
            m.read_log("f1")
        )
    });
    assert!(
        log.contains("`ssl.ca.location` is not a producer tuning property"),
        "{log}"
    );
    // A good job runs; written again as it was, it is refused as a replay.
    let bytes = send(job("j-ok", nonce, "linger.ms"));
    wait_for(Duration::from_secs(60), || {
        m.read_log("f1").contains("job j-ok done").then_some(())
    })
    .unwrap_or_else(|| panic!("{}:\n{}", "the job runs", m.read_log("f1")));
    m.write_control(&bytes);
    send(job("j-old", nonce ^ 1, "linger.ms"));
    let log = wait_for(Duration::from_secs(60), || {
        let log = m.read_log("f1");
        (log.contains("refused job j-ok") && log.contains("refused job j-old")).then_some(log)
    })
    .unwrap_or_else(|| {
        panic!(
            "{}:\n{}",
            "the replay and the job for another worker are refused",
            m.read_log("f1")
        )
    });
    assert!(log.contains("a replay"), "{log}");
    // A job sealed with another token is ignored, and the worker says so.
    let stranger = seal(
        "some-other-token",
        &Message::Job(Box::new(job("j-x", nonce, "acks"))),
    );
    m.write_control(&serde_json::to_vec(&stranger).unwrap());
    wait_for(Duration::from_secs(60), || {
        m.read_log("f1")
            .contains("ignored a job from test that is not sealed with this worker's token")
            .then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "{}:\n{}",
            "the stranger's job is ignored and logged",
            m.read_log("f1")
        )
    });
    // Garbage is passed over, and the worker goes on.
    m.write_control(b"{not json");
    m.write_control(br#"{"body":"{}","mac":"AAAA"}"#);
    send(job("j-after", nonce, "linger.ms"));
    wait_for(Duration::from_secs(60), || {
        m.read_log("f1").contains("job j-after done").then_some(())
    })
    .unwrap_or_else(|| panic!("{}:\n{}", "the worker still runs jobs", m.read_log("f1")));
    // Five records for each job that ran.
    assert_eq!(high_watermarks(&m.cluster).iter().sum::<i64>(), 10);
}

/// Ctrl-C on the coordinator cancels the job: the worker stops sending at once (not after a
/// burst), reports what it sent, and the summary says the run was cancelled.
#[test]
fn a_cancelled_run_stops_at_once_and_is_reported() {
    let mut m = Meeting::new(Cluster::embedded("workers-cancel", 3));
    m.worker("c1", TOKEN);
    let child = m
        .coordinator(
            1,
            TOKEN,
            &["--messages", "100000", "--rate", "10", "--warmup", "0"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(60), || {
        m.read_log("c1").contains("starting in").then_some(())
    })
    .unwrap_or_else(|| panic!("the job starts:\n{}", m.read_log("c1")));
    std::thread::sleep(Duration::from_secs(8));
    // SAFETY: signals a child of this test, still running.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let j = json(&out);
    let w = &j["workers"][0];
    assert_eq!(w["figures"]["stopped"], "cancelled", "{j}");
    // About 10 records a second for the seconds it ran: never a burst of hundreds.
    let sent = u(&w["figures"]["sent"]);
    assert!((20..150).contains(&sent), "{j}");
    assert_eq!(u(&w["figures"]["accounting"]["received"]), sent, "{j}");
    assert_eq!(high_watermarks(&m.cluster).iter().sum::<i64>(), sent as i64);
    assert!(j["incomplete"].to_string().contains("cancelled"), "{j}");
}

/// The dashboard's Workers box reads the topic the workers meet on (`--control-topic`), here
/// one of the test's own on the real broker: the worker's name shows on the drawn screen.
#[test]
fn the_dashboard_shows_the_workers_of_its_control_topic() {
    use clap::Parser;
    let Some(cluster) = Cluster::real("workers-dashboard", 3) else {
        return;
    };
    let mut meeting = Meeting::new(cluster);
    meeting.worker("w-on-screen", TOKEN);
    let control = meeting.control_topic();
    let cli = kafka_lab::cli::Cli::parse_from([
        "kafka-lab",
        "-b",
        &meeting.cluster.bootstrap,
        "-t",
        &meeting.cluster.topic,
        "--paused",
        "--control-topic",
        &control,
    ]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let target =
            kafka_lab::target::Target::connect(&cli.connection, kafka_lab::config::Role::Producer)
                .unwrap();
        let mut lab = kafka_lab::lab::Lab::open(&cli.connection, &cli.dashboard, target)
            .await
            .unwrap();
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 50)).unwrap();
            terminal
                .draw(|f| kafka_lab::ui::render(f, lab.app()))
                .unwrap();
            let screen: String = terminal
                .backend()
                .buffer()
                .content()
                .iter()
                .map(ratatui::buffer::Cell::symbol)
                .collect();
            if screen.contains("w-on-screen") {
                break;
            }
            assert!(
                Instant::now() < until,
                "the worker on {control} never showed:\n{screen}"
            );
            let _ = tokio::time::timeout(Duration::from_millis(500), lab.next()).await;
        }
        lab.shut_down().await;
    });
}
