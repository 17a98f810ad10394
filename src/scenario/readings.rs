//! What a scenario reads of the lab: the figures its assertions compare.

use super::expr::{run_figure, Figures, Which};
use crate::lab::snapshots::MemberState;
use crate::lab::state::App;
use crate::stats::{Figure, RunReport};

/// The figures an assertion reads, from the app.
pub struct AppFigures<'a> {
    pub app: &'a App,
    pub runs: Vec<&'a RunReport>,
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
            _ => f64::NAN,
        }
    }
}
