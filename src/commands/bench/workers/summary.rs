//! A distributed run's summary: one line of merged figures, the read-back of every worker's
//! records, a row per worker, and what made the run incomplete.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::cli::BenchArgs;
use crate::kafka::control::{Job, Progress, WorkerFigures};
use crate::stats::{Accounting, Latency, LatencySummary, MB};

/// How a worker's part of the run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Status {
    Running,
    /// Its figures came.
    Done,
    /// It stopped heartbeating (killed, cut off) `at_s` seconds into the run, having sent
    /// `sent` records and had `acknowledged` acknowledged as of its last heartbeat.
    Gone {
        at_s: f64,
        sent: u64,
        acknowledged: u64,
    },
    /// Nothing came before the coordinator gave up.
    NoResult {
        why: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkerRow {
    pub worker: String,
    pub host: Option<String>,
    #[serde(flatten)]
    pub status: Status,
    pub figures: Option<WorkerFigures>,
}

impl WorkerRow {
    pub fn running(worker: &str, host: Option<String>) -> WorkerRow {
        WorkerRow {
            worker: worker.to_string(),
            host,
            status: Status::Running,
            figures: None,
        }
    }

    pub fn is_running(&self) -> bool {
        self.status == Status::Running
    }

    pub fn is_done(&self) -> bool {
        self.status == Status::Done
    }

    pub fn done(&mut self, figures: WorkerFigures) {
        self.host = Some(figures.host.clone());
        self.status = Status::Done;
        self.figures = Some(figures);
    }

    pub fn killed(&mut self, at_s: f64, last: &Progress) {
        self.status = Status::Gone {
            at_s,
            sent: last.sent,
            acknowledged: last.delivered,
        };
    }

    pub fn no_result(&mut self, why: &str) {
        self.status = Status::NoResult {
            why: why.to_string(),
        };
    }

    /// What happened to this worker, when it did not simply finish.
    pub fn status_line(&self) -> String {
        match &self.status {
            Status::Gone {
                at_s, acknowledged, ..
            } => format!(
                "worker {} stopped heartbeating {at_s:.1} s into the run; {acknowledged} of its \
                 records were acknowledged before it went (its last heartbeat)",
                self.worker
            ),
            Status::NoResult { why } => format!("worker {}: no figures: {why}", self.worker),
            Status::Done => match self.figures.as_ref().and_then(|f| f.stopped.as_ref()) {
                Some(why) => format!("worker {} stopped early: {why}", self.worker),
                None => format!("worker {} done", self.worker),
            },
            Status::Running => format!("worker {} running", self.worker),
        }
    }

    fn complete(&self) -> bool {
        self.status == Status::Done && self.figures.as_ref().is_some_and(|f| f.stopped.is_none())
    }
}

pub struct Outcome {
    pub job: Job,
    pub rows: Vec<WorkerRow>,
    pub cancelled: bool,
}

/// The merged figures, as `--json` prints them.
#[derive(Debug, Serialize)]
struct Merged<'a> {
    job: &'a str,
    topic: &'a str,
    workers_asked: usize,
    complete: bool,
    incomplete: Vec<String>,
    /// Settings a worker ran with that differ from the coordinator's (its own config).
    differences: Vec<String>,
    settings: &'a BTreeMap<String, String>,
    sent: u64,
    delivered: u64,
    failed: u64,
    /// Given up at the end without an answer.
    undelivered: u64,
    /// Acknowledged to workers gone mid-run, by their last heartbeats: not in `delivered`.
    acknowledged_by_gone: u64,
    /// Delivered after the warm-up: the records in the rate and the latency.
    records: u64,
    /// Each worker's rate over its own measured time, summed.
    records_per_sec: f64,
    mb_per_sec: f64,
    /// From the first worker's first measured send to the last one's last report, by the
    /// workers' clocks: the rate over it counts the time when not every worker was sending.
    span_s: f64,
    records_per_sec_over_span: f64,
    /// From every worker's histogram merged.
    latency_ms: LatencySummary,
    accounting: Option<Accounting>,
    workers: Vec<WorkerJson<'a>>,
}

#[derive(Debug, Serialize)]
struct WorkerJson<'a> {
    #[serde(flatten)]
    row: &'a WorkerRow,
    records_per_sec: f64,
    latency_ms: LatencySummary,
}

fn rate(f: &WorkerFigures) -> (f64, f64) {
    if f.duration_s > 0.0 {
        (
            f.measured as f64 / f.duration_s,
            f.bytes as f64 / MB / f.duration_s,
        )
    } else {
        (0.0, 0.0)
    }
}

fn latency(f: &WorkerFigures) -> Latency {
    let mut l = Latency::default();
    l.add_buckets(&f.latency_us);
    l
}

/// Adds `b` to `a`: every worker's read-back of its own records.
fn add(a: &mut Accounting, b: &Accounting) {
    a.received += b.received;
    a.missing += b.missing;
    a.duplicated += b.duplicated;
    a.failed_but_written += b.failed_but_written;
    a.unchecked += b.unchecked;
    a.unconfirmed |= b.unconfirmed;
    a.not_found += b.not_found;
    a.aborted += b.aborted;
    a.aborted_seen += b.aborted_seen;
    a.read_back_s = a.read_back_s.max(b.read_back_s);
    for (p, theirs) in &b.per_partition {
        let ours = a.per_partition.entry(*p).or_default();
        ours.acknowledged += theirs.acknowledged;
        ours.aborted += theirs.aborted;
        ours.received += theirs.received;
        ours.missing += theirs.missing;
        ours.duplicated += theirs.duplicated;
        ours.deleted_below = match (ours.deleted_below, theirs.deleted_below) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
    }
}

fn merge<'a>(outcome: &'a Outcome, settings: &'a BTreeMap<String, String>) -> Merged<'a> {
    let mut all = Latency::default();
    let mut accounting: Option<Accounting> = None;
    let mut incomplete = Vec::new();
    let mut m = Merged {
        job: &outcome.job.id,
        topic: &outcome.job.topic,
        workers_asked: outcome.rows.len(),
        complete: false,
        incomplete: Vec::new(),
        differences: Vec::new(),
        settings,
        sent: 0,
        delivered: 0,
        failed: 0,
        undelivered: 0,
        acknowledged_by_gone: 0,
        records: 0,
        records_per_sec: 0.0,
        mb_per_sec: 0.0,
        span_s: 0.0,
        records_per_sec_over_span: 0.0,
        latency_ms: LatencySummary::default(),
        accounting: None,
        workers: Vec::new(),
    };
    let (mut first, mut last) = (f64::MAX, 0.0f64);
    for row in &outcome.rows {
        if !row.complete() {
            incomplete.push(row.status_line());
        }
        if let Status::Gone { acknowledged, .. } = row.status {
            m.acknowledged_by_gone += acknowledged;
        }
        let Some(f) = &row.figures else {
            m.workers.push(WorkerJson {
                row,
                records_per_sec: 0.0,
                latency_ms: LatencySummary::default(),
            });
            continue;
        };
        let (records_per_sec, mb) = rate(f);
        let l = latency(f);
        all.add(&l);
        m.sent += f.sent;
        m.delivered += f.delivered;
        m.failed += f.failed;
        m.undelivered += f.undelivered;
        for (k, v) in &f.settings {
            match settings.get(k) {
                Some(asked) if asked != v => m.differences.push(format!(
                    "worker {} ran {k}={v} where the coordinator has {asked}",
                    row.worker
                )),
                _ => {}
            }
        }
        m.records += f.measured;
        m.records_per_sec += records_per_sec;
        m.mb_per_sec += mb;
        if f.measured > 0 {
            let from = f.measured_from_ms as f64 / 1000.0;
            first = first.min(from);
            last = last.max(from + f.duration_s);
        }
        match (&f.accounting, &f.read_back_error) {
            (Some(a), _) => add(accounting.get_or_insert_with(Accounting::default), a),
            (None, Some(e)) => incomplete.push(format!("worker {}: no read-back: {e}", row.worker)),
            (None, None) => {}
        }
        m.workers.push(WorkerJson {
            row,
            records_per_sec,
            latency_ms: l.summary(),
        });
    }
    if outcome.cancelled {
        incomplete.push("the run was cancelled (stopped by a signal)".into());
    }
    if last > first {
        m.span_s = last - first;
        m.records_per_sec_over_span = m.records as f64 / m.span_s;
    }
    m.latency_ms = all.summary();
    m.accounting = accounting;
    m.complete = incomplete.is_empty();
    m.incomplete = incomplete;
    m
}

/// Prints the summary (or `--json`); failure when the run is incomplete or lost records.
pub fn print(
    args: &BenchArgs,
    outcome: &Outcome,
    settings: &BTreeMap<String, String>,
) -> Result<ExitCode> {
    let m = merge(outcome, settings);
    if args.json {
        crate::runtime::out::stdout_json(&serde_json::to_string(&m)?);
    } else {
        crate::out!("{}", text(&m));
    }
    let lost = m.accounting.as_ref().is_some_and(|a| a.missing > 0);
    Ok(if m.complete && m.failed == 0 && !lost {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn text(m: &Merged) -> String {
    let l = &m.latency_ms;
    let mut out = format!(
        "{}: {} records sent, {} delivered, {} failed: {:.1} records/sec summed \
         ({:.2} MB/sec), {:.2} ms avg latency, {:.2} ms max latency, {:.2} ms 50th, {:.2} ms \
         95th, {:.2} ms 99th, {:.2} ms 99.9th (every worker's latencies together).\n\
         {} records in {:.2} s from the first worker's first measured send to the last one's \
         last report: {:.1} records/sec over that span.\n",
        crate::text::count(m.workers_asked as u64, "worker", "workers"),
        m.sent,
        m.delivered,
        m.failed,
        m.records_per_sec,
        m.mb_per_sec,
        l.avg,
        l.max,
        l.p50,
        l.p95,
        l.p99,
        l.p999,
        m.records,
        m.span_s,
        m.records_per_sec_over_span
    );
    if m.records == 0 && m.delivered > 0 {
        let _ = writeln!(
            out,
            "No rate or latency measured: the run ended within its warm-up, which left out all \
             {} delivered (--warmup 0 keeps them).",
            m.delivered
        );
    }
    if m.acknowledged_by_gone > 0 {
        let _ = writeln!(
            out,
            "Besides: {} records acknowledged to workers that went mid-run (by their last \
             heartbeats; the topic may hold a few more), in none of the figures above.",
            m.acknowledged_by_gone
        );
    }
    if m.undelivered > 0 {
        let _ = writeln!(
            out,
            "{} records were given up at the end without a delivery report (undelivered).",
            m.undelivered
        );
    }
    if let Some(a) = &m.accounting {
        let line = a.line();
        let said = line.replacen("read back:", "read back (each worker its own records):", 1);
        let _ = writeln!(out, "{said}");
    }
    table(&mut out, m);
    if !m.differences.is_empty() {
        let _ = writeln!(out, "\nsettings that differ (each worker's own config):");
        for d in &m.differences {
            let _ = writeln!(out, "  {d}");
        }
    }
    if !m.incomplete.is_empty() {
        let _ = writeln!(out, "\nincomplete:");
        for why in &m.incomplete {
            let _ = writeln!(out, "  {why}");
        }
    }
    out
}

/// A row per worker.
fn table(out: &mut String, m: &Merged) {
    let _ = writeln!(
        out,
        "\n{:<24} {:<16} {:>10} {:>10} {:>7} {:>12} {:>9} {:>9} {:>8} {:>10}  status",
        "worker",
        "host",
        "sent",
        "delivered",
        "failed",
        "records/s",
        "p50 ms",
        "p99 ms",
        "missing",
        "duplicated"
    );
    for w in &m.workers {
        let mut f = w.row.figures.clone().unwrap_or_default();
        // A worker gone: what its last heartbeat said.
        if let Status::Gone {
            sent, acknowledged, ..
        } = w.row.status
        {
            f.sent = sent;
            f.delivered = acknowledged;
        }
        let a = f.accounting.clone().unwrap_or_default();
        let status = match &w.row.status {
            Status::Done if f.stopped.is_some() => "stopped early",
            Status::Done => "done",
            Status::Gone { .. } => "gone",
            Status::NoResult { .. } => "no result",
            Status::Running => "running",
        };
        let _ = writeln!(
            out,
            "{:<24} {:<16} {:>10} {:>10} {:>7} {:>12.1} {:>9.2} {:>9.2} {:>8} {:>10}  {status}",
            w.row.worker,
            w.row.host.as_deref().unwrap_or("?"),
            f.sent,
            f.delivered,
            f.failed,
            w.records_per_sec,
            w.latency_ms.p50,
            w.latency_ms.p99,
            a.missing,
            a.duplicated
        );
    }
}
