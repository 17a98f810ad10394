//! What a producer can tell of itself as it runs: its counts, its run, its statistics, its
//! errors, and the settings librdkafka resolved for it.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rdkafka::producer::Producer;

use super::{LabProducer, Live};
use crate::config::properties;
use crate::config::ClientSettings;
use crate::kafka::verify::Ledger;
use crate::stats::{BatchStats, Interval, RunTotals};

impl LabProducer {
    /// A copy of the counts and latencies so far.
    pub fn totals(&self) -> RunTotals {
        let context = self.context();
        context.totals(&context.state.lock().unwrap())
    }

    /// [`LabProducer::totals`] into `out`, reusing its memory: for a caller that asks often.
    pub fn totals_into(&self, out: &mut RunTotals) {
        let context = self.context();
        context.totals_into(&context.state.lock().unwrap(), out);
    }

    /// Records sent whose report has not arrived (the totals' count, without copying them).
    pub fn in_flight(&self) -> u64 {
        let context = self.context();
        let state = context.state.lock().unwrap();
        let t = &state.totals;
        self.sent()
            .saturating_sub(t.delivered + t.failed + t.undelivered)
    }

    /// Records sent so far.
    pub fn sent(&self) -> u64 {
        self.context().sent.load(Ordering::Relaxed)
    }

    /// Delivery reports served so far (delivered or not): how many records are done with.
    pub fn reported(&self) -> u64 {
        self.context().served.load(Ordering::Relaxed)
    }

    pub fn run_tag(&self) -> &str {
        &self.run_tag
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The topic's partition count as the cluster says now; None if it does not answer.
    pub fn partition_count(&self) -> Option<i32> {
        let metadata = self
            .inner
            .client()
            .fetch_metadata(Some(&self.topic), Duration::from_secs(2))
            .ok()?;
        let n = metadata.topics().first()?.partitions().len();
        i32::try_from(n).ok().filter(|n| *n > 0)
    }

    /// What the delivery reports said, for a read-back (see `verify`).
    pub fn ledger(&self) -> Ledger {
        let mut ledger = self.context().state.lock().unwrap().ledger.clone();
        ledger.brokers = self.brokers();
        ledger
    }

    /// Every broker the cluster advertises, as `host:port`: a read-back bootstraps from them
    /// all, so that one dead bootstrap server does not stop it.
    pub(super) fn brokers(&self) -> Vec<String> {
        self.inner
            .client()
            .fetch_metadata(Some(&self.topic), Duration::from_secs(1))
            .map(|m| {
                m.brokers()
                    .iter()
                    .map(|b| format!("{}:{}", b.host(), b.port()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Batch sizes and request rates from librdkafka's statistics so far.
    pub fn batch_stats(&self) -> BatchStats {
        self.context().state.lock().unwrap().batches.clone()
    }

    /// Takes what arrived since the last call: the interval's figures and, with
    /// [`Reports::Latest`], the latest reports. `next`, empty, is the interval to fill from
    /// now on (one given back by [`crate::stats::Window::push`] reuses its memory).
    pub fn take_live(&self, next: Interval) -> Live {
        let mut state = self.context().state.lock().unwrap();
        let interval = std::mem::replace(&mut state.interval, next);
        let (latest, skipped) = state.ring.take(&self.context().clock);
        Live {
            interval,
            latest,
            skipped,
        }
    }

    pub fn last_error(&self) -> Option<String> {
        self.context()
            .errors
            .latest_aged()
            .map(|(reason, _)| reason)
    }

    /// The client-level error reported since the last call, if any.
    /// The latest error if it came within `max_age`, with its age.
    pub fn recent_error(&self, max_age: std::time::Duration) -> Option<String> {
        self.context()
            .errors
            .latest_aged()
            .filter(|(_, age)| *age <= max_age)
            .map(|(reason, _)| reason)
    }

    pub fn take_error(&self) -> Option<String> {
        self.context().errors.take()
    }

    /// The effective value of each property that shapes a run, as librdkafka resolved it.
    pub fn effective_settings(settings: &ClientSettings) -> BTreeMap<String, String> {
        let native = settings.client_config().create_native_config().ok();
        let mut out = BTreeMap::new();
        for key in [
            "acks",
            "linger.ms",
            "batch.size",
            "batch.num.messages",
            "compression.type",
            "enable.idempotence",
            "max.in.flight.requests.per.connection",
            "partitioner",
        ] {
            // Topic-level properties (acks, partitioner) are not in the global config: their
            // default comes from librdkafka's table.
            let value = settings
                .get(key)
                .map(str::to_string)
                .or_else(|| native.as_ref().and_then(|n| n.get(key).ok()))
                .filter(|v| !v.is_empty())
                .or_else(|| properties::lookup(key).map(|p| p.default.clone()));
            if let Some(value) = value {
                let value = match (key, value.as_str()) {
                    ("acks", "-1") => "all".to_string(),
                    _ => value,
                };
                out.insert(key.to_string(), value);
            }
        }
        out
    }
}
