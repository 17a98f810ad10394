//! `kafka-lab produce`: send brewery records, one line per delivery report, and a summary.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cli::{Connection, ProduceArgs};
use crate::config::Role;
use crate::data::wire::Wire;
use crate::kafka::producer::{Delivery, LabProducer, ProducerWatch, Reports};
use crate::progress::Progress;
use crate::runtime::{self, load_dataset, Pacer, StopFlag};
use crate::target::Target;
use crate::text::logfmt;

/// How long without a delivery report before `produce` says what is wrong.
const QUIET: Duration = Duration::from_secs(5);

pub async fn produce(c: &Connection, args: &ProduceArgs) -> Result<ExitCode> {
    let mut target = Target::connect(c, Role::Producer)?;
    target
        .layers
        .builtin("client.id", "kafka-lab-produce", "built-in default");
    if c.print_config {
        return runtime::print_config(&target, &[Role::Producer]);
    }
    let settings = target.settings(Role::Producer)?;
    if let Some(said) = crate::runtime::out::library_log(&settings, None) {
        crate::errln!("{said}");
    }
    let dataset = load_dataset(&args.source).await?;
    target.ensure_topic(&settings).await?;

    let stop = StopFlag::on_signals();
    let (reports, report_rx) = std::sync::mpsc::sync_channel::<Delivery>(4096);
    let producer = LabProducer::new(&settings, &target.topic, Reports::Every(reports))
        .context("cannot create the producer")?;
    let printer = spawn_printer(target.topic.clone(), report_rx);
    let done = StopFlag::default();
    let watchdog = spawn_watchdog(producer.watch(), done.clone());

    let wire = Wire::new(&dataset, args.source.key);
    drop(dataset);
    let count = args.count;
    let pacer = Pacer::new(args.rate.per_second());
    let send_stop = stop.clone();
    // A record sent last needs a few round trips of the simulated network to be answered.
    let flush_timeout = args.flush_timeout.map_or_else(
        || Duration::from_secs(10).max(target.simulated_rtt() * 10),
        Duration::from_secs,
    );
    // Sending blocks (pacing, a full queue): keep it off the async threads.
    let (closed, send_error, run_tag) = tokio::task::spawn_blocking(move || {
        let mut n = 0u64;
        let mut error = None;
        let mut progress = count.map(|c| Progress::new("produce", c, "records", true));
        while count.is_none_or(|c| n < c) && !send_stop.raised() {
            if let Some(p) = progress.as_mut().filter(|_| n % 256 == 0) {
                p.set(producer.reported(), |_| String::new());
            }
            // Waiting for the next record serves delivery reports meanwhile.
            let mut wait = pacer.wait_before(n);
            while !wait.is_zero() && !send_stop.raised() {
                producer.serve(wait.min(Duration::from_millis(50)));
                wait = pacer.wait_before(n);
            }
            if send_stop.raised() {
                break;
            }
            let (key, value) = wire.get(n);
            if let Err(e) = producer.send(n, key, value) {
                error = Some(e);
                break;
            }
            n += 1;
        }
        drop(progress.take());
        let run_tag = producer.run_tag().to_string();
        let waiting = producer.in_flight();
        if send_stop.raised() && waiting > 0 && !send_stop.urgent() {
            crate::errln!(
                "stopping: waiting up to {} s for the delivery reports of {}; Ctrl-C again stops at once",
                flush_timeout.as_secs(),
                crate::text::count(waiting, "record", "records")
            );
        }
        let closed = producer.close(flush_timeout, &|| send_stop.urgent());
        (closed, error, run_tag)
    })
    .await?;
    done.raise();
    let _ = watchdog.join();
    // The printer ends once the producer (and its channel) is gone.
    let _ = printer.join();
    summarize(&closed.totals);
    let totals = &closed.totals;
    if args.verify && totals.delivered > 0 {
        let consumer = target.layers.resolve(Role::Consumer)?;
        match target.read_back(&consumer, run_tag, closed.ledger).await {
            Ok(a) => crate::outln!("{}", a.line()),
            Err(e) => crate::errln!("warning: could not read the records back: {e}"),
        }
    }
    if stop.raised() {
        crate::errln!(
            "{}: flushed for up to {} s; {} records were left without a delivery report (undelivered)",
            runtime::stopped_by(&stop),
            flush_timeout.as_secs(),
            totals.undelivered
        );
    }
    if let Some(e) = send_error {
        bail!("the producer refused a record: {e}");
    }
    let code = if totals.failed == 0 && totals.undelivered == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    Ok(runtime::exit_code(&stop, code))
}

/// The summary line, and what the counts hold back: failures by reason, records sent without
/// an answer.
fn summarize(totals: &crate::stats::RunTotals) {
    crate::outln!(
        "summary: sent={} delivered={} failed={} undelivered={}",
        totals.sent,
        totals.delivered,
        totals.failed,
        totals.undelivered
    );
    if totals.undelivered_in_flight > 0 {
        crate::errln!(
            "  {} of the undelivered records had been sent without an answer: the cluster may \
             have written them (--verify reads the topic back)",
            totals.undelivered_in_flight
        );
    }
    for (error, n) in &totals.errors {
        crate::errln!("  {n} failed: {error}");
    }
}

/// Prints one line per delivery report until the producer is gone.
fn spawn_printer(
    topic: String,
    reports: std::sync::mpsc::Receiver<Delivery>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let topic = logfmt(&topic);
        // Once the reader is gone (`| head`) the reports are still taken, so that the
        // producer never waits for them, and the command stops (see `runtime::out`).
        let wrote = |r: std::io::Result<()>| {
            if let Err(e) = r {
                crate::runtime::out::closed(&e);
            }
        };
        loop {
            // Written in bursts, flushed whenever the reports pause.
            let d = match reports.try_recv() {
                Ok(d) => d,
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    wrote(out.flush());
                    match reports.recv() {
                        Ok(d) => d,
                        Err(_) => break,
                    }
                }
                Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
            };
            if crate::runtime::out::stdout_gone() {
                continue;
            }
            let key = d.key.as_deref().map_or("-".to_string(), logfmt);
            let latency = d.latency.as_secs_f64() * 1000.0;
            let offset = d.offset.map_or("-".to_string(), |o| o.to_string());
            let written = match &d.error {
                None => writeln!(
                    out,
                    "seq={} topic={topic} partition={} offset={offset} key={key} latency_ms={latency:.3}",
                    d.seq, d.partition
                ),
                Some(e) => writeln!(
                    out,
                    "seq={} topic={topic} partition={} key={key} error={} latency_ms={latency:.3}",
                    d.seq,
                    d.partition,
                    logfmt(&crate::text::secrets::scrub(e))
                ),
            };
            wrote(written);
        }
        wrote(out.flush());
    })
}

/// Says what is wrong while records wait without a delivery report.
fn spawn_watchdog(watch: ProducerWatch, done: StopFlag) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !done.raised() {
            done.sleep(QUIET);
            if done.raised() {
                break;
            }
            if let Some(stalled) = watch.stalled(QUIET) {
                crate::errln!("warning: {stalled}");
            }
        }
    })
}
