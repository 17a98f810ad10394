//! What librdkafka calls back on the producer: delivery reports (folded into the totals,
//! the ledger and the live view under one lock), statistics and client errors.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::Message;

use super::reports::{Delivery, Reports, Ring};
use crate::kafka::cluster::ErrorLatch;
use crate::kafka::statistics::{Brief, Window};
use crate::kafka::verify::Ledger;
use crate::stats::{BatchStats, Interval, RunTotals, StageWindow};

/// Everything the delivery reports change, under one lock.
#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) totals: RunTotals,
    /// The latest report's `clock` reading (0: none yet).
    pub(super) last_report: u64,
    /// The first send's `clock` reading (0: none yet).
    pub(super) first_send: u64,
    /// The send of the first record after the warm-up (0: none, or no warm-up).
    pub(super) measure_from: u64,
    pub(super) ledger: Ledger,
    pub(super) interval: Interval,
    pub(super) ring: Ring,
    pub(super) batches: BatchStats,
}

pub struct DeliveryContext {
    pub(super) topic: String,
    /// The clock send times and report times are read on: the CPU's counter where it is
    /// steady (a few nanoseconds a read, twice a record), the monotonic clock otherwise.
    pub(super) clock: quanta::Clock,
    /// A moment on both clocks, to turn a counter reading into an `Instant`.
    pub(super) epoch: (Instant, u64),
    /// The send time of record `seq` (a `clock` reading) at `seq % stamps.len()`.
    /// librdkafka holds at most `queue.buffering.max.messages` records until their report is
    /// served, so a slot is never reused before its record's report.
    pub(super) stamps: Box<[AtomicU64]>,
    /// For paced runs: when record `seq` was due (nanoseconds after `epoch`), at the same
    /// slot as its send time; made on the first paced send.
    pub(super) intended: std::sync::OnceLock<Box<[AtomicU64]>>,
    pub(super) sent: AtomicU64,
    /// Records `seq` below this are the warm-up: delivered and counted, but left out of the
    /// latency and the rate (0: none).
    pub(super) warmup: AtomicU64,
    /// Delivery reports handled: tells a paced wait whether a poll found anything.
    pub(super) served: AtomicU64,
    pub(super) state: Mutex<State>,
    /// Keep the ledger (for a read-back of tagged records).
    pub(super) ledger: bool,
    pub(super) reports: Reports,
    pub errors: ErrorLatch,
}

impl ClientContext for DeliveryContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.errors.set(&error, reason);
    }

    /// Parsed for its few figures only: a client's statistics list every partition.
    fn stats_raw(&self, json: &[u8]) {
        let Some(statistics) = Brief::parse(json) else {
            return;
        };
        let mut state = self.state.lock().unwrap();
        let batches = &mut state.batches;
        if let Some(t) = statistics.topics.get(&self.topic) {
            batches.add_window(t.batchcnt.sum, t.batchsize.sum, t.batchcnt.cnt);
        }
        batches.requests(Instant::now(), statistics.requests("Produce"));
        batches.retries = Some(statistics.brokers.values().map(|b| b.txretries).sum());
        let window = |w: Option<Window>| {
            w.map_or_else(StageWindow::default, |w| StageWindow {
                sum: w.sum,
                cnt: w.cnt,
                p50: w.p50,
                p99: w.p99,
            })
        };
        let stages: Vec<[StageWindow; 3]> = statistics
            .brokers
            .values()
            .map(|b| {
                [
                    window(b.int_latency),
                    window(b.outbuf_latency),
                    window(b.rtt),
                ]
            })
            .collect();
        batches.add_stages(&stages);
    }
}

impl DeliveryContext {
    /// From when record `seq` was due to `now` (a `clock` reading), for a paced send.
    pub(super) fn since_due(&self, seq: u64, now: u64) -> Option<Duration> {
        let slots = self.intended.get()?;
        let due = slots[(seq % slots.len() as u64) as usize].load(Ordering::Relaxed);
        (due != 0).then(|| {
            let due = self.epoch.0 + Duration::from_nanos(due);
            self.instant(now)
                .map_or(Duration::ZERO, |at| at.saturating_duration_since(due))
        })
    }

    /// A `clock` reading as an `Instant`; None for 0 (not read yet).
    pub(super) fn instant(&self, raw: u64) -> Option<Instant> {
        let (at, raw_at) = self.epoch;
        (raw != 0).then(|| at + self.clock.delta(raw_at, raw))
    }

    /// The totals with the count sent and the first and last times filled in.
    pub(super) fn totals(&self, state: &State) -> RunTotals {
        let mut totals = state.totals.clone();
        self.fill_in(state, &mut totals);
        totals
    }

    /// [`DeliveryContext::totals`] into `out`, in the memory it has.
    pub(super) fn totals_into(&self, state: &State, out: &mut RunTotals) {
        out.copy_from(&state.totals);
        self.fill_in(state, out);
    }

    fn fill_in(&self, state: &State, totals: &mut RunTotals) {
        totals.sent = self.sent.load(Ordering::Relaxed);
        totals.first_send = self.instant(state.first_send);
        totals.last_report = self.instant(state.last_report);
        totals.measure_from = self.instant(state.measure_from);
    }
}

/// A purged record never got an answer: it is undelivered, not failed.
pub(super) fn purged(e: &KafkaError) -> Option<bool> {
    match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::PurgeQueue) => Some(false),
        Some(RDKafkaErrorCode::PurgeInflight) => Some(true),
        _ => None,
    }
}

/// One delivery report: what librdkafka said of record `seq`.
pub(super) struct Report<'a> {
    pub(super) seq: u64,
    pub(super) partition: i32,
    /// Negative when the broker gave none.
    pub(super) offset: i64,
    pub(super) key: Option<&'a [u8]>,
    pub(super) bytes: usize,
    pub(super) error: Option<KafkaError>,
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = usize;

    /// Reports served by the client's own poll (its flush); the sending loop serves them
    /// through [`super::ffi::MainQueue`].
    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let (message, error) = match result {
            Ok(m) => (m, None),
            Err((e, m)) => (m, Some(e.clone())),
        };
        self.report(Report {
            seq: seq as u64,
            partition: message.partition(),
            offset: message.offset(),
            key: message.key(),
            bytes: message.payload_len(),
            error,
        });
    }
}

impl DeliveryContext {
    /// One delivery report, into the totals, the ledger and where reports go.
    pub(super) fn report(&self, report: Report<'_>) {
        let now = self.clock.raw();
        let mut state = self.state.lock().unwrap();
        self.report_at(&mut state, now, report);
        drop(state);
        self.add_served(1);
    }

    /// The reports of one delivery event (a batch), which arrived together: one clock reading
    /// and one lock for all of them. With [`Reports::Every`], whose sends wait for a reader,
    /// the lock is taken per report, so that other threads can read the totals meanwhile.
    pub(super) fn report_event<'a>(&self, mut next: impl FnMut() -> Option<Report<'a>>) {
        if matches!(self.reports, Reports::Every(_)) {
            while let Some(report) = next() {
                self.report(report);
            }
            return;
        }
        let now = self.clock.raw();
        let mut state = self.state.lock().unwrap();
        let mut n = 0;
        while let Some(report) = next() {
            self.report_at(&mut state, now, report);
            n += 1;
        }
        drop(state);
        self.add_served(n);
    }

    /// Reports are served on one thread at a time: a plain store, not a locked add.
    fn add_served(&self, n: u64) {
        let served = self.served.load(Ordering::Relaxed);
        self.served.store(served + n, Ordering::Relaxed);
    }

    fn report_at(&self, state: &mut State, now: u64, report: Report<'_>) {
        let Report {
            seq,
            partition,
            offset,
            key,
            bytes,
            error,
        } = report;
        let error = error.as_ref();
        let sent = self.stamps[(seq % self.stamps.len() as u64) as usize].load(Ordering::Relaxed);
        let latency = self.clock.delta(sent, now);
        let offset = Some(offset).filter(|o| *o >= 0);
        let bytes = bytes as u64;
        state.last_report = now;
        let totals = &mut state.totals;
        match error {
            None => {
                if self.ledger {
                    state.ledger.acknowledged(seq, partition, offset);
                }
                totals.delivered += 1;
                match totals.by_partition.get_mut(&partition) {
                    Some(n) => *n += 1,
                    None => {
                        totals.by_partition.insert(partition, 1);
                    }
                }
                totals.delivered_bytes += bytes;
                if seq < self.warmup.load(Ordering::Relaxed) {
                    totals.warmup_delivered += 1;
                    totals.warmup_bytes += bytes;
                } else {
                    totals.latency.record(latency);
                    if let Some(from_due) = self.since_due(seq, now) {
                        totals.latency_intended.record(from_due);
                    }
                }
                // Only a live view takes intervals.
                if matches!(self.reports, Reports::Latest(_)) {
                    state.interval.count += 1;
                    state.interval.bytes += bytes;
                    state.interval.latency.record(latency);
                }
            }
            Some(e) => {
                if let Some(in_flight) = purged(e) {
                    totals.undelivered += 1;
                    totals.undelivered_in_flight += u64::from(in_flight);
                } else {
                    if self.ledger {
                        state.ledger.failed(seq);
                    }
                    totals.failed += 1;
                    let text = e.to_string();
                    match totals.errors.get_mut(&text) {
                        Some(n) => *n += 1,
                        None => {
                            totals.errors.insert(text, 1);
                        }
                    }
                }
            }
        }
        let key_text = || key.map(|k| String::from_utf8_lossy(k).into_owned());
        match &self.reports {
            Reports::None => {}
            Reports::Latest(keep) => {
                let slot = state.ring.slot(*keep);
                slot.at = now;
                slot.seq = seq;
                // Reuses the slot's buffer: no allocation once the ring is warm.
                match (key, &mut slot.key) {
                    (Some(k), Some(b)) => {
                        b.clear();
                        b.extend_from_slice(k);
                    }
                    (k, b) => *b = k.map(<[u8]>::to_vec),
                }
                slot.partition = partition;
                slot.offset = offset;
                slot.latency = latency;
                slot.error = error.map(ToString::to_string);
            }
            // Blocks when the reader falls behind: back-pressure rather than loss.
            Reports::Every(reports) => {
                let delivery = Delivery {
                    at: SystemTime::now(),
                    seq,
                    key: key_text(),
                    partition,
                    offset,
                    latency,
                    error: error.map(ToString::to_string),
                };
                let _ = reports.send(delivery);
            }
        }
    }
}
