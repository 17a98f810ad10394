//! `kafka-lab worker`: waits on the cluster's control topic for jobs signed with its token,
//! runs one at a time (its share of a `bench --workers` run), and reports its figures there.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::ValueEnum;

use crate::cli::{Connection, SourceArgs, WorkerArgs};
use crate::config::{ClientSettings, Layers, Role};
use crate::data::source::{KeyField, DEFAULT_API_URL};
use crate::kafka::control::{
    self, job_property_refused, now_ms, Channel, Heard, Heartbeat, Job, JobResult, Message,
    Progress, Share, WorkerFigures,
};
use crate::kafka::producer::ProducerWatch;
use crate::runtime::StopFlag;
use crate::target::Target;

mod job;
use job::{run_job, JobContext};

/// A coordinator silent this long during a job is taken for gone: the job stops.
const COORDINATOR_SILENCE: Duration = Duration::from_secs(15);
/// The furthest ahead a job may start: a job starting later is a replay or a wrong clock.
const START_WITHIN_MS: u64 = 120_000;
/// How late a job may come, after its start: later, it is a replay.
const LATE_MS: u64 = 10_000;

/// The secret, checked: present and long enough.
fn token(args: &crate::cli::ControlArgs) -> Result<String> {
    match args.token.as_deref().map(str::trim) {
        None | Some("") => bail!(
            "a worker needs the token its jobs are signed with: give --token SECRET or set \
             KAFKA_LAB_TOKEN, the same on every worker and on the coordinator"
        ),
        Some(t) if t.chars().count() < control::MIN_TOKEN => bail!(
            "the token is too short: use at least {} characters (it is what keeps others from \
             running jobs on your workers)",
            control::MIN_TOKEN
        ),
        Some(t) => Ok(t.to_string()),
    }
}

pub async fn worker(c: &Connection, args: &WorkerArgs) -> Result<ExitCode> {
    let token = token(&args.control)?;
    if args.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        bail!("--name is empty: give the worker a name, or leave --name out for HOST-PID");
    }
    let layers = Target::layers(c)?;
    if layers.user_bootstrap(Role::Producer).is_none() {
        bail!(
            "a worker meets its coordinator on the cluster under test: give -b HOST:PORT or \
             --config FILE (on one machine, `kafka-lab cluster` serves the embedded cluster)"
        );
    }
    if c.print_config {
        let target = Target::with_layers(c, layers, Role::Producer)?;
        return crate::runtime::print_config(&target, &[Role::Producer, Role::Consumer]);
    }
    let producer = layers.resolve(Role::Producer)?;
    let consumer = layers.resolve(Role::Consumer)?;
    control::ensure_topic(&producer, &args.control.control_topic)
        .await
        .map_err(anyhow::Error::msg)?;
    let source = SourceArgs {
        source: args.source.clone(),
        refresh: false,
        api_url: DEFAULT_API_URL.to_string(),
        key: KeyField::Id,
    };
    let dataset = Arc::new(crate::runtime::load_dataset(&source).await?);
    let host = crate::runtime::host_name();
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("{host}-{}", std::process::id()));
    let channel = Channel::open(&producer, &consumer, &args.control.control_topic, &token)
        .map_err(|e| anyhow::anyhow!("cannot open the control topic: {e}"))?;
    let stop = StopFlag::on_signals();
    let me = Worker {
        name,
        host,
        nonce: nonce(),
        layers,
        consumer,
        dataset,
        channel,
    };
    tokio::task::spawn_blocking(move || me.serve(&stop)).await?
}

/// A random number, new in each process.
fn nonce() -> u64 {
    use std::io::Read as _;
    let mut bytes = [0u8; 8];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    match random {
        Ok(()) => u64::from_le_bytes(bytes),
        // The time and the pid will do where there is no /dev/urandom.
        Err(_) => now_ms().rotate_left(20) ^ u64::from(std::process::id()),
    }
}

struct Worker {
    name: String,
    host: String,
    nonce: u64,
    layers: Layers,
    consumer: ClientSettings,
    dataset: Arc<crate::data::source::Dataset>,
    channel: Channel,
}

/// The job being run: its thread's handles.
struct Running {
    job: Job,
    cancel: Arc<AtomicBool>,
    watch: Arc<std::sync::Mutex<Option<ProducerWatch>>>,
    done: mpsc::Receiver<WorkerFigures>,
    coordinator_seen: Instant,
    last: Progress,
}

impl Worker {
    fn serve(self, stop: &StopFlag) -> Result<ExitCode> {
        crate::errln!(
            "worker {}: waiting for jobs on the control topic (Ctrl-C stops)",
            self.name
        );
        let mut running: Option<Running> = None;
        let mut seen = BTreeSet::new();
        let mut next_beat = Instant::now();
        loop {
            if stop.raised() {
                if let Some(r) = running
                    .as_ref()
                    .filter(|r| !r.cancel.swap(true, Ordering::SeqCst))
                {
                    crate::errln!("stopping: ending job {} first", r.job.id);
                }
            }
            if stop.urgent() {
                // A second Ctrl-C: the job's thread is left to the process's end.
                self.say(&Message::Gone {
                    worker: self.name.clone(),
                });
                crate::errln!("worker {} stopped at once", self.name);
                return Ok(crate::runtime::exit_code(stop, ExitCode::FAILURE));
            }
            if Instant::now() >= next_beat {
                next_beat = Instant::now() + control::HEARTBEAT;
                self.beat(running.as_mut());
            }
            if let Some(r) = &mut running {
                let ended = match r.done.try_recv() {
                    Ok(figures) => Some(figures),
                    Err(mpsc::TryRecvError::Empty) => None,
                    // The job's thread ended without a word: it panicked.
                    Err(mpsc::TryRecvError::Disconnected) => Some(WorkerFigures {
                        host: self.host.clone(),
                        stopped: Some("the job failed inside this worker (see its log)".into()),
                        ..WorkerFigures::default()
                    }),
                };
                if let Some(figures) = ended {
                    self.finished(&r.job, figures);
                    running = None;
                } else if r.coordinator_seen.elapsed() > COORDINATOR_SILENCE
                    && !r.cancel.swap(true, Ordering::SeqCst)
                {
                    crate::errln!(
                        "job {}: its coordinator has been silent for {} s; stopping it",
                        r.job.id,
                        COORDINATOR_SILENCE.as_secs()
                    );
                }
            }
            if stop.raised() && running.is_none() {
                self.say(&Message::Gone {
                    worker: self.name.clone(),
                });
                crate::errln!("worker {} stopped", self.name);
                return Ok(crate::runtime::exit_code(stop, ExitCode::SUCCESS));
            }
            let Some(message) = self.channel.next(Duration::from_millis(100)) else {
                continue;
            };
            self.answer(message, &mut running, &mut seen, stop);
        }
    }

    fn answer(
        &self,
        heard: Heard,
        running: &mut Option<Running>,
        seen: &mut BTreeSet<String>,
        stop: &StopFlag,
    ) {
        let message = match heard {
            Heard::Sealed(m) => m,
            Heard::Unsealed(Some(Message::Job(job)))
                if job.shares.iter().any(|s| s.worker == self.name) =>
            {
                crate::errln!(
                    "ignored a job from {} that is not sealed with this worker's token (a wrong \
                     --token there, or someone else's job)",
                    job.coordinator
                );
                return;
            }
            Heard::Unsealed(_) => return,
        };
        match message {
            Message::Job(job) => {
                let Some(share) = job.shares.iter().find(|s| s.worker == self.name).cloned() else {
                    return;
                };
                // The same job written twice (a retry): the first is the one that counts.
                if running.as_ref().is_some_and(|r| r.job.id == job.id) {
                    return;
                }
                if share.nonce != self.nonce || !seen.insert(job.id.clone()) {
                    return self.refuse(
                        &job,
                        "it was sent to an earlier worker by this name, or already received (a \
                         replay)",
                    );
                }
                if let Some(r) = running.as_ref() {
                    let reason = format!("busy with job {} of {}", r.job.id, r.job.coordinator);
                    return self.refuse(&job, &reason);
                }
                if stop.raised() {
                    return self.refuse(&job, "stopping");
                }
                if let Some(reason) = Self::unacceptable(&job) {
                    return self.refuse(&job, &reason);
                }
                *running = Some(self.start(*job, share));
            }
            Message::Cancel { job } => {
                if let Some(r) = running.as_ref().filter(|r| r.job.id == job) {
                    crate::errln!("job {}: cancelled by its coordinator", r.job.id);
                    r.cancel.store(true, Ordering::SeqCst);
                }
            }
            Message::Coordinator { job, .. } => {
                if let Some(r) = running.as_mut().filter(|r| r.job.id == job) {
                    r.coordinator_seen = Instant::now();
                }
            }
            _ => {}
        }
    }

    /// Writes a message that must arrive, saying so when it does not.
    fn say(&self, message: &Message) {
        if let Err(e) = self.channel.send(&self.name, message, true) {
            crate::errln!("warning: a message to the control topic was not written: {e}");
        }
    }

    /// Why this worker will not run `job`, if it will not.
    fn unacceptable(job: &Job) -> Option<String> {
        if let Some(why) = job.properties.keys().find_map(|k| job_property_refused(k)) {
            return Some(why);
        }
        let now = now_ms();
        if job.start_at_ms.saturating_add(LATE_MS) < now || job.deadline_ms <= now {
            return Some(format!(
                "its start time passed {} s ago by this worker's clock (a replay, or clocks \
                 apart)",
                now.saturating_sub(job.start_at_ms) / 1000
            ));
        }
        if job.start_at_ms > now.saturating_add(START_WITHIN_MS) {
            return Some(format!(
                "it starts {} s from now by this worker's clock: are the clocks apart?",
                (job.start_at_ms - now) / 1000
            ));
        }
        if KeyField::from_str(&job.key, true).is_err() {
            return Some(format!("unknown key field `{}`", job.key));
        }
        None
    }

    fn refuse(&self, job: &Job, reason: &str) {
        crate::errln!("refused job {} of {}: {reason}", job.id, job.coordinator);
        self.say(&Message::Refused {
            worker: self.name.clone(),
            job: job.id.clone(),
            reason: reason.to_string(),
        });
    }

    fn start(&self, job: Job, share: Share) -> Running {
        crate::errln!(
            "job {} of {}: {} records at {} to `{}`, starting in {:.1} s",
            job.id,
            job.coordinator,
            share.messages,
            share
                .rate
                .map_or_else(|| "full speed".to_string(), |r| format!("{r:.1} records/s")),
            job.topic,
            job.start_at_ms.saturating_sub(now_ms()) as f64 / 1000.0
        );
        self.say(&Message::Accepted {
            worker: self.name.clone(),
            job: job.id.clone(),
        });
        let cancel = Arc::new(AtomicBool::new(false));
        let watch = Arc::new(std::sync::Mutex::new(None));
        let (tx, done) = mpsc::channel();
        let mut layers = self.layers.clone();
        layers.builtin(
            "client.id",
            format!("kafka-lab-worker-{}", self.name),
            "worker",
        );
        // The job's tuning wins over the worker's own -X: the coordinator names the experiment.
        for (k, v) in &job.properties {
            layers.overrides.push(crate::config::Setting {
                key: k.clone(),
                value: v.clone(),
                origin: crate::config::Origin::Flag(format!("job {}", job.id)),
            });
        }
        let context = JobContext {
            layers,
            consumer: self.consumer.clone(),
            dataset: self.dataset.clone(),
            host: self.host.clone(),
            cancel: cancel.clone(),
            watch: watch.clone(),
        };
        let (j, s) = (job.clone(), share);
        std::thread::spawn(move || {
            let figures = run_job(&context, &j, &s).unwrap_or_else(|e| WorkerFigures {
                host: context.host.clone(),
                stopped: Some(format!("{e:#}")),
                ..WorkerFigures::default()
            });
            let _ = tx.send(figures);
        });
        Running {
            job,
            cancel,
            watch,
            done,
            coordinator_seen: Instant::now(),
            last: Progress::default(),
        }
    }

    /// A heartbeat, with the running job's progress.
    fn beat(&self, running: Option<&mut Running>) {
        let (job, progress) = match running {
            Some(r) => {
                let totals = r.watch.lock().unwrap().as_ref().map(ProducerWatch::totals);
                if let Some(t) = totals {
                    let elapsed = t.first_send.map_or(0.0, |f| f.elapsed().as_secs_f64());
                    let gap = (elapsed - r.last.elapsed_s).max(1e-3);
                    r.last = Progress {
                        sent: t.sent,
                        delivered: t.delivered,
                        failed: t.failed,
                        records_per_sec: t.delivered.saturating_sub(r.last.delivered) as f64 / gap,
                        p99_ms: t.latency.summary().p99,
                        elapsed_s: elapsed,
                    };
                }
                (Some(r.job.id.clone()), Some(r.last.clone()))
            }
            None => (None, None),
        };
        let beat = Heartbeat {
            worker: self.name.clone(),
            host: self.host.clone(),
            pid: std::process::id(),
            nonce: self.nonce,
            version: env!("CARGO_PKG_VERSION").to_string(),
            at_ms: now_ms(),
            job,
            progress,
        };
        if let Err(e) = self
            .channel
            .send(&self.name, &Message::Heartbeat(beat), false)
        {
            crate::errln!("warning: a heartbeat was not written: {e}");
        }
    }

    fn finished(&self, job: &Job, figures: WorkerFigures) {
        match &figures.stopped {
            Some(why) => crate::errln!("job {} stopped: {why}", job.id),
            None => crate::errln!(
                "job {} done: {} delivered, {} failed{}",
                job.id,
                figures.delivered,
                figures.failed,
                figures
                    .accounting
                    .as_ref()
                    .map(|a| format!("; {}", a.line()))
                    .unwrap_or_default()
            ),
        }
        let message = Message::Result(Box::new(JobResult {
            worker: self.name.clone(),
            job: job.id.clone(),
            figures,
        }));
        if let Err(e) = self.channel.send(&self.name, &message, true) {
            crate::errln!("warning: the result of job {} was not written: {e}", job.id);
        }
    }
}
