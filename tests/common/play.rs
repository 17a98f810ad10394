//! Plays a scenario through the real binary and reads its report back.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::BIN;

pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        // A fetched set stays out of the user's cache, as with `Cluster::command`.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join(format!("kafka-lab-tests-{}", std::process::id())),
        )
        .output()
        .unwrap()
}

/// Plays `name` in a fresh folder; returns the output, report.md, and runs.json.
pub fn play(name: &str, speed: &str, extra: &[&str]) -> (Output, String, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    play_in(dir.path(), name, speed, extra)
}

/// [`play`] in `dir`, which keeps the report's files (`out/`).
pub fn play_in(
    dir: &Path,
    name: &str,
    speed: &str,
    extra: &[&str],
) -> (Output, String, Vec<Value>) {
    let mut args = vec!["scenario", "run", name, "--speed", speed, "--report", "out"];
    args.extend_from_slice(extra);
    let out = run_in(dir, &args);
    let md = std::fs::read_to_string(dir.join("out/report.md")).unwrap_or_else(|e| {
        panic!(
            "no report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let json: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/runs.json")).unwrap()).unwrap();
    // The CSV holds the same runs.
    let mut csv = csv::Reader::from_path(dir.join("out/runs.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        json.len(),
        "runs.csv and runs.json list the same runs"
    );
    for (row, run) in rows.iter().zip(&json) {
        assert_eq!(row[0], run["run"].to_string());
    }
    // The report is on stdout too.
    assert_eq!(String::from_utf8_lossy(&out.stdout), md);
    (out, md, json)
}

pub fn passed(out: &Output, md: &str) {
    assert!(
        out.status.success(),
        "stderr:\n{}\nreport:\n{md}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(md.contains("| result | passed"), "{md}");
    assert!(!md.contains("FAIL"), "{md}");
}
