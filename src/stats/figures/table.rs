//! The figures' table itself: pure data, one entry per figure (see the module above).

use super::{Entry, Figure, Unit};

use Figure as F;

// A row of the table, named by position: its columns are the `Entry` fields, in order.
#[allow(clippy::too_many_arguments)]
const fn entry(
    figure: Figure,
    csv: Option<&'static str>,
    json: Option<&'static str>,
    names: &'static [&'static str],
    column: Option<&'static str>,
    report: Option<&'static str>,
    unit: Unit,
    about: &'static str,
) -> Entry {
    Entry {
        figure,
        csv,
        json,
        names,
        column,
        report,
        unit,
        about,
    }
}

/// The table, in the CSV's order (new CSV columns go at the end of those with one).
#[rustfmt::skip]
pub const FIGURES: [Entry; 30] = [
    entry(F::WarmupSecs, Some("warmup_s"), Some("/warmup_s"), &["warmup_s"], None, None, Unit::Seconds,
        "seconds at the start kept out of the figures (warm-up)"),
    entry(F::Secs, Some("duration_s"), Some("/duration_s"), &["duration_s"], Some("secs"), None, Unit::Seconds,
        "seconds the figures cover (after the warm-up)"),
    entry(F::Sent, Some("sent"), Some("/sent"), &["sent"], None, None, Unit::Count,
        "records sent"),
    entry(F::Delivered, Some("delivered"), Some("/delivered"), &["delivered"], Some("delivered"), Some("delivered"), Unit::Count,
        "records the broker confirmed"),
    entry(F::Failed, Some("failed"), Some("/failed"), &["failed"], Some("failed"), Some("failed"), Unit::Count,
        "records reported failed"),
    entry(F::Records, Some("records"), Some("/records"), &["records"], None, None, Unit::Count,
        "records delivered within the measured span"),
    entry(F::Bytes, Some("bytes"), Some("/bytes"), &["bytes"], None, None, Unit::Count,
        "bytes of payload delivered within the measured span"),
    entry(F::RecordsPerSec, Some("records_per_sec"), Some("/records_per_sec"), &["records_per_sec"], Some("rec/s"), Some("records/s"), Unit::PerSec,
        "records delivered per second"),
    entry(F::MbPerSec, Some("mb_per_sec"), Some("/mb_per_sec"), &["mb_per_sec"], Some("MB/s"), None, Unit::MbPerSec,
        "MB delivered per second"),
    entry(F::Avg, Some("latency_avg_ms"), Some("/latency_ms/avg"), &["avg", "latency_avg_ms"], Some("avg"), None, Unit::Ms,
        "average latency, ms"),
    entry(F::P50, Some("latency_p50_ms"), Some("/latency_ms/p50"), &["p50", "latency_p50_ms"], Some("p50"), Some("p50 ms"), Unit::Ms,
        "median latency, ms"),
    entry(F::P95, Some("latency_p95_ms"), Some("/latency_ms/p95"), &["p95", "latency_p95_ms"], Some("p95"), None, Unit::Ms,
        "95th percentile latency, ms"),
    entry(F::P99, Some("latency_p99_ms"), Some("/latency_ms/p99"), &["p99", "latency_p99_ms"], Some("p99"), Some("p99 ms"), Unit::Ms,
        "99th percentile latency, ms"),
    entry(F::P999, Some("latency_p999_ms"), Some("/latency_ms/p999"), &["p999", "latency_p999_ms"], Some("p99.9"), None, Unit::Ms,
        "99.9th percentile latency, ms"),
    entry(F::Max, Some("latency_max_ms"), Some("/latency_ms/max"), &["max", "latency_max_ms"], Some("max"), Some("max ms"), Unit::Ms,
        "highest latency, ms"),
    entry(F::BatchRecords, Some("avg_batch_records"), Some("/avg_batch_records"), &["batch_records", "avg_batch_records"], Some("batch"), Some("records/batch"), Unit::Average,
        "records per batch (average, by librdkafka's statistics)"),
    entry(F::BatchBytes, Some("avg_batch_bytes"), Some("/avg_batch_bytes"), &["batch_bytes", "avg_batch_bytes"], None, None, Unit::Bytes,
        "bytes per batch (average, by librdkafka's statistics)"),
    entry(F::RequestsPerSec, Some("requests_per_sec"), Some("/requests_per_sec"), &["requests_per_sec"], Some("req/s"), None, Unit::PerSec,
        "produce requests per second (by librdkafka's statistics)"),
    entry(F::Queue, Some("queue_p50_ms"), Some("/stages_ms/queue/p50"), &["queue_ms", "queue_p50_ms"], Some("queue"), Some("queue ms"), Unit::Ms,
        "time in librdkafka's queue (p50, by its statistics), ms"),
    entry(F::Send, Some("send_p50_ms"), Some("/stages_ms/send/p50"), &["send_ms", "send_p50_ms"], None, Some("send ms"), Unit::Ms,
        "time on the way to the broker (p50, by its statistics), ms"),
    entry(F::Broker, Some("broker_p50_ms"), Some("/stages_ms/broker/p50"), &["broker_ms", "broker_p50_ms"], Some("broker"), Some("broker ms"), Unit::Ms,
        "the broker's time to answer (p50, by its statistics), ms"),
    entry(F::Received, Some("received"), Some("/accounting/received"), &["received"], None, None, Unit::Count,
        "confirmed records the read-back found"),
    entry(F::Missing, Some("missing"), Some("/accounting/missing"), &["missing"], Some("missing"), Some("missing"), Unit::Count,
        "confirmed records the read-back did not find"),
    entry(F::Duplicated, Some("duplicated"), Some("/accounting/duplicated"), &["duplicated"], Some("dup"), Some("duplicated"), Unit::Count,
        "extra copies the read-back found"),
    entry(F::NotFound, Some("not_found"), Some("/accounting/not_found"), &["not_found"], None, None, Unit::Count,
        "acks=0 records not found"),
    entry(F::Retries, Some("retries"), Some("/retries"), &["retries"], None, None, Unit::Count,
        "produce requests sent again"),
    entry(F::P99Due, Some("intended_p99_ms"), Some("/latency_intended_ms/p99"), &["p99_due", "intended_p99_ms"], Some("p99 due"), None, Unit::Ms,
        "a paced run's p99 from each record's intended send time, ms"),
    entry(F::WholeSecs, None, None, &["seconds"], None, Some("seconds"), Unit::Seconds,
        "the run's seconds, warm-up included"),
    entry(F::Skew, None, None, &["skew"], None, Some("skew"), Unit::Average,
        "the fullest partition's records over the average partition's"),
    entry(F::Faults, None, Some("/faults"), &["faults"], None, Some("faults"), Unit::Count,
        "faults injected into the cluster during the run"),
];
