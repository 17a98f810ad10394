//! What the Kafka side reports, folded into the state.

use std::collections::VecDeque;

use super::views::{
    age, push_bounded, push_lag, push_log, HistoryPoint, LogLine, MemberView, E2E_POINTS, HISTORY,
};
use super::{App, Focus, EVENTS, MESSAGE_SHOWN_FOR, RUNS};
use crate::lab::protocol::KafkaEvent;
use crate::lab::settings::EMBEDDED_ABORTED;
use crate::lab::snapshots::{MemberSnapshot, MemberState};
use crate::lab::snapshots::{ProducerSnapshot, ProducerState};

impl App {
    pub(super) fn kafka(&mut self, event: KafkaEvent) {
        match event {
            KafkaEvent::Topic(t) => {
                self.crashed_lag(&t);
                if self.model.topic.is_some() && t.partitions.len() > self.model.cluster.partitions
                {
                    self.model.timeline.expect(
                        format!(
                            "partitions added ({} → {})",
                            self.model.cluster.partitions,
                            t.partitions.len()
                        ),
                        self.model.now,
                    );
                }
                self.model.cluster.partitions = t.partitions.len();
                self.model.topic = Some(t);
            }
            KafkaEvent::RunEnded(report) => {
                let mut report = *report;
                report.faults = std::mem::take(&mut self.model.run_faults);
                report.errors = std::mem::take(&mut report.errors)
                    .into_iter()
                    .map(|(mut e, n)| {
                        hide_secrets(&mut e);
                        (e, n)
                    })
                    .collect();
                push_bounded(&mut self.model.runs, report, RUNS);
            }
            KafkaEvent::RunVerified { run, result } => match result {
                Ok(accounting) => {
                    if accounting.aborted_seen > 0 && self.model.cluster.embedded {
                        self.say_once_embedded_aborted();
                    }
                    if let Some(r) = self.model.runs.iter_mut().find(|r| r.run == run) {
                        r.accounting = Some(accounting);
                    }
                }
                Err(mut e) => {
                    hide_secrets(&mut e);
                    self.status.message = Some(format!("run {run} could not be read back: {e}"));
                    self.model.read_back_failed.insert(run, e);
                }
            },
            KafkaEvent::Producer(s) => self.producer_snapshot(*s),
            KafkaEvent::Member(m) => self.member_snapshot(*m),
            KafkaEvent::Processor(p) => self.processor_snapshot(*p),
            KafkaEvent::Workers(w) => self.model.workers = w,
            KafkaEvent::MemberLeft { id, at } => {
                if let Some(m) = self.model.members.iter().find(|m| m.snapshot.id == id) {
                    self.model.counts_departed.merge(&m.snapshot.counts);
                    self.model.timeline.left(&m.snapshot.name, at);
                }
                if self.model.coming_back.remove(&id) {
                    // Its pane stays, and the selection with it, until it is back.
                    if let Some(m) = self.model.members.iter_mut().find(|m| m.snapshot.id == id) {
                        m.snapshot.state = MemberState::Joining;
                    }
                    return;
                }
                self.model.members.retain(|m| m.snapshot.id != id);
                self.clamp_focus();
            }
            KafkaEvent::MemberCrashed { id, at } => self.member_crashed(id, at),
        }
    }

    /// Why a `read_committed` read-back saw aborted records, once.
    fn say_once_embedded_aborted(&mut self) {
        if !std::mem::replace(&mut self.model.said_embedded_aborted, true) {
            self.say(EMBEDDED_ABORTED.to_string());
        }
    }

    /// The member stays on screen, crashed, until restarted (`X`) or removed: what it read
    /// counts as departed (a restarted member counts afresh).
    fn member_crashed(&mut self, id: u32, at: std::time::SystemTime) {
        self.model.in_group.remove(&id);
        self.model.coming_back.remove(&id);
        self.model.held.remove(&id);
        let Some(m) = self.model.members.iter_mut().find(|m| m.snapshot.id == id) else {
            return;
        };
        self.model.counts_departed.merge(&m.snapshot.counts);
        m.snapshot.counts = crate::data::counts::Counts::default();
        m.snapshot.state = MemberState::Crashed(at);
        m.snapshot.per_sec = 0.0;
        // Its positions stay where it stopped: nobody reads on from there until the group
        // notices, so the lag grows (with the watcher's high watermarks, see `crashed_lag`).
        let name = m.snapshot.name.clone();
        self.model.timeline.crashed(&name, at);
        let session = &self.model.applied_consumer.session_timeout_ms;
        let restart = super::keymap::key(
            super::keymap::Mode::Main,
            super::keymap::Action::CrashConsumer,
        );
        self.say(format!(
            "{name} crashed: no leave, no commit; the group notices when session.timeout.ms \
             ({session} ms) passes without a heartbeat ({restart} restarts it)"
        ));
    }

    /// librdkafka took member `m` out for max.poll.interval.ms since its last snapshot: said,
    /// and given as the cause of the rebalance it made.
    fn note_kick(&mut self, m: &MemberSnapshot) {
        let kicked_before = self
            .model
            .members
            .iter()
            .find(|v| v.snapshot.id == m.id)
            .map_or(0, |v| v.snapshot.kicked);
        if m.kicked > kicked_before {
            let limit = &self.model.applied_consumer.max_poll_interval_ms;
            let ms = limit.parse::<u64>().unwrap_or(300_000);
            let limit = crate::text::seconds(std::time::Duration::from_millis(ms));
            let why = format!("{} exceeded max.poll.interval.ms = {limit}", m.name);
            // Told at the member's next read, after the group moved its partitions: the
            // rebalance it caused is within the last interval (and a work batch) before now.
            let since = self
                .model
                .now
                .checked_sub(std::time::Duration::from_millis(ms.saturating_mul(2)))
                .unwrap_or(std::time::UNIX_EPOCH);
            self.model.timeline.explain_late(
                why.clone(),
                since,
                format!("{} rejoined after being taken out", m.name),
                self.model.now,
            );
            self.say(format!(
                "{why}: librdkafka took it out of the group; it rejoins at its next read"
            ));
        }
    }

    /// A crashed member reports nothing: its partitions' high watermarks come from the
    /// watcher, so their lag (and the group's) grows while nobody reads them.
    fn crashed_lag(&mut self, t: &crate::lab::snapshots::TopicSnapshot) {
        self.forget_noticed_crashes();
        let mut any = false;
        for m in &mut self.model.members {
            if !matches!(m.snapshot.state, MemberState::Crashed(_)) {
                continue;
            }
            for lag in &mut m.snapshot.partitions {
                if let Some(p) = t.partitions.iter().find(|p| p.partition == lag.partition) {
                    lag.high_watermark =
                        Some(lag.high_watermark.unwrap_or(0).max(p.high_watermark));
                    any = true;
                }
            }
        }
        if any {
            self.push_group_lag(self.model.now);
        }
    }

    /// The group's lag at `at`: the sum of its members' known lags.
    fn push_group_lag(&mut self, at: std::time::SystemTime) {
        let crashed = |m: &MemberView| matches!(m.snapshot.state, MemberState::Crashed(_));
        // A partition a live member holds already is its, not the crashed one's.
        let live: std::collections::BTreeSet<i32> = self
            .model
            .members
            .iter()
            .filter(|m| !crashed(m))
            .flat_map(|m| m.snapshot.partitions.iter().map(|p| p.partition))
            .collect();
        let group: Vec<u64> = self
            .model
            .members
            .iter()
            .filter_map(|m| {
                if !crashed(m) {
                    return m.lag();
                }
                let lags: Vec<u64> = m
                    .snapshot
                    .partitions
                    .iter()
                    .filter(|p| !live.contains(&p.partition))
                    .filter_map(crate::lab::snapshots::PartitionLag::lag)
                    .map(|l| u64::try_from(l).unwrap_or(0))
                    .collect();
                (!lags.is_empty()).then(|| lags.iter().sum())
            })
            .collect();
        // One clock: never before the last point.
        let at = self
            .model
            .group_lag
            .back()
            .map_or(at, |(last, _)| at.max(*last));
        if !group.is_empty() {
            push_lag(&mut self.model.group_lag, at, group.iter().sum());
        }
    }

    /// Once the group has noticed a crash, the crashed member's partitions are others' (or
    /// nobody's): its pane no longer lists them, nor counts their lag.
    fn forget_noticed_crashes(&mut self) {
        let unnoticed: Vec<String> = self
            .model
            .timeline
            .unnoticed()
            .map(|(m, ..)| m.to_string())
            .collect();
        for m in &mut self.model.members {
            if matches!(m.snapshot.state, MemberState::Crashed(_))
                && !unnoticed.contains(&m.snapshot.name)
            {
                m.snapshot.partitions.clear();
            }
        }
    }

    pub(super) fn topic_switched(&mut self, topic: String, partitions: usize) {
        self.status.message = Some(format!("now on topic {topic} ({partitions} partitions)"));
        // The session stopped the processors: they read the topic they started on.
        if std::mem::take(&mut self.model.processors.on) {
            self.model.processors.panes.clear();
            self.status.message = Some(format!(
                "now on topic {topic} ({partitions} partitions); the processors stopped with \
                 the old topic: {} starts them on this one",
                super::keymap::key(super::keymap::Mode::Main, super::keymap::Action::Processors)
            ));
        }
        push_log(
            &mut self.model.producer.log,
            LogLine::Mark(format!("switched to topic {topic}")),
        );
        self.model.cluster.topic = topic;
        self.model.cluster.partitions = partitions;
        self.model.topic = None;
        self.model.produced_before.clear();
        self.model.first_run_on_topic =
            self.model.producer.snapshot.as_ref().map_or(0, |s| s.run) + 1;
        self.model.timeline.new_topic(
            format!("consumers moved to topic {}", self.model.cluster.topic),
            self.model.now,
        );
        self.next_consumer_run(true, None);
    }

    /// Tells the user something in the status bar (for a few seconds) and in the events log.
    pub(super) fn say(&mut self, text: String) {
        self.say_as("", text);
    }

    /// Says `text`; a front end without a screen prints it after `prefix` (`fault: `).
    /// Into the events log, which keeps the last `EVENTS` and counts them all.
    fn event(&mut self, event: (std::time::SystemTime, String)) {
        self.status.events_total += 1;
        push_bounded(&mut self.status.events, event, EVENTS);
    }

    pub(super) fn say_as(&mut self, prefix: &str, mut text: String) {
        hide_secrets(&mut text);
        if let Some(said) = self.status.said.as_mut() {
            said.push(format!("{prefix}{text}"));
        }
        self.event((self.model.now, text.clone()));
        self.status.message = Some(text);
        self.status.message_age = 0;
    }

    fn producer_snapshot(&mut self, mut s: ProducerSnapshot) {
        for text in s.last_error.iter_mut().chain(s.run_ended.iter_mut()) {
            hide_secrets(text);
        }
        if let ProducerState::Error(e) = &mut s.state {
            hide_secrets(e);
        }
        for d in &mut s.latest {
            if let Some(e) = d.error.as_mut() {
                hide_secrets(e);
            }
            if let Some(k) = d.key.as_mut() {
                hide_secrets(k);
            }
        }
        if s.at > self.model.now {
            self.model.now = s.at;
        }
        self.status.message_age += 1;
        if self.status.message_age >= MESSAGE_SHOWN_FOR {
            self.status.message = None;
        }
        let view = &mut self.model.producer;
        let new_run = view.snapshot.as_ref().is_some_and(|old| old.run != s.run);
        // A run's counts only grow: a snapshot without them (the producer stopped, the run
        // over) or behind them (one dropped on a full channel) keeps what was known.
        if let Some(old) = view.snapshot.as_ref().filter(|_| !new_run) {
            for (p, n) in &old.by_partition {
                let count = s.by_partition.entry(*p).or_insert(0);
                *count = (*count).max(*n);
            }
        }
        if new_run {
            // The previous run's last snapshot holds its final counts (if it wrote to this topic).
            let this_topic = view
                .snapshot
                .as_ref()
                .filter(|old| old.run >= self.model.first_run_on_topic);
            for (p, n) in this_topic.iter().flat_map(|old| &old.by_partition) {
                *self.model.produced_before.entry(*p).or_insert(0) += n;
            }
        }
        let started = new_run || (view.snapshot.is_none() && s.run > 0);
        if started {
            push_log(
                &mut view.log,
                LogLine::Mark(format!("run {} started: {}", s.run, s.settings.describe())),
            );
            if s.settings.acks == crate::kafka::settings::Acks::Zero {
                push_log(
                    &mut view.log,
                    LogLine::Mark(
                        "acks=0: the broker does not answer, so no offset: the column shows -"
                            .to_string(),
                    ),
                );
            }
        }
        // The snapshot's own deliveries, then how its run ended (when it did).
        if s.skipped > 0 {
            push_log(&mut view.log, LogLine::Skipped(s.skipped));
        }
        for d in &s.latest {
            push_log(&mut view.log, LogLine::Delivery(d.clone()));
        }
        if let Some(ended) = &s.run_ended {
            push_log(&mut view.log, LogLine::Mark(ended.clone()));
        }
        if s.state == ProducerState::Running {
            push_bounded(
                &mut view.history,
                HistoryPoint {
                    t: s.since_start.as_secs_f64(),
                    run: s.run,
                    per_sec: s.window.per_sec,
                    p99_ms: s.window.latency.p99,
                },
                HISTORY,
            );
        }
        // An error stays until records are delivered again (or it ages out).
        let progress = view
            .snapshot
            .as_ref()
            .is_some_and(|old| old.run == s.run && s.delivered > old.delivered);
        if progress && s.last_error.is_none() {
            view.error = None;
        }
        view.error = age(view.error.take(), s.last_error.clone());
        if let ProducerState::Error(e) = &s.state {
            view.error = Some((e.clone(), 0));
        }
        let error = s
            .last_error
            .as_ref()
            .map(|e| (s.at, format!("producer: {e}")));
        if s.report.is_some() {
            view.last_figures = Some(s.clone());
        }
        if started {
            // The restart is done: the message about it has had its time.
            self.status.message = None;
        }
        view.snapshot = Some(s);
        if let Some(error) = error {
            self.event(error);
        }
    }

    /// The group's ledger totals, as the newest member snapshot has them.
    fn keep_ledger(&mut self, m: &MemberSnapshot) {
        if m.at >= self.model.ledger.0 {
            self.model.ledger = (m.at, super::Ledgered::sum(&m.ledger));
        }
    }

    fn member_snapshot(&mut self, mut m: MemberSnapshot) {
        let fresh = std::mem::take(&mut m.fresh);
        let (id, at_time) = (m.id, m.at);
        self.keep_ledger(&m);
        if let Some(text) = &mut m.last_error {
            hide_secrets(text);
        }
        if let MemberState::Error(e) = &mut m.state {
            hide_secrets(e);
        }
        // Before its assignment is reported: the rebalance the kick made is then known.
        self.note_kick(&m);
        // Only settled assignments count: mid-rebalance a member's list is in flux.
        if matches!(
            m.state,
            MemberState::Assigned | MemberState::Idle | MemberState::Held
        ) {
            if let Some(at) = m.last_rebalance {
                let parts: Vec<i32> = m.partitions.iter().map(|p| p.partition).collect();
                self.model
                    .timeline
                    .report(&m.name, &parts, at, m.last_revoke);
                self.forget_noticed_crashes();
            }
        }
        if let Some(e) = &m.last_error {
            self.event((self.model.now, format!("{}: {e}", m.name)));
        }
        let reprocessed: u64 = m.ledger.values().map(|c| c.reprocessed).sum();
        if reprocessed > 0 && self.model.cluster.embedded && !self.model.said_embedded_repeats {
            self.model.said_embedded_repeats = true;
            self.say(
                "embedded cluster: records read again after a rebalance can be its own doing: its \
                 group coordinator refuses commits while the group rebalances, which a real \
                 broker takes"
                    .to_string(),
            );
        }
        if let Some(view) = self
            .model
            .members
            .iter_mut()
            .find(|v| v.snapshot.id == m.id)
        {
            // Records flowing again mean the member is well: its error goes.
            if m.received > view.snapshot.received && m.last_error.is_none() {
                view.error = None;
            }
            view.error = age(view.error.take(), m.last_error.clone());
            if m.e2e_known() {
                push_bounded(&mut view.e2e_history, m.e2e.p99, E2E_POINTS);
            }
            // Timed by the member's own clock: the screen's moves only with the producer's
            // snapshots, which stop while the producer waits (a full queue, a fault).
            let at = m.at.max(self.model.now);
            view.snapshot = m;
            if let Some(lag) = view.lag() {
                push_lag(&mut view.lag_history, at, lag);
            }
            self.push_group_lag(at);
            self.meter_member(id, &fresh, at_time.max(self.model.now));
        } else {
            let error = m.last_error.clone().map(|e| (e, 0));
            let at = self.model.members.partition_point(|v| v.snapshot.id < m.id);
            let view = MemberView {
                snapshot: m,
                error,
                e2e_history: VecDeque::new(),
                lag_history: VecDeque::new(),
            };
            self.model.members.insert(at, view);
            if let Focus::Member(i) = self.screen.focus {
                if i >= at {
                    self.screen.focus = Focus::Member(i + 1);
                }
            }
            self.meter_member(id, &fresh, at_time);
        }
    }
}

/// What the clients report can carry librdkafka's words and a server's: they can echo a
/// secret, or hold an escape sequence. The screen, the events log and the exports get neither.
fn hide_secrets(text: &mut String) {
    let clean = crate::text::escape(&crate::text::secrets::scrub(text)).into_owned();
    if clean != *text {
        *text = clean;
    }
}
