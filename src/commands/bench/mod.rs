//! `kafka-lab bench`: timed producer runs, one or a sweep over settings, with the records read
//! back afterwards to count what arrived.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cli::{BenchArgs, Connection};

use crate::config::{shown_value, ClientSettings, Layers, Role};
use crate::data::source::Dataset;
use crate::data::wire::Wire;
use crate::kafka::producer::{
    refused_because, transactional_id_said, with_transactional_id, LabProducer, Reports,
    Transactions, TxnPlan,
};
use crate::kafka::verify;
use crate::progress::Progress;
use crate::runtime::{load_dataset, print_config, Pacer, StopFlag};
use crate::stats::{per_second, RunReport};
use crate::target::Target;

mod sweep;
mod workers;
use sweep::{combinations, sweep_table, Sweep};

struct RunInput {
    topic: String,
    /// The records, keys and values ready to send (values of `--record-size` when given).
    wire: Arc<Wire>,
    messages: u64,
    rate: Option<f64>,
    verify: bool,
    /// Records at the start left out of the latency and the rate.
    warmup: u64,
    label: String,
    /// Records per transaction, for a transactional run.
    txn_records: Option<u64>,
}

/// A transactional run's producer settings: its own transactional.id (a run is one producer).
fn transactional(settings: &ClientSettings, label: &str) -> ClientSettings {
    let id = format!("kafka-lab-bench-{}{}", std::process::id(), label.trim());
    with_transactional_id(settings, id, "--transactional")
}

/// A transactional run's transactions, begun, and said with the producer's id.
fn start_transactions(
    producer: &LabProducer,
    settings: &ClientSettings,
    records: u64,
) -> Result<Transactions> {
    let plan = TxnPlan {
        records,
        abort_every: 0,
        longest: None,
    };
    let t = Transactions::start_named(producer, settings, plan)
        .context("the cluster did not take a transactional producer")?;
    crate::errln!(
        "transactions of {}, {}",
        crate::text::count(records, "record", "records"),
        transactional_id_said(settings).unwrap_or_default()
    );
    Ok(t)
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
    let txn_settings = input
        .txn_records
        .map(|_| transactional(producer_settings, &input.label));
    let settings = txn_settings.as_ref().unwrap_or(producer_settings);
    // Without a read-back, records need no headers: the run sends what the user measures.
    let producer = if input.verify {
        LabProducer::new(settings, &input.topic, Reports::None)
    } else {
        LabProducer::untagged(settings, &input.topic, Reports::None)
    }
    .with_context(|| refused_because(settings))?;
    let mut txn = input
        .txn_records
        .map(|records| start_transactions(&producer, settings, records))
        .transpose()?;
    producer.set_warmup(input.warmup);
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
        if let Some(t) = txn.as_mut() {
            t.before_send(&producer, n)?;
        }
        producer.send_due(n, key, value, pacer.due(n))?;
        if let Some(t) = txn.as_mut() {
            t.after_send(&producer)
                .context("cannot commit the transaction")?;
        }
        if n % 1024 == 0 {
            progress.set(producer.reported(), |short| {
                progress_line(&producer, input, short)
            });
        }
    }
    if let Some(t) = txn.as_mut() {
        t.end(&producer).context("cannot commit the transaction")?;
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
    if let Some(n) = input.txn_records {
        // librdkafka makes a transactional producer idempotent, whatever was set.
        settings.insert("enable.idempotence".into(), "true".into());
        settings.insert("records per transaction".into(), n.to_string());
    }
    let mut report = RunReport::whole(totals, totals.elapsed(), settings)
        .on(&input.topic, began)
        .with_batches(&closed.batches);
    report.transactions = txn.map(|t| t.figures());
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
    match args.workers {
        Some(n) => workers::bench(c, args, n).await,
        None => bench_here(c, args).await,
    }
}

/// Runs in this process.
async fn bench_here(c: &Connection, args: &BenchArgs) -> Result<ExitCode> {
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
    let warmup = args.warmup.records(args.messages);
    if warmup > 0 {
        // A cold cluster (connections, metadata, a broker's first requests) would make the
        // first combination of a sweep look slower than it is.
        crate::errln!(
            "warm-up: the first {} of each run are left out of its rate and latency (--warmup 0 keeps them)",
            crate::text::count(warmup, "record", "records")
        );
    }
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
            warmup,
            label,
            // A transactional.id given in config.ini or with -X means --transactional.
            txn_records: (args.transactional || settings.get("transactional.id").is_some())
                .then_some(args.txn_records),
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
            print_run(&report);
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

/// One run's figures, as kafka-producer-perf-test prints them, then what it adds.
fn print_run(report: &RunReport) {
    crate::outln!("{}", report.perf_test_line());
    if let Some(a) = &report.accounting {
        crate::outln!("{}", a.line());
    }
    if let Some(stages) = &report.stages_ms {
        crate::outln!("{}", stages.line());
    }
    if let Some(t) = &report.transactions {
        crate::outln!("{}", t.line());
    }
    for line in [report.intended_line(), report.warmup_line()]
        .into_iter()
        .flatten()
    {
        crate::outln!("{line}");
    }
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
