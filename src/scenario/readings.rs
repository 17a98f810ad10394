//! What a scenario reads of the lab: the figures its assertions compare.

use super::expr::{run_figure, Figures, Which};
use crate::kafka::processor::Guarantee;
use crate::lab::settings::Isolation;
use crate::lab::snapshots::MemberState;
use crate::lab::state::{App, Ledgered};
use crate::stats::{Figure, RunReport};

/// The figures an assertion reads, from the app.
pub struct AppFigures<'a> {
    pub app: &'a App,
    pub runs: Vec<&'a RunReport>,
    /// The ledger's totals at the last `mark`: reprocessed and skipped count from there.
    pub since: Ledgered,
}

impl Figures for AppFigures<'_> {
    fn run(&self, which: Which, figure: Figure) -> Result<f64, String> {
        let run = match which {
            Which::Run => self.runs.last().copied(),
            Which::Previous => self.runs.len().checked_sub(2).map(|i| self.runs[i]),
            Which::First => self.runs.first().copied(),
        };
        let Some(run) = run else {
            return Err(match which {
                Which::Previous => "there is no run before the last one".into(),
                _ => "no run has ended yet".into(),
            });
        };
        run_figure(run, figure, self.app.model.cluster.partitions)
    }

    fn partitions(&self) -> usize {
        self.app.model.cluster.partitions
    }

    fn group(&self, name: &str) -> f64 {
        let app = self.app;
        if let Some(v) = processor_figure(app, name) {
            return v;
        }
        let last = app.model.timeline.rebalances.back();
        match name {
            "members" => app.active_members() as f64,
            "idle" => app
                .model
                .members
                .iter()
                .filter(|m| {
                    m.snapshot.state != MemberState::Leaving && m.snapshot.partitions.is_empty()
                })
                .count() as f64,
            "rebalances" => app.model.timeline.rebalances.len() as f64,
            "moved" => app
                .model
                .timeline
                .rebalances
                .len()
                .checked_sub(1)
                .map_or(0.0, |i| app.model.timeline.moved(i) as f64),
            "unowned_ms" => last
                .and_then(|r| r.unowned.iter().map(|(_, d)| *d).max())
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            "lag" => app
                .model
                .group_lag
                .back()
                .map_or(0.0, |(_, lag)| *lag as f64),
            "reprocessed" => Ledgered::of(app)
                .reprocessed
                .saturating_sub(self.since.reprocessed) as f64,
            "skipped" => Ledgered::of(app).skipped.saturating_sub(self.since.skipped) as f64,
            "reread" => Ledgered::of(app).reread.saturating_sub(self.since.reread) as f64,
            "aborted_seen_committed" | "aborted_seen_uncommitted" => {
                let level = if name == "aborted_seen_committed" {
                    Isolation::ReadCommitted
                } else {
                    Isolation::ReadUncommitted
                };
                app.model
                    .members
                    .iter()
                    .filter(|m| m.snapshot.isolation == level)
                    .map(|m| m.snapshot.aborted_seen)
                    .sum::<u64>() as f64
            }
            "kicked" => app
                .model
                .members
                .iter()
                .map(|m| m.snapshot.kicked)
                .sum::<u64>() as f64,
            "crashed" => app
                .model
                .members
                .iter()
                .filter(|m| matches!(m.snapshot.state, MemberState::Crashed(_)))
                .count() as f64,
            "e2e_p50" | "e2e_p99" => app
                .model
                .members
                .iter()
                .filter(|m| m.snapshot.e2e_known())
                .map(|m| {
                    if name == "e2e_p50" {
                        m.snapshot.e2e.p50
                    } else {
                        m.snapshot.e2e.p99
                    }
                })
                // No member read anything lately: unknown, which no comparison passes.
                .fold(f64::NAN, f64::max),
            // Unknown (no statistics yet, or the run has not begun counting): not a number,
            // which no comparison passes.
            "fetch_requests_per_sec" => app
                .consumer_rows()
                .last()
                .and_then(|r| r.fetch_requests_per_sec)
                .unwrap_or(f64::NAN),
            _ => f64::NAN,
        }
    }
}

/// A figure of the processors (None: not theirs).
fn processor_figure(app: &App, name: &str) -> Option<f64> {
    let g = match name {
        "exactly_once_missing" | "exactly_once_duplicated" => Guarantee::ExactlyOnce,
        "at_least_once_missing" | "at_least_once_duplicated" => Guarantee::AtLeastOnce,
        "processor_crashes" => {
            return Some(
                app.model
                    .processors
                    .panes
                    .iter()
                    .map(|p| p.crashes)
                    .sum::<u32>()
                    .into(),
            )
        }
        _ => return None,
    };
    // Unknown (no processor): not a number, which no comparison passes.
    Some(app.model.processors.of(g).map_or(f64::NAN, |p| {
        if name.ends_with("missing") {
            p.output.missing as f64
        } else {
            p.output.duplicated as f64
        }
    }))
}
