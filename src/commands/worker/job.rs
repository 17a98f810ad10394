//! A job's thread: the worker's share sent from the job's start, then read back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::config::{ClientSettings, Layers, Role};
use crate::data::source::KeyField;
use crate::data::wire::Wire;
use crate::kafka::control::{job_property_refused, now_ms, Job, Share, WorkerFigures};
use crate::kafka::producer::{LabProducer, ProducerWatch, Reports};
use crate::kafka::verify;
use crate::runtime::Pacer;
use crate::stats::RunReport;

/// What a job's thread needs.
pub(super) struct JobContext {
    pub(super) layers: Layers,
    pub(super) consumer: ClientSettings,
    pub(super) dataset: Arc<crate::data::source::Dataset>,
    pub(super) host: String,
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) watch: Arc<std::sync::Mutex<Option<ProducerWatch>>>,
}

/// Sends this worker's share from the job's start time, then reads its records back.
pub(super) fn run_job(cx: &JobContext, job: &Job, share: &Share) -> Result<WorkerFigures> {
    let settings = cx.layers.resolve(Role::Producer)?;
    let key = KeyField::from_str(&job.key, true).map_err(anyhow::Error::msg)?;
    let wire = match job.record_size {
        Some(size) => Wire::sized(&cx.dataset, key, size),
        None => Wire::new(&cx.dataset, key),
    };
    let producer = LabProducer::new(&settings, &job.topic, Reports::None)
        .with_context(|| crate::kafka::producer::refused_because(&settings))?;
    producer.set_warmup(share.warmup);
    *cx.watch.lock().unwrap() = Some(producer.watch());
    let cancelled = || cx.cancel.load(Ordering::SeqCst) || now_ms() >= job.deadline_ms;
    while now_ms() < job.start_at_ms && !cancelled() {
        let left = job.start_at_ms.saturating_sub(now_ms());
        producer.serve(Duration::from_millis(left.clamp(1, 20)));
    }
    let pacer = Pacer::new(share.rate);
    let mut stopped = None;
    for n in 0..share.messages {
        let mut wait = pacer.wait_before(n);
        while !wait.is_zero() && !cancelled() {
            producer.serve(wait.min(Duration::from_millis(50)));
            wait = pacer.wait_before(n);
        }
        // A wait cut short was cut by a cancel or the deadline; the clock is read every 256
        // records otherwise, the flag at every one.
        if !wait.is_zero() || cx.cancel.load(Ordering::Relaxed) || (n % 256 == 0 && cancelled()) {
            stopped = Some(if now_ms() >= job.deadline_ms {
                "the job's deadline passed".to_string()
            } else {
                "cancelled".to_string()
            });
            break;
        }
        let (k, v) = wire.get(n);
        producer.send_due(n, k, v, pacer.due(n))?;
    }
    while producer.in_flight() > 0 && !cx.cancel.load(Ordering::SeqCst) {
        producer.flush(Duration::from_millis(200));
        if now_ms() >= job.deadline_ms {
            break;
        }
    }
    let run_tag = producer.run_tag().to_string();
    let closed = producer.close(Duration::from_secs(10), &|| false);
    *cx.watch.lock().unwrap() = None;
    let t = &closed.totals;
    let report = RunReport::whole(t, t.elapsed(), std::collections::BTreeMap::new());
    let (accounting, read_back_error) = if job.verify && t.delivered > 0 {
        let timeout = verify::timeout_for(closed.ledger.acknowledged_total());
        match verify::read_back(&cx.consumer, &job.topic, &run_tag, &closed.ledger, timeout) {
            Ok(a) => (Some(a), None),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, None)
    };
    let measured_from_ms = t.measure_from.or(t.first_send).map_or(0, |at| {
        now_ms().saturating_sub(u64::try_from(at.elapsed().as_millis()).unwrap_or(0))
    });
    Ok(WorkerFigures {
        host: cx.host.clone(),
        run_tag,
        sent: t.sent,
        delivered: t.delivered,
        failed: t.failed,
        undelivered: t.undelivered,
        measured: report.records,
        bytes: report.bytes,
        duration_s: report.duration_s,
        measured_from_ms,
        latency_us: t.latency.buckets(),
        accounting,
        read_back_error,
        errors: t.errors.clone(),
        stopped,
        settings: ran_with(&settings),
    })
}

/// The producer tuning a worker ran with, librdkafka's defaults included, for the summary to
/// compare with what the coordinator asked.
fn ran_with(settings: &ClientSettings) -> std::collections::BTreeMap<String, String> {
    let mut out = LabProducer::effective_settings(settings);
    for s in &settings.settings {
        out.insert(s.key.clone(), s.value.clone());
    }
    out.retain(|k, _| job_property_refused(k).is_none());
    out
}
