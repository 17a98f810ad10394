//! `kafka-lab consume`: read records, one line per record with its metadata.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::cli::{Connection, ConsumeArgs, Output};
use crate::config::Role;
use crate::data::sink::{record_line, Sink};
use crate::kafka::consumer::{ConsumedRecord, GroupEvent, LabConsumer};
use crate::kafka::embedded::{MOCK_FETCH_SETTINGS, MOCK_GROUP_SETTINGS};
use crate::runtime::{self, StopFlag};
use crate::target::Target;
use crate::text::{format_timestamp, logfmt, printable, shorten};

fn record_text(r: &ConsumedRecord) -> String {
    let ts = r
        .timestamp_ms
        .map_or_else(|| "-".to_string(), format_timestamp);
    let key = r
        .key
        .as_deref()
        .map_or_else(|| "-".to_string(), |k| logfmt(&printable(k)));
    let value = r
        .value
        .as_deref()
        .map_or_else(|| "-".to_string(), |v| shorten(&printable(v), 120));
    format!(
        "topic={} partition={} offset={} timestamp={ts} key={key} value={value}",
        logfmt(&r.topic),
        r.partition,
        r.offset
    )
}

pub async fn consume(c: &Connection, args: &ConsumeArgs) -> Result<ExitCode> {
    let mut target = Target::connect(c, Role::Consumer)?;
    let random_group = format!("kafka-lab-consume-{:08x}", rand_u32());
    target
        .layers
        .builtin("group.id", random_group, "built-in default");
    target
        .layers
        .builtin("client.id", "kafka-lab-consume", "built-in default");
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
    if target.ensure_topic(&settings).await?.is_mock {
        for (key, value) in MOCK_GROUP_SETTINGS.into_iter().chain(MOCK_FETCH_SETTINGS) {
            target.layers.builtin(key, value, "embedded cluster");
        }
        settings = target.settings(Role::Consumer)?;
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
                    eprintln!("group {event_group}: assigned partitions {p:?}");
                }
                GroupEvent::Revoked(p) => {
                    eprintln!("group {event_group}: revoked partitions {p:?}");
                }
                GroupEvent::Error(e) => eprintln!("warning: {e}"),
            }
        }
    });

    let mut sink = match &args.sink {
        Some(path) => Some(
            Sink::open(path).with_context(|| format!("cannot open the sink {}", path.display()))?,
        ),
        None => None,
    };
    let mut n = 0u64;
    let stdout = std::io::stdout();
    let mut idle = tokio::time::interval(Duration::from_millis(250));
    while args.count.is_none_or(|c| n < c) {
        let received = tokio::select! {
            r = consumer.recv() => r,
            _ = idle.tick() => {
                if let Some(s) = sink.as_mut() {
                    s.flush_if_due()?;
                }
                continue;
            }
            () = stop.raised_async() => break,
        };
        match received {
            Ok(record) => {
                if let Some(s) = sink.as_mut() {
                    s.write(&record_line(&record))
                        .with_context(|| format!("cannot write to {}", s.path().display()))?;
                }
                let line = match args.output {
                    Output::Text => record_text(&record),
                    Output::Json => record_line(&record).to_string(),
                };
                if let Err(e) = writeln!(stdout.lock(), "{line}") {
                    // The reader went away (`| head`): stop, but still commit what was printed.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        break;
                    }
                    return Err(e.into());
                }
                consumer.done(&record)?;
                n += 1;
            }
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    if let Some(mut s) = sink {
        s.flush()?;
        eprintln!("wrote {} records to {}", s.written, s.path().display());
    }
    consumer
        .close()
        .context("cannot commit the consumed offsets")?;
    eprintln!("consumed {n} records; committed and left group {group}");
    Ok(ExitCode::SUCCESS)
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
