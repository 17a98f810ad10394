//! The dashboard's producer: a thread that sends at the chosen rate, starts, stops and restarts
//! with new settings on command, and sends a compact snapshot about four times a second.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc::Sender;

use crate::config::{ClientSettings, Layers, Role};
use crate::data::source::{Dataset, KeyField};
use crate::data::wire::Wire;
use crate::kafka::partitioners::WouldGo;
use crate::kafka::producer::{
    with_transactional_id, without_transactional_id, LabProducer, Reports, Transactions,
};
use crate::kafka::verify::{self, AbortedMarks, Ledger};
use crate::lab::actors::TICK;
use crate::lab::protocol::KafkaEvent;
use crate::lab::settings::ProducerSettings;
use crate::lab::snapshots::ProducerState;
use crate::runtime::Pacer;
use crate::stats::{BatchStats, Interval, RunMeter, RunReport, RunTotals, Window};
use snapshot::Figures;

mod snapshot;

/// Reports kept per snapshot for the send log; the rest are counted, not shown.
const LATEST: usize = 24;
/// The live figures cover the last five seconds.
const WINDOW_TICKS: usize = 20;
/// The longest a restart or stop waits for outstanding reports.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

pub enum ProducerCommand {
    Start,
    Stop,
    Apply(ProducerSettings),
    /// New settings for the next start: a running producer restarts with them, a stopped one
    /// stays stopped.
    Set(ProducerSettings),
    /// Flush, then go on (a new run) with another topic.
    SwitchTopic(String),
    /// Flush, then go on (a new run) with other records.
    SwitchData(Arc<Dataset>),
    Shutdown,
}

pub struct ProducerHandle {
    commands: mpsc::Sender<ProducerCommand>,
    thread: Option<JoinHandle<Option<String>>>,
}

impl ProducerHandle {
    pub fn send(&self, command: ProducerCommand) {
        let _ = self.commands.send(command);
    }

    /// Flushes (bounded) and stops the thread; returns how the last run ended.
    pub fn shutdown(mut self) -> Option<String> {
        self.send(ProducerCommand::Shutdown);
        self.thread.take().and_then(|t| t.join().ok().flatten())
    }
}

/// At full speed, one key in this many (the first of these primes that does not divide the
/// data's length) is placed under each key hash.
const WOULD_SAMPLE: [u64; 3] = [61, 67, 71];

/// How the producer thread begins.
pub struct Begin {
    /// It starts a run at once.
    pub running: bool,
    pub warmup: Duration,
    /// Where its transactions mark the records they abort, for the members.
    pub marks: AbortedMarks,
}

/// Starts the producer thread. `layers` are the producer's base settings (config file, -b,
/// -X); `settings` go on top of them.
pub fn spawn(
    layers: Layers,
    topic: String,
    dataset: Arc<Dataset>,
    settings: ProducerSettings,
    events: Sender<KafkaEvent>,
    begin: Begin,
) -> ProducerHandle {
    let Begin {
        running,
        warmup,
        marks,
    } = begin;
    let (commands, rx) = mpsc::channel();
    let mut task = Task {
        layers,
        topic,
        wire: Wire::new(&dataset, settings.key),
        dataset,
        settings,
        events,
        producer: None,
        txns: None,
        marks,
        run: 0,
        run_started: Instant::now(),
        run_began: SystemTime::now(),
        pacer: Pacer::new(None),
        n: 0,
        window: Window::new(WINDOW_TICKS),
        meter: RunMeter::new(warmup),
        warmup,
        started: Instant::now(),
        state: ProducerState::Stopped,
        run_ended: None,
        last_ended: None,
        last_tick: Instant::now(),
        would: None,
        next_sample: 0,
        totals: RunTotals::default(),
        next_interval: None,
    };
    let thread = std::thread::Builder::new()
        .name("producer".to_string())
        .spawn(move || {
            assert!(
                !crate::runtime::failpoint("producer-panic"),
                "failpoint producer-panic"
            );
            if running {
                task.start();
            }
            task.run(&rx)
        })
        .expect("spawn the producer thread");
    ProducerHandle {
        commands,
        thread: Some(thread),
    }
}

struct Task {
    layers: Layers,
    topic: String,
    dataset: Arc<Dataset>,
    /// The dataset's records ready to send, with keys as the settings say (made again when a
    /// start finds the key field changed).
    wire: Wire,
    settings: ProducerSettings,
    events: Sender<KafkaEvent>,
    producer: Option<LabProducer>,
    /// The run's transactions, when the settings ask for them.
    txns: Option<Transactions>,
    marks: AbortedMarks,
    run: u32,
    run_started: Instant,
    /// The same moment on the wall clock, for the report.
    run_began: SystemTime,
    pacer: Pacer,
    /// Records sent in this run.
    n: u64,
    window: Window,
    meter: RunMeter,
    /// The first seconds of each run left out of its figures (shorter in a faster scenario).
    warmup: Duration,
    started: Instant,
    state: ProducerState,
    run_ended: Option<String>,
    /// How the latest run ended, kept for the shutdown report.
    last_ended: Option<String>,
    last_tick: Instant,
    /// Keys sent this session by where each key hash would send them (kept while the topic's
    /// partition count stays the same).
    would: Option<WouldGo>,
    /// The next record of this run whose key `would` counts.
    next_sample: u64,
    /// The run's totals at the last tick, copied into the same memory every tick.
    totals: RunTotals,
    /// An empty interval for the producer to fill from the next tick on (the window's
    /// oldest, recycled: see [`Window::push`]).
    next_interval: Option<Interval>,
}

impl Task {
    fn client_settings(&self) -> Result<ClientSettings, String> {
        let mut layers = self.layers.clone();
        for (key, value) in self.settings.properties() {
            layers.set_live(&key, value, "settings panel");
        }
        layers.resolve(Role::Producer).map_err(|e| e.to_string())
    }

    fn start(&mut self) {
        let txn = self.settings.txn_plan();
        let created = self.client_settings().and_then(|s| {
            // One transactional.id per session and topic (unless one was given): each run
            // takes it over in turn. Without transactions, a given one is not used.
            let s = match txn {
                Some(_) => with_transactional_id(
                    &s,
                    format!("kafka-lab-{}-{}", std::process::id(), self.topic),
                    "the transactions setting",
                ),
                None => without_transactional_id(&s),
            };
            let mut p = LabProducer::new(&s, &self.topic, Reports::Latest(LATEST))
                .map_err(|e| e.to_string())?;
            if txn.is_some() {
                p.share_aborted(self.marks.clone());
            }
            self.txns = match txn {
                Some(plan) => Some(Transactions::start_named(&p, &s, plan).map_err(|e| {
                    format!("the cluster did not take a transactional producer: {e}")
                })?),
                None => None,
            };
            Ok(p)
        });
        match created {
            Ok(p) => {
                if let Some(n) = p.partition_count() {
                    if self.would.as_ref().is_none_or(|w| w.partitions != n) {
                        self.would = Some(WouldGo::new(n));
                    }
                }
                if self.wire.key_field() != self.settings.key {
                    self.wire = Wire::new(&self.dataset, self.settings.key);
                }
                self.producer = Some(p);
                self.run += 1;
                self.run_started = Instant::now();
                self.run_began = SystemTime::now();
                self.pacer = Pacer::new(self.settings.rate);
                self.n = 0;
                self.next_sample = 0;
                self.window.clear();
                self.meter = RunMeter::new(self.warmup);
                self.state = ProducerState::Running;
            }
            Err(e) => self.state = ProducerState::Error(e),
        }
    }

    /// Flushes (bounded), closes, and notes how it went: every report that arrived counts;
    /// what is left is purged and counted undelivered.
    fn finish(&mut self) {
        self.end_run(true);
    }

    /// Ends the run; `read_back` starts its read-back (not worth it when the dashboard quits).
    fn end_run(&mut self, read_back: bool) {
        if let Some(p) = self.producer.take() {
            if let Some(Err(e)) = self.txns.as_mut().map(|t| t.end(&p)) {
                self.state = ProducerState::Error(format!("cannot end the transaction: {e}"));
            }
            p.flush(FLUSH_TIMEOUT);
            let live = p.take_live(self.next_interval.take().unwrap_or_default());
            let error = p.take_error();
            let run_tag = p.run_tag().to_string();
            let closed = p.close(Duration::ZERO, &|| false);
            let t = &closed.totals;
            let ended = format!(
                "run {} ended: {} sent, {} delivered, {} failed, {} undelivered",
                self.run, t.sent, t.delivered, t.failed, t.undelivered
            );
            self.last_ended = Some(ended.clone());
            self.run_ended = Some(ended);
            // The final counts go out before the run is gone.
            self.totals.copy_from(&closed.totals);
            // The run's final counts must reach the screen: this one waits for room.
            let last = self.snapshot_with(Some(Figures {
                live,
                batches: closed.batches.clone(),
                error,
            }));
            let _ = self
                .events
                .blocking_send(KafkaEvent::Producer(Box::new(last)));
            let report = self.report(&closed.totals, &closed.batches);
            let _ = self
                .events
                .blocking_send(KafkaEvent::RunEnded(Box::new(report)));
            if read_back && closed.totals.delivered > 0 {
                self.verify(run_tag, closed.ledger);
            }
        }
        self.txns = None;
        self.window.clear();
    }

    fn report(&self, totals: &RunTotals, batches: &BatchStats) -> RunReport {
        RunReport::measured(
            self.run,
            totals,
            &self.meter,
            self.settings.report_settings(),
        )
        .on(&self.topic, self.run_began)
        .with_batches(batches)
        .with_transactions(self.txns.as_ref().map(Transactions::figures))
    }

    /// Reads the run back in the background and reports what arrived.
    fn verify(&self, tag: String, ledger: Ledger) {
        let run = self.run;
        let consumer = self.layers.resolve(Role::Consumer);
        let (topic, events) = (self.topic.clone(), self.events.clone());
        std::thread::spawn(move || {
            let result = consumer.map_err(|e| e.to_string()).and_then(|settings| {
                let timeout = verify::timeout_for(ledger.acknowledged_total());
                verify::read_back(&settings, &topic, &tag, &ledger, timeout)
            });
            let _ = events.blocking_send(KafkaEvent::RunVerified { run, result });
        });
    }

    /// Serves commands until shutdown; returns how the last run ended.
    fn run(mut self, commands: &Receiver<ProducerCommand>) -> Option<String> {
        loop {
            let command = if self.state == ProducerState::Running {
                commands.try_recv().map_err(|e| match e {
                    mpsc::TryRecvError::Empty => RecvTimeoutError::Timeout,
                    mpsc::TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
                })
            } else {
                commands.recv_timeout(TICK)
            };
            match command {
                Ok(ProducerCommand::Start) if self.producer.is_none() => self.start(),
                Ok(ProducerCommand::Stop) => {
                    self.finish();
                    self.state = ProducerState::Stopped;
                }
                Ok(ProducerCommand::SwitchTopic(topic)) => {
                    let was_running = self.producer.is_some();
                    self.finish();
                    self.topic = topic;
                    self.would = None;
                    if was_running {
                        self.start();
                    }
                }
                Ok(ProducerCommand::SwitchData(dataset)) => {
                    let was_running = self.producer.is_some();
                    self.finish();
                    self.wire = Wire::new(&dataset, self.settings.key);
                    self.dataset = dataset;
                    if was_running {
                        self.start();
                    }
                }
                Ok(ProducerCommand::Set(settings)) if self.producer.is_none() => {
                    self.settings = settings;
                    self.snapshot();
                }
                Ok(ProducerCommand::Apply(settings) | ProducerCommand::Set(settings)) => {
                    self.state = ProducerState::Restarting;
                    self.snapshot();
                    self.finish();
                    self.settings = settings;
                    self.start();
                }
                Ok(ProducerCommand::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                    self.end_run(false);
                    self.state = ProducerState::Stopped;
                    return self.run_ended.take().or(self.last_ended.take());
                }
                Ok(ProducerCommand::Start) | Err(RecvTimeoutError::Timeout) => {}
            }
            if self.last_tick.elapsed() >= TICK {
                self.snapshot();
            }
            if self.state == ProducerState::Running {
                self.send_due();
            }
        }
    }

    /// Sends what the pacer says is due, returning in time for the next tick; waits serve
    /// delivery reports.
    fn send_due(&mut self) {
        let Some(producer) = &self.producer else {
            return;
        };
        let tick_at = self.last_tick + TICK;
        // Three hashes per record cost a full-speed producer about a tenth of its rate: then
        // one key in a few dozen is placed. The data loops, so the step must share no factor
        // with its length, or the same few records would be the only ones counted.
        let every = if self.settings.rate.is_some() {
            1
        } else {
            let len = self.wire.len() as u64;
            WOULD_SAMPLE
                .iter()
                .copied()
                .find(|s| len % s != 0)
                .unwrap_or(1)
        };
        // A run without keys counts nothing and keeps the session's counts as they are.
        let keyed = self.wire.key_field() != KeyField::None;
        if let (Some(would), true) = (&mut self.would, keyed) {
            if would.sampled_one_in != every {
                // One sampling per count: shares of every key and of a sample do not mix.
                *would = WouldGo::new(would.partitions);
                would.sampled_one_in = every;
                self.next_sample = self.n.next_multiple_of(every);
            }
        }
        // The clock is looked at every few records: at full speed a read per record costs.
        while self.n % 16 != 0 || Instant::now() < tick_at {
            let wait = self.pacer.wait_before(self.n);
            if !wait.is_zero() {
                if let Some(Err(e)) = self.txns.as_mut().map(|t| t.end_if_due(producer)) {
                    self.state = ProducerState::Error(format!("cannot end the transaction: {e}"));
                    return;
                }
                let left = tick_at.saturating_duration_since(Instant::now());
                producer.serve(wait.min(left).min(Duration::from_millis(20)));
                return;
            }
            let (key, value) = self.wire.get(self.n);
            let due = self.pacer.due(self.n);
            // Counted records are every `every`-th, found by comparing rather than dividing.
            if self.n == self.next_sample {
                self.next_sample += every;
                if let (Some(would), Some(key)) = (&mut self.would, key) {
                    would.add(key);
                }
            }
            let sent = match self.txns.as_mut() {
                Some(t) => t
                    .before_send(producer, self.n)
                    .and_then(|()| producer.send_due(self.n, key, value, due))
                    .and_then(|()| t.after_send(producer)),
                None => producer.send_due(self.n, key, value, due),
            };
            if let Err(e) = sent {
                self.state = ProducerState::Error(e.to_string());
                return;
            }
            self.n += 1;
            // Let commands in now and then at full speed (and end a transaction open too
            // long, which a paced wait does otherwise).
            if self.n % 256 == 0 {
                if let Some(Err(e)) = self.txns.as_mut().map(|t| t.end_if_due(producer)) {
                    self.state = ProducerState::Error(format!("cannot end the transaction: {e}"));
                }
                return;
            }
        }
    }
}
