//! Test harness: runs the real binary against a cluster.
//!
//! Every cluster test runs twice, through [`cluster_test!`]: against the embedded cluster
//! (`kafka-lab cluster` in a child process) and against the broker named by
//! `KAFKA_LAB_BOOTSTRAP` (a real Apache Kafka, see scripts/kafka-local). Without that variable
//! the real-broker variant prints that it is skipped, by name, and passes.
#![allow(dead_code)]

pub mod api;
pub mod fixtures;
pub mod play;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

pub const BIN: &str = env!("CARGO_BIN_EXE_kafka-lab");
pub const BOOTSTRAP_VAR: &str = "KAFKA_LAB_BOOTSTRAP";

/// Says a test is skipped, on the terminal: libtest captures `eprintln!` of passing tests,
/// but not writes to the stderr handle.
#[macro_export]
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Runs a test body against the embedded cluster and against the real broker.
#[macro_export]
macro_rules! cluster_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn embedded() {
                let cluster = common::Cluster::embedded(stringify!($name), 6);
                ($body)(&cluster);
            }

            #[test]
            fn real_broker() {
                let Some(cluster) = common::Cluster::real(stringify!($name), 6) else {
                    return;
                };
                ($body)(&cluster);
            }
        }
    };
}

pub enum Kind {
    /// The child serving the embedded cluster; killed on drop.
    Embedded(Child),
    Real,
}

/// A cluster with a fresh topic for one test.
pub struct Cluster {
    pub bootstrap: String,
    pub topic: String,
    pub partitions: i32,
    pub kind: Kind,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A topic name no other test (or earlier run on the same broker) uses.
pub fn unique_topic(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "t-{name}-{}-{}",
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

impl Cluster {
    pub fn embedded(name: &str, partitions: i32) -> Cluster {
        Self::embedded_with(name, partitions, &[])
    }

    pub fn embedded_with(name: &str, partitions: i32, extra: &[&str]) -> Cluster {
        let topic = unique_topic(name);
        let mut child = Command::new(BIN)
            .args([
                "cluster",
                "-t",
                &topic,
                "--partitions",
                &partitions.to_string(),
            ])
            .args(extra)
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kafka-lab cluster");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let bootstrap = line
            .trim()
            .strip_prefix("bootstrap.servers=")
            .unwrap_or_else(|| panic!("unexpected first line from `cluster`: {line:?}"))
            .to_string();
        Cluster {
            bootstrap,
            topic,
            partitions,
            kind: Kind::Embedded(child),
        }
    }

    /// The real broker of `KAFKA_LAB_BOOTSTRAP`, with a new topic; None (and a note) when unset.
    pub fn real(name: &str, partitions: i32) -> Option<Cluster> {
        let Some(bootstrap) = real_bootstrap() else {
            skipped!("SKIPPED {name}::real_broker: {BOOTSTRAP_VAR} is not set (scripts/kafka-local start gives one)");
            return None;
        };
        let topic = unique_topic(name);
        let cluster = Cluster {
            bootstrap,
            topic,
            partitions,
            kind: Kind::Real,
        };
        create_topic(&cluster.bootstrap, &cluster.topic, partitions);
        Some(cluster)
    }

    pub fn is_real(&self) -> bool {
        matches!(self.kind, Kind::Real)
    }

    /// The arguments that point kafka-lab at this cluster and topic.
    pub fn args(&self) -> Vec<String> {
        vec![
            "-b".into(),
            self.bootstrap.clone(),
            "-t".into(),
            self.topic.clone(),
        ]
    }

    /// Runs `kafka-lab <args> -b .. -t ..` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run kafka-lab")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .args(self.args())
            .current_dir(std::env::temp_dir())
            // What a run keeps (the Open Brewery DB set) stays out of the user's cache, and
            // one test process's from another's.
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join(format!("kafka-lab-tests-{}", std::process::id())),
            )
            .stdin(Stdio::null());
        cmd
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Kind::Embedded(child) = &mut self.kind {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Creates a topic through the admin API and waits until its metadata is visible.
pub fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let settings = producer_settings(bootstrap);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(kafka_lab::kafka::cluster::create_topic(
        &settings,
        topic,
        partitions,
        1,
        Duration::from_secs(30),
    ))
    .expect("create topic");
    wait_for(Duration::from_secs(15), || {
        kafka_lab::kafka::cluster::probe(&settings, topic, Duration::from_secs(5))
            .ok()
            .filter(|t| t.partitions.len() == partitions as usize)
    })
    .expect("the new topic appears in metadata");
}

/// Producer settings for a plain-text cluster at `bootstrap`.
pub fn producer_settings(bootstrap: &str) -> kafka_lab::config::ClientSettings {
    client_settings(bootstrap, kafka_lab::config::Role::Producer, &[])
}

pub fn client_settings(
    bootstrap: &str,
    role: kafka_lab::config::Role,
    extra: &[(&str, &str)],
) -> kafka_lab::config::ClientSettings {
    let mut layers = kafka_lab::config::Layers::default();
    layers.flag("bootstrap.servers", bootstrap, "test");
    for (k, v) in extra {
        layers.flag(k, *v, "test");
    }
    layers.resolve(role).expect("valid test settings")
}

pub fn real_bootstrap() -> Option<String> {
    std::env::var(BOOTSTRAP_VAR).ok().filter(|s| !s.is_empty())
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Parses `k=v k2="quoted v"` into pairs; a `value=` field takes the rest of the line.
pub fn logfmt(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let eq = rest.find('=').expect("key=value");
        let key = rest[..eq].to_string();
        rest = &rest[eq + 1..];
        let value;
        if key == "value" {
            // `consume`'s text lines end with the raw, unquoted value.
            value = rest.to_string();
            rest = "";
        } else if rest.starts_with('"') {
            let mut de = serde_json::Deserializer::from_str(rest).into_iter::<String>();
            value = de.next().unwrap().unwrap();
            rest = &rest[de.byte_offset()..];
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            value = rest[..end].to_string();
            rest = &rest[end..];
        }
        out.push((key, value));
        rest = rest.trim_start();
    }
    out
}

pub fn field<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// One delivery line of `produce`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Delivered {
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    pub seq: u64,
}

pub fn deliveries(stdout: &str) -> Vec<Delivered> {
    stdout
        .lines()
        .filter(|l| l.starts_with("seq="))
        .map(|l| {
            let p = logfmt(l);
            assert!(field(&p, "error").is_none(), "delivery failed: {l}");
            Delivered {
                partition: field(&p, "partition").unwrap().parse().unwrap(),
                offset: field(&p, "offset").unwrap().parse().unwrap(),
                key: field(&p, "key").unwrap().to_string(),
                seq: field(&p, "seq").unwrap().parse().unwrap(),
            }
        })
        .collect()
}

/// The `summary:` line of `produce` as (sent, delivered, failed, undelivered).
pub fn summary(stdout: &str) -> (u64, u64, u64, u64) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_else(|| panic!("no summary line in {stdout}"));
    let p = logfmt(line.trim_start_matches("summary: "));
    let n = |k| field(&p, k).unwrap().parse().unwrap();
    (n("sent"), n("delivered"), n("failed"), n("undelivered"))
}

/// Runs `consume --output json` and returns its records.
pub fn consume_json(cluster: &Cluster, group: &str, count: usize) -> Vec<serde_json::Value> {
    let out = cluster.run(&[
        "consume",
        "-g",
        group,
        "--from-beginning",
        "--count",
        &count.to_string(),
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "consume: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// `kcat`, or None with a note when it is not installed (CI=true makes that a failure).
pub fn kcat() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("kcat"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "kcat is required in CI (.ci/run installs it)"
        );
        skipped!("SKIPPED: kcat is not installed (apt-get install kcat)");
    }
    found
}

/// Everything in the cluster's topic, read from the beginning by kcat with `format` options.
pub fn kcat_read(kcat: &std::path::Path, cluster: &Cluster, format: &[&str]) -> String {
    let out = Command::new(kcat)
        .args(["-C", "-b", &cluster.bootstrap, "-t", &cluster.topic])
        .args(["-e", "-q", "-o", "beginning"])
        .args(format)
        .output()
        .unwrap();
    assert!(out.status.success(), "kcat: {}", stderr(&out));
    stdout(&out)
}

/// Waits for `f` to return Some, up to `timeout`.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An error exit: non-zero, a message, no panic or backtrace.
pub fn assert_clean_failure(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert!(
        !out.status.success(),
        "expected failure, got success: {err}"
    );
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(!err.contains("RUST_BACKTRACE"), "backtrace hint: {err}");
    assert!(err.contains("error: "), "no error line: {err}");
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` missing from: {err}");
    }
}

/// A child process killed when dropped: a failing test leaves nothing running.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// High watermarks per partition, asked of the broker directly (not through kafka-lab).
pub fn high_watermarks(cluster: &Cluster) -> Vec<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &cluster.bootstrap)
        .create()
        .unwrap();
    (0..cluster.partitions)
        .map(|p| {
            consumer
                .fetch_watermarks(&cluster.topic, p, Duration::from_secs(10))
                .unwrap()
                .1
        })
        .collect()
}

/// The group's committed offset of each partition, as the broker has it (None: none).
pub fn committed_offsets(
    cluster: &Cluster,
    group: &str,
) -> std::collections::BTreeMap<i32, Option<i64>> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &cluster.bootstrap)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut list = rdkafka::TopicPartitionList::new();
    for p in 0..cluster.partitions {
        list.add_partition(&cluster.topic, p);
    }
    let list = consumer
        .committed_offsets(list, Duration::from_secs(10))
        .unwrap();
    list.elements()
        .iter()
        .map(|e| {
            let at = match e.offset() {
                rdkafka::Offset::Offset(o) => Some(o),
                _ => None,
            };
            (e.partition(), at)
        })
        .collect()
}

/// A plain member of `group` (with `extra` properties) that has joined and been given
/// partitions; it must be polled to stay in the group.
pub fn joined_member(
    cluster: &Cluster,
    group: &str,
    extra: &[(&str, &str)],
) -> rdkafka::consumer::BaseConsumer {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let mut config = rdkafka::ClientConfig::new();
    config
        .set("bootstrap.servers", &cluster.bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false");
    for (k, v) in extra {
        config.set(*k, *v);
    }
    let member: BaseConsumer = config.create().unwrap();
    member.subscribe(&[&cluster.topic]).unwrap();
    let joined = wait_for(Duration::from_secs(60), || {
        let _ = member.poll(Duration::from_millis(100));
        member
            .assignment()
            .ok()
            .filter(|a| a.count() == cluster.partitions as usize)
            .map(|_| ())
    });
    assert!(joined.is_some(), "the member joined group {group}");
    member
}

/// Runs the binary in `dir` with `args` and extra environment.
pub fn run_with_env(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Every byte of `out`, stdout and stderr.
pub fn all(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

/// Copies of each input sequence number in `topic`, read committed.
pub fn copies(bootstrap: &str, topic: &str) -> std::collections::BTreeMap<u64, u32> {
    let settings = client_settings(
        bootstrap,
        kafka_lab::config::Role::Consumer,
        &[
            ("group.id", &unique_topic("count")),
            ("auto.offset.reset", "earliest"),
            ("isolation.level", "read_committed"),
            ("enable.partition.eof", "false"),
        ],
    );
    let consumer: rdkafka::consumer::BaseConsumer = settings.client_config().create().unwrap();
    rdkafka::consumer::Consumer::subscribe(&consumer, &[topic]).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    let mut quiet = std::time::Instant::now();
    while quiet.elapsed() < Duration::from_secs(5) {
        let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        quiet = std::time::Instant::now();
        let seq = rdkafka::Message::headers(&m)
            .and_then(|h| {
                rdkafka::message::Headers::iter(h)
                    .find(|h| h.key == kafka_lab::kafka::verify::SEQ_HEADER)
                    .and_then(|h| std::str::from_utf8(h.value?).ok()?.parse().ok())
            })
            .expect("every output record keeps its input's sequence");
        *seen.entry(seq).or_insert(0) += 1;
    }
    seen
}
