//! Consumer runs: each change of the consumer settings (the panel's, a scenario's, a member's
//! own work per record) ends one and begins the next. A run's figures add up what the
//! members' snapshots bring as new since their last one, from when the group has settled (its
//! members all assigned, after a rejoin) plus the warm-up.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use super::runs::Comparison;
use super::timeline::Timeline;
use super::App;
use crate::lab::snapshots::{Fresh, MemberState};
use crate::stats::{per_second, ConsumerColumn, ConsumerRunReport, Latency};

/// The group's ledger totals: records reprocessed, skipped and re-read (a rewind's) so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ledgered {
    pub reprocessed: u64,
    pub skipped: u64,
    pub reread: u64,
}

impl Ledgered {
    /// As the newest member snapshot had them (each carries the whole group's ledger), kept
    /// while no member is on screen (a rejoin).
    pub fn of(app: &App) -> Ledgered {
        app.model.ledger.1
    }

    /// The totals of a member snapshot's copy of the ledger.
    pub fn sum(ledger: &BTreeMap<u32, crate::lab::snapshots::LedgerCounts>) -> Ledgered {
        Ledgered {
            reprocessed: ledger.values().map(|c| c.reprocessed).sum(),
            skipped: ledger.values().map(|c| c.skipped).sum(),
            reread: ledger.values().map(|c| c.reread).sum(),
        }
    }
}

/// The consumer run going on.
#[derive(Debug, Clone)]
pub struct ConsumerMeter {
    report: ConsumerRunReport,
    began: SystemTime,
    /// When the figures begin: the group settled, plus the warm-up.
    from: Option<SystemTime>,
    /// The newest snapshot counted.
    until: Option<SystemTime>,
    /// The newest snapshot counted that brought records: the records' rate ends there, so
    /// a producer stopped before the run ends does not dilute it.
    last_record: Option<SystemTime>,
    /// Members whose counting began: a member's first snapshot after `from` only marks the
    /// start (what it carries happened before).
    counting: BTreeSet<u32>,
    /// The change made the members rejoin: the group has settled once each has been
    /// assigned again since it began.
    rejoin: bool,
    warmup: std::time::Duration,
    latency: Latency,
    fetches: Option<u64>,
    ledger_at_start: Ledgered,
}

impl ConsumerMeter {
    pub fn new(
        run: u32,
        began: SystemTime,
        topic: &str,
        settings: BTreeMap<String, String>,
        ledger: Ledgered,
        rejoin: bool,
        warmup: std::time::Duration,
    ) -> ConsumerMeter {
        ConsumerMeter {
            report: ConsumerRunReport {
                run,
                topic: topic.to_string(),
                started_at: humantime::format_rfc3339_seconds(began).to_string(),
                settings,
                ..ConsumerRunReport::default()
            },
            began,
            from: None,
            until: None,
            last_record: None,
            counting: BTreeSet::new(),
            rejoin,
            warmup,
            latency: Latency::default(),
            fetches: None,
            ledger_at_start: ledger,
        }
    }

    pub fn run(&self) -> u32 {
        self.report.run
    }

    /// Nothing happened in it yet: a change of settings now takes this run over.
    pub fn is_idle(&self) -> bool {
        self.report.records == 0 && self.report.kicked == 0 && self.counting.is_empty()
    }

    /// What member `id` did since its last snapshot, reported at `at`; `settled`: every
    /// member of the group has its assignment.
    pub fn fold(&mut self, id: u32, fresh: &Fresh, at: SystemTime, settled: bool) {
        self.report.kicked += fresh.kicks;
        // Sent before the change: nothing of it is this run's.
        if at < self.began {
            return;
        }
        if self.from.is_none() && settled {
            self.from = Some(at.max(self.began) + self.warmup);
        }
        let Some(from) = self.from else {
            return;
        };
        if at < from {
            return;
        }
        if self.counting.insert(id) {
            return;
        }
        self.report.records += fresh.records;
        self.latency.add_buckets(&fresh.e2e);
        if let Some(n) = fresh.fetches {
            *self.fetches.get_or_insert(0) += n;
        }
        self.until = Some(self.until.map_or(at, |u| u.max(at)));
        if fresh.records > 0 {
            self.last_record = Some(self.last_record.map_or(at, |u| u.max(at)));
        }
    }

    /// The run's figures as of now.
    pub fn report(
        &self,
        timeline: &Timeline,
        ledger: Ledgered,
        members: usize,
    ) -> ConsumerRunReport {
        let mut r = self.report.clone();
        let to = |until: Option<SystemTime>| match (self.from, until) {
            (Some(from), Some(until)) => until.duration_since(from).unwrap_or_default(),
            _ => Duration::ZERO,
        };
        let span = to(self.until);
        r.warmup_s = self.from.map_or(0.0, |f| {
            f.duration_since(self.began)
                .unwrap_or_default()
                .as_secs_f64()
        });
        r.duration_s = span.as_secs_f64();
        r.members = members;
        r.records_per_sec = per_second(r.records, to(self.last_record));
        r.e2e_ms = (self.latency.count() > 0).then(|| self.latency.summary());
        r.fetch_requests_per_sec = self
            .fetches
            .filter(|_| !span.is_zero())
            .map(|n| per_second(n, span));
        let since: Vec<_> = timeline
            .rebalances
            .iter()
            .filter(|b| b.at >= self.began)
            .collect();
        r.rebalances = since.len() as u64;
        r.longest_unowned_s = since
            .iter()
            .flat_map(|b| b.unowned.iter().map(|(_, d)| *d))
            .max()
            .map(|d| d.as_secs_f64());
        r.reprocessed = ledger
            .reprocessed
            .saturating_sub(self.ledger_at_start.reprocessed);
        r.skipped = ledger.skipped.saturating_sub(self.ledger_at_start.skipped);
        r.reread = ledger.reread.saturating_sub(self.ledger_at_start.reread);
        r
    }
}

/// Consumer runs kept in the table.
pub const CONSUMER_RUNS: usize = 50;

impl App {
    /// The consumer settings in force as a run lists them: the panel's, and each member's own
    /// work per record.
    fn consumer_run_settings(&self) -> BTreeMap<String, String> {
        let mut settings = self.model.applied_consumer.report_settings();
        for (id, work) in &self.model.work {
            settings.insert(format!("work.consumer-{id}"), crate::text::seconds(*work));
        }
        settings
    }

    /// The latest time the lab has heard of: the producer's or a member's.
    fn heard_at(&self) -> SystemTime {
        self.model
            .members
            .iter()
            .map(|m| m.snapshot.at)
            .fold(self.model.now, SystemTime::max)
    }

    /// The consumer settings changed (the members `rejoin` for it), or the group was rewound
    /// (`rewound` says where to): the run going on ends and the next begins (a run in which
    /// nothing happened yet takes the new settings instead).
    pub(super) fn next_consumer_run(&mut self, rejoin: bool, rewound: Option<String>) {
        let mut settings = self.consumer_run_settings();
        if let Some(to) = rewound {
            settings.insert("rewound to".into(), to);
        }
        let Some(meter) = &self.model.consumer_run else {
            return;
        };
        let run = if meter.is_idle() {
            meter.run()
        } else {
            let ended = self.consumer_report(meter);
            super::views::push_bounded(&mut self.model.consumer_runs, ended, CONSUMER_RUNS);
            meter.run() + 1
        };
        self.model.consumer_run = Some(ConsumerMeter::new(
            run,
            self.heard_at(),
            &self.model.cluster.topic,
            settings,
            Ledgered::of(self),
            rejoin,
            self.model.warmup,
        ));
    }

    /// The rewind the current consumer run began with did not happen: the run is not
    /// labelled with it.
    pub(super) fn rewind_undone(&mut self) {
        if let Some(meter) = self.model.consumer_run.as_mut() {
            meter.report.settings.remove("rewound to");
        }
    }

    fn consumer_report(&self, meter: &ConsumerMeter) -> ConsumerRunReport {
        meter.report(
            &self.model.timeline,
            Ledgered::of(self),
            self.active_members(),
        )
    }

    /// Folds a member's news into the consumer run (the first member begins run 1).
    pub(super) fn meter_member(&mut self, id: u32, fresh: &Fresh, at: SystemTime) {
        if self.model.consumer_run.is_none() {
            self.model.consumer_run = Some(ConsumerMeter::new(
                1,
                at,
                &self.model.cluster.topic,
                self.consumer_run_settings(),
                Ledgered::default(),
                false,
                self.model.warmup,
            ));
        }
        let Some(meter) = self.model.consumer_run.as_ref() else {
            return;
        };
        let settled = self.model.members.iter().all(|m| {
            let s = &m.snapshot;
            match s.state {
                MemberState::Crashed(_) | MemberState::Error(_) => true,
                MemberState::Assigned | MemberState::Idle | MemberState::Held => {
                    !meter.rejoin || s.last_rebalance.is_some_and(|t| t >= meter.began)
                }
                _ => false,
            }
        });
        if let Some(meter) = self.model.consumer_run.as_mut() {
            meter.fold(id, fresh, at, settled);
        }
    }

    /// The consumer runs table: ended runs, then the one going on.
    pub fn consumer_rows(&self) -> Vec<ConsumerRunReport> {
        let mut rows: Vec<ConsumerRunReport> = self.model.consumer_runs.iter().cloned().collect();
        if let Some(meter) = &self.model.consumer_run {
            rows.push(self.consumer_report(meter));
        }
        rows
    }

    /// The settings of the first consumer run: the table shows what differs from them.
    pub fn consumer_defaults(&self) -> BTreeMap<String, String> {
        self.model
            .consumer_runs
            .front()
            .map(|r| r.settings.clone())
            .or_else(|| {
                self.model
                    .consumer_run
                    .as_ref()
                    .map(|m| m.report.settings.clone())
            })
            .unwrap_or_default()
    }
}

/// Two consumer runs side by side: the settings that differ, and each figure with its change.
pub fn compare_consumers(a: &ConsumerRunReport, b: &ConsumerRunReport) -> Comparison {
    let keys: BTreeSet<&String> = a.settings.keys().chain(b.settings.keys()).collect();
    let show = |v: Option<&String>| v.map_or("unset".to_string(), Clone::clone);
    let settings = keys
        .into_iter()
        .filter(|k| a.settings.get(*k) != b.settings.get(*k))
        .map(|k| {
            format!(
                "{k}: {} → {}",
                show(a.settings.get(k)),
                show(b.settings.get(k))
            )
        })
        .collect();
    let defaults = BTreeMap::new();
    let figures = [
        ConsumerColumn::RecordsPerSec,
        ConsumerColumn::P50,
        ConsumerColumn::P99,
        ConsumerColumn::Fetches,
        ConsumerColumn::Rebalances,
        ConsumerColumn::Unowned,
        ConsumerColumn::Reprocessed,
        ConsumerColumn::Skipped,
    ]
    .into_iter()
    .map(|c| {
        let change = match (c.value(a), c.value(b)) {
            (Some(x), Some(y)) if matches!(c, ConsumerColumn::P50 | ConsumerColumn::P99) => {
                format!("{:+.2} ms", y - x)
            }
            (Some(x), Some(y)) if x > 0.0 && c.higher_is_better().is_some() => {
                format!("x{:.2}", y / x)
            }
            _ => String::new(),
        };
        [
            c.header().to_string(),
            c.cell(a, &defaults, false),
            c.cell(b, &defaults, false),
            change,
        ]
    })
    .collect();
    Comparison {
        settings,
        figures,
        why: super::why::explain_consumers(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::snapshots::WARMUP;

    fn fresh(records: u64, micros: u64, fetches: u64) -> Fresh {
        Fresh {
            records,
            e2e: vec![(micros, records)],
            fetches: Some(fetches),
            kicks: 0,
        }
    }

    #[test]
    fn figures_begin_after_the_group_settled_and_the_warm_up() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut m = ConsumerMeter::new(
            1,
            t0,
            "t",
            BTreeMap::new(),
            Ledgered::default(),
            false,
            WARMUP,
        );
        // Rejoining: nothing counts.
        m.fold(1, &fresh(100, 90_000, 5), at(250), false);
        // Settled at 500 ms: counting begins 2 s later.
        m.fold(1, &fresh(100, 90_000, 5), at(500), true);
        m.fold(1, &fresh(100, 90_000, 5), at(2_250), true);
        assert!(m.is_idle(), "nothing counted yet");
        // The first snapshot after the warm-up starts the member's count.
        m.fold(1, &fresh(100, 90_000, 5), at(2_500), true);
        for i in 1..=40 {
            m.fold(1, &fresh(250, 4_000, 2), at(2_500 + i * 250), true);
        }
        let r = m.report(&Timeline::default(), Ledgered::default(), 1);
        assert_eq!(r.records, 10_000);
        assert!((r.duration_s - 10.0).abs() < 1e-9, "{r:?}");
        assert!((r.records_per_sec - 1_000.0).abs() < 1e-6);
        assert!((r.warmup_s - 2.5).abs() < 1e-9);
        assert!((r.fetch_requests_per_sec.unwrap() - 8.0).abs() < 1e-9);
        let e2e = r.e2e_ms.unwrap();
        assert!(
            (e2e.p99 - 4.0).abs() < 0.01,
            "the rejoin's 90 ms left out: {e2e:?}"
        );
        // The producer stops: 5 s of empty snapshots lengthen the run and keep fetching,
        // but the records' rate is over the time up to the last record.
        for i in 1..=20 {
            m.fold(1, &fresh(0, 0, 2), at(12_500 + i * 250), true);
        }
        let r = m.report(&Timeline::default(), Ledgered::default(), 1);
        assert!((r.duration_s - 15.0).abs() < 1e-9, "{r:?}");
        assert!((r.records_per_sec - 1_000.0).abs() < 1e-6, "{r:?}");
        assert!((r.fetch_requests_per_sec.unwrap() - 8.0).abs() < 1e-9);
    }

    #[test]
    fn unknowns_stay_unknown_and_counts_are_the_runs_own() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let start = Ledgered {
            reprocessed: 7,
            skipped: 2,
            reread: 0,
        };
        let mut m = ConsumerMeter::new(3, t0, "t", BTreeMap::new(), start, false, WARMUP);
        m.fold(
            2,
            &Fresh {
                kicks: 1,
                ..Fresh::default()
            },
            t0,
            false,
        );
        let now = Ledgered {
            reprocessed: 10,
            skipped: 2,
            reread: 0,
        };
        let r = m.report(&Timeline::default(), now, 2);
        assert_eq!((r.reprocessed, r.skipped, r.kicked), (3, 0, 1));
        assert_eq!(r.e2e_ms, None);
        assert_eq!(r.fetch_requests_per_sec, None);
        assert_eq!(r.longest_unowned_s, None);
        assert_eq!(r.duration_s, 0.0, "nothing measured: the table says -");
        assert!(!m.is_idle(), "a kick is news");
    }

    #[test]
    fn two_runs_compared() {
        let run = |wait: &str, p99: f64, fetches: f64| ConsumerRunReport {
            settings: [("fetch.wait.max.ms".to_string(), wait.to_string())].into(),
            duration_s: 10.0,
            records_per_sec: 50.0,
            e2e_ms: Some(crate::stats::LatencySummary {
                p99,
                ..Default::default()
            }),
            fetch_requests_per_sec: Some(fetches),
            ..ConsumerRunReport::default()
        };
        let c = compare_consumers(&run("500", 480.0, 12.0), &run("10", 9.5, 600.0));
        assert_eq!(c.settings, ["fetch.wait.max.ms: 500 → 10"]);
        let row = |what: &str| c.figures.iter().find(|f| f[0] == what).unwrap().clone();
        assert_eq!(row("e2e p99"), ["e2e p99", "480.00", "9.50", "-470.50 ms"]);
        assert_eq!(row("fetch/s"), ["fetch/s", "12", "600", "x50.00"]);
        assert_eq!(row("rec/s")[3], "x1.00");
    }
}
