//! `kafka-lab produce`: send brewery records, one line per delivery report, and a summary.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cli::{Connection, ProduceArgs};
use crate::config::Role;
use crate::kafka::producer::{Delivery, LabProducer, Reports};
use crate::runtime::{self, load_dataset, Pacer, StopFlag};
use crate::target::Target;
use crate::text::logfmt;

pub async fn produce(c: &Connection, args: &ProduceArgs) -> Result<ExitCode> {
    let mut target = Target::connect(c, Role::Producer)?;
    target
        .layers
        .builtin("client.id", "kafka-lab-produce", "built-in default");
    if c.print_config {
        return runtime::print_config(&target, &[Role::Producer]);
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
        match target.read_back(&consumer, run_tag, ledger).await {
            Ok(a) => println!("{}", a.line()),
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
