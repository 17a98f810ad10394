//! The producer: sends brewery records, measures each delivery, and hands reports out.
//!
//! Built for the hot path: a record costs what librdkafka itself needs (the record, its two
//! headers) and no more. The delivery opaque is the record's sequence number; its send time
//! waits in a ring indexed by that number. Delivery reports are served by the thread that
//! sends, whenever it polls: every few sends, while it waits for the next record to be due
//! ([`LabProducer::serve`]) and while librdkafka's queue is full. They are folded into
//! [`RunTotals`] under one uncontended lock; a caller that wants every report (the `produce`
//! subcommand prints one line each) passes a bounded channel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, Producer, PurgeConfig};

use crate::config::ClientSettings;
use crate::kafka::cluster::ErrorLatch;
use crate::kafka::verify::{AbortedMarks, Ledger, RUN_HEADER, SEQ_HEADER};
use crate::stats::{BatchStats, RunTotals};

mod context;
mod ffi;
mod readings;
mod reports;
mod transactions;

use context::{DeliveryContext, State};
use ffi::{decimal, MainQueue, RawHeaders, TopicHandle};
pub use reports::{Delivery, Live, Reports};
pub use transactions::{
    refused_because, transactional_id_said, with_transactional_id, without_transactional_id,
    Transactions, TxnPlan, GIVEN_ID_TXN_RECORDS, TXN_TIMEOUT,
};

/// Sends between two looks for delivery reports.
const POLL_EVERY: u32 = 64;
/// The most send-time slots kept: `queue.buffering.max.messages` is held to this.
const MAX_QUEUED: usize = 1 << 22;

pub struct LabProducer {
    /// librdkafka's handle of the topic, made once: sending by name would look the topic up
    /// and copy its name for every record. Declared first: fields drop in order, and the
    /// handle must be released before the client it belongs to is destroyed.
    rkt: TopicHandle,
    /// Where this producer's reports are served from; released before the client too.
    events: MainQueue,
    inner: BaseProducer<DeliveryContext>,
    topic: String,
    /// Tags every record of this producer (header `kafka-lab-run`), so that a read-back can
    /// tell its records from others'.
    run_tag: String,
    /// Records carry the run tag and sequence headers, for a read-back.
    tagged: bool,
    /// Where records of aborted transactions are marked for readers, if anyone reads them.
    marks: Option<AbortedMarks>,
    /// Sends since the last poll.
    unpolled: std::cell::Cell<u32>,
}

/// Reads a producer's counts and errors from another thread.
#[derive(Clone)]
pub struct ProducerWatch(std::sync::Arc<DeliveryContext>);

impl ProducerWatch {
    pub fn totals(&self) -> RunTotals {
        self.0.totals(&self.0.state.lock().unwrap())
    }

    pub fn last_error(&self) -> Option<String> {
        self.0.errors.latest_aged().map(|(reason, _)| reason)
    }

    /// Records are waiting and no report came for `quiet`: say so, with the cluster's last
    /// word. None while reports flow.
    pub fn stalled(&self, quiet: Duration) -> Option<String> {
        let t = self.totals();
        let last = t.last_report.or(t.first_send)?;
        if t.in_flight() == 0 || last.elapsed() < quiet {
            return None;
        }
        Some(format!(
            "no delivery report for {} s; {} records are waiting{}",
            last.elapsed().as_secs(),
            t.in_flight(),
            self.last_error()
                .map(|e| format!("; the cluster's last error: {e}"))
                .unwrap_or_default()
        ))
    }
}

/// How a run's producer ended.
#[derive(Debug, Clone, Default)]
pub struct Closed {
    pub totals: RunTotals,
    pub ledger: Ledger,
    pub batches: BatchStats,
}

impl LabProducer {
    /// A producer whose records carry the run tag and sequence headers, so that a read-back
    /// can account for every one.
    pub fn new(
        settings: &ClientSettings,
        topic: &str,
        reports: Reports,
    ) -> Result<LabProducer, KafkaError> {
        Self::create(settings, topic, reports, true)
    }

    /// A producer whose records carry no headers: nothing to read back, nothing extra sent.
    pub fn untagged(
        settings: &ClientSettings,
        topic: &str,
        reports: Reports,
    ) -> Result<LabProducer, KafkaError> {
        Self::create(settings, topic, reports, false)
    }

    fn create(
        settings: &ClientSettings,
        topic: &str,
        reports: Reports,
        tagged: bool,
    ) -> Result<LabProducer, KafkaError> {
        let mut config = settings.client_config();
        if settings.get("statistics.interval.ms").is_none() {
            // Batch sizes and request rates come from librdkafka's statistics.
            config.set("statistics.interval.ms", "100");
        }
        let queued = config
            .create_native_config()
            .ok()
            .and_then(|n| n.get("queue.buffering.max.messages").ok())
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(100_000);
        if queued > MAX_QUEUED {
            config.set("queue.buffering.max.messages", MAX_QUEUED.to_string());
        }
        let slots = queued.clamp(1, MAX_QUEUED);
        let clock = quanta::Clock::new();
        let context = DeliveryContext {
            topic: topic.to_string(),
            epoch: (Instant::now(), clock.raw()),
            clock,
            stamps: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            intended: std::sync::OnceLock::new(),
            sent: AtomicU64::new(0),
            warmup: AtomicU64::new(0),
            served: AtomicU64::new(0),
            state: Mutex::new(State::default()),
            ledger: tagged,
            reports,
            errors: ErrorLatch::default(),
        };
        let inner: BaseProducer<DeliveryContext> = config.create_with_context(context)?;
        let rkt = TopicHandle::new(&inner, topic)?;
        let events = MainQueue::new(&inner);
        let run_tag = format!(
            "{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        );
        Ok(LabProducer {
            inner,
            rkt,
            events,
            topic: topic.to_string(),
            run_tag,
            tagged,
            marks: None,
            unpolled: std::cell::Cell::new(0),
        })
    }

    fn context(&self) -> &DeliveryContext {
        self.inner.context()
    }

    /// A handle another thread can read the counts and errors through.
    pub fn watch(&self) -> ProducerWatch {
        ProducerWatch(self.inner.client().context().clone())
    }

    /// Records `seq` below `records` are the run's warm-up: delivered and counted, left out of
    /// its latency and rate. Set before the first send.
    pub fn set_warmup(&self, records: u64) {
        self.context().warmup.store(records, Ordering::Relaxed);
    }

    /// Queues one record of a paced run that was due at `due`: its latency is also measured
    /// from then (as if the producer had kept up), which counts the wait of a record held up
    /// by the ones before it: no coordinated omission.
    pub fn send_due(
        &self,
        seq: u64,
        key: Option<&[u8]>,
        payload: &[u8],
        due: Option<Instant>,
    ) -> Result<(), KafkaError> {
        // The due time as nanoseconds after the epoch; 0 means "not paced", so a record due
        // at the epoch itself counts from 1 ns.
        let due = due.map(|due| {
            let after = due
                .saturating_duration_since(self.context().epoch.0)
                .as_nanos();
            u64::try_from(after).unwrap_or(u64::MAX).max(1)
        });
        self.queue(seq, key, payload, due)
    }

    /// Queues one record; while librdkafka's queue is full, serves delivery reports until
    /// there is room.
    pub fn send(&self, seq: u64, key: Option<&[u8]>, payload: &[u8]) -> Result<(), KafkaError> {
        self.queue(seq, key, payload, None)
    }

    fn queue(
        &self,
        seq: u64,
        key: Option<&[u8]>,
        payload: &[u8],
        due: Option<u64>,
    ) -> Result<(), KafkaError> {
        let mut digits = [0u8; 20];
        let mut headers = self.tagged.then(|| {
            RawHeaders::new(&[
                (RUN_HEADER, self.run_tag.as_bytes()),
                (SEQ_HEADER, decimal(seq, &mut digits)),
            ])
        });
        let context = self.context();
        let at = (seq % context.stamps.len() as u64) as usize;
        let slot = &context.stamps[at];
        // The stamps are stored once librdkafka has taken the record: while its queue is full,
        // the slot still belongs to the record `stamps.len()` before this one, whose report
        // may be served meanwhile. Reports are served on this thread only, so none for this
        // record can come before the stores.
        let sent_at = loop {
            let now = context.clock.raw();
            match self.produce(seq, key, payload, &mut headers) {
                RDKafkaErrorCode::NoError => break now,
                // Room comes with reports: serve them, napping between looks (a poll with a
                // timeout would spin through its last millisecond, taking a core from the
                // brokers while the queue is full, which at full speed is most of the time).
                RDKafkaErrorCode::QueueFull => self.serve(Duration::from_micros(200)),
                e => return Err(KafkaError::MessageProduction(e)),
            }
        };
        slot.store(sent_at, Ordering::Relaxed);
        if let Some(due) = due {
            let slots = context.intended.get_or_init(|| {
                (0..context.stamps.len())
                    .map(|_| AtomicU64::new(0))
                    .collect()
            });
            slots[at].store(due, Ordering::Relaxed);
        }
        // Records are sent from one thread at a time: a plain store, not a locked add.
        let sent = context.sent.load(Ordering::Relaxed);
        context.sent.store(sent + 1, Ordering::Relaxed);
        if sent == 0 {
            context.state.lock().unwrap().first_send = slot.load(Ordering::Relaxed);
        }
        if seq > 0 && seq == context.warmup.load(Ordering::Relaxed) {
            context.state.lock().unwrap().measure_from = slot.load(Ordering::Relaxed);
        }
        let unpolled = self.unpolled.get() + 1;
        if unpolled >= POLL_EVERY {
            self.events.serve_one(context, 0);
            self.unpolled.set(0);
        } else {
            self.unpolled.set(unpolled);
        }
        Ok(())
    }

    /// One `rd_kafka_producev` with the topic handle; on success librdkafka owns the headers.
    fn produce(
        &self,
        seq: u64,
        key: Option<&[u8]>,
        payload: &[u8],
        headers: &mut Option<RawHeaders>,
    ) -> RDKafkaErrorCode {
        use rdkafka_sys::rd_kafka_vtype_t::{
            RD_KAFKA_VTYPE_END, RD_KAFKA_VTYPE_HEADERS, RD_KAFKA_VTYPE_KEY,
            RD_KAFKA_VTYPE_MSGFLAGS, RD_KAFKA_VTYPE_OPAQUE, RD_KAFKA_VTYPE_PARTITION,
            RD_KAFKA_VTYPE_RKT, RD_KAFKA_VTYPE_VALUE,
        };
        let (key_ptr, key_len) = key.map_or((std::ptr::null(), 0), |k| (k.as_ptr(), k.len()));
        let headers_ptr = headers.as_ref().map_or(std::ptr::null_mut(), |h| h.0);
        // SAFETY: a live producer and topic handle; librdkafka copies the key and value
        // (MSG_F_COPY) before returning, and takes the headers only when it succeeds (then
        // they are forgotten here). The opaque is a number, never dereferenced.
        let err = unsafe {
            rdkafka_sys::rd_kafka_producev(
                self.inner.client().native_ptr(),
                RD_KAFKA_VTYPE_RKT,
                self.rkt.0,
                RD_KAFKA_VTYPE_PARTITION,
                -1i32,
                RD_KAFKA_VTYPE_MSGFLAGS,
                rdkafka_sys::RD_KAFKA_MSG_F_COPY,
                RD_KAFKA_VTYPE_VALUE,
                payload.as_ptr(),
                payload.len(),
                RD_KAFKA_VTYPE_KEY,
                key_ptr,
                key_len,
                RD_KAFKA_VTYPE_OPAQUE,
                seq as usize as *mut std::ffi::c_void,
                RD_KAFKA_VTYPE_HEADERS,
                headers_ptr,
                RD_KAFKA_VTYPE_END,
            )
        };
        let code = RDKafkaErrorCode::from(err);
        if code == RDKafkaErrorCode::NoError {
            if let Some(h) = headers.take() {
                h.given();
            }
        }
        code
    }

    /// Transactions (a producer made with `transactional.id`): registers it with the
    /// cluster, fencing an earlier producer with the same id.
    /// Why the producer can no longer work, when librdkafka says it hit a fatal error (a
    /// transactional producer fenced by a newer one with its id, for one).
    pub fn fatal_error(&self) -> Option<String> {
        self.inner
            .client()
            .fatal_error()
            .map(|(_, reason)| crate::text::secrets::scrub(&reason).into_owned())
    }

    pub fn init_transactions(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.inner.init_transactions(timeout)
    }

    pub fn begin_transaction(&self) -> Result<(), KafkaError> {
        self.inner.begin_transaction()
    }

    /// Serves the reports of every record in flight (the commit would wait for them, and only
    /// this producer serves them), then commits: how long the commit call itself took.
    pub fn commit_transaction(&self, timeout: Duration) -> Result<Duration, KafkaError> {
        let deadline = Instant::now() + timeout;
        while self.in_flight() > 0 && Instant::now() < deadline {
            self.serve(Duration::from_millis(1));
        }
        let began = Instant::now();
        self.inner
            .commit_transaction(deadline.saturating_duration_since(began))?;
        Ok(began.elapsed())
    }

    /// Aborts the open transaction: its records stay in the log, marked aborted, and
    /// `read_committed` readers skip them.
    pub fn abort_transaction(&self, timeout: Duration) -> Result<(), KafkaError> {
        // Its records are written first (only this producer serves their reports, which the
        // abort would wait for): readers that do not skip aborted records see them.
        let deadline = Instant::now() + timeout;
        while self.in_flight() > 0 && Instant::now() < deadline {
            self.serve(Duration::from_millis(1));
        }
        self.inner
            .abort_transaction(deadline.saturating_duration_since(Instant::now()))
    }

    /// Record `seq` belongs to a transaction that is to be aborted: a read-back expects it
    /// absent.
    pub fn aborting(&self, seq: u64) {
        self.context().state.lock().unwrap().ledger.aborting(seq);
        if let Some(marks) = &self.marks {
            marks.mark(&self.run_tag, seq, seq);
        }
    }

    /// Marks the records of aborted transactions in `marks` too, for the lab's members.
    pub fn share_aborted(&mut self, marks: AbortedMarks) {
        self.marks = Some(marks);
    }

    /// The ledger follows the open transaction (from record `first`), or none (`None`: the
    /// last one ended as planned).
    pub fn transaction(&self, first: Option<u64>) {
        self.context()
            .state
            .lock()
            .unwrap()
            .ledger
            .transaction(first);
    }

    /// The open transaction, up to record `last`, failed: none of its records is expected.
    pub fn transaction_failed(&self, last: u64) {
        let first = self
            .context()
            .state
            .lock()
            .unwrap()
            .ledger
            .withdraw_transaction(last);
        if let (Some(marks), Some(first)) = (&self.marks, first) {
            marks.mark(&self.run_tag, first, last);
        }
    }

    /// Serves delivery reports for `d`: how to wait between paced sends.
    pub fn serve(&self, d: Duration) {
        let context = self.context();
        if d < Duration::from_millis(1) {
            // librdkafka waits in whole milliseconds: a shorter wait would spin a core (taking
            // it from the brokers on the same machine). Serve every event that is there, then
            // nap: a report that comes meanwhile waits at most one nap before it is served and
            // timed (callers call again until the next record is due).
            while self.events.serve_one(context, 0) {}
            if !d.is_zero() {
                std::thread::sleep(d.min(Duration::from_micros(200)));
            }
        } else {
            // Each event as it comes, for the whole milliseconds of `d`.
            let deadline = Instant::now() + d;
            loop {
                let left = deadline
                    .saturating_duration_since(Instant::now())
                    .as_millis();
                if left == 0 {
                    while self.events.serve_one(context, 0) {}
                    break;
                }
                self.events
                    .serve_one(context, i32::try_from(left).unwrap_or(i32::MAX));
            }
        }
        self.unpolled.set(0);
    }

    /// Waits up to `timeout` for every queued record's report; returns how many are still
    /// undelivered.
    pub fn flush(&self, timeout: Duration) -> u64 {
        let _ = self.inner.flush(timeout);
        self.in_flight()
    }

    /// Flushes for up to `timeout` (less when `give_up` says so: a second Ctrl-C), then gives
    /// up on what is left: those records are purged and counted undelivered (never as
    /// delivered or failed). Every report that arrived is in the result.
    pub fn close(self, timeout: Duration, give_up: &dyn Fn() -> bool) -> Closed {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let step = left.min(Duration::from_millis(100));
            if self.inner.flush(step).is_ok() || left.is_zero() || give_up() {
                break;
            }
        }
        if self.in_flight() > 0 {
            self.inner.purge(PurgeConfig::default().queue().inflight());
            // The purged records' reports come at once, but serving them can wait for a reader
            // of every report (`produce` prints each): give it time. Anything else that arrives
            // meanwhile is counted too.
            let deadline = Instant::now() + Duration::from_secs(60);
            while self.sent() > self.reported() && Instant::now() < deadline {
                self.serve(Duration::from_millis(10));
            }
        }
        let brokers = self.brokers();
        let context = self.context();
        let mut state = context.state.lock().unwrap();
        let mut totals = context.totals(&state);
        // A record without a report by now is undelivered: every record sent is in one count.
        totals.undelivered += totals.in_flight();
        state.ledger.brokers = brokers;
        Closed {
            totals,
            ledger: std::mem::take(&mut state.ledger),
            batches: std::mem::take(&mut state.batches),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_without_allocation() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(1234, &mut buf), b"1234");
        assert_eq!(decimal(u64::MAX, &mut buf), b"18446744073709551615");
    }
}
