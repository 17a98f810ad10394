//! `kafka-lab consume` against kcat on the same topic: records/s from the first record out to
//! the end, and apart from it the fixed cost until the first record (joining the group).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use crate::common::{median, rate, table, wait, Lab, Options, PARTITIONS};
use crate::produce::{kafka_lab_bench, Values};

/// A reading: how long until the first byte out, the last, and the end of the output (the
/// process closing it as it exits).
struct Timed {
    first: Duration,
    last: Duration,
    total: Duration,
}

/// Runs `cmd`, reading its standard output as fast as it comes (as `> /dev/null` would).
fn timed(mut cmd: Command) -> Result<Timed> {
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let mut out = child.stdout.take().context("stdout")?;
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let (mut first, mut last) = (None, None);
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            let now = started.elapsed();
            first.get_or_insert(now);
            last = Some(now);
        }
        first.zip(last).map(|(f, l)| (f, l, started.elapsed()))
    });
    let status = wait(&mut child, Duration::from_secs(600))?;
    let read = reader.join().ok().flatten();
    if !status.success() {
        bail!("{cmd:?} failed");
    }
    let (first, last, total) = read.context("no output")?;
    Ok(Timed { first, last, total })
}

/// librdkafka's mock cluster keeps at most 5 MB of each partition (about 14,000 records of
/// 300 bytes with their key): on the embedded cluster the topic read gets a partition per
/// 10,000 records (keys spread them unevenly), so that it holds all of `records`.
fn partitions_to_hold(records: u64) -> u32 {
    u32::try_from(records.div_ceil(10_000))
        .unwrap_or(u32::MAX)
        .max(PARTITIONS)
}

/// Records in the topic now (what every reader must read).
fn records_in(lab: &Lab, topic: &str) -> Result<u64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &lab.bootstrap)
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let partitions = metadata
        .topics()
        .first()
        .map_or(0, |t| t.partitions().len() as i32);
    let mut total = 0;
    for p in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
        total += (high - low).max(0) as u64;
    }
    Ok(total)
}

pub fn run(options: &Options, lab: &Lab) -> Result<()> {
    if Command::new("kcat").arg("-V").output().is_err() {
        println!("Consume: kcat is not installed (apt-get install kcat); skipped\n");
        return Ok(());
    }
    if lab.is_embedded() {
        let partitions = partitions_to_hold(options.consume_records);
        println!("Consume: an embedded cluster of its own, its topic with {partitions} partitions (the embedded cluster keeps 5 MB of each)");
        let own = Lab::start_with(options, partitions)?;
        return read(options, &own);
    }
    read(options, lab)
}

fn read(options: &Options, lab: &Lab) -> Result<()> {
    let topic = lab.topic("consume")?;
    kafka_lab_bench(
        lab,
        &topic,
        options.consume_records,
        Values::Sized,
        &["--no-verify"],
    )?;
    let n = records_in(lab, &topic)?;
    println!(
        "Consume: {} records (300-byte values), output read as fast as it comes; records/s from the first record out to the end",
        rate(n as f64),
    );
    let count = n.to_string();
    let lab_cmd = |output: &str, group: String, count: &str| {
        let mut cmd = lab.kafka_lab(&topic);
        cmd.args([
            "consume",
            "--from-beginning",
            "-g",
            &group,
            "--count",
            count,
            "--output",
            output,
        ]);
        cmd
    };
    let kcat = |format: &[&str], group: Option<&str>, count: &str| {
        let mut cmd = Command::new("kcat");
        cmd.args(["-C", "-b", &lab.bootstrap, "-q", "-e", "-c", count]);
        match group {
            Some(g) => cmd.args(["-G", g, &topic, "-X", "auto.offset.reset=earliest"]),
            None => cmd.args(["-t", &topic, "-o", "beginning"]),
        };
        cmd.args(format);
        cmd
    };
    let text: &[&str] = &["-f", "%p %o %k %s\n"];
    let json: &[&str] = &["-J"];
    let mut figures: [Vec<f64>; 5] = Default::default();
    let mut joins: [Vec<f64>; 2] = Default::default();
    // From the record out to the end of the process: committing, leaving the group.
    let mut leaves: [Vec<f64>; 2] = Default::default();
    let mut rows = Vec::new();
    for round in 1..=options.rounds {
        let group = |what: &str| format!("speed-{what}-{round}-{}", std::process::id());
        let runs = [
            timed(lab_cmd("text", group("text"), &count))?,
            timed(kcat(text, None, &count))?,
            timed(lab_cmd("json", group("json"), &count))?,
            timed(kcat(json, None, &count))?,
            timed(kcat(text, Some(&group("kcat-group")), &count))?,
        ];
        let mut row = vec![round.to_string()];
        for (column, t) in figures.iter_mut().zip(&runs) {
            let r = (n.saturating_sub(1)) as f64 / t.total.saturating_sub(t.first).as_secs_f64();
            column.push(r);
            row.push(rate(r));
        }
        // The fixed costs of a group, on a run of one record: until the first record (joining
        // a new group) and from it to the end (committing, leaving). kcat writes its output
        // unbuffered here (-u), or its last record would come out only as it exits.
        let lab_one = timed(lab_cmd("text", group("join"), "1"))?;
        let mut kcat_cmd = kcat(text, Some(&group("kcat-join")), "1");
        kcat_cmd.arg("-u");
        let kcat_one = timed(kcat_cmd)?;
        let leave = |t: &Timed| t.total.saturating_sub(t.last).as_secs_f64() * 1000.0;
        leaves[0].push(leave(&lab_one));
        leaves[1].push(leave(&kcat_one));
        let (lab_join, kcat_join) = (lab_one.first, kcat_one.first);
        joins[0].push(lab_join.as_secs_f64() * 1000.0);
        joins[1].push(kcat_join.as_secs_f64() * 1000.0);
        row.push(format!("{:.0}", lab_join.as_secs_f64() * 1000.0));
        row.push(format!("{:.0}", kcat_join.as_secs_f64() * 1000.0));
        rows.push(row);
    }
    let m: Vec<f64> = figures.iter().map(|c| median(c)).collect();
    table(
        &[
            "round",
            "kafka-lab text",
            "kcat -f '%p %o %k %s'",
            "kafka-lab json",
            "kcat -J",
            "kcat -G, text",
            "kafka-lab to 1st ms",
            "kcat -G to 1st ms",
        ],
        &rows,
    );
    println!(
        "  ratio (median): text {:.2} (against kcat -G, a group as kafka-lab's: {:.2}), json {:.2}; joining a group: kafka-lab {:.0} ms, kcat -G {:.0} ms; from the record to the end (commit, leave): kafka-lab {:.0} ms, kcat -G {:.0} ms (medians)\n",
        m[0] / m[1],
        m[0] / m[4],
        m[2] / m[3],
        median(&joins[0]),
        median(&joins[1]),
        median(&leaves[0]),
        median(&leaves[1])
    );
    Ok(())
}
