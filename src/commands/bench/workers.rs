//! `bench --workers N`: the coordinator. It finds N idle `kafka-lab worker` processes on the
//! control topic, sends them one signed job (each one's share of the records and of the rate,
//! a common start), follows their heartbeats, and merges their results: rates summed, latency
//! histograms merged (never percentiles averaged), read-backs added up.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::ValueEnum;

use crate::cli::{BenchArgs, Connection};
use crate::config::Role;
use crate::kafka::control::{
    self, job_property_refused, now_ms, Channel, Heard, Job, JobResult, Message, Progress, Share,
};
use crate::runtime::StopFlag;

mod follow;
mod summary;
use follow::follow;
use summary::Outcome;

/// How far ahead of the job's message its start is: time for every worker to read and accept.
const LEAD: Duration = Duration::from_secs(4);

/// A worker as the coordinator follows it.
struct Seen {
    host: String,
    pid: u32,
    nonce: u64,
    /// Another process heard under the same name lately (host and pid).
    clash: Option<String>,
    at: Instant,
    job: Option<String>,
    progress: Option<Progress>,
}

pub async fn bench(c: &Connection, args: &BenchArgs, n: u32) -> Result<ExitCode> {
    refuse_unsupported(c, args)?;
    let token = token(args)?;
    let target = super::connect(c, args)?;
    let base = target.settings(Role::Producer)?;
    let consumer = target.layers.resolve(Role::Consumer)?;
    target.ensure_topic(&base).await?;
    let control_topic = args.control.control_topic.clone();
    control::ensure_topic(&base, &control_topic)
        .await
        .map_err(anyhow::Error::msg)?;
    let mut properties = BTreeMap::new();
    let mut kept_here = Vec::new();
    for s in &base.settings {
        if job_property_refused(&s.key).is_none() {
            properties.insert(s.key.clone(), s.value.clone());
        } else if s.origin.is_flag() && s.key != "bootstrap.servers" {
            kept_here.push(s.key.as_str());
        }
    }
    if !kept_here.is_empty() {
        crate::errln!(
            "not sent to the workers (a job carries producer tuning only; each worker uses its \
             own): {}",
            kept_here.join(", ")
        );
    }
    let channel = Channel::open(&base, &consumer, &control_topic, &token)
        .map_err(|e| anyhow::anyhow!("cannot open the control topic: {e}"))?;
    let stop = StopFlag::on_signals();
    let name = format!("{}-{}", crate::runtime::host_name(), std::process::id());
    let job_args = JobArgs {
        control_topic: control_topic.clone(),
        n,
        name,
        topic: target.topic.clone(),
        properties,
        timeout: Duration::from_secs(args.workers_timeout),
    };
    let args2 = args.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        coordinate(&channel, &job_args, &args2, &stop).map(|o| (o, stop))
    })
    .await??;
    let (outcome, stop) = outcome;
    let mut settings = crate::kafka::producer::LabProducer::effective_settings(&base);
    settings.retain(|k, _| job_property_refused(k).is_none());
    let code = summary::print(args, &outcome, &settings)?;
    Ok(crate::runtime::exit_code(&stop, code))
}

/// What the other bench options cannot do across workers yet, refused by name.
fn refuse_unsupported(c: &Connection, args: &BenchArgs) -> Result<()> {
    let refused = [
        (!args.sweep.is_empty(), "--sweep"),
        (args.transactional, "--transactional"),
        (args.csv.is_some(), "--csv"),
        (c.print_config, "--print-config"),
    ];
    if let Some((_, flag)) = refused.iter().find(|(on, _)| *on) {
        bail!("{flag} does not go with --workers: run it without workers");
    }
    if c.bootstrap_servers.is_none()
        && c.config.is_none()
        && !std::path::Path::new("config.ini").exists()
    {
        bail!(
            "--workers needs a cluster the workers reach too: give -b HOST:PORT or --config FILE \
             (on one machine, `kafka-lab cluster` serves the embedded cluster)"
        );
    }
    Ok(())
}

fn token(args: &BenchArgs) -> Result<String> {
    match args.control.token.as_deref().map(str::trim) {
        None | Some("") => bail!(
            "--workers needs the token the workers were given: --token SECRET or KAFKA_LAB_TOKEN"
        ),
        Some(t) if t.chars().count() < control::MIN_TOKEN => bail!(
            "the token is too short: use at least {} characters, the same as the workers'",
            control::MIN_TOKEN
        ),
        Some(t) => Ok(t.to_string()),
    }
}

struct JobArgs {
    control_topic: String,
    n: u32,
    name: String,
    topic: String,
    properties: BTreeMap<String, String>,
    timeout: Duration,
}

/// Finds the workers, runs the job, and gathers what each one reports.
fn coordinate(
    channel: &Channel,
    j: &JobArgs,
    args: &BenchArgs,
    stop: &StopFlag,
) -> Result<Outcome> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let workers = find_workers(channel, j, &mut seen, stop)?;
    let job = job_for(j, args, &workers, &seen);
    crate::errln!(
        "job {}: {} ({}), start in {} s",
        job.id,
        crate::text::count(workers.len() as u64, "worker", "workers"),
        workers.join(", "),
        LEAD.as_secs()
    );
    channel
        .send(&j.name, &Message::Job(Box::new(job.clone())), true)
        .map_err(|e| anyhow::anyhow!("cannot send the job: {e}"))?;
    let cancel = |why: &str| {
        let message = Message::Cancel {
            job: job.id.clone(),
        };
        if let Err(e) = channel.send(&j.name, &message, true) {
            crate::errln!("warning: the cancel was not written: {e}");
        }
        crate::errln!("job {}: cancelled ({why})", job.id);
    };
    let early = match await_acceptance(channel, &job, &workers, &mut seen) {
        Ok(early) => early,
        Err(e) => {
            cancel("not every worker took it");
            return Err(e);
        }
    };
    Ok(follow(channel, &job, &mut seen, early, stop, &cancel))
}

/// Waits until `n` idle workers have said they are alive.
fn find_workers(
    channel: &Channel,
    j: &JobArgs,
    seen: &mut BTreeMap<String, Seen>,
    stop: &StopFlag,
) -> Result<Vec<String>> {
    let began = Instant::now();
    let mut said = 0;
    // Workers heard whose heartbeats are sealed with another token.
    let mut strangers = std::collections::BTreeSet::new();
    loop {
        let idle: Vec<String> = seen
            .iter()
            .filter(|(_, s)| s.job.is_none() && s.at.elapsed() < control::SILENCE)
            .map(|(w, _)| w.clone())
            .collect();
        if idle.len() >= j.n as usize {
            let chosen: Vec<String> = idle.into_iter().take(j.n as usize).collect();
            if let Some((w, s)) = chosen
                .iter()
                .filter_map(|w| Some((w, seen.get(w)?)))
                .find(|(_, s)| s.clash.is_some())
            {
                bail!(
                    "two workers go by the name {w} ({} pid {}, and {}): give each its own --name",
                    s.host,
                    s.pid,
                    s.clash.as_deref().unwrap_or_default()
                );
            }
            return Ok(chosen);
        }
        if idle.len() != said {
            said = idle.len();
            crate::errln!("waiting for workers: {said} of {} here", j.n);
        }
        if stop.raised() {
            bail!(
                "stopped while waiting for workers ({} of {} here)",
                idle.len(),
                j.n
            );
        }
        if began.elapsed() >= j.timeout {
            let busy: Vec<String> = seen
                .iter()
                .filter(|(_, s)| s.job.is_some() && s.at.elapsed() < control::SILENCE)
                .map(|(w, s)| format!("{w} (running {})", s.job.as_deref().unwrap_or("")))
                .collect();
            let strangers: Vec<&str> = strangers.iter().map(String::as_str).collect();
            bail!(
                "only {} of {} workers came within {} s{}{}{}\n  Start more with `kafka-lab \
                 worker -b ... --token ...{}` against this cluster, or ask for fewer with \
                 --workers, or wait longer with --workers-timeout.",
                idle.len(),
                j.n,
                j.timeout.as_secs(),
                if idle.is_empty() {
                    String::new()
                } else {
                    format!(": {}", idle.join(", "))
                },
                if busy.is_empty() {
                    String::new()
                } else {
                    format!("; busy: {}", busy.join(", "))
                },
                if strangers.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; heard with another token: {} (give the same --token as theirs)",
                        strangers.join(", ")
                    )
                },
                if j.control_topic == control::CONTROL_TOPIC {
                    String::new()
                } else {
                    format!(" --control-topic {}", j.control_topic)
                },
            );
        }
        match channel.next(Duration::from_millis(200)) {
            Some(Heard::Sealed(m)) => note(seen, m),
            Some(Heard::Unsealed(Some(Message::Heartbeat(h)))) => {
                strangers.insert(h.worker);
            }
            _ => {}
        }
    }
}

/// Keeps what a heartbeat or a goodbye says of its worker.
fn note(seen: &mut BTreeMap<String, Seen>, m: Message) {
    match m {
        Message::Heartbeat(h) => {
            let clash = seen.get(&h.worker).and_then(|s| {
                let other =
                    (s.host != h.host || s.pid != h.pid) && s.at.elapsed() < control::SILENCE;
                other
                    .then(|| format!("{} pid {}", s.host, s.pid))
                    .or_else(|| s.clash.clone())
            });
            seen.insert(
                h.worker,
                Seen {
                    host: h.host,
                    pid: h.pid,
                    nonce: h.nonce,
                    clash,
                    at: Instant::now(),
                    job: h.job,
                    progress: h.progress,
                },
            );
        }
        Message::Gone { worker } => {
            seen.remove(&worker);
        }
        _ => {}
    }
}

/// The job: each worker's share of the records, of the rate and of the warm-up.
fn job_for(
    j: &JobArgs,
    args: &BenchArgs,
    workers: &[String],
    seen: &BTreeMap<String, Seen>,
) -> Job {
    let n = workers.len() as u64;
    let split = |total: u64, i: u64| total / n + u64::from(i < total % n);
    let warmup = args.warmup.records(args.messages);
    let rate = args.rate.per_second().map(|r| r / n as f64);
    let shares: Vec<Share> = workers
        .iter()
        .enumerate()
        .map(|(i, w)| Share {
            worker: w.clone(),
            nonce: seen.get(w).map_or(0, |s| s.nonce),
            messages: split(args.messages, i as u64),
            rate,
            warmup: split(warmup, i as u64),
        })
        .collect();
    let start_at_ms = now_ms() + u64::try_from(LEAD.as_millis()).unwrap_or(4000);
    // A paced run's deadline is twice its length and a minute; a run at full speed gets an
    // hour. Workers stop there whatever happens (a coordinator gone is noticed sooner).
    let length_ms = rate.map_or(3_600_000, |r| {
        ((shares[0].messages as f64 / r * 2000.0) as u64).saturating_add(60_000)
    });
    Job {
        // The coordinator's name holds its host and pid; the time tells its jobs apart.
        id: format!("{}-{:x}", j.name, now_ms()),
        coordinator: j.name.clone(),
        topic: j.topic.clone(),
        properties: j.properties.clone(),
        shares,
        record_size: args.record_size,
        key: args
            .source
            .key
            .to_possible_value()
            .map_or_else(|| "id".to_string(), |v| v.get_name().to_string()),
        start_at_ms,
        deadline_ms: start_at_ms.saturating_add(length_ms),
        verify: !args.no_verify,
    }
}

/// Waits until every worker has accepted the job; fails naming those that refused or kept
/// silent. Results that come meanwhile (a small share, a late start) are kept.
fn await_acceptance(
    channel: &Channel,
    job: &Job,
    workers: &[String],
    seen: &mut BTreeMap<String, Seen>,
) -> Result<Vec<JobResult>> {
    let until = Instant::now() + LEAD.saturating_sub(Duration::from_millis(500));
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    let mut early = Vec::new();
    while Instant::now() < until && accepted.len() + refused.len() < workers.len() {
        match channel.next_sealed(Duration::from_millis(100)) {
            Some(Message::Result(r)) if r.job == job.id => early.push(*r),
            Some(Message::Accepted { worker, job: id }) if id == job.id => accepted.push(worker),
            Some(Message::Refused {
                worker,
                job: id,
                reason,
            }) if id == job.id => {
                refused.push(format!("{worker}: {reason}"));
            }
            Some(m) => note(seen, m),
            None => {}
        }
    }
    if refused.is_empty() && accepted.len() == workers.len() {
        return Ok(early);
    }
    let silent: Vec<&String> = workers
        .iter()
        .filter(|w| !accepted.contains(w))
        .filter(|w| !refused.iter().any(|r| r.starts_with(&format!("{w}:"))))
        .collect();
    let mut why = Vec::new();
    if !refused.is_empty() {
        why.push(format!("refused by {}", refused.join("; ")));
    }
    if !silent.is_empty() {
        let names: Vec<&str> = silent.iter().map(|s| s.as_str()).collect();
        why.push(format!(
            "no answer from {} (is their --token the same as this one? a worker ignores a job \
             signed with another, and says so in its log)",
            names.join(", ")
        ));
    }
    bail!("job {} did not start: {}", job.id, why.join("; "))
}
