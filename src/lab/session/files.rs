//! What the session writes to files: the runs exported, a scenario's report, the sink.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::Outcome;
use crate::data::sink::{SharedSink, Sink};
use crate::stats::{ConsumerRunReport, RunReport};

/// A time for a file name, in UTC: `2026-11-25T22-05-03Z` (no colons, which some systems
/// refuse in names).
pub(super) fn file_stamp(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace(':', "-")
}

/// Writes the runs to `kafka-lab-runs-<UTC time>.csv` and `.json` in the current folder, and
/// the consumer runs (when there are any) to `kafka-lab-consumer-runs-<UTC time>.csv` and
/// `.json`.
pub(super) fn export(rows: &[RunReport], consumer_rows: &[ConsumerRunReport]) -> Result<String> {
    let stamp = file_stamp(std::time::SystemTime::now());
    let mut files = Vec::new();
    if !rows.is_empty() {
        files.push((format!("kafka-lab-runs-{stamp}.csv"), RunReport::csv(rows)));
        files.push((
            format!("kafka-lab-runs-{stamp}.json"),
            RunReport::json(rows),
        ));
    }
    if !consumer_rows.is_empty() {
        let name = format!("kafka-lab-consumer-runs-{stamp}");
        files.push((format!("{name}.csv"), ConsumerRunReport::csv(consumer_rows)));
        files.push((
            format!("{name}.json"),
            ConsumerRunReport::json(consumer_rows),
        ));
    }
    for (path, text) in &files {
        std::fs::write(path, text).with_context(|| format!("cannot write {path}"))?;
    }
    let dir = std::env::current_dir().unwrap_or_default();
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    Ok(format!("{}/{{{}}}", dir.display(), names.join(", ")))
}

/// Writes `files` (name, text) into `dir`, made if missing; returns `dir`.
pub fn write_files(dir: &std::path::Path, files: &[(String, String)]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot make the folder {}", dir.display()))?;
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(dir.to_path_buf())
}

/// Closes the sink when open, opens a new one in the current folder when closed.
pub(super) fn toggle_sink(sink: &SharedSink) -> Outcome {
    let Ok(mut open) = sink.lock() else {
        return Outcome::Notice("the sink is unusable after a failure".into());
    };
    if let Some(mut s) = open.take() {
        let _ = s.flush();
        return Outcome::SinkToggled {
            path: None,
            said: format!("stopped writing: {}", s.summary()),
        };
    }
    let path = std::env::current_dir().unwrap_or_default().join(format!(
        "kafka-lab-sink-{}.jsonl",
        file_stamp(std::time::SystemTime::now())
    ));
    match Sink::open(&path) {
        Ok(s) => {
            let said = s.opened.said(&path).map_or_else(
                || format!("writing consumed records to {}", path.display()),
                |found| format!("writing consumed records: {found}"),
            );
            *open = Some(s);
            Outcome::SinkToggled {
                path: Some(path.display().to_string()),
                said,
            }
        }
        Err(e) => Outcome::Notice(format!("cannot open {}: {e}", path.display())),
    }
}
