//! What the dashboard costs while it runs, by partitions and members: the whole dashboard
//! (producer, members, watcher, loop) drawing 200 x 50 off-screen, each row in a process of its
//! own, measured over a window once it settled: CPU (user and system time of every thread,
//! the clients' included, per second: % of one core), resident memory at the window's start
//! and end, and the time from asking for the members until every partition shows an owner.
//! Then headless `bench` at the same rate with a `consume` beside it, measured the same way
//! from outside, for the ratio. `--only live` (minutes: not in the default run).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use kafka_lab::cli::Cli;

use crate::common::{table, Lab, Options};

/// The argument that makes this program measure one steady dashboard and print it as JSON.
pub const STEADY_RUN: &str = "--steady-run";

const PARTITIONS: [u32; 3] = [6, 100, 1_000];
const MEMBERS: [u32; 3] = [1, 8, 32];
const RATE: &str = "1000";
const SETTLE: Duration = Duration::from_secs(10);
/// Settled plus the window is a minute: the end's RSS is the dashboard's after a minute.
const WINDOW: Duration = Duration::from_secs(50);

/// `--steady-run PRODUCING WINDOW-SECONDS KAFKA-LAB-ARGS...`: one dashboard measured in
/// this process.
pub fn steady_run(args: &[String]) -> Result<()> {
    let [producing, window, rest @ ..] = args else {
        anyhow::bail!("{STEADY_RUN} PRODUCING WINDOW-SECONDS KAFKA-LAB-ARGS...");
    };
    let window = Duration::from_secs(window.parse()?);
    kafka_lab::runtime::few_malloc_arenas();
    let cli = Cli::parse_from(rest);
    let runtime = tokio::runtime::Runtime::new()?;
    let s = runtime.block_on(kafka_lab::dashboard::measure_steady(
        &cli.connection,
        &cli.dashboard,
        producing == "true",
        (SETTLE, window),
        (200, 50),
    ))?;
    let json = serde_json::json!({
        "cpu_percent": s.cpu_percent,
        "rss_start_mb": s.rss_start_mb,
        "rss_end_mb": s.rss_end_mb,
        "rss_peak_mb": s.rss_peak_mb,
        "partitions_shown_ms": s.partitions_shown.map(|d| d.as_secs_f64() * 1000.0),
        "first_frame_ms": s.first_frame.as_secs_f64() * 1000.0,
        "frames": s.frames,
        "frame_p99_ms": s.frame_ms.p99,
    });
    println!("{json}");
    Ok(())
}

/// One row: the dashboard on `topic` with `members`, producing at the rate or stopped.
fn steady(lab: &Lab, topic: &str, members: u32, producing: bool) -> Result<serde_json::Value> {
    steady_for(lab, topic, members, producing, RATE, WINDOW)
}

fn steady_for(
    lab: &Lab,
    topic: &str,
    members: u32,
    producing: bool,
    rate: &str,
    window: Duration,
) -> Result<serde_json::Value> {
    let output = Command::new(std::env::current_exe()?)
        .args([STEADY_RUN, if producing { "true" } else { "false" }])
        .arg(window.as_secs().to_string())
        .args(["kafka-lab", "-b", &lab.bootstrap, "-t", topic])
        .args(["--rate", rate, "--consumers", &members.to_string()])
        .stderr(Stdio::null())
        .output()?;
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "the steady run said {:?}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// CPU ticks (user and system) of process `pid`, and its resident memory in MB.
fn proc_usage(pid: u32) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command's closing parenthesis; utime and stime are 14th and 15th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf only reads a constant of the system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())?;
    Some((ticks / hz, rss_kb / 1024.0))
}

/// Headless `bench` at the rate with a `consume` beside it: the CPU each uses per second
/// (% of one core) over the same window, once settled.
fn headless(lab: &Lab, topic: &str) -> Result<(f64, f64)> {
    let records =
        (RATE.parse::<u64>()? * (SETTLE + WINDOW + Duration::from_secs(10)).as_secs()).to_string();
    let mut bench = lab
        .kafka_lab(topic)
        .args(["bench", "--rate", RATE, "--messages", &records])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut consume = lab
        .kafka_lab(topic)
        .args([
            "consume",
            "-g",
            &format!("speed-live-{}", std::process::id()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::sleep(SETTLE);
    let (b0, c0) = (proc_usage(bench.id()), proc_usage(consume.id()));
    let began = Instant::now();
    std::thread::sleep(WINDOW);
    let (b1, c1) = (proc_usage(bench.id()), proc_usage(consume.id()));
    let secs = began.elapsed().as_secs_f64();
    for child in [&mut bench, &mut consume] {
        let _ = child.kill();
        let _ = child.wait();
    }
    let percent = |a: Option<(f64, f64)>, b: Option<(f64, f64)>| match (a, b) {
        (Some((a, _)), Some((b, _))) => (b - a) * 100.0 / secs,
        _ => f64::NAN,
    };
    Ok((percent(b0, b1), percent(c0, c1)))
}

pub fn run(options: &Options) -> Result<()> {
    println!(
        "How the running dashboard scales: {RATE} records/s (or the producer stopped), 200 x 50 \
         off-screen, each row a process of its own, settled {} s, measured over {} s",
        SETTLE.as_secs(),
        WINDOW.as_secs()
    );
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    let mut at_rate = std::collections::BTreeMap::new();
    let mut baseline = None;
    for partitions in PARTITIONS {
        let lab = Lab::start_with(options, partitions)?;
        let topic = lab.topic_with(&format!("live-{partitions}"), partitions)?;
        let mut cases: Vec<(u32, bool)> = MEMBERS.iter().map(|m| (*m, true)).collect();
        cases.push((1, false));
        for (members, producing) in cases {
            let j = steady(&lab, &topic, members, producing)?;
            let f = |k: &str| j[k].as_f64().unwrap_or(f64::NAN);
            let cpu = f("cpu_percent");
            if producing {
                at_rate.insert((partitions, members), cpu);
            }
            let shown = f("partitions_shown_ms");
            rows.push(vec![
                partitions.to_string(),
                members.to_string(),
                if producing {
                    RATE.into()
                } else {
                    "stopped".into()
                },
                format!("{cpu:.1}"),
                format!("{:.0} → {:.0}", f("rss_start_mb"), f("rss_end_mb")),
                format!("{shown:.0}"),
                format!("{:.2}", f("frame_p99_ms")),
            ]);
            lines.push(format!(
                "scale partitions={partitions} members={members} rate={} cpu_percent={cpu:.1} \
                 rss_mb={:.1} rss_start_mb={:.1} partitions_shown_ms={shown:.0} frame_p99_ms={:.3}",
                if producing { RATE } else { "0" },
                f("rss_end_mb"),
                f("rss_start_mb"),
                f("frame_p99_ms")
            ));
        }
        if partitions == PARTITIONS[0] {
            baseline = Some(headless(&lab, &topic)?);
        }
    }
    table(
        &[
            "partitions",
            "members",
            "records/s",
            "CPU % of a core",
            "RSS MB (10 s → 1 min)",
            "partitions shown ms",
            "frame p99 ms",
        ],
        &rows,
    );
    let one = at_rate
        .get(&(PARTITIONS[0], 1))
        .copied()
        .unwrap_or(f64::NAN);
    let eight = at_rate
        .get(&(PARTITIONS[0], 8))
        .copied()
        .unwrap_or(f64::NAN);
    println!(
        "\n{} partitions: 8 members cost {:.2}x what 1 does (target <= 2)",
        PARTITIONS[0],
        eight / one
    );
    if let Some((bench, consume)) = baseline {
        println!(
            "headless bench --rate {RATE}: {bench:.1} %, consume beside it: {consume:.1} %; the \
             dashboard with one member: {one:.1} %, {:.2}x the two (target <= 1.5)",
            one / (bench + consume)
        );
        lines.push(format!(
            "scale headless rate={RATE} bench_cpu_percent={bench:.1} consume_cpu_percent={consume:.1} dashboard_ratio={:.2}",
            one / (bench + consume)
        ));
    }
    println!();
    for l in lines {
        println!("{l}");
    }
    println!();
    Ok(())
}

/// `bench` of `records` at full speed, then its read-back: the read-back's seconds (from the
/// JSON) and the process's peak resident memory (its rusage, as the kernel counted it).
fn read_back(lab: &Lab, topic: &str, records: u64) -> Result<(f64, f64, f64)> {
    let child = lab
        .kafka_lab(topic)
        .args(["bench", "--messages", &records.to_string(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let pid = i32::try_from(child.id())?;
    let mut stdout = child.stdout.context("stdout")?;
    let mut json = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut json)?;
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for this program's own child, which nothing else waits for.
    unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let v: serde_json::Value = serde_json::from_str(&json).with_context(|| {
        format!(
            "bench said {:?}",
            json.chars().take(200).collect::<String>()
        )
    })?;
    let v = if v.is_array() { v[0].clone() } else { v };
    let secs = v["accounting"]["read_back_s"].as_f64().unwrap_or(f64::NAN);
    let received = v["accounting"]["received"].as_f64().unwrap_or(f64::NAN);
    Ok((secs, received, usage.ru_maxrss as f64 / 1024.0))
}

/// `--only readback`: the read-back of 1 M and 10 M records.
pub fn run_read_back(options: &Options) -> Result<()> {
    println!("The read-back: bench at full speed, then every record read back and counted");
    let lab = Lab::start(options)?;
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    for records in [1_000_000u64, 10_000_000] {
        let topic = lab.topic(&format!("readback-{records}"))?;
        let (secs, received, peak) = read_back(&lab, &topic, records)?;
        rows.push(vec![
            records.to_string(),
            format!("{received:.0}"),
            format!("{secs:.1}"),
            format!("{:.0}", received / secs),
            format!("{peak:.0}"),
        ]);
        lines.push(format!(
            "scale readback_records={records} secs={secs:.1} peak_rss_mb={peak:.0}"
        ));
    }
    table(
        &[
            "records",
            "read back",
            "seconds",
            "records/s",
            "bench peak RSS MB",
        ],
        &rows,
    );
    println!();
    for l in lines {
        println!("{l}");
    }
    println!();
    Ok(())
}

/// `--only soak`: 5,000 records/s with 4 members for `--soak-minutes`: is memory flat?
pub fn run_soak(options: &Options) -> Result<()> {
    let minutes = options.soak_minutes;
    println!("Memory over {minutes} minutes at 5,000 records/s, 4 members, 6 partitions");
    let lab = Lab::start(options)?;
    let topic = lab.topic("soak")?;
    let j = steady_for(
        &lab,
        &topic,
        4,
        true,
        "5000",
        Duration::from_secs(minutes * 60),
    )?;
    let f = |k: &str| j[k].as_f64().unwrap_or(f64::NAN);
    let (start, end, peak) = (f("rss_start_mb"), f("rss_end_mb"), f("rss_peak_mb"));
    println!(
        "RSS {start:.1} MB after {} s, {end:.1} MB {minutes} minutes later ({:+.1} %), {peak:.1} MB at most; CPU {:.1} % of a core",
        SETTLE.as_secs(),
        (end - start) * 100.0 / start,
        f("cpu_percent")
    );
    println!(
        "scale soak_minutes={minutes} rate=5000 members=4 rss_start_mb={start:.1} rss_end_mb={end:.1} rss_peak_mb={peak:.1} cpu_percent={:.1}\n",
        f("cpu_percent")
    );
    Ok(())
}

/// Makes `n` topics of one partition (one request), or deletes them.
fn many_topics(bootstrap: &str, names: &[String], create: bool) -> Result<()> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(120)));
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        for chunk in names.chunks(1_000) {
            if create {
                let new: Vec<NewTopic> = chunk
                    .iter()
                    .map(|n| NewTopic::new(n, 1, TopicReplication::Fixed(1)))
                    .collect();
                for r in admin.create_topics(&new, &options).await? {
                    if let Err((topic, e)) = r {
                        anyhow::bail!("cannot make topic {topic}: {e}");
                    }
                }
            } else {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                admin.delete_topics(&refs, &options).await?;
            }
        }
        anyhow::Ok(())
    })
}

/// `--only topics`: a cluster of 10, 1,000 and 5,000 more topics: the dashboard's start to
/// its first frame, and its CPU with the producer stopped (the watcher's metadata).
pub fn run_topics(options: &Options) -> Result<()> {
    let Some(bootstrap) = options.broker.clone() else {
        anyhow::bail!("--only topics needs a broker (-b HOST:PORT): it makes thousands of topics");
    };
    println!("A cluster of many topics: start to first frame, and idle CPU (the producer stopped)");
    let lab = Lab::start(options)?;
    let topic = lab.topic("topics")?;
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    let mut made: Vec<String> = Vec::new();
    for n in [10usize, 1_000, 5_000] {
        let more: Vec<String> = (made.len()..n)
            .map(|i| format!("speed-many-{}-{i:05}", std::process::id()))
            .collect();
        let began = Instant::now();
        many_topics(&bootstrap, &more, true)?;
        let create_s = began.elapsed().as_secs_f64();
        made.extend(more);
        // The broker settles its new partitions before the dashboard looks.
        std::thread::sleep(Duration::from_secs(5));
        let j = steady(&lab, &topic, 1, false)?;
        let f = |k: &str| j[k].as_f64().unwrap_or(f64::NAN);
        rows.push(vec![
            n.to_string(),
            format!("{create_s:.1}"),
            format!("{:.0}", f("first_frame_ms")),
            format!("{:.1}", f("cpu_percent")),
            format!("{:.0}", f("rss_end_mb")),
        ]);
        lines.push(format!(
            "scale topics={n} first_frame_ms={:.0} idle_cpu_percent={:.1} rss_mb={:.1}",
            f("first_frame_ms"),
            f("cpu_percent"),
            f("rss_end_mb")
        ));
    }
    if let Err(e) = many_topics(&bootstrap, &made, false) {
        eprintln!(
            "warning: could not delete the {} topics made: {e:#}",
            made.len()
        );
    }
    table(
        &[
            "topics",
            "made in s",
            "first frame ms",
            "idle CPU %",
            "RSS MB",
        ],
        &rows,
    );
    println!();
    for l in lines {
        println!("{l}");
    }
    println!();
    Ok(())
}
