//! The coordinator during the run: heartbeats both ways, workers gone or late, results.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::summary::{Outcome, WorkerRow};
use super::{note, Seen};
use crate::kafka::control::{self, now_ms, Channel, Job, JobResult, Message, Progress};
use crate::runtime::StopFlag;

/// How long after its last record a worker may take to report (delivery, read-back).
const REPORT_GRACE: Duration = Duration::from_secs(120);
/// How long a worker may say it is idle again before its figures come.
const IDLE_GRACE: Duration = Duration::from_secs(10);
/// Silence after which a worker in a run is taken for gone: longer than between two looks
/// for workers, since a saturated cluster can hold a heartbeat up for seconds.
const GONE_AFTER: Duration = Duration::from_secs(10);

/// Follows the run until every worker has reported or gone.
pub(super) fn follow(
    channel: &Channel,
    job: &Job,
    seen: &mut BTreeMap<String, Seen>,
    early: Vec<JobResult>,
    stop: &StopFlag,
    cancel: &dyn Fn(&str),
) -> Outcome {
    let workers: Vec<String> = job.shares.iter().map(|s| s.worker.clone()).collect();
    // Reading its records back takes a worker up to this long after its last report.
    let longest = job.shares.iter().map(|s| s.messages).max().unwrap_or(0);
    let read_back = crate::kafka::verify::timeout_for(longest);
    let started = Instant::now() + Duration::from_millis(job.start_at_ms.saturating_sub(now_ms()));
    let give_up = Instant::now()
        + Duration::from_millis(job.deadline_ms.saturating_sub(now_ms()))
        + REPORT_GRACE
        + read_back;
    let mut rows: BTreeMap<String, WorkerRow> = workers
        .iter()
        .map(|w| {
            (
                w.clone(),
                WorkerRow::running(w, seen.get(w).map(|s| s.host.clone())),
            )
        })
        .collect();
    for r in early {
        if let Some(row) = rows.get_mut(&r.worker) {
            row.done(r.figures);
        }
    }
    // Counted from acceptance: a worker is as alive as its acceptance until it beats again.
    for w in &workers {
        if let Some(s) = seen.get_mut(w) {
            s.at = Instant::now();
        }
    }
    let mut next_beat = Instant::now();
    let mut next_line = Instant::now() + Duration::from_secs(5);
    let mut cancelled = false;
    let mut idle_since: BTreeMap<String, Instant> = BTreeMap::new();
    while rows.values().any(WorkerRow::is_running) {
        if stop.raised() && !cancelled {
            cancelled = true;
            cancel(
                "stopped by a signal; waiting for the workers' figures, Ctrl-C again stops at once",
            );
        }
        if stop.urgent() || Instant::now() >= give_up {
            let why = if stop.urgent() {
                "the coordinator was stopped before they came"
            } else {
                "they did not come before the job's deadline"
            };
            for row in rows.values_mut().filter(|r| r.is_running()) {
                row.no_result(why);
            }
            if !cancelled {
                cancel(why);
            }
            break;
        }
        if Instant::now() >= next_beat {
            next_beat = Instant::now() + control::HEARTBEAT;
            let alive = Message::Coordinator {
                job: job.id.clone(),
                at_ms: now_ms(),
            };
            if let Err(e) = channel.send(&job.coordinator, &alive, false) {
                crate::errln!("warning: the coordinator's heartbeat was not written: {e}");
            }
        }
        // Everything heard so far first: a check must not take a worker for gone whose
        // heartbeats are waiting to be read.
        let mut heard = channel.next_sealed(Duration::from_millis(100));
        while let Some(m) = heard {
            take(m, job, &mut rows, seen, started);
            heard = channel.next_sealed(Duration::ZERO);
        }
        check_workers(&mut rows, seen, &mut idle_since, &job.id, started);
        if Instant::now() >= next_line {
            next_line += Duration::from_secs(5);
            let done = rows.values().filter(|r| !r.is_running()).count();
            progress_line(seen, &workers, &job.id, done);
        }
    }
    Outcome {
        job: job.clone(),
        rows: rows.into_values().collect(),
        cancelled,
    }
}

/// Applies one message heard during the run.
fn take(
    m: Message,
    job: &Job,
    rows: &mut BTreeMap<String, WorkerRow>,
    seen: &mut BTreeMap<String, Seen>,
    started: Instant,
) {
    match m {
        // Taken even from a worker marked gone: it was slow, not dead.
        Message::Result(r) if r.job == job.id => {
            if let Some(row) = rows.get_mut(&r.worker).filter(|row| !row.is_done()) {
                row.done(r.figures);
            }
        }
        Message::Gone { worker } => {
            if let (Some(row), Some(s)) = (rows.get_mut(&worker), seen.get(&worker)) {
                if row.is_running() {
                    let at = s.at.saturating_duration_since(started).as_secs_f64();
                    row.killed(at, &s.progress.clone().unwrap_or_default());
                    crate::errln!("{} (it was stopped)", row.status_line());
                }
            }
            seen.remove(&worker);
        }
        m => note(seen, m),
    }
}

/// Marks the workers gone silent, and those idle again whose figures never came.
fn check_workers(
    rows: &mut BTreeMap<String, WorkerRow>,
    seen: &BTreeMap<String, Seen>,
    idle_since: &mut BTreeMap<String, Instant>,
    job: &str,
    started: Instant,
) {
    for (w, row) in rows.iter_mut().filter(|(_, r)| r.is_running()) {
        let last = seen.get(w);
        // Idle again for a while with no figures: they were lost on the way.
        let idle = Instant::now() > started && last.is_some_and(|s| s.job.as_deref() != Some(job));
        if !idle {
            idle_since.remove(w);
        } else if idle_since
            .entry(w.clone())
            .or_insert_with(Instant::now)
            .elapsed()
            > IDLE_GRACE
        {
            row.no_result("it is idle again, but its figures never came (see its log)");
            crate::errln!("{}", row.status_line());
            continue;
        }
        let silent = last.is_none_or(|s| s.at.elapsed() > GONE_AFTER);
        if silent {
            let at = last.map_or(started, |s| s.at);
            row.killed(
                at.saturating_duration_since(started).as_secs_f64(),
                &last.and_then(|s| s.progress.clone()).unwrap_or_default(),
            );
            crate::errln!("{}", row.status_line());
        }
    }
}

/// Every 5 s: the workers' figures as their heartbeats give them.
fn progress_line(seen: &BTreeMap<String, Seen>, workers: &[String], job: &str, done: usize) {
    let progress: Vec<&Progress> = workers
        .iter()
        .filter_map(|w| seen.get(w))
        .filter(|s| s.job.as_deref() == Some(job))
        .filter_map(|s| s.progress.as_ref())
        .collect();
    let delivered: u64 = progress.iter().map(|p| p.delivered).sum();
    let rate: f64 = progress.iter().map(|p| p.records_per_sec.max(0.0)).sum();
    crate::errln!(
        "progress: {} of {} workers running, {done} finished; {} acknowledged, {:.0} records/s",
        progress.len(),
        workers.len(),
        delivered,
        rate
    );
}
