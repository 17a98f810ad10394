//! kafka-lab's producer (`bench`) against a bare rdkafka loop with the same record shape.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;

use crate::common::{median, paired, rate, table, wait, Lab, Options, PROPERTIES, RECORD_SIZE};

/// Keys and values as kafka-lab sends them: brewery ids, the brewery JSON cut to size.
pub struct Shape {
    keys: Vec<String>,
    values: Vec<Vec<u8>>,
}

impl Shape {
    pub fn new() -> Shape {
        let breweries = kafka_lab::data::source::bundled();
        let keys = breweries.iter().map(|b| b.id.clone()).collect();
        let values = breweries
            .iter()
            .map(|b| {
                let json = serde_json::to_vec(b).unwrap();
                json.iter().copied().cycle().take(RECORD_SIZE).collect()
            })
            .collect();
        Shape { keys, values }
    }
}

/// Counts deliveries, and when the last one came.
#[derive(Default)]
struct Counter {
    delivered: AtomicU64,
    failed: AtomicU64,
    last: Mutex<Option<Instant>>,
}

impl ClientContext for Counter {}

impl ProducerContext for Counter {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, (): ()) {
        match result {
            Ok(_) => self.delivered.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
        *self.last.lock().unwrap() = Some(Instant::now());
    }
}

/// What someone would write with rdkafka: a `BaseProducer`, polled every 64 sends and while its
/// queue is full; records/s from the first send to the last delivery report.
pub fn bare_loop(
    bootstrap: &str,
    topic: &str,
    n: u64,
    headers: bool,
    shape: &Shape,
) -> Result<f64> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    for (k, v) in PROPERTIES {
        config.set(k, v);
    }
    let producer: BaseProducer<Counter> = config.create_with_context(Counter::default())?;
    // As long as kafka-lab's run tag (process id, then nanoseconds since 1970): a shorter one
    // would make every record of this loop lighter.
    let tag = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos()
    );
    let started = Instant::now();
    for i in 0..n {
        let at = (i % shape.keys.len() as u64) as usize;
        let mut record = BaseRecord::to(topic)
            .key(&shape.keys[at])
            .payload(&shape.values[at]);
        if headers {
            record = record.headers(
                OwnedHeaders::new_with_capacity(2)
                    .insert(Header {
                        key: "kafka-lab-run",
                        value: Some(&tag),
                    })
                    .insert(Header {
                        key: "kafka-lab-seq",
                        value: Some(&i.to_string()),
                    }),
            );
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => bail!("the bare loop's send failed: {e}"),
            }
        }
        if i % 64 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(120))?;
    let context = producer.context();
    let delivered = context.delivered.load(Ordering::Relaxed);
    if delivered != n {
        bail!("the bare loop delivered {delivered} of {n} records");
    }
    let last = context.last.lock().unwrap().unwrap_or_else(Instant::now);
    Ok(delivered as f64 / (last - started).as_secs_f64())
}

/// The argument that makes this program run one bare loop and print its records/s.
pub const BARE_LOOP: &str = "--bare-loop";

/// `--bare-loop BOOTSTRAP TOPIC RECORDS HEADERS(true|false)`.
pub fn bare_loop_process(args: &[String]) -> Result<()> {
    let [bootstrap, topic, n, headers] = args else {
        bail!("{BARE_LOOP} BOOTSTRAP TOPIC RECORDS HEADERS");
    };
    let r = bare_loop(
        bootstrap,
        topic,
        n.parse()?,
        headers == "true",
        &Shape::new(),
    )?;
    println!("{r}");
    Ok(())
}

/// The bare loop's records/s, run as a process of its own.
fn bare(lab: &Lab, topic: &str, n: u64, headers: bool) -> Result<f64> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .args([
            BARE_LOOP,
            &lab.bootstrap,
            topic,
            &n.to_string(),
            &headers.to_string(),
        ])
        .output()?;
    if !output.status.success() {
        bail!(
            "the bare loop failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

/// Values of `RECORD_SIZE` bytes (against the bare loop), or the brewery records as they are
/// (against the dashboard, which sends them so).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Values {
    Sized,
    AsTheyAre,
}

/// `kafka-lab bench`'s records/s for the same run.
pub fn kafka_lab_bench(
    lab: &Lab,
    topic: &str,
    n: u64,
    values: Values,
    extra: &[&str],
) -> Result<f64> {
    let mut cmd = lab.kafka_lab(topic);
    // Whole runs, as the bare loop and kcat are timed.
    cmd.args([
        "bench",
        "--messages",
        &n.to_string(),
        "--json",
        "--warmup",
        "0",
    ]);
    if values == Values::Sized {
        cmd.args(["--record-size", &RECORD_SIZE.to_string()]);
    }
    for (k, v) in PROPERTIES {
        cmd.args(["-X", &format!("{k}={v}")]);
    }
    cmd.args(extra);
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let status = wait(&mut child, Duration::from_secs(600))?;
    let output = child.wait_with_output()?;
    if !status.success() {
        bail!(
            "kafka-lab bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .with_context(|| String::from_utf8_lossy(&output.stdout).into_owned())?;
    report["records_per_sec"]
        .as_f64()
        .context("records_per_sec in bench --json")
}

pub fn run(options: &Options, lab: &Lab) -> Result<()> {
    let topic = lab.topic("produce")?;
    let n = options.records;
    println!(
        "Produce: {} records per run, {} rounds, interleaved; records/s from the first send to the last delivery report",
        rate(n as f64),
        options.rounds
    );
    // One unmeasured run each, so that connections and the topic's metadata are warm.
    bare(lab, &topic, n / 10, true)?;
    kafka_lab_bench(lab, &topic, n / 10, Values::Sized, &["--no-verify"])?;
    let mut columns: [Vec<f64>; 4] = Default::default();
    let mut rows = Vec::new();
    for round in 1..=options.rounds {
        let lab_run = |extra: &[&str]| kafka_lab_bench(lab, &topic, n, Values::Sized, extra);
        // Each pair in turns, kafka-lab first in odd rounds and the bare loop first in even
        // ones: a broker slowing down over a round (a segment rolled, the page cache
        // written back) does not always fall on the same side.
        let pair = |extra: &'static [&'static str], headers: bool| -> Result<[f64; 2]> {
            Ok(if round % 2 == 1 {
                let ours = lab_run(extra)?;
                [ours, bare(lab, &topic, n, headers)?]
            } else {
                let theirs = bare(lab, &topic, n, headers)?;
                [lab_run(extra)?, theirs]
            })
        };
        let [tagged, bare_tagged] = pair(&[], true)?;
        let [untagged, bare_untagged] = pair(&["--no-verify"], false)?;
        let figures = [tagged, bare_tagged, untagged, bare_untagged];
        let mut row = vec![round.to_string()];
        for (column, f) in columns.iter_mut().zip(figures) {
            column.push(f);
            row.push(rate(f));
        }
        rows.push(row);
    }
    let m: Vec<f64> = columns.iter().map(|c| median(c)).collect();
    rows.push(
        ["median".to_string()]
            .into_iter()
            .chain(m.iter().map(|v| rate(*v)))
            .collect(),
    );
    table(
        &[
            "round",
            "kafka-lab bench",
            "bare loop, key + 2 headers",
            "kafka-lab bench --no-verify",
            "bare loop, key only",
        ],
        &rows,
    );
    println!(
        "  ratio (median): bench / bare loop = {:.2}; bench --no-verify / bare loop without headers = {:.2}\n  median of the rounds' own ratios: {:.2}; {:.2}\n",
        m[0] / m[1],
        m[2] / m[3],
        paired(&columns[0], &columns[1]),
        paired(&columns[2], &columns[3])
    );
    java_perf_test(lab, &topic, n)?;
    Ok(())
}

/// Apache Kafka's own kafka-producer-perf-test, when a broker is given and Java is here.
fn java_perf_test(lab: &Lab, topic: &str, n: u64) -> Result<()> {
    let script = kafka_lab::runtime::in_repo("scripts/kafka-local");
    if lab.is_embedded()
        || std::process::Command::new("java")
            .arg("-version")
            .output()
            .is_err()
    {
        println!("  (kafka-producer-perf-test: needs -b and Java; skipped)\n");
        return Ok(());
    }
    let mut figures = Vec::new();
    for _ in 0..3 {
        let props: Vec<String> = std::iter::once(format!("bootstrap.servers={}", lab.bootstrap))
            .chain(PROPERTIES.map(|(k, v)| format!("{k}={v}")))
            .collect();
        let output = std::process::Command::new(&script)
            .args(["tool", "producer-perf-test", "--topic", topic])
            .args([
                "--num-records",
                &n.to_string(),
                "--record-size",
                &RECORD_SIZE.to_string(),
            ])
            .args(["--throughput", "-1", "--producer-props"])
            .args(&props)
            .output()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let Some(r) = text
            .lines()
            .last()
            .and_then(|l| l.split(" records/sec").next())
            .and_then(|l| l.rsplit(", ").next())
            .and_then(|v| v.trim().parse::<f64>().ok())
        else {
            println!(
                "  (kafka-producer-perf-test gave no figure: {})",
                text.lines().last().unwrap_or("")
            );
            return Ok(());
        };
        figures.push(r);
    }
    println!(
        "  kafka-producer-perf-test (Java, no key, no headers): {} records/s (median of 3: {})\n",
        rate(median(&figures)),
        figures
            .iter()
            .map(|f| rate(*f))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
