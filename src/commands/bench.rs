//! `kafka-lab bench`: timed producer runs, one or a sweep over settings, with the records read
//! back afterwards to count what arrived.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cli::{BenchArgs, Connection};
use crate::config::properties;
use crate::config::{shown_value, ClientSettings, Layers, Role};
use crate::data::source::Dataset;
use crate::data::wire::Wire;
use crate::kafka::producer::{LabProducer, Reports};
use crate::kafka::verify;
use crate::progress::Progress;
use crate::runtime::{load_dataset, print_config, Pacer, StopFlag};
use crate::stats::{per_second, LatencySummary, RunReport};
use crate::target::Target;

/// One `--sweep key=v1,v2,...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub key: String,
    pub values: Vec<String>,
}

impl Sweep {
    pub fn parse(arg: &str) -> Result<Sweep, String> {
        let Some((key, values)) = arg.split_once('=') else {
            return Err("--sweep takes key=value1,value2,... (an argument has no `=`)".to_string());
        };
        let key = key.trim().to_string();
        if crate::config::is_secret(&key) {
            return Err(format!(
                "--sweep `{key}`: it holds a secret, and secrets are neither swept nor shown"
            ));
        }
        if crate::config::belongs_to_connection(&key) {
            return Err(format!(
                "--sweep `{key}`: it belongs to the connection (config.ini, -b, -X); bench \
                 sweeps the producer's settings on one cluster"
            ));
        }
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let Some(info) = properties::lookup(&key) else {
            return Err(format!(
                "--sweep `{arg}`: librdkafka has no property `{key}`"
            ));
        };
        if info.applies == properties::Applies::Consumer {
            return Err(format!(
                "--sweep `{key}`: a consumer property; bench sweeps the producer's settings"
            ));
        }
        if values.is_empty() {
            return Err(format!("--sweep `{arg}`: no values"));
        }
        for v in &values {
            properties::check_value(&key, v)
                .map_err(|e| format!("--sweep `{arg}`: {key}={v}: {e}"))?;
        }
        Ok(Sweep { key, values })
    }

    /// Parses every `--sweep`; the same key twice is an error.
    pub fn parse_all(args: &[String]) -> Result<Vec<Sweep>, String> {
        let mut sweeps: Vec<Sweep> = Vec::new();
        for arg in args {
            let sweep = Sweep::parse(arg)?;
            if sweeps.iter().any(|s| s.key == sweep.key) {
                return Err(format!(
                    "--sweep `{}` is given twice: list all its values in one --sweep, e.g. --sweep {}=a,b,c",
                    sweep.key, sweep.key
                ));
            }
            sweeps.push(sweep);
        }
        Ok(sweeps)
    }
}

/// Every combination of the sweeps' values, the first sweep varying slowest.
pub fn combinations(sweeps: &[Sweep]) -> Vec<Vec<(String, String)>> {
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for sweep in sweeps {
        combos = combos
            .into_iter()
            .flat_map(|prefix| {
                sweep.values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push((sweep.key.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    combos
}

struct RunInput {
    topic: String,
    /// The records, keys and values ready to send (values of `--record-size` when given).
    wire: Arc<Wire>,
    messages: u64,
    rate: Option<f64>,
    verify: bool,
    label: String,
}

/// What a run leaves for its read-back.
struct Outcome {
    report: RunReport,
    undelivered: u64,
    ledger: verify::Ledger,
    run_tag: String,
}

/// How long a run's end waits for its last delivery reports.
const BENCH_FLUSH: Duration = Duration::from_secs(10);

/// One timed run with a fresh producer.
fn run_one(
    producer_settings: &ClientSettings,
    input: &RunInput,
    stop: &StopFlag,
) -> Result<Outcome> {
    // Without a read-back, records need no headers: the run sends what the user measures.
    let producer = if input.verify {
        LabProducer::new(producer_settings, &input.topic, Reports::None)
    } else {
        LabProducer::untagged(producer_settings, &input.topic, Reports::None)
    }
    .context("cannot create the producer")?;
    let mut progress = Progress::new(
        &format!("run{}", input.label),
        input.messages,
        "records",
        false,
    );
    let began = std::time::SystemTime::now();
    let pacer = Pacer::new(input.rate);
    for n in 0..input.messages {
        // Waiting for the next record serves delivery reports meanwhile.
        let mut wait = pacer.wait_before(n);
        while !wait.is_zero() && !stop.raised() {
            producer.serve(wait.min(Duration::from_millis(50)));
            wait = pacer.wait_before(n);
        }
        if stop.raised() {
            break;
        }
        let (key, value) = input.wire.get(n);
        producer.send_due(n, key, value, pacer.due(n))?;
        if n % 1024 == 0 {
            progress.set(producer.reported(), |short| {
                progress_line(&producer, input, short)
            });
        }
    }
    // Wait for the last reports, still reporting progress.
    while producer.in_flight() > 0 && !stop.raised() {
        producer.flush(Duration::from_millis(200));
        progress.set(producer.reported(), |short| {
            progress_line(&producer, input, short)
        });
    }
    progress.finish();
    let run_tag = producer.run_tag().to_string();
    let waiting = producer.in_flight();
    if stop.raised() && waiting > 0 && !stop.urgent() {
        crate::errln!(
            "stopping: waiting up to {} s for the delivery reports of {}; Ctrl-C again stops at once",
            BENCH_FLUSH.as_secs(),
            crate::text::count(waiting, "record", "records")
        );
    }
    let closed = producer.close(BENCH_FLUSH, &|| stop.urgent());
    let totals = &closed.totals;
    let mut settings = LabProducer::effective_settings(producer_settings);
    for s in &producer_settings.settings {
        if !crate::config::is_secret(&s.key) && s.key != "bootstrap.servers" && s.key != "client.id"
        {
            settings.insert(s.key.clone(), s.value.clone());
        }
    }
    let report = RunReport::whole(totals, totals.elapsed(), settings)
        .on(&input.topic, began)
        .with_batches(&closed.batches);
    Ok(Outcome {
        report,
        undelivered: totals.undelivered,
        ledger: closed.ledger,
        run_tag,
    })
}

/// Where a run is, in words: beside the bar (`short`), or a line when there is no bar.
fn progress_line(producer: &LabProducer, input: &RunInput, short: bool) -> String {
    let t = producer.totals();
    let elapsed = t.first_send.map_or(Duration::ZERO, |f| f.elapsed());
    if short {
        return format!(
            "· {} delivered · p99 {:.2} ms",
            crate::text::thousands(t.delivered),
            t.latency.summary().p99
        );
    }
    format!(
        "progress{}: {}/{} sent, {} delivered, {:.0} records/s, p99 {:.2} ms{}",
        input.label,
        t.sent,
        input.messages,
        t.delivered,
        per_second(t.delivered, elapsed),
        t.latency.summary().p99,
        // A progress line comes every few seconds: an error older than two of them is old news.
        producer
            .recent_error(Duration::from_secs(10))
            .map(|e| format!(", last error: {e}"))
            .unwrap_or_default()
    )
}

pub async fn bench(c: &Connection, args: &BenchArgs) -> Result<ExitCode> {
    let sweeps = Sweep::parse_all(&args.sweep).map_err(anyhow::Error::msg)?;
    if let Some(path) = &args.csv {
        crate::runtime::places::file(path, "--csv", args.force)?;
    }
    let target = connect(c, args)?;
    if c.print_config {
        return print_config(&target, &[Role::Producer]);
    }
    let base = target.settings(Role::Producer)?;
    if let Some(said) = crate::runtime::out::library_log(&base, None) {
        crate::errln!("{said}");
    }
    let consumer_settings = target.layers.resolve(Role::Consumer)?;
    let dataset = Arc::new(load_dataset(&args.source).await?);
    target.ensure_topic(&base).await?;
    let stop = StopFlag::on_signals();

    let extra = run_description(c, args, &target, &base, &dataset);
    let wire = Arc::new(match args.record_size {
        Some(size) => Wire::sized(&dataset, args.source.key, size),
        None => Wire::new(&dataset, args.source.key),
    });
    let combos = combinations(&sweeps);
    let total = combos.len();
    let mut reports = Vec::new();
    let mut failed_any = false;
    for (i, combo) in combos.into_iter().enumerate() {
        let mut layers: Layers = target.layers.clone();
        for (k, v) in &combo {
            layers.flag(k, v.clone(), "--sweep");
        }
        let settings = layers.resolve(Role::Producer)?;
        let label = if total > 1 {
            let shown: Vec<String> = combo.iter().map(|(k, v)| format!("{k}={v}")).collect();
            crate::errln!("run {}/{total}: {}", i + 1, shown.join(" "));
            format!(" [{}/{total}]", i + 1)
        } else {
            String::new()
        };
        let input = RunInput {
            topic: target.topic.clone(),
            wire: wire.clone(),
            messages: args.messages,
            rate: args.rate.per_second(),
            verify: !args.no_verify,
            label,
        };
        let stop_run = stop.clone();
        let verify = input.verify;
        let Outcome {
            mut report,
            undelivered,
            ledger,
            run_tag,
        } = tokio::task::spawn_blocking(move || run_one(&settings, &input, &stop_run)).await??;
        if verify && report.delivered > 0 {
            match target.read_back(&consumer_settings, run_tag, ledger).await {
                Ok(accounting) => report.accounting = Some(accounting),
                Err(e) => crate::errln!("warning: could not read the run back: {e}"),
            }
        }
        report.run = i as u32 + 1;
        report.settings.extend(extra.clone());
        failed_any |= report.failed > 0 || undelivered > 0;
        if !args.json && total == 1 {
            crate::outln!("{}", report.perf_test_line());
            if let Some(a) = &report.accounting {
                crate::outln!("{}", a.line());
            }
            if let Some(stages) = &report.stages_ms {
                crate::outln!("{}", stages.line());
            }
            if let Some(line) = report.intended_line() {
                crate::outln!("{line}");
            }
        }
        for (error, n) in &report.errors {
            crate::errln!("  {n} failed: {error}");
        }
        reports.push(report);
        if stop.raised() {
            crate::errln!(
                "{}; {undelivered} records were left without a delivery report (undelivered)",
                crate::runtime::stopped_by(&stop)
            );
            break;
        }
    }
    print_results(args, &sweeps, &reports)?;
    if reports.is_empty() {
        bail!("no run completed");
    }
    let code = if failed_any {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    };
    Ok(crate::runtime::exit_code(&stop, code))
}

/// A record above `message.max.bytes` would be refused record by record: refuse it at once.
fn check_record_size(size: usize, settings: &ClientSettings) -> Result<()> {
    let max: usize = settings
        .client_config()
        .create_native_config()
        .ok()
        .and_then(|n| n.get("message.max.bytes").ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    if size > max {
        bail!(
            "--record-size {size} is larger than message.max.bytes ({max}): every record would be \
             refused.\n  Send smaller records, or raise the limit with -X message.max.bytes=N (the \
             broker's own limit applies too)."
        );
    }
    Ok(())
}

/// The cluster, with the bench's own flags as settings.
/// A record size the settings refuse is refused before any cluster is started.
fn connect(c: &Connection, args: &BenchArgs) -> Result<Target> {
    let mut layers = Target::layers(c)?;
    layers.builtin("client.id", "kafka-lab-bench", "built-in default");
    for (key, value, flag) in [
        ("acks", &args.acks, "--acks"),
        ("linger.ms", &args.linger_ms, "--linger-ms"),
        ("batch.size", &args.batch_size, "--batch-size"),
        ("compression.type", &args.compression, "--compression"),
    ] {
        if let Some(v) = value {
            layers.flag(key, v, flag);
        }
    }
    if let (Some(size), false) = (args.record_size, c.print_config) {
        check_record_size(size, &layers.resolve(Role::Producer)?)?;
    }
    Target::with_layers(c, layers, Role::Producer)
}

/// What every run of this bench shares besides librdkafka's settings: record size, rate and
/// cluster.
fn run_description(
    c: &Connection,
    args: &BenchArgs,
    target: &Target,
    base: &ClientSettings,
    dataset: &Dataset,
) -> BTreeMap<String, String> {
    let mut extra = BTreeMap::new();
    extra.insert(
        "record_size".to_string(),
        args.record_size.map_or_else(
            || format!("{:.0} (brewery JSON, average)", dataset.mean_payload_len()),
            |s| s.to_string(),
        ),
    );
    extra.insert(
        "rate".to_string(),
        args.rate
            .per_second()
            .map_or("max".to_string(), |r| r.to_string()),
    );
    extra.insert(
        "cluster".to_string(),
        if target.is_embedded() {
            let rtt = c.rtt_ms;
            format!("embedded, {rtt} ms rtt")
        } else {
            shown_value(
                "bootstrap.servers",
                base.get("bootstrap.servers").unwrap_or(""),
            )
            .to_string()
        },
    );
    extra
}

/// `--json`, the sweep table, and `--csv`.
fn print_results(args: &BenchArgs, sweeps: &[Sweep], reports: &[RunReport]) -> Result<()> {
    // The file first: a reader of the output that has gone must not cost the results.
    if let Some(path) = &args.csv {
        std::fs::write(path, RunReport::csv(reports))
            .with_context(|| format!("cannot write {}", path.display()))?;
        crate::errln!(
            "wrote {} to {}",
            crate::text::count(reports.len() as u64, "row", "rows"),
            path.display()
        );
    }
    if args.json {
        match reports {
            [one] if sweeps.is_empty() => {
                crate::runtime::out::stdout_json(&serde_json::to_string(one)?);
            }
            _ => {
                crate::runtime::out::stdout_json(&serde_json::to_string(reports)?);
            }
        }
    } else if reports.len() > 1 || !sweeps.is_empty() {
        let keys: Vec<&str> = sweeps.iter().map(|s| s.key.as_str()).collect();
        crate::out!("{}", sweep_table(&keys, reports));
    }
    Ok(())
}

/// The sweep's results as an aligned text table, one row per combination.
pub fn sweep_table(keys: &[&str], reports: &[RunReport]) -> String {
    let mut header: Vec<String> = keys.iter().map(ToString::to_string).collect();
    header.extend(["records/s", "MB/s"].map(String::from));
    header.extend(LatencySummary::COLUMNS.map(|c| format!("{c} ms")));
    header.extend(["batch", "req/s", "missing", "dup"].map(String::from));
    let opt =
        |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let mut row: Vec<String> = keys
                .iter()
                .map(|k| r.settings.get(*k).cloned().unwrap_or_default())
                .collect();
            row.extend([
                format!("{:.0}", r.records_per_sec),
                format!("{:.2}", r.mb_per_sec),
            ]);
            row.extend(r.latency_ms.cells());
            row.extend([
                opt(r.avg_batch_records, 1),
                opt(r.requests_per_sec, 0),
                r.accounting
                    .as_ref()
                    .map_or("-".into(), |a| a.missing.to_string()),
                r.accounting
                    .as_ref()
                    .map_or("-".into(), |a| a.duplicated.to_string()),
            ]);
            row
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        format!("{}\n", parts.join("  "))
    };
    let mut out = line(&header);
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_parse_and_check_their_values() {
        let s = Sweep::parse("acks=0, 1,all").unwrap();
        assert_eq!(s.key, "acks");
        assert_eq!(s.values, ["0", "1", "all"]);
        assert!(Sweep::parse("acks").unwrap_err().contains("key=value1"));
        let secret = Sweep::parse("sasl.password=A,B").unwrap_err();
        assert!(
            secret.contains("secret") && !secret.contains("A,B"),
            "{secret}"
        );
        assert!(Sweep::parse("group.id=a,b")
            .unwrap_err()
            .contains("consumer property"));
        let twice = Sweep::parse_all(&["acks=0,1".into(), "acks=all".into()]).unwrap_err();
        assert!(twice.contains("given twice"), "{twice}");
        assert!(Sweep::parse("linger.msx=1")
            .unwrap_err()
            .contains("no property"));
        assert!(Sweep::parse("linger.ms=5,-1")
            .unwrap_err()
            .contains("linger.ms=-1"));
        assert!(Sweep::parse("acks=").unwrap_err().contains("no values"));
    }

    #[test]
    fn combinations_are_the_cartesian_product_in_order() {
        let sweeps = [
            Sweep::parse("acks=0,all").unwrap(),
            Sweep::parse("linger.ms=0,5,50").unwrap(),
        ];
        let combos = combinations(&sweeps);
        assert_eq!(combos.len(), 6);
        assert_eq!(
            combos[0],
            [
                ("acks".into(), "0".into()),
                ("linger.ms".into(), "0".into())
            ]
        );
        assert_eq!(
            combos[5],
            [
                ("acks".into(), "all".into()),
                ("linger.ms".into(), "50".into())
            ]
        );
        assert_eq!(combinations(&[]), vec![Vec::<(String, String)>::new()]);
    }

    #[test]
    fn the_table_aligns_columns() {
        let mut r = RunReport::default();
        r.settings.insert("acks".into(), "all".into());
        r.records_per_sec = 1234.4;
        let t = sweep_table(&["acks"], &[r]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), lines[1].len());
        assert!(lines[1].contains("1234"));
    }
}
