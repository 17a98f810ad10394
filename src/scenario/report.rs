//! A played scenario's report: a Markdown summary (the cluster, each step as it ran, each
//! run's settings and figures, the rebalances, each assertion with its values), and the runs
//! as CSV and JSON with the fields of `bench --json`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::player::Player;
use crate::lab::state::{App, Ledgered};
use crate::stats::{ConsumerColumn, ConsumerRunReport, Figure, RunReport};

/// The figures every report's runs table shows (then the batch and the stages, when known).
const REPORT_FIGURES: [Figure; 11] = [
    Figure::WholeSecs,
    Figure::Delivered,
    Figure::RecordsPerSec,
    Figure::P50,
    Figure::P99,
    Figure::Max,
    Figure::Failed,
    Figure::Missing,
    Figure::Duplicated,
    Figure::Skew,
    Figure::Faults,
];

/// Figures the report shows when any run has them: the batches, the stages by librdkafka's
/// statistics, and the transactions.
const WHEN_KNOWN: [Figure; 8] = [
    Figure::BatchRecords,
    Figure::Queue,
    Figure::Send,
    Figure::Broker,
    Figure::TxnCommitted,
    Figure::TxnAborted,
    Figure::TxnCommitP99,
    Figure::AbortedSeen,
];

/// Settings every run has that say nothing about the experiment.
const QUIET_SETTINGS: [&str; 3] = ["rtt.ms", "record_size", "topic"];

pub struct Report {
    pub markdown: String,
    pub runs: Vec<RunReport>,
    pub consumer_runs: Vec<ConsumerRunReport>,
    pub passed: bool,
}

/// The files of a report, by name.
pub const FILES: [&str; 4] = ["report.md", "runs.csv", "runs.json", "consumer-runs.csv"];

impl Report {
    pub fn new(player: &Player, app: &App) -> Report {
        let speed = player.speed();
        let runs: Vec<RunReport> = player.runs().into_iter().cloned().collect();
        let failures = player.failures();
        let mut md = String::new();
        let s = &player.scenario;
        let _ = writeln!(md, "# {}\n", s.title);
        if !s.description.is_empty() {
            let _ = writeln!(md, "{}\n", s.description);
        }
        let checks = player.done.iter().filter(|d| d.checked.is_some()).count();
        let ran = player.done.iter().map(|d| d.step).max().unwrap_or(0);
        let result = if !player.is_over() {
            format!(
                "**stopped** after step {ran} of {}: {} of {checks} assertions failed, the rest did not run",
                s.steps.len(),
                failures.len()
            )
        } else if failures.is_empty() {
            format!("passed ({checks} assertions)")
        } else {
            format!("**failed**: {} of {checks} assertions", failures.len())
        };
        let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
        let _ = writeln!(md, "| | |\n| --- | --- |");
        for (k, v) in [
            ("result", result),
            ("cluster", cluster(app)),
            (
                "topic",
                format!(
                    "{} ({} partitions)",
                    app.model.cluster.topic, app.model.cluster.partitions
                ),
            ),
            ("group", app.model.cluster.group.clone()),
            ("client", crate::kafka::library()),
            ("kafka-lab", env!("CARGO_PKG_VERSION").to_string()),
            ("machine", format!("{cores} cores")),
            (
                "started",
                humantime::format_rfc3339_seconds(player.started_at).to_string(),
            ),
            (
                "speed",
                if (speed - 1.0).abs() < f64::EPSILON {
                    "1 (times as written)".to_string()
                } else {
                    format!("{speed} (waits and offsets divided by {speed})")
                },
            ),
            ("file", s.file.clone()),
        ] {
            let _ = writeln!(md, "| {k} | {} |", cell(&v));
        }

        let _ = writeln!(md, "\n## Steps\n\nTimes are the scenario's clock (real seconds times the speed).\n\n| time | line | step | run | result |\n| ---: | ---: | --- | ---: | --- |");
        for d in &player.done {
            let result = d.checked.as_ref().map_or(String::new(), |c| {
                format!(
                    "{} ({})",
                    if c.passed { "pass" } else { "**FAIL**" },
                    c.values
                )
            });
            let _ = writeln!(
                md,
                "| {:.1} s | {} | {} | {} | {} |",
                d.at.as_secs_f64(),
                d.line,
                cell(&d.text),
                d.run,
                cell(&result)
            );
        }

        runs_table(&mut md, &runs, app.model.cluster.partitions);
        // A run the read-back could not finish has no accounting: say why, under the table.
        for r in &runs {
            if let Some(e) = app.read_back_failed().get(&r.run) {
                let _ = writeln!(md, "Run {} could not be read back: {}\n", r.run, cell(e));
            }
        }
        rebalances(&mut md, app, player);
        delivery(&mut md, app, player);
        processors(&mut md, app);
        let consumer_runs = app.consumer_rows();
        consumer_runs_table(&mut md, &consumer_runs);

        assertions(&mut md, player);
        Report {
            // No secret, nor any escape sequence of a file's or a server's, reaches whoever
            // reads it.
            markdown: crate::text::escape_lines(&crate::text::secrets::scrub(&md)).into_owned(),
            runs,
            consumer_runs,
            passed: failures.is_empty() && player.is_over(),
        }
    }

    /// The report's files: `report.md`, `runs.csv`, `runs.json` and `consumer-runs.csv`, with
    /// their text.
    pub fn files(&self) -> Vec<(String, String)> {
        let [md, csv, json, consumer_csv] = FILES;
        vec![
            (md.into(), self.markdown.clone()),
            (csv.into(), RunReport::csv(&self.runs)),
            (json.into(), RunReport::json(&self.runs)),
            (
                consumer_csv.into(),
                ConsumerRunReport::csv(&self.consumer_runs),
            ),
        ]
    }

    /// Writes the report's files into `dir` (made if missing); returns their paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let files = self.files();
        crate::lab::session::write_files(dir, &files)?;
        Ok(files.iter().map(|(name, _)| dir.join(name)).collect())
    }
}

/// The cluster, with what kafka-lab knows of its kind and version.
fn cluster(app: &App) -> String {
    let c = &app.model.cluster;
    if c.owned {
        return format!("{} (librdkafka's mock cluster, inside kafka-lab)", c.label);
    }
    match crate::kafka::local::LocalCluster::find(&c.label) {
        Some(l) => format!(
            "{} (Apache Kafka {}, {} node{}, started by scripts/kafka-local)",
            c.label,
            l.kafka_version.as_deref().unwrap_or("of unknown version"),
            l.nodes.len(),
            if l.nodes.len() == 1 { "" } else { "s" }
        ),
        None => c.label.clone(),
    }
}

/// Markdown table cells hold no pipes or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Each run with the settings that differ between the runs, and its figures.
fn runs_table(md: &mut String, runs: &[RunReport], partitions: usize) {
    let _ = writeln!(md, "\n## Runs\n");
    if runs.is_empty() {
        let _ = writeln!(md, "No producer run ended.");
        return;
    }
    // The settings that change from run to run, and those all share.
    let keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.settings.keys()).collect();
    let varying: Vec<&String> = keys
        .iter()
        .copied()
        .filter(|k| !QUIET_SETTINGS.contains(&k.as_str()))
        .filter(|k| {
            let values: BTreeSet<Option<&String>> =
                runs.iter().map(|r| r.settings.get(*k)).collect();
            values.len() > 1
        })
        .collect();
    let shared: BTreeMap<&String, &String> = runs[0]
        .settings
        .iter()
        .filter(|(k, _)| !varying.contains(k) && !QUIET_SETTINGS.contains(&k.as_str()))
        .collect();
    if !shared.is_empty() {
        let list: Vec<String> = shared.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(md, "Every run: `{}`.\n", list.join(" "));
    }
    // Where the time went and the batches, when librdkafka's statistics said.
    let stages = runs.iter().any(|r| r.stages_ms.is_some());
    let batches = runs.iter().any(|r| r.avg_batch_records.is_some());
    let transactions = runs.iter().any(|r| r.transactions.is_some());
    let figures: Vec<Figure> = REPORT_FIGURES
        .iter()
        .copied()
        .chain(WHEN_KNOWN.into_iter().filter(|f| match f {
            Figure::BatchRecords => batches,
            Figure::TxnCommitted
            | Figure::TxnAborted
            | Figure::TxnCommitP99
            | Figure::AbortedSeen => transactions,
            _ => stages,
        }))
        .collect();
    let mut head = vec!["run".to_string()];
    head.extend(varying.iter().map(|k| (*k).clone()));
    head.extend(
        figures
            .iter()
            .map(|f| f.entry().report.unwrap_or_default().to_string()),
    );
    let _ = writeln!(md, "| {} |", head.join(" | "));
    let _ = writeln!(md, "|{}", " --- |".repeat(head.len()));
    for r in runs {
        let mut row = vec![r.run.to_string()];
        row.extend(
            varying
                .iter()
                .map(|k| r.settings.get(*k).cloned().unwrap_or_default()),
        );
        row.extend(figures.iter().map(|f| {
            let cell = f.report_cell(r, partitions);
            match (f, &r.accounting) {
                (Figure::Missing, Some(a)) if a.unchecked > 0 && !a.unconfirmed => {
                    let checked = a.received + a.missing;
                    format!(
                        "{cell} ({checked} of {} checked: {} deleted by retention)",
                        checked + a.unchecked,
                        a.unchecked
                    )
                }
                _ => cell,
            }
        }));
        let row: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
}

/// Each rebalance since the scenario began: its cause, partitions moved, time without owner.
fn rebalances(md: &mut String, app: &App, player: &Player) {
    let list: Vec<_> = app
        .model
        .timeline
        .rebalances
        .iter()
        .enumerate()
        .filter(|(_, r)| r.at >= player.started_at)
        .collect();
    if list.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\n## Rebalances\n\n| time | cause | partitions moved | longest without owner |\n| ---: | --- | ---: | ---: |"
    );
    for (i, r) in list {
        // On the scenario's clock, as the steps are.
        let at =
            r.at.duration_since(player.started_at)
                .unwrap_or_default()
                .as_secs_f64()
                * player.speed();
        let longest = r.unowned.iter().map(|(_, d)| *d).max();
        let _ = writeln!(
            md,
            "| {at:.1} s | {} | {} | {} |",
            cell(&r.cause),
            app.model.timeline.moved(i),
            longest.map_or("-".to_string(), |d| format!("{} ms", d.as_millis()))
        );
    }
}

/// Each assertion with the values it compared.
fn assertions(md: &mut String, player: &Player) {
    let checked: Vec<_> = player
        .done
        .iter()
        .filter_map(|d| d.checked.as_ref())
        .collect();
    if checked.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\n## Assertions\n\n| assertion | values | result |\n| --- | --- | --- |"
    );
    for c in checked {
        let _ = writeln!(
            md,
            "| `{}` | {} | {} |",
            c.text,
            cell(&c.values),
            if c.passed { "pass" } else { "**FAIL**" }
        );
    }
}

/// What the group worked on twice or never, from each mark to the next: shown once a member
/// reprocessed or skipped anything.
fn delivery(md: &mut String, app: &App, player: &Player) {
    let end = Ledgered::of(app);
    if end == Ledgered::default() || player.marks.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\n## Delivery\n\nRecords the group worked on a second time (reprocessed) and records committed that no member worked on (skipped), from each mark to the next.\n\n| from the mark | reprocessed | skipped |\n| --- | ---: | ---: |"
    );
    let mut marks = player.marks.iter().peekable();
    while let Some((label, at)) = marks.next() {
        let until = marks.peek().map_or(end, |(_, next)| *next);
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            cell(label),
            until.reprocessed.saturating_sub(at.reprocessed),
            until.skipped.saturating_sub(at.skipped)
        );
    }
}

/// The processors as they ended: what they committed, and their output counted (read
/// committed) against the input.
fn processors(md: &mut String, app: &App) {
    let panes = &app.model.processors.panes;
    if panes.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\n## Processors\n\nEach output read back `read_committed`; every input record's copies counted.\n\n| processor | records committed | batches | commit p50 / p99 ms | crashes | input records | written | duplicated | not written |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
    for p in panes {
        let o = p.output;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} / {} | {} | {} | {} | {} | {} |",
            p.guarantee.name(),
            p.records,
            p.batches,
            ms(p.commit_p50_ms),
            ms(p.commit_p99_ms),
            p.crashes,
            o.input,
            o.written,
            o.duplicated,
            o.missing
        );
    }
}

/// The consumer runs (a run per consumer settings step): the settings that differ from the
/// first run's, and the group's figures.
fn consumer_runs_table(md: &mut String, runs: &[ConsumerRunReport]) {
    let Some(first) = runs.first() else {
        return;
    };
    let _ = writeln!(
        md,
        "\n## Consumer runs\n\nA run per change of the consumer settings; figures count from 2 s after the members settled.\n"
    );
    let columns: Vec<ConsumerColumn> = ConsumerColumn::ALL
        .into_iter()
        .filter(|c| !matches!(c, ConsumerColumn::Run | ConsumerColumn::Changed))
        .collect();
    let head: Vec<&str> = ["run", "settings"]
        .into_iter()
        .chain(columns.iter().map(|c| c.header()))
        .collect();
    let _ = writeln!(md, "| {} |", head.join(" | "));
    let _ = writeln!(md, "| ---: | --- |{}", " ---: |".repeat(columns.len()));
    for r in runs {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| c.cell(r, &first.settings, false))
            .collect();
        let changed = if r.run == first.run {
            "first".to_string()
        } else {
            crate::stats::settings_diff(&r.settings, &first.settings)
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            r.run,
            cell(&changed),
            cells.join(" | ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run whose records the cluster deleted before the read-back says how many were
    /// checked; with none checked, missing is not a 0.
    #[test]
    fn the_runs_table_says_how_much_was_checked() {
        let run = |received: u64, unchecked: u64| RunReport {
            run: 1,
            records: 10,
            accounting: Some(crate::stats::Accounting {
                received,
                unchecked,
                ..Default::default()
            }),
            ..RunReport::default()
        };
        let mut md = String::new();
        runs_table(&mut md, &[run(9, 1_136_551)], 6);
        assert!(
            md.contains("| 0 (9 of 1136560 checked: 1136551 deleted by retention) |"),
            "{md}"
        );
        let mut md = String::new();
        runs_table(&mut md, &[run(0, 184_576)], 6);
        assert!(
            md.contains("| not checked (0 of 184576 checked: 184576 deleted by retention) |"),
            "{md}"
        );
    }

    /// The report's columns are the figures whose entry has a report column: the fixed ones,
    /// then those shown when known (batches, stages).
    #[test]
    fn the_report_shows_the_figures_with_a_report_column() {
        let shown: BTreeSet<Figure> = REPORT_FIGURES.iter().copied().chain(WHEN_KNOWN).collect();
        let wanted: BTreeSet<Figure> = crate::stats::figures::FIGURES
            .iter()
            .filter(|e| e.report.is_some())
            .map(|e| e.figure)
            .collect();
        assert_eq!(shown, wanted);
        assert_eq!(
            REPORT_FIGURES.len() + WHEN_KNOWN.len(),
            wanted.len(),
            "each once"
        );
    }
}
