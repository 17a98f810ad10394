//! The member's loop: read a batch, work on it as its commit mode says, report each tick.
//!
//! Per record only what each record needs: the offset stored (when the member commits
//! itself), the ledger's entry, the counts, the sink when open, the latency. The clock is read
//! once per poll, and the latest records are held as librdkafka gave them and copied only
//! when reported: nothing here slows the producer it shares the machine with.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::BorrowedMessage;
use rdkafka::Message;
use tokio::sync::mpsc::Sender;

use super::report::{
    apply, end_to_end, lags, recent, AskedMarks, Unsent, WallClock, ASK_AFTER_RESUME,
};
use super::{Controls, LATEST};
use commits::commit_due;

mod commits;
use crate::data::sink::{RecordJson, SharedSink};
use crate::kafka::consumer::{timestamp, GroupEvent, LabConsumer};
use crate::kafka::verify::AbortedMarks;
use crate::lab::actors::TICK;
use crate::lab::ledger::SharedLedger;
use crate::lab::protocol::KafkaEvent;
use crate::lab::settings::{Commit, Isolation};
use crate::lab::snapshots::{Fresh, MemberSnapshot, MemberState};
use crate::stats::{Interval, Window};

/// Records taken from librdkafka at once before the work on them begins (what it has fetched
/// already: no wait for more).
const BATCH: usize = 500;
/// A member that commits after its work commits at most this often (and when it loses
/// partitions, and when it leaves).
const COMMIT_EVERY: Duration = Duration::from_millis(250);
/// How long a member waits for its group's committed offsets after an assignment.
const COMMITTED_WAIT: Duration = Duration::from_secs(2);

pub(super) struct Member {
    pub(super) m: MemberSnapshot,
    pub(super) controls: Arc<Controls>,
    pub(super) topic: String,
    pub(super) events: Sender<KafkaEvent>,
    sink: SharedSink,
    ledger: SharedLedger,
    marks: AbortedMarks,
    /// Partitions this member has read since their last assignment: the first record of a
    /// partition after an assignment tells the ledger where it starts.
    started: BTreeMap<i32, i64>,
    /// The next offset to work on in each partition, past the last record done: the lag is
    /// counted from it, not from what librdkafka has handed over (a batch being worked on is
    /// still behind).
    next: BTreeMap<i32, i64>,
    /// `auto.offset.reset` is earliest: without a committed offset the member starts at the
    /// log's start.
    pub(super) from_earliest: bool,
    /// What the lab has not heard yet: work since the last snapshot that reached it.
    unsent: Unsent,
}

/// What the loop carries from one record to the next.
struct Pace {
    window: Window,
    interval: Interval,
    last_tick: Instant,
    clock: WallClock,
    /// Offsets stored since the last commit (after: its records were worked on).
    uncommitted: bool,
    last_commit: Instant,
}

impl Member {
    pub(super) fn new(
        m: MemberSnapshot,
        controls: Arc<Controls>,
        topic: String,
        events: Sender<KafkaEvent>,
        sink: SharedSink,
        ledger: SharedLedger,
        marks: AbortedMarks,
    ) -> Member {
        Member {
            m,
            controls,
            topic,
            events,
            sink,
            ledger,
            marks,
            started: BTreeMap::new(),
            next: BTreeMap::new(),
            from_earliest: false,
            unsent: Unsent::default(),
        }
    }

    /// The member's snapshot as it stops in `state`: its final counts and the group's ledger.
    pub(super) fn last_word(&mut self, state: MemberState) -> MemberSnapshot {
        self.m.state = state;
        self.m.per_sec = 0.0;
        self.m.ledger = self.ledger.lock().unwrap().members().clone();
        self.m.at = SystemTime::now();
        self.m.fresh = self.unsent.fresh(None);
        let last = self.m.clone();
        self.unsent.told(None);
        self.m.fresh = Fresh::default();
        last
    }

    fn ended(&self) -> bool {
        self.controls.stop.raised() || self.controls.crash.load(Ordering::Relaxed)
    }

    /// Receives records until asked to leave or crash; reports every tick. A held member's
    /// partitions are not fetched, so their cached high watermarks stand still: a second
    /// thread asks the leaders meanwhile (and for a few seconds after), without stalling this
    /// one.
    pub(super) fn consume(&mut self, consumer: &LabConsumer, group_events: &Receiver<GroupEvent>) {
        let asked = AskedMarks::default();
        let topic = self.topic.clone();
        std::thread::scope(|scope| {
            scope.spawn(|| asked.run(consumer, &topic));
            self.read(consumer, group_events, &asked);
            asked.done.store(true, Ordering::Relaxed);
        });
    }

    /// The loop of [`Member::consume`].
    fn read(
        &mut self,
        consumer: &LabConsumer,
        group_events: &Receiver<GroupEvent>,
        asked: &AskedMarks,
    ) {
        let mut latest: VecDeque<BorrowedMessage<'_>> = VecDeque::with_capacity(LATEST + 1);
        let mut pace = Pace {
            window: Window::new(20),
            interval: Interval::default(),
            last_tick: Instant::now(),
            clock: WallClock::now(),
            uncommitted: false,
            last_commit: Instant::now(),
        };
        let mut was_held = false;
        // When the member was resumed: its partitions are asked for a little longer.
        let mut resumed: Option<Instant> = None;
        let mut batch: Vec<BorrowedMessage<'_>> = Vec::with_capacity(BATCH);
        let mut was_slow = false;
        while !self.ended() {
            let held = self.controls.held.load(Ordering::Relaxed);
            if held != was_held {
                let _ = consumer.hold(held);
                was_held = held;
                asked.active.store(true, Ordering::Relaxed);
                resumed = (!held).then(Instant::now);
            }
            // A member slower than the producer stops fetching once librdkafka's queue is
            // full, and its cached high watermarks stand still: they are asked meanwhile.
            let slow = !self.controls.work().is_zero();
            if slow != was_slow {
                was_slow = slow;
                if slow {
                    asked.active.store(true, Ordering::Relaxed);
                } else {
                    resumed = Some(Instant::now());
                }
            }
            let now = Instant::now();
            let wait = (pace.last_tick + TICK).saturating_duration_since(now);
            let assigned = self.take_batch(
                consumer,
                &mut batch,
                group_events,
                wait.min(Duration::from_millis(50)),
            );
            // Partitions a rebalance assigned meanwhile are held at once, before their first
            // fetch.
            if held && (assigned || !batch.is_empty()) {
                let _ = consumer.hold(true);
            }
            if !batch.is_empty() {
                self.work_on(
                    consumer,
                    &mut batch,
                    &mut latest,
                    &mut pace,
                    group_events,
                    asked,
                );
            }
            if pace.last_tick.elapsed() >= TICK {
                self.tick(consumer, group_events, asked, &latest, &mut pace, true);
                if resumed.is_some_and(|at| at.elapsed() > ASK_AFTER_RESUME) {
                    resumed = None;
                    if !held && !slow {
                        asked.stop();
                    }
                }
            }
        }
        // A polite leave commits what was worked on; a crash commits nothing.
        if !self.controls.crash.load(Ordering::Relaxed) && pace.uncommitted {
            let _ = consumer.commit();
        }
    }

    /// Takes what librdkafka has ready, up to a batch, waiting up to `wait` for the first. A
    /// rebalance ends the batch: what it changed is settled before any record after it is
    /// worked on. True when partitions were assigned.
    fn take_batch<'c>(
        &mut self,
        consumer: &'c LabConsumer,
        batch: &mut Vec<BorrowedMessage<'c>>,
        group_events: &Receiver<GroupEvent>,
        wait: Duration,
    ) -> bool {
        let mut timeout = wait;
        while batch.len() < BATCH {
            let polled = consumer.poll(timeout);
            let mut rebalanced = false;
            let mut assigned = false;
            for event in group_events.try_iter() {
                rebalanced |= !matches!(event, GroupEvent::Error(_));
                assigned |= self.group_event(consumer, event);
            }
            if rebalanced {
                match polled {
                    Some(Ok(r)) => batch.push(r),
                    Some(Err(e)) => self.m.last_error = Some(e.to_string()),
                    None => {}
                }
                return assigned;
            }
            match polled {
                Some(Ok(r)) => batch.push(r),
                Some(Err(KafkaError::MessageConsumption(RDKafkaErrorCode::PollExceeded))) => {
                    // Said by the client's error callback too (a kick, counted there): it
                    // rejoins at this poll, as an application that keeps polling does.
                }
                Some(Err(e)) => self.m.last_error = Some(e.to_string()),
                None => break,
            }
            timeout = Duration::ZERO;
        }
        false
    }

    /// Works on `batch` as the commit mode says: `before` commits it first (a crash loses
    /// what was not yet worked on), `after` stores each offset once its record is done (a
    /// crash repeats what was not yet committed), `auto` leaves it to librdkafka (which
    /// stored each offset as it handed the record over).
    fn work_on<'c>(
        &mut self,
        consumer: &'c LabConsumer,
        batch: &mut Vec<BorrowedMessage<'c>>,
        latest: &mut VecDeque<BorrowedMessage<'c>>,
        pace: &mut Pace,
        group_events: &Receiver<GroupEvent>,
        asked: &AskedMarks,
    ) {
        let commit = self.controls.commit();
        if commit == Commit::Before {
            let read: Vec<(i32, i64)> = batch.iter().map(|r| (r.partition(), r.offset())).collect();
            if let Err(e) = consumer.commit_read(&self.topic, &read) {
                // At most once: what could not be committed is not worked on. It is read
                // again, here or by the partition's next owner, and committed first then.
                self.m.last_error = Some(format!(
                    "commit before the work refused ({e}): the batch is read again, not worked on"
                ));
                batch.clear();
                consumer.read_again(&self.topic, &read);
                // A refusal that lasts is not retried in a busy loop.
                self.work(Duration::from_millis(100));
                return;
            }
        }
        for r in batch.drain(..) {
            if self.controls.crash.load(Ordering::Relaxed) {
                // Mid-batch: the rest is never worked on.
                return;
            }
            let work = self.controls.work();
            if !work.is_zero() {
                self.work(work);
                if self.controls.crash.load(Ordering::Relaxed) {
                    return;
                }
            }
            self.finish(&r);
            if commit == Commit::After {
                let _ = consumer.done(&r);
                pace.uncommitted = true;
            }
            let now = Instant::now();
            pace.interval.count += 1;
            if let (Some(created), "create") = timestamp(&r) {
                pace.interval
                    .latency
                    .record(end_to_end(created, pace.clock.at(now)));
            }
            if latest.len() == LATEST {
                latest.pop_front();
            }
            latest.push_back(r);
            // A long batch of work still reports on time.
            if now - pace.last_tick >= TICK {
                self.tick(consumer, group_events, asked, latest, pace, false);
            }
        }
        commit_due(consumer, commit, pace);
    }

    /// Simulated processing: sleeps `work`, waking for a crash or a leave.
    fn work(&self, work: Duration) {
        let end = Instant::now() + work;
        while !self.ended() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    /// The record is done: in the counts, the sink, the ledger.
    fn finish(&mut self, r: &BorrowedMessage<'_>) {
        self.m.received += 1;
        self.m.aborted_seen += u64::from(self.marks.of_message(r));
        self.m.counts.add(r.payload());
        if let Some(s) = self.sink.lock().unwrap().as_mut() {
            if let Err(e) = s.write(&RecordJson::of_message(r)) {
                self.m.last_error = Some(format!("sink {}: {e}", s.path().display()));
            }
        }
        let (partition, offset) = (r.partition(), r.offset());
        let mut ledger = self.ledger.lock().unwrap();
        if let std::collections::btree_map::Entry::Vacant(e) = self.started.entry(partition) {
            e.insert(offset);
            ledger.start(self.m.id, &self.topic, partition, offset);
        }
        ledger.finish(self.m.id, &self.topic, partition, offset);
        let next = self.next.entry(partition).or_insert(offset + 1);
        *next = (*next).max(offset + 1);
    }

    /// Settles a rebalance: a fresh assignment starts where the group committed. True when
    /// partitions were assigned.
    fn group_event(&mut self, consumer: &LabConsumer, event: GroupEvent) -> bool {
        let mut assigned = false;
        // Only the partitions named change hands: a cooperative rebalance keeps the rest.
        match &event {
            GroupEvent::Assigned(partitions) => {
                self.forget(partitions);
                // Asked before any record is worked on (and before this member commits).
                self.start_from_commits(consumer, partitions);
                assigned = true;
            }
            GroupEvent::Revoked(partitions) => self.forget(partitions),
            GroupEvent::Kicked(_) => {
                self.unsent.kicks += 1;
                // Out of the group: what it had is the group's again.
                self.started.clear();
                self.next.clear();
            }
            GroupEvent::Error(_) => {}
        }
        apply(&mut self.m, event);
        assigned
    }

    /// Where the member stands in `partitions` no longer holds.
    fn forget(&mut self, partitions: &[i32]) {
        for p in partitions {
            self.started.remove(p);
            self.next.remove(p);
        }
    }

    /// Reports the member four times a second. `settled`: every record handed over was worked
    /// on (not mid-batch).
    fn tick(
        &mut self,
        consumer: &LabConsumer,
        group_events: &Receiver<GroupEvent>,
        asked: &AskedMarks,
        latest: &VecDeque<BorrowedMessage<'_>>,
        pace: &mut Pace,
        settled: bool,
    ) {
        let now = Instant::now();
        for event in group_events.try_iter() {
            self.group_event(consumer, event);
        }
        // A member with nothing new to read still commits what it finished.
        commit_due(consumer, self.controls.commit(), pace);
        if let Some(s) = self.sink.lock().unwrap().as_mut() {
            let _ = s.flush_if_due();
        }
        let held = self.controls.held.load(Ordering::Relaxed);
        pace.interval.duration = now - pace.last_tick;
        pace.last_tick = now;
        pace.clock = WallClock::now();
        self.unsent.records += pace.interval.count;
        self.unsent.e2e.add(&pace.interval.latency);
        pace.interval = pace.window.push(std::mem::take(&mut pace.interval));
        let figures = pace.window.figures();
        let m = &mut self.m;
        m.per_sec = figures.per_sec;
        m.e2e = figures.latency;
        let transactions = self.controls.transactions.load(Ordering::Relaxed);
        asked.want_stable(transactions && m.isolation == Isolation::ReadCommitted);
        m.partitions = lags(consumer, &self.topic, asked);
        for p in &mut self.m.partitions {
            let worked = self
                .next
                .get(&p.partition)
                .or(self.started.get(&p.partition));
            // With nothing handed over left to work on, librdkafka's position is past what
            // no record stands for (transaction markers, aborted records a read_committed
            // member skips): there the member's position is that.
            p.position = if settled {
                worked.copied().max(p.position)
            } else {
                worked.copied()
            };
            // A high watermark below what the member has read is a stale one: unknown.
            if p.high_watermark < p.position {
                p.high_watermark = None;
            }
            // Read up to its position, the stable offset is at least there: an older answer.
            p.stable = p.stable.map(|st| st.max(p.position.unwrap_or(st)));
        }
        let m = &mut self.m;
        m.commit = self.controls.commit();
        m.work = self.controls.work();
        m.ledger = self.ledger.lock().unwrap().members().clone();
        // Cooperative rebalances assign increments: the assignment itself says idle.
        if matches!(
            m.state,
            MemberState::Assigned | MemberState::Idle | MemberState::Held
        ) {
            m.state = if held {
                MemberState::Held
            } else if m.partitions.is_empty() {
                MemberState::Idle
            } else {
                MemberState::Assigned
            };
        }
        // Oldest first; values cut to what a pane shows.
        m.latest = recent(latest, &self.marks);
        if let Some(e) = consumer.take_error() {
            m.last_error = Some(e);
        }
        m.at = pace.clock.at(Instant::now());
        let fetches = consumer.fetch_requests();
        m.fresh = self.unsent.fresh(fetches);
        // A snapshot the channel had no room for is carried by the next one.
        if self
            .events
            .try_send(KafkaEvent::Member(Box::new(m.clone())))
            .is_ok()
        {
            self.unsent.told(fetches);
        }
        let m = &mut self.m;
        m.fresh = Fresh::default();
        // An error is news once: the screen keeps it until the member is well again.
        m.last_error = None;
    }
}
