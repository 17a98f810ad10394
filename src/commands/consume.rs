//! `kafka-lab consume`: read records, one line per record with its metadata.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::BorrowedMessage;
use rdkafka::Message;

use crate::cli::{Connection, ConsumeArgs, Output};
use crate::config::Role;
use crate::data::sink::{RecordJson, Sink};
use crate::kafka::consumer::{timestamp, GroupEvent, LabConsumer, FAST_FETCH};
use crate::kafka::embedded::{MOCK_FETCH_SETTINGS, MOCK_GROUP_SETTINGS};
use crate::progress::Progress;
use crate::runtime::{self, StopFlag};
use crate::target::Target;
use crate::text::{logfmt, timestamp_display, write_logfmt_bytes, write_printable_cut};

pub async fn consume(c: &Connection, args: &ConsumeArgs) -> Result<ExitCode> {
    let mut target = Target::connect(c, Role::Consumer)?;
    let random_group = format!("kafka-lab-consume-{:08x}", rand_u32());
    target
        .layers
        .builtin("group.id", random_group, "built-in default");
    target
        .layers
        .builtin("client.id", "kafka-lab-consume", "built-in default");
    target.layers.builtin(
        FAST_FETCH.0,
        FAST_FETCH.1,
        "built-in default (librdkafka's 1 s pauses a fast consumer)",
    );
    if let Some(g) = &args.group {
        target.layers.flag("group.id", g, "-g");
    }
    if args.from_beginning {
        target
            .layers
            .flag("auto.offset.reset", "earliest", "--from-beginning");
    }
    if c.print_config {
        return runtime::print_config(&target, &[Role::Consumer]);
    }
    let mut settings = target.settings(Role::Consumer)?;
    // Before connecting: a sink that cannot be written must not wait for the cluster.
    let sink = open_sink(args)?;
    if let Some(said) = crate::runtime::out::library_log(&settings, None) {
        crate::errln!("{said}");
    }
    if target.ensure_topic(&settings).await?.is_mock {
        for (key, value) in MOCK_GROUP_SETTINGS.into_iter().chain(MOCK_FETCH_SETTINGS) {
            target.layers.builtin(key, value, "embedded cluster");
        }
        // Its warnings were printed above.
        settings = target.layers.resolve(Role::Consumer)?;
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
                    crate::errln!("group {event_group}: assigned partitions {p:?}");
                }
                GroupEvent::Revoked(p) => {
                    crate::errln!("group {event_group}: revoked partitions {p:?}");
                }
                GroupEvent::Error(e) | GroupEvent::Kicked(e) => crate::errln!("warning: {e}"),
            }
        }
    });
    let urgent = stop.clone();
    let reader = Reader {
        topic: target.topic.clone(),
        group: group.clone(),
        session_timeout: settings.get("session.timeout.ms").map_or_else(
            || "45000 (librdkafka's default)".to_string(),
            str::to_string,
        ),
        count: args.count,
        output: args.output,
        stop,
        sink,
        assigned_once: false,
    };
    let (consumer, read) = tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let read = reader.run(&consumer);
        (consumer, read.map(|n| (n, reader.assigned_once)))
    })
    .await?;
    let (n, assigned_once) = read?;

    let code = leave(consumer, n, assigned_once, &group, &urgent).await?;
    Ok(crate::runtime::exit_code(&urgent, code))
}

/// The sink of `--sink`, saying what reopening it found.
fn open_sink(args: &ConsumeArgs) -> Result<Option<Sink>> {
    let Some(path) = &args.sink else {
        return Ok(None);
    };
    let sink =
        Sink::open(path).with_context(|| format!("cannot open the sink {}", path.display()))?;
    if let Some(said) = sink.opened.said(path) {
        crate::errln!("{said}");
    }
    Ok(Some(sink))
}

/// Commits and leaves the group after `n` records (bounded; a second signal ends it at once).
async fn leave(
    consumer: LabConsumer,
    n: u64,
    assigned_once: bool,
    group: &str,
    urgent: &StopFlag,
) -> Result<ExitCode> {
    // Closing commits and leaves the group; with the cluster gone it could wait long.
    let closing = tokio::task::spawn_blocking(move || consumer.close());
    let closed = tokio::select! {
        closed = tokio::time::timeout(CLOSE_TIMEOUT, closing) => closed,
        () = urgent.urgent_async() => {
            crate::errln!(
                "consumed {n} records; stopped at once by a second signal: offsets not committed, \
                 the group not left (this member's partitions wait out its session timeout)"
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let why = match closed {
        Ok(Ok(Ok(()))) => {
            crate::errln!("consumed {n} records; committed and left group {group}");
            return Ok(ExitCode::SUCCESS);
        }
        Ok(Ok(Err(e))) => e.to_string(),
        Ok(Err(e)) => e.to_string(),
        // Blame the right party: a group still rebalancing holds a leave back too.
        Err(_) if !assigned_once => format!(
            "leaving was not confirmed within {} s: the group never assigned this member a \
             partition (it is rebalancing, waiting for members to rejoin or time out)",
            CLOSE_TIMEOUT.as_secs()
        ),
        Err(_) => format!(
            "the cluster did not answer within {} s",
            CLOSE_TIMEOUT.as_secs()
        ),
    };
    crate::errln!(
        "warning: consumed {n} records, but could not commit them and leave group {group}: {why}.\n  \
         The next start of this group resumes from its last committed offsets, so some of these \
         records will be read again."
    );
    Ok(ExitCode::FAILURE)
}

/// How long leaving the group may take before `consume` gives up on it.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Output is written in bursts, at least this often (milliseconds).
const FLUSH_EVERY_MS: u64 = 100;

/// A monotonic clock in milliseconds, read cheaply enough for every record (the coarse clock:
/// a few milliseconds of resolution are plenty to pace flushes).
fn coarse_ms() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer for a clock that always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &raw mut t) };
    t.tv_sec as u64 * 1000 + t.tv_nsec as u64 / 1_000_000
}

/// Reads records and writes them out; offsets are stored only once their lines are out.
struct Reader {
    topic: String,
    group: String,
    /// The member's session timeout, for what a wait to join is waiting for.
    session_timeout: String,
    count: Option<u64>,
    output: Output,
    stop: StopFlag,
    sink: Option<Sink>,
    /// The group assigned this member partitions at some point.
    assigned_once: bool,
}

/// A wait without records is explained this often.
const SAY_WAIT_EVERY: Duration = Duration::from_secs(5);

impl Reader {
    /// Reads until the count, a signal, or a closed output; returns how many records were
    /// written.
    fn run(&mut self, consumer: &LabConsumer) -> Result<u64> {
        let stdout = std::io::stdout();
        let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
        let topic_field = logfmt(&self.topic);
        // The highest offset written per partition since the last flush.
        let mut pending: Vec<(i32, i64)> = Vec::new();
        let mut next_flush = coarse_ms() + FLUSH_EVERY_MS;
        let mut line: Vec<u8> = Vec::with_capacity(1024);
        let mut n = 0u64;
        // Since the last record, and since the wait was last explained.
        let mut waited = std::time::Instant::now();
        let mut quiet_since = waited;
        let mut progress = self
            .count
            .map(|c| Progress::new("consume", c, "records", true));
        while self.count.is_none_or(|c| n < c) && !self.stop.raised() {
            if let Some(p) = progress.as_mut().filter(|_| n % 256 == 0) {
                p.set(n, |_| String::new());
            }
            let Some(received) = consumer.poll(Duration::from_millis(100)) else {
                if !self.flush(&mut out, &mut pending, consumer)? {
                    return Ok(n);
                }
                next_flush = coarse_ms() + FLUSH_EVERY_MS;
                if quiet_since.elapsed() >= SAY_WAIT_EVERY {
                    self.say_wait(consumer, waited.elapsed());
                    quiet_since = std::time::Instant::now();
                }
                continue;
            };
            quiet_since = std::time::Instant::now();
            waited = quiet_since;
            self.assigned_once = true;
            let m = match received {
                Ok(m) => m,
                // The client's own error (printed by the group's thread) says why.
                Err(KafkaError::MessageConsumption(
                    RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::AllBrokersDown,
                )) => continue,
                Err(e) => {
                    let _ = out.flush();
                    crate::errln!("warning: {e}");
                    continue;
                }
            };
            if let Some(s) = self.sink.as_mut() {
                s.write(&RecordJson::of_message(&m))
                    .with_context(|| format!("cannot write to {}", s.path().display()))?;
            }
            // A line is made in memory, then written at once: many small writes cost more.
            line.clear();
            match self.output {
                Output::Text => write_text(&mut line, &m, &topic_field)?,
                Output::Json => {
                    serde_json::to_writer(&mut line, &RecordJson::of_message(&m))?;
                    crate::text::json_safe(&mut line);
                    line.push(b'\n');
                }
            }
            let written = out.write_all(&line);
            if closed(written)? {
                return Ok(n);
            }
            match pending.iter_mut().find(|(p, _)| *p == m.partition()) {
                Some(entry) => entry.1 = m.offset(),
                None => pending.push((m.partition(), m.offset())),
            }
            n += 1;
            if coarse_ms() >= next_flush {
                if !self.flush(&mut out, &mut pending, consumer)? {
                    return Ok(n);
                }
                next_flush = coarse_ms() + FLUSH_EVERY_MS;
            }
        }
        self.flush(&mut out, &mut pending, consumer)?;
        if let Some(mut s) = self.sink.take() {
            s.flush()?;
            crate::errln!("{}", s.summary());
        }
        Ok(n)
    }

    /// Says what a wait without records waits for: to join the group, or new records.
    fn say_wait(&mut self, consumer: &LabConsumer, waited: Duration) {
        let assigned = consumer.assignment().unwrap_or_default();
        self.assigned_once |= !assigned.is_empty();
        let secs = waited.as_secs();
        if assigned.is_empty() {
            crate::errln!(
                "consume: waiting to join group {} ({secs} s): no partition assigned yet. The \
                 group is rebalancing; a member that stopped without leaving (a crash) keeps its \
                 partitions until its session times out (session.timeout.ms = {})",
                self.group,
                self.session_timeout
            );
        } else {
            crate::errln!(
                "consume: no record in {secs} s from partitions {assigned:?} of {}: they are at \
                 their end. Is a producer writing to it? (--from-beginning reads what is there)",
                self.topic
            );
        }
    }

    /// Writes out what is buffered, then marks those records handled. False when the reader
    /// went away.
    fn flush(
        &mut self,
        out: &mut impl Write,
        pending: &mut Vec<(i32, i64)>,
        consumer: &LabConsumer,
    ) -> Result<bool> {
        if closed(out.flush())? {
            return Ok(false);
        }
        for (partition, offset) in pending.drain(..) {
            consumer.done_at(&self.topic, partition, offset)?;
        }
        if let Some(s) = self.sink.as_mut() {
            s.flush_if_due()?;
        }
        Ok(true)
    }
}

/// True when the output was closed (`| head`): the run stops, still committing what was
/// printed.
fn closed(written: std::io::Result<()>) -> Result<bool> {
    match written {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// `topic=.. partition=.. offset=.. timestamp=.. key=.. value=..` (the value cut to 120
/// characters), written without copying the record.
fn write_text(
    out: &mut impl Write,
    m: &BorrowedMessage<'_>,
    topic_field: &str,
) -> std::io::Result<()> {
    write!(
        out,
        "topic={topic_field} partition={} offset={} timestamp=",
        m.partition(),
        m.offset()
    )?;
    match timestamp(m).0 {
        Some(ms) => write!(out, "{}", timestamp_display(ms))?,
        None => out.write_all(b"-")?,
    }
    out.write_all(b" key=")?;
    match m.key() {
        Some(k) => write_logfmt_bytes(out, k)?,
        None => out.write_all(b"-")?,
    }
    out.write_all(b" value=")?;
    match m.payload() {
        Some(v) => write_printable_cut(out, v, 120)?,
        None => out.write_all(b"-")?,
    }
    out.write_all(b"\n")
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
