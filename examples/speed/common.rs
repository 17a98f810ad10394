//! Options, the cluster every run shares, and the figures' arithmetic.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// The librdkafka properties every producer of the benchmark gets.
pub const PROPERTIES: [(&str, &str); 3] =
    [("acks", "1"), ("linger.ms", "5"), ("batch.size", "131072")];
/// Bytes of each record's value.
pub const RECORD_SIZE: usize = 300;

pub struct Options {
    pub broker: Option<String>,
    pub rounds: usize,
    pub records: u64,
    pub consume_records: u64,
    pub dashboard_records: u64,
    pub soak_minutes: u64,
    only: Option<Vec<String>>,
}

impl Options {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options> {
        let mut o = Options {
            broker: None,
            rounds: 5,
            records: 3_000_000,
            consume_records: 1_000_000,
            dashboard_records: 3_000_000,
            soak_minutes: 10,
            only: None,
        };
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "-b" | "--broker" => o.broker = Some(value()?),
                "--rounds" => o.rounds = value()?.parse().context("--rounds")?,
                "--records" => o.records = value()?.parse().context("--records")?,
                "--consume-records" => {
                    o.consume_records = value()?.parse().context("--consume-records")?;
                }
                "--dashboard-records" => {
                    o.dashboard_records = value()?.parse().context("--dashboard-records")?;
                }
                "--soak-minutes" => {
                    o.soak_minutes = value()?.parse().context("--soak-minutes")?;
                }
                "--only" => o.only = Some(value()?.split(',').map(str::to_string).collect()),
                "-h" | "--help" => {
                    println!(
                        "{}",
                        include_str!("main.rs")
                            .lines()
                            .take(17)
                            .map(|l| l.trim_start_matches("//!").trim_start())
                            .collect::<Vec<_>>()
                            .join("\n")
                    );
                    std::process::exit(0);
                }
                other => bail!("unknown option `{other}` (see --help)"),
            }
        }
        if o.rounds == 0 {
            bail!("--rounds must be at least 1");
        }
        if o.soak_minutes == 0 {
            bail!("--soak-minutes must be at least 1");
        }
        Ok(o)
    }

    /// Asked for the scale rows only: they need no cluster.
    pub fn only_scale(&self) -> bool {
        self.only.as_deref() == Some(&["scale".to_string()][..])
    }

    /// Asked for by name (`--only live`): parts too long for the default run.
    pub fn asked(&self, part: &str) -> bool {
        self.only
            .as_ref()
            .is_some_and(|only| only.iter().any(|p| p == part))
    }

    pub fn wants(&self, part: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|p| p == part))
    }
}

/// Partitions of every topic the benchmark makes, but the embedded cluster's for `consume`.
pub const PARTITIONS: u32 = 6;

/// The embedded cluster's one topic (it creates no others for other processes).
const EMBEDDED_TOPIC: &str = "speed";

/// The cluster of the benchmark: the broker given, or a `kafka-lab cluster` started here.
pub struct Lab {
    pub bootstrap: String,
    pub binary: PathBuf,
    served: Option<Child>,
    /// Topics made on a broker, deleted at the end: a full run writes gigabytes.
    made: std::cell::RefCell<Vec<String>>,
}

impl Lab {
    pub fn start(options: &Options) -> Result<Lab> {
        Self::start_with(options, PARTITIONS)
    }

    /// The broker given, or an embedded cluster whose topic has `partitions`.
    pub fn start_with(options: &Options, partitions: u32) -> Result<Lab> {
        let binary = std::env::current_exe()?
            .parent()
            .and_then(|examples| examples.parent())
            .map(|dir| dir.join("kafka-lab"))
            .filter(|p| p.is_file())
            .context("target/release/kafka-lab is missing: build it first (cargo build --release), or run scripts/speed")?;
        if let Some(b) = &options.broker {
            return Ok(Lab {
                bootstrap: b.clone(),
                binary,
                served: None,
                made: std::cell::RefCell::default(),
            });
        }
        let mut child = Command::new(&binary)
            .args(["cluster", "-t", EMBEDDED_TOPIC])
            .args(["--partitions", &partitions.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("cluster stdout")?).read_line(&mut line)?;
        let bootstrap = line
            .trim()
            .strip_prefix("bootstrap.servers=")
            .with_context(|| format!("kafka-lab cluster said {line:?}"))?
            .to_string();
        Ok(Lab {
            bootstrap,
            binary,
            served: Some(child),
            made: std::cell::RefCell::default(),
        })
    }

    pub fn is_embedded(&self) -> bool {
        self.served.is_some()
    }

    pub fn describe(&self) -> String {
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        format!(
            "cluster: {} ({}); machine: {cores} cores; properties: {}; {RECORD_SIZE}-byte values, 36-byte keys",
            self.bootstrap,
            if self.is_embedded() {
                "kafka-lab cluster, the embedded cluster served by another process"
            } else {
                "the broker given with -b"
            },
            PROPERTIES.map(|(k, v)| format!("{k}={v}")).join(" "),
        )
    }

    /// A fresh topic with 6 partitions on a broker; the one topic of the embedded cluster.
    pub fn topic(&self, name: &str) -> Result<String> {
        self.topic_with(name, PARTITIONS)
    }

    /// A fresh topic with `partitions` on a broker; the one topic of the embedded cluster
    /// (started with as many).
    pub fn topic_with(&self, name: &str, partitions: u32) -> Result<String> {
        if self.is_embedded() {
            return Ok(EMBEDDED_TOPIC.to_string());
        }
        let topic = format!("speed-{name}-{}", std::process::id());
        let output = Command::new(&self.binary)
            .args(["-b", &self.bootstrap, "-t", &topic])
            .args(["--partitions", &partitions.to_string()])
            .args(["produce", "--count", "0"])
            .output()?;
        if !output.status.success() {
            bail!(
                "cannot create topic {topic}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        self.made.borrow_mut().push(topic.clone());
        Ok(topic)
    }

    /// The kafka-lab binary pointed at this cluster and `topic`.
    pub fn kafka_lab(&self, topic: &str) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.args(["-b", &self.bootstrap, "-t", topic]);
        cmd
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(child) = &mut self.served {
            let _ = child.kill();
            let _ = child.wait();
        }
        let made = self.made.take();
        if !made.is_empty() {
            match delete_topics(&self.bootstrap, &made) {
                Ok(()) => println!("Deleted the benchmark's topics: {}", made.join(", ")),
                Err(e) => eprintln!(
                    "warning: could not delete the benchmark's topics {}: {e:#}",
                    made.join(", ")
                ),
            }
        }
    }
}

fn delete_topics(bootstrap: &str, topics: &[String]) -> Result<()> {
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(admin.delete_topics(&names, &options))?;
    for result in results {
        if let Err((topic, code)) = result {
            bail!("{topic}: {code}");
        }
    }
    Ok(())
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
    }
}

/// The median of each round's own ratio `ours[i] / theirs[i]`: the two ran minutes apart at
/// most, so a machine that speeds up or slows down between rounds (by half, here, within one
/// run of the benchmark) moves both sides of a ratio, where it moves the two medians apart.
pub fn paired(ours: &[f64], theirs: &[f64]) -> f64 {
    let ratios: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
    median(&ratios)
}

/// `123,456`.
pub fn rate(r: f64) -> String {
    kafka_lab::text::thousands(r.round() as u64)
}

/// Prints a table: a header row, then rows, columns right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        println!("  {}", parts.join("  "));
    };
    line(header.iter().map(ToString::to_string).collect());
    for r in rows {
        line(r.clone());
    }
}

/// Waits for a child, at most `limit`.
pub fn wait(child: &mut Child, limit: Duration) -> Result<std::process::ExitStatus> {
    let end = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if std::time::Instant::now() >= end {
            let _ = child.kill();
            bail!("a run took over {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
