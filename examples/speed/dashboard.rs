//! The dashboard's producer at --rate max against headless `bench` with the same settings and
//! the same work: with no consumer against `bench` alone; with one consumer against `bench`
//! while a `kafka-lab consume` reads along. The screen redraws meanwhile and a key is pressed
//! twice a second.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use anyhow::{Context, Result};
use clap::Parser;
use kafka_lab::cli::Cli;

use crate::common::{median, paired, rate, table, Lab, Options, PROPERTIES};
use crate::produce::{kafka_lab_bench, Values};

/// The argument that makes this program measure one dashboard run and print it as JSON.
pub const DASHBOARD_RUN: &str = "--dashboard-run";

/// `--dashboard-run RECORDS ARGS...`: the dashboard measured in this (fresh) process.
pub fn dashboard_run(args: &[String]) -> Result<()> {
    let [records, rest @ ..] = args else {
        anyhow::bail!("{DASHBOARD_RUN} RECORDS KAFKA-LAB-ARGS...");
    };
    kafka_lab::runtime::few_malloc_arenas();
    let cli = Cli::parse_from(rest);
    let runtime = tokio::runtime::Runtime::new()?;
    let m = runtime.block_on(kafka_lab::dashboard::measure(
        &cli.connection,
        &cli.dashboard,
        records.parse()?,
        (200, 50),
    ))?;
    let json = serde_json::json!({
        "records_per_sec": m.records_per_sec,
        "frames_per_sec": m.frames as f64 / m.seconds,
        "key_p99_ms": m.key_ms.p99,
        "frame_p99_ms": m.frame_ms.p99,
        "rss_mb": m.rss_mb,
    });
    println!("{json}");
    Ok(())
}

/// What a measured run said.
struct Run {
    records_per_sec: f64,
    frames_per_sec: f64,
    key_p99_ms: f64,
    frame_p99_ms: f64,
    rss_mb: Vec<(u64, f64)>,
}

/// The dashboard with `consumers` measured in a process of its own (so that its memory is
/// its own), until `n` records.
fn measured(args: &[String], consumers: u32, n: u64) -> Result<Run> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .args([DASHBOARD_RUN, &n.to_string()])
        .args(args)
        .args(["--consumers", &consumers.to_string()])
        .stderr(Stdio::null())
        .output()?;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "the dashboard run said {:?}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    let f = |k: &str| json[k].as_f64().unwrap_or(f64::NAN);
    Ok(Run {
        records_per_sec: f("records_per_sec"),
        frames_per_sec: f("frames_per_sec"),
        key_p99_ms: f("key_p99_ms"),
        frame_p99_ms: f("frame_p99_ms"),
        rss_mb: serde_json::from_value(json["rss_mb"].clone()).unwrap_or_default(),
    })
}

/// `bench` while a consumer of a new group reads the topic along.
fn bench_with_consumer(lab: &Lab, topic: &str, n: u64, round: usize) -> Result<f64> {
    let mut consumer = lab
        .kafka_lab(topic)
        .args([
            "consume",
            "-g",
            &format!("speed-along-{round}-{}", std::process::id()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    // Reading along once the group has its partitions.
    let stderr = consumer.stderr.take().context("stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        if line?.contains("assigned partitions") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let bench = kafka_lab_bench(lab, topic, n, Values::AsTheyAre, &[]);
    let _ = consumer.kill();
    let _ = consumer.wait();
    bench
}

pub fn run(options: &Options, lab: &Lab) -> Result<()> {
    let topic = lab.topic("dashboard")?;
    let n = options.dashboard_records;
    println!(
        "Dashboard: its producer at --rate max, drawing 200 x 50 off-screen, until {} records; against bench with the same settings and values (the brewery records as they are, 343-477 bytes; the produce figures above use 300)",
        rate(n as f64)
    );
    let mut args = vec![
        "kafka-lab".to_string(),
        "-b".into(),
        lab.bootstrap.clone(),
        "-t".into(),
        topic.clone(),
    ];
    for (k, v) in PROPERTIES {
        args.extend(["-X".into(), format!("{k}={v}")]);
    }
    args.extend([
        "--rate".into(),
        "max".into(),
        "-g".into(),
        format!("speed-{}", std::process::id()),
    ]);
    let measure = |consumers: u32| measured(&args, consumers, n);
    let mut columns: [Vec<f64>; 4] = Default::default();
    let mut rows = Vec::new();
    let mut rss = Vec::new();
    for round in 1..=options.rounds {
        let bench = kafka_lab_bench(lab, &topic, n, Values::AsTheyAre, &[])?;
        let alone = measure(0)?;
        let reading_along = bench_with_consumer(lab, &topic, n, round)?;
        let full = measure(1)?;
        for (column, f) in columns.iter_mut().zip([
            bench,
            alone.records_per_sec,
            reading_along,
            full.records_per_sec,
        ]) {
            column.push(f);
        }
        let peak = full.rss_mb.iter().map(|(_, mb)| *mb).fold(0.0, f64::max);
        rss.clone_from(&full.rss_mb);
        rows.push(vec![
            round.to_string(),
            rate(bench),
            rate(alone.records_per_sec),
            rate(reading_along),
            rate(full.records_per_sec),
            format!("{:.1}", full.frames_per_sec),
            format!("{:.1}", full.key_p99_ms),
            format!("{:.2}", full.frame_p99_ms),
            format!("{peak:.0}"),
        ]);
    }
    table(
        &[
            "round",
            "bench",
            "dashboard, 0 consumers",
            "bench + a consumer",
            "dashboard, 1 consumer",
            "frames/s",
            "key p99 ms",
            "frame p99 ms",
            "RSS peak MB",
        ],
        &rows,
    );
    let m: Vec<f64> = columns.iter().map(|c| median(c)).collect();
    println!(
        "  ratio (median): dashboard / bench = {:.2} with no consumer, {:.2} with one consumer reading along\n  median of the rounds' own ratios: {:.2}; {:.2}",
        m[1] / m[0],
        m[3] / m[2],
        paired(&columns[1], &columns[0]),
        paired(&columns[3], &columns[2])
    );
    if let (Some(first), Some(last)) = (rss.first(), rss.last()) {
        println!(
            "  RSS of the last run (a process of its own): {:.0} MB after {} records, {:.0} MB after {}\n",
            first.1,
            rate(first.0 as f64),
            last.1,
            rate(last.0 as f64)
        );
    }
    Ok(())
}
