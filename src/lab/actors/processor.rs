//! A processor of the lab: consume the lab's topic, transform, produce to a topic of its own,
//! exactly once or at least once (the processor of `kafka-lab process`, in its own group). It
//! reports a snapshot every tick: what it committed, what the output holds (counted by the
//! session's [`OutputTally`]), and how it stands. It can be crashed (no commit, no abort, its
//! clients dropped unclosed) and started again: it resumes where its group committed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use super::TICK;
use crate::config::ClientSettings;
use crate::kafka::cluster;
use crate::kafka::embedded::EmbeddedControl;
use crate::kafka::processor::{derived_id, Done, Ended, Guarantee, Job, Live, OutputTally};
use crate::lab::protocol::KafkaEvent;
use crate::lab::snapshots::{ProcessorSnapshot, ProcessorState};
use crate::runtime::StopFlag;

/// Records per transaction (per batch, at least once): a batch also ends after 100 ms.
const BATCH: u64 = 500;

/// Where a processor works and what it reports to.
pub struct Start {
    /// This instance's number in the session: its snapshots carry it.
    pub instance: u64,
    pub guarantee: Guarantee,
    pub from: String,
    pub partitions: usize,
    pub consumer: ClientSettings,
    pub producer: ClientSettings,
    /// The embedded cluster's controls (it makes topics itself; a real cluster is asked).
    pub embedded: Option<EmbeddedControl>,
    pub events: mpsc::Sender<KafkaEvent>,
    pub tally: Arc<OutputTally>,
    /// What the instances before this one did, and how often they crashed: the figures go
    /// on from there.
    pub before: Done,
    pub crashes: u32,
}

pub struct ProcessorHandle {
    pub guarantee: Guarantee,
    live: Live,
    /// Raised when its thread has ended (and its last snapshot was sent).
    ended: StopFlag,
    pub crashes: u32,
}

impl ProcessorHandle {
    /// Crashes it, once: a second ask while it goes is the same crash.
    pub fn crash(&mut self) {
        if !self.live.crashing() {
            self.crashes += 1;
            self.live.crash();
        }
    }

    pub fn stop(&self) {
        self.live.stop();
    }

    pub fn ended(&self) -> bool {
        self.ended.raised()
    }

    /// Raised once it has ended.
    pub fn ended_flag(&self) -> StopFlag {
        self.ended.clone()
    }

    /// What every instance so far did.
    pub fn done(&self) -> Done {
        self.live.done()
    }
}

/// The output topic of `from`'s processor with `g`.
pub fn output_topic(from: &str, g: Guarantee) -> String {
    format!("{from}.{}", g.name())
}

pub fn spawn(start: Start) -> ProcessorHandle {
    let (live, ended) = (Live::new(None), StopFlag::default());
    live.with(|d| {
        *d = Done {
            started: None,
            last_commit: None,
            ..start.before.clone()
        };
    });
    let handle = ProcessorHandle {
        guarantee: start.guarantee,
        live: live.clone(),
        ended: ended.clone(),
        crashes: start.crashes,
    };
    tokio::task::spawn_blocking(move || {
        let to = output_topic(&start.from, start.guarantee);
        let job = Job {
            from: start.from.clone(),
            to: to.clone(),
            guarantee: start.guarantee,
            batch: BATCH,
            count: None,
            idle_exit: None,
            live,
        };
        let report = Reporter {
            start: &start,
            to: &to,
            live: &job.live,
        };
        report.send(ProcessorState::Starting);
        let state = work(&start, &job, &report);
        report.send(state);
        ended.raise();
    });
    handle
}

/// Makes the output topic and the clients, then processes until stopped, crashed or failed.
fn work(start: &Start, job: &Job, report: &Reporter<'_>) -> ProcessorState {
    if let Err(e) = ensure_output(start, &job.to) {
        return ProcessorState::Failed(e);
    }
    start
        .tally
        .watch(&job.to, start.partitions, start.guarantee);
    let id = derived_id(&job.from, &job.to);
    let (consumer, producer) = match job.clients(&start.consumer, &start.producer, &id) {
        Ok(clients) => clients,
        Err(e) => return ProcessorState::Failed(format!("cannot start: {e}")),
    };
    if job.live.crashing() {
        crate::kafka::consumer::crash(consumer);
        return ProcessorState::Crashed(SystemTime::now());
    }
    // The snapshots go out from a thread of their own: the processor's loop blocks in its
    // commits.
    let ticking = StopFlag::default();
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            while !ticking.raised() {
                report.send(ProcessorState::Running);
                std::thread::sleep(TICK);
            }
        });
        let result = job.run(&consumer, &producer);
        ticking.raise();
        result
    });
    match result {
        Ok(Ended::Crashed) => {
            crate::kafka::consumer::crash(consumer);
            // Dropped with its transaction open: what it wrote stays uncommitted until the
            // next instance's start aborts it.
            drop(producer);
            ProcessorState::Crashed(SystemTime::now())
        }
        Ok(Ended::Finished) => ProcessorState::Stopped,
        Err(e) => ProcessorState::Failed(format!("{e:#}")),
    }
}

/// The output topic, made with the input's partition count when missing.
fn ensure_output(start: &Start, to: &str) -> Result<(), String> {
    let wait = Duration::from_secs(10);
    if let Some(embedded) = &start.embedded {
        return match embedded.create_topic(to, i32::try_from(start.partitions).unwrap_or(i32::MAX))
        {
            // Made by an earlier processor of this lab.
            Err(e) if e.to_string().to_lowercase().contains("already exists") => Ok(()),
            other => other.map_err(|e| format!("cannot make the output topic {to}: {e}")),
        };
    }
    if cluster::probe(&start.producer, to, wait).is_ok() {
        return Ok(());
    }
    // As the input's would be: three copies where there are three nodes.
    let replication = cluster::broker_count(&start.producer).map_or(1, |n| n.min(3));
    tokio::runtime::Handle::current()
        .block_on(cluster::create_topic(
            &start.producer,
            to,
            i32::try_from(start.partitions).unwrap_or(i32::MAX),
            i32::try_from(replication).unwrap_or(1),
            wait,
        ))
        .map_err(|e| format!("cannot make the output topic {to}: {e}"))
}

struct Reporter<'a> {
    start: &'a Start,
    to: &'a str,
    live: &'a Live,
}

impl Reporter<'_> {
    fn send(&self, state: ProcessorState) {
        let done = self.live.done();
        let s = self.start;
        let snapshot = ProcessorSnapshot {
            instance: s.instance,
            guarantee: s.guarantee,
            crashes: s.crashes + u32::from(matches!(state, ProcessorState::Crashed(_))),
            state,
            from: s.from.clone(),
            to: self.to.to_string(),
            id: derived_id(&s.from, self.to),
            partitions: self.live.partitions(),
            records: done.records,
            batches: done.batches,
            aborted: done.aborted,
            uncommitted: done.uncommitted,
            commit_p50_ms: done.commit_ms(0.5),
            commit_p99_ms: done.commit_ms(0.99),
            output: s.tally.figures(s.guarantee),
            news: s.tally.error().or_else(|| self.live.latest()),
        };
        let _ = s
            .events
            .blocking_send(KafkaEvent::Processor(Box::new(snapshot)));
    }
}
