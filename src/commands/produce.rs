//! `kafka-lab produce`: send brewery records, one line per delivery report, and a summary.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cli::{Connection, ProduceArgs};
use crate::config::{ClientSettings, Role};
use crate::data::wire::Wire;
use crate::kafka::producer::{
    refused_because, transactional_id_said, with_transactional_id, Delivery, LabProducer,
    ProducerWatch, Reports, Transactions, TxnPlan, GIVEN_ID_TXN_RECORDS,
};
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
    let (settings, txn_records) = transactional(settings, args.txn_records);
    if let Some(said) = crate::runtime::out::library_log(&settings, None) {
        crate::errln!("{said}");
    }
    let dataset = load_dataset(&args.source).await?;
    target.ensure_topic(&settings).await?;

    let stop = StopFlag::on_signals();
    let (reports, report_rx) = std::sync::mpsc::sync_channel::<Delivery>(4096);
    let producer = LabProducer::new(&settings, &target.topic, Reports::Every(reports))
        .with_context(|| refused_because(&settings))?;
    let txns = txn_records
        .map(|records| begin(&producer, &settings, records))
        .transpose()?;
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
    let sending = Sending {
        producer,
        wire,
        pacer,
        count,
        stop: send_stop,
        txns,
        flush_timeout,
    };
    let (closed, send_error, run_tag, txn_figures) =
        tokio::task::spawn_blocking(move || sending.run()).await?;
    done.raise();
    let _ = watchdog.join();
    // The printer ends once the producer (and its channel) is gone.
    let _ = printer.join();
    summarize(&closed.totals, txn_figures.as_ref());
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

/// Transactions asked for (`--txn-records`), or implied by a `transactional.id` the user gave:
/// the settings with the id in force, and the records per transaction.
fn transactional(settings: ClientSettings, asked: Option<u64>) -> (ClientSettings, Option<u64>) {
    let records = asked.or_else(|| {
        settings
            .get("transactional.id")
            .map(|_| GIVEN_ID_TXN_RECORDS)
    });
    let settings = match records {
        Some(_) => with_transactional_id(
            &settings,
            format!("kafka-lab-produce-{}", std::process::id()),
            "--txn-records",
        ),
        None => settings,
    };
    (settings, records)
}

/// The producer's transactions, begun, and said with its id.
fn begin(producer: &LabProducer, settings: &ClientSettings, records: u64) -> Result<Transactions> {
    let plan = TxnPlan {
        records,
        abort_every: 0,
        // Never open past the broker's transaction.timeout.ms at a slow rate.
        longest: Some(Duration::from_secs(1)),
    };
    let t = Transactions::start_named(producer, settings, plan)
        .context("the cluster did not take a transactional producer")?;
    crate::errln!(
        "transactions of {} (or fewer: each ends after 1 s), {}",
        crate::text::count(records, "record", "records"),
        transactional_id_said(settings).unwrap_or_default()
    );
    Ok(t)
}

/// What the sending thread has.
struct Sending {
    producer: LabProducer,
    wire: Wire,
    pacer: Pacer,
    count: Option<u64>,
    stop: StopFlag,
    txns: Option<Transactions>,
    flush_timeout: Duration,
}

impl Sending {
    /// Sends until the count or a stop, commits the open transaction, closes the producer.
    fn run(
        mut self,
    ) -> (
        crate::kafka::producer::Closed,
        Option<String>,
        String,
        Option<crate::stats::TxnFigures>,
    ) {
        let mut n = 0u64;
        let mut error = None;
        let mut progress = self
            .count
            .map(|c| Progress::new("produce", c, "records", true));
        while self.count.is_none_or(|c| n < c) && !self.stop.raised() {
            if let Some(p) = progress.as_mut().filter(|_| n % 256 == 0) {
                p.set(self.producer.reported(), |_| String::new());
            }
            // Waiting for the next record serves delivery reports meanwhile.
            let mut wait = self.pacer.wait_before(n);
            while !wait.is_zero() && !self.stop.raised() {
                self.producer.serve(wait.min(Duration::from_millis(50)));
                if let Some(Err(e)) = self.txns.as_mut().map(|t| t.end_if_due(&self.producer)) {
                    error = Some(e);
                    break;
                }
                wait = self.pacer.wait_before(n);
            }
            if self.stop.raised() || error.is_some() {
                break;
            }
            let (key, value) = self.wire.get(n);
            let sent = match self.txns.as_mut() {
                Some(t) => t
                    .before_send(&self.producer, n)
                    .and_then(|()| self.producer.send(n, key, value))
                    .and_then(|()| t.after_send(&self.producer)),
                None => self.producer.send(n, key, value),
            };
            if let Err(e) = sent {
                error = Some(e);
                break;
            }
            n += 1;
        }
        drop(progress.take());
        // The open transaction is committed (its records are then flushed).
        if let Some(Err(e)) = self.txns.as_mut().map(|t| t.end(&self.producer)) {
            error.get_or_insert(e);
        }
        let txn_figures = self.txns.as_ref().map(Transactions::figures);
        let error = error.map(|e| match self.producer.fatal_error() {
            Some(reason) if reason.contains("fenced") => format!(
                "{e}: {reason} (another producer started with the same transactional.id: \
                 this one may write no more)"
            ),
            Some(reason) => format!("{e}: {reason}"),
            None => e.to_string(),
        });
        let run_tag = self.producer.run_tag().to_string();
        let waiting = self.producer.in_flight();
        if self.stop.raised() && waiting > 0 && !self.stop.urgent() {
            crate::errln!(
                "stopping: waiting up to {} s for the delivery reports of {}; Ctrl-C again stops at once",
                self.flush_timeout.as_secs(),
                crate::text::count(waiting, "record", "records")
            );
        }
        let closed = self
            .producer
            .close(self.flush_timeout, &|| self.stop.urgent());
        (closed, error, run_tag, txn_figures)
    }
}

/// The summary line, and what the counts hold back: failures by reason, records sent without
/// an answer.
fn summarize(totals: &crate::stats::RunTotals, txns: Option<&crate::stats::TxnFigures>) {
    crate::outln!(
        "summary: sent={} delivered={} failed={} undelivered={}",
        totals.sent,
        totals.delivered,
        totals.failed,
        totals.undelivered
    );
    if let Some(t) = txns {
        crate::outln!(
            "transactions: begun={} committed={} failed={} commit_p50_ms={:.2} commit_p99_ms={:.2}",
            t.begun,
            t.committed,
            t.failed,
            t.commit_p50_ms,
            t.commit_p99_ms
        );
    }
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
