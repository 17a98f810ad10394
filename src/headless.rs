//! The subcommands for scripts: produce, consume, bench, cluster.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};

use crate::cli::{Connection, ConsumeArgs, Output, ProduceArgs, SourceArgs};
use crate::config::Role;
use crate::kafka::cluster::{EmbeddedCluster, MOCK_FETCH_SETTINGS, MOCK_GROUP_SETTINGS};
use crate::kafka::consumer::{ConsumedRecord, GroupEvent, LabConsumer};
use crate::kafka::producer::{Delivery, LabProducer, Pacer, Reports};
use crate::sink::{record_line, Sink};
use crate::source::{self, Dataset, FetchOptions, Source};
use crate::target::{embedded_options, Target};
use crate::text::{format_timestamp, logfmt, printable, shorten};

/// Set by Ctrl-C (or SIGTERM); long loops check it.
#[derive(Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// A flag that Ctrl-C and SIGTERM raise.
    pub fn on_signals() -> StopFlag {
        let flag = StopFlag::default();
        let f = flag.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            f.0.store(true, Ordering::SeqCst);
        });
        flag
    }

    pub fn raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps up to `d`, waking early when the flag is raised.
    fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.raised() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

pub fn print_config_and_exit(target: &Target, roles: &[Role]) -> Result<ExitCode> {
    for role in roles {
        print!("{}", target.settings(*role)?.describe());
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn load_dataset(args: &SourceArgs) -> Result<Dataset> {
    let records = match Source::parse(&args.source, &args.api_url) {
        Source::Bundled => source::bundled(),
        Source::File(path) => source::from_file(&path)?,
        Source::OpenBreweryDb { base_url } => {
            eprintln!("fetching breweries from {base_url} ...");
            let records = source::fetch_api(&base_url, &FetchOptions::default(), |page, total| {
                eprintln!("  page {page}: {total} records");
            })
            .await?;
            eprintln!("fetched {} breweries", records.len());
            records
        }
    };
    Ok(Dataset::new(records))
}

pub async fn produce(c: &Connection, args: &ProduceArgs) -> Result<ExitCode> {
    let mut target = Target::connect(c, Role::Producer)?;
    target
        .layers
        .builtin("client.id", "kafka-lab-produce", "built-in default");
    if c.print_config {
        return print_config_and_exit(&target, &[Role::Producer]);
    }
    let settings = target.settings(Role::Producer)?;
    let dataset = load_dataset(&args.source).await?;
    target.ensure_topic(&settings).await?;

    let stop = StopFlag::on_signals();
    let (reports, report_rx) = std::sync::mpsc::sync_channel::<Delivery>(4096);
    let producer = LabProducer::new(&settings, &target.topic, Reports::Every(reports))
        .context("cannot create the producer")?;
    let topic = target.topic.clone();
    let printer = std::thread::spawn(move || {
        let stdout = std::io::stdout();
        for d in report_rx {
            let mut out = stdout.lock();
            let key = d.key.as_deref().map_or("-".to_string(), logfmt);
            let latency = d.latency.as_secs_f64() * 1000.0;
            let _ = match &d.error {
                None => writeln!(
                    out,
                    "seq={} topic={} partition={} offset={} key={key} latency_ms={latency:.3}",
                    d.seq,
                    logfmt(&topic),
                    d.partition,
                    d.offset
                ),
                Some(e) => writeln!(
                    out,
                    "seq={} topic={} partition={} key={key} error={} latency_ms={latency:.3}",
                    d.seq,
                    logfmt(&topic),
                    d.partition,
                    logfmt(e)
                ),
            };
        }
    });

    let key_field = args.source.key;
    let count = args.count;
    let pacer = Pacer::new(args.rate.per_second());
    let send_stop = stop.clone();
    // Sending blocks (pacing, a full queue): keep it off the async threads.
    let (producer, send_error) = tokio::task::spawn_blocking(move || {
        let mut n = 0u64;
        let mut error = None;
        while count.is_none_or(|c| n < c) && !send_stop.raised() {
            send_stop.sleep(pacer.wait_before(n));
            if send_stop.raised() {
                break;
            }
            let (record, payload) = dataset.get(n);
            if let Err(e) = producer.send(n, record.key(key_field), payload) {
                error = Some(e);
                break;
            }
            n += 1;
        }
        (producer, error)
    })
    .await?;

    let flush_timeout = Duration::from_secs(args.flush_timeout);
    let undelivered = producer.flush(flush_timeout);
    let totals = producer.totals();
    let (ledger, run_tag) = (producer.ledger(), producer.run_tag().to_string());
    drop(producer);
    let _ = printer.join();
    println!(
        "summary: sent={} delivered={} failed={} undelivered={}",
        totals.sent, totals.delivered, totals.failed, undelivered
    );
    if args.verify && totals.delivered > 0 {
        let consumer = target.layers.resolve(Role::Consumer)?;
        match crate::bench::read_back(&target, &consumer, run_tag, ledger, c.rtt_ms).await {
            Ok(a) => println!("{}", crate::bench::accounting_line(&a)),
            Err(e) => eprintln!("warning: could not read the records back: {e}"),
        }
    }
    for (error, n) in &totals.errors {
        eprintln!("  {n} failed: {error}");
    }
    if stop.raised() {
        eprintln!(
            "interrupted: flushed for up to {} s; {undelivered} records were still undelivered",
            flush_timeout.as_secs()
        );
    }
    if let Some(e) = send_error {
        bail!("the producer refused a record: {e}");
    }
    Ok(if totals.failed == 0 && undelivered == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn record_text(r: &ConsumedRecord) -> String {
    let ts = r
        .timestamp_ms
        .map_or_else(|| "-".to_string(), format_timestamp);
    let key = r
        .key
        .as_deref()
        .map_or_else(|| "-".to_string(), |k| logfmt(&printable(k)));
    let value = r
        .value
        .as_deref()
        .map_or_else(|| "-".to_string(), |v| shorten(&printable(v), 120));
    format!(
        "topic={} partition={} offset={} timestamp={ts} key={key} value={value}",
        logfmt(&r.topic),
        r.partition,
        r.offset
    )
}

pub async fn consume(c: &Connection, args: &ConsumeArgs) -> Result<ExitCode> {
    let mut target = Target::connect(c, Role::Consumer)?;
    let random_group = format!("kafka-lab-consume-{:08x}", rand_u32());
    target
        .layers
        .builtin("group.id", random_group, "built-in default");
    target
        .layers
        .builtin("client.id", "kafka-lab-consume", "built-in default");
    if let Some(g) = &args.group {
        target.layers.flag("group.id", g, "-g");
    }
    if args.from_beginning {
        target
            .layers
            .flag("auto.offset.reset", "earliest", "--from-beginning");
    }
    if c.print_config {
        return print_config_and_exit(&target, &[Role::Consumer]);
    }
    let mut settings = target.settings(Role::Consumer)?;
    if target.ensure_topic(&settings).await?.is_mock {
        for (key, value) in MOCK_GROUP_SETTINGS.into_iter().chain(MOCK_FETCH_SETTINGS) {
            target.layers.builtin(key, value, "embedded cluster");
        }
        settings = target.settings(Role::Consumer)?;
    }
    let group = settings.get("group.id").unwrap_or_default().to_string();

    let stop = StopFlag::on_signals();
    let (consumer, events) =
        LabConsumer::subscribe(&settings, &target.topic).context("cannot create the consumer")?;
    let event_group = group.clone();
    std::thread::spawn(move || {
        for event in events {
            match event {
                GroupEvent::Assigned(p) => {
                    eprintln!("group {event_group}: assigned partitions {p:?}")
                }
                GroupEvent::Revoked(p) => {
                    eprintln!("group {event_group}: revoked partitions {p:?}")
                }
                GroupEvent::Error(e) => eprintln!("warning: {e}"),
            }
        }
    });

    let mut sink = match &args.sink {
        Some(path) => Some(
            Sink::open(path).with_context(|| format!("cannot open the sink {}", path.display()))?,
        ),
        None => None,
    };
    let mut n = 0u64;
    let stdout = std::io::stdout();
    let mut idle = tokio::time::interval(Duration::from_millis(250));
    while args.count.is_none_or(|c| n < c) {
        let received = tokio::select! {
            r = consumer.recv() => r,
            _ = idle.tick() => {
                if let Some(s) = sink.as_mut() {
                    s.flush_if_due()?;
                }
                continue;
            }
            _ = async { while !stop.raised() { tokio::time::sleep(Duration::from_millis(50)).await } } => break,
        };
        match received {
            Ok(record) => {
                if let Some(s) = sink.as_mut() {
                    s.write(&record_line(&record))
                        .with_context(|| format!("cannot write to {}", s.path().display()))?;
                }
                let line = match args.output {
                    Output::Text => record_text(&record),
                    Output::Json => record_line(&record).to_string(),
                };
                if let Err(e) = writeln!(stdout.lock(), "{line}") {
                    // The reader went away (`| head`): stop, but still commit what was printed.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        break;
                    }
                    return Err(e.into());
                }
                consumer.done(&record)?;
                n += 1;
            }
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    if let Some(mut s) = sink {
        s.flush()?;
        eprintln!("wrote {} records to {}", s.written, s.path().display());
    }
    consumer
        .close()
        .context("cannot commit the consumed offsets")?;
    eprintln!("consumed {n} records; committed and left group {group}");
    Ok(ExitCode::SUCCESS)
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish() as u32
}

pub async fn cluster(c: &Connection) -> Result<ExitCode> {
    if c.config.is_some() || c.bootstrap_servers.is_some() {
        bail!("`cluster` serves the embedded cluster; it takes no --config or -b");
    }
    let options = embedded_options(c);
    let cluster = EmbeddedCluster::start(&options)?;
    println!("bootstrap.servers={}", cluster.bootstrap_servers());
    std::io::stdout().flush()?;
    eprintln!("embedded cluster: {}; Ctrl-C stops it", options.describe());
    wait_for_signal().await;
    drop(cluster);
    eprintln!("embedded cluster stopped");
    Ok(ExitCode::SUCCESS)
}
