//! Why two runs differ, in a line each, from their own figures: what linger.ms, batch.size and
//! acks did, and for consumer runs what the fetch settings did. A rule says something only
//! when the figures bear it out.

use crate::stats::{ConsumerRunReport, RunReport};

/// A setting's value in both runs, when it differs (None: unset).
fn changed<'a>(
    a: &'a std::collections::BTreeMap<String, String>,
    b: &'a std::collections::BTreeMap<String, String>,
    key: &str,
) -> Option<(Option<&'a str>, Option<&'a str>)> {
    let (x, y) = (
        a.get(key).map(String::as_str),
        b.get(key).map(String::as_str),
    );
    (x != y).then_some((x, y))
}

fn number(v: Option<&str>) -> Option<f64> {
    v?.trim().parse().ok()
}

/// Lines that explain `a` → `b` (producer runs).
pub fn explain(a: &RunReport, b: &RunReport) -> Vec<String> {
    let mut why = Vec::new();
    let measured = a.records > 0 && b.records > 0;
    if let Some((x, y)) = changed(&a.settings, &b.settings, "linger.ms").filter(|_| measured) {
        // The run with the longer linger: do its batches hold few records, and its records
        // wait about the whole linger?
        let (linger, run) = match (number(x), number(y)) {
            (Some(x), Some(y)) if y >= x => (y, b),
            (Some(x), Some(_)) => (x, a),
            _ => (0.0, b),
        };
        match run.avg_batch_records {
            Some(n) if linger > 0.0 && n < 2.0 && run.latency_ms.p50 >= 0.6 * linger => {
                why.push(format!(
                    "run {}: ~{n:.1} records per batch at linger.ms {linger}: each record waits \
                     about the whole linger ({linger} ms) before it is sent",
                    run.run
                ));
            }
            Some(n) if linger > 0.0 && n >= 10.0 => why.push(format!(
                "run {}: ~{n:.0} records per batch at linger.ms {linger}: a record waits part of \
                 the linger, about half of it on average",
                run.run
            )),
            _ => {}
        }
    }
    if let Some((x, y)) = changed(&a.settings, &b.settings, "batch.size") {
        for (size, run) in [(number(x), a), (number(y), b)] {
            let (Some(size), Some(bytes)) = (size, run.avg_batch_bytes) else {
                continue;
            };
            if bytes >= 0.8 * size {
                why.push(format!(
                    "run {}: batches leave full at batch.size {size:.0} ({bytes:.0} bytes on \
                     average), before linger.ms is up{}",
                    run.run,
                    run.requests_per_sec
                        .map_or(String::new(), |r| format!(": {r:.0} requests/s"))
                ));
            }
        }
    }
    if let Some((_, y)) = changed(&a.settings, &b.settings, "acks") {
        let waits = match y {
            Some("0") => "nothing: the broker does not answer",
            Some("1") => "the leader's write",
            _ => "every in-sync replica's copy",
        };
        let broker = |r: &RunReport| r.stages_ms.map(|s| s.broker.p50);
        if let (Some(p), Some(q)) = (broker(a), broker(b)) {
            why.push(format!(
                "acks {}: the answer waits for {waits} (broker time p50 {p:.2} → {q:.2} ms)",
                y.unwrap_or("all")
            ));
        }
    }
    why.extend(compression(a, b));
    why.extend(idempotence(a, b));
    why.extend(in_flight(a, b));
    why
}

/// What compression did to the bytes sent: the batches' size against the records' own.
fn compression(a: &RunReport, b: &RunReport) -> Vec<String> {
    let mut why = Vec::new();
    if changed(&a.settings, &b.settings, "compression.type").is_none() {
        return why;
    }
    for run in [a, b] {
        let codec = run
            .settings
            .get("compression.type")
            .map_or("none", String::as_str);
        let (Some(n), Some(batch)) = (run.avg_batch_records, run.avg_batch_bytes) else {
            continue;
        };
        if codec == "none" || run.records == 0 || n <= 0.0 {
            continue;
        }
        let raw = n * run.bytes as f64 / run.records as f64;
        let share = batch / raw;
        if share < 0.7 {
            why.push(format!(
                "run {}: compression.type {codec} sent ~{:.0}% of the records' bytes ({raw:.0} → {batch:.0} bytes a batch of {n:.1} records)",
                run.run,
                share * 100.0
            ));
        } else if n < 2.0 {
            why.push(format!(
                "run {}: ~{n:.1} records per batch: compression.type {codec} has little to work on (it compresses a batch, and a batch here is one record)",
                run.run
            ));
        }
    }
    why
}

/// What idempotence did: the broker drops a retry's second copy.
fn idempotence(a: &RunReport, b: &RunReport) -> Vec<String> {
    if changed(&a.settings, &b.settings, "enable.idempotence").is_none() {
        return Vec::new();
    }
    let on =
        |r: &RunReport| r.settings.get("enable.idempotence").map(String::as_str) == Some("true");
    let (with, without) = if on(b) { (b, a) } else { (a, b) };
    let dups = |r: &RunReport| r.accounting.as_ref().map(|x| x.duplicated);
    match (dups(with), dups(without)) {
        (Some(0), Some(d)) if d > 0 => vec![format!(
            "run {}: {d} records written twice by retries without idempotence; run {} with it: none (the broker drops a retry's second copy by its sequence number)",
            without.run, with.run
        )],
        _ => Vec::new(),
    }
}

/// What max.in.flight did: with one request in flight a connection waits for each answer.
fn in_flight(a: &RunReport, b: &RunReport) -> Vec<String> {
    let key = ["max.in.flight.requests.per.connection", "max.in.flight"]
        .into_iter()
        .find(|k| changed(&a.settings, &b.settings, k).is_some());
    let Some(key) = key else {
        return Vec::new();
    };
    let mut why = Vec::new();
    for run in [a, b] {
        let (Some(1.0), Some(rate), Some(stages)) = (
            number(run.settings.get(key).map(String::as_str)),
            run.requests_per_sec,
            run.stages_ms,
        ) else {
            continue;
        };
        // The time each request holds its connection: sent, then answered.
        let per_request = stages.send.p50 + stages.broker.p50;
        let busy = rate * per_request / 1000.0;
        if busy >= 0.5 && stages.queue.p50 > per_request {
            why.push(format!(
                "run {}: one request in flight per connection, each {per_request:.2} ms: {rate:.0} requests/s kept the connections busy ({:.0}%), so records queued (queue p50 {:.2} ms)",
                run.run,
                busy * 100.0,
                stages.queue.p50
            ));
        }
    }
    why
}

/// Lines that explain `a` → `b` (consumer runs).
pub fn explain_consumers(a: &ConsumerRunReport, b: &ConsumerRunReport) -> Vec<String> {
    let mut why = Vec::new();
    let wait =
        |r: &ConsumerRunReport| number(r.settings.get("fetch.wait.max.ms").map(String::as_str));
    let fetch_changed = changed(&a.settings, &b.settings, "fetch.wait.max.ms").is_some()
        || changed(&a.settings, &b.settings, "fetch.min.bytes").is_some();
    if fetch_changed {
        for r in [a, b] {
            let (Some(wait), Some(e2e)) = (wait(r), r.e2e_ms) else {
                continue;
            };
            // Each fetch held the whole wait: records waited half of it on average.
            // (A wait of a few ms is lost in the rest of the latency.)
            if wait >= 50.0 && e2e.p50 >= 0.3 * wait && e2e.p99 >= 0.8 * wait {
                why.push(format!(
                    "run {}: the broker held each fetch for fetch.wait.max.ms ({wait} ms), \
                     fetch.min.bytes not reached: a record waited {:.0} ms at the median{}",
                    r.run,
                    e2e.p50,
                    r.fetch_requests_per_sec
                        .map_or(String::new(), |f| format!(", {f:.1} fetches/s"))
                ));
            }
        }
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{LatencySummary, StageFigures, StageLatency};

    fn run(n: u32, settings: &[(&str, &str)], batch: f64, p50: f64) -> RunReport {
        RunReport {
            run: n,
            records: 1000,
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            avg_batch_records: Some(batch),
            latency_ms: LatencySummary {
                p50,
                ..LatencySummary::default()
            },
            ..RunReport::default()
        }
    }

    #[test]
    fn a_long_linger_at_a_low_rate_is_waited_whole() {
        let a = run(1, &[("linger.ms", "5")], 1.1, 5.4);
        let b = run(2, &[("linger.ms", "50")], 1.3, 50.4);
        let why = explain(&a, &b);
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(
            why[0].starts_with("run 2: ~1.3 records per batch at linger.ms 50"),
            "{why:?}"
        );
        // Full batches: part of the linger.
        let b = run(2, &[("linger.ms", "50")], 80.0, 24.0);
        assert!(explain(&a, &b)[0].contains("about half of it"));
        // Nothing changed, nothing said; a batch of 4 at a short p50 says nothing either.
        assert!(explain(&a, &a).is_empty());
        let b = run(2, &[("linger.ms", "50")], 4.0, 12.0);
        assert!(explain(&a, &b).is_empty());
    }

    #[test]
    fn full_batches_and_acks_are_named_when_the_figures_show_them() {
        let mut a = run(1, &[("batch.size", "400")], 1.0, 1.0);
        a.avg_batch_bytes = Some(390.0);
        a.requests_per_sec = Some(2000.0);
        let mut b = run(2, &[("batch.size", "1000000")], 20.0, 5.0);
        b.avg_batch_bytes = Some(9000.0);
        let why = explain(&a, &b);
        assert_eq!(why.len(), 1, "only the small batches were full: {why:?}");
        assert!(why[0].contains("run 1: batches leave full at batch.size 400"));
        assert!(why[0].contains("2000 requests/s"));

        let stage = |p50| StageFigures {
            p50,
            ..StageFigures::default()
        };
        let broker = |p50| {
            Some(StageLatency {
                queue: stage(0.1),
                send: stage(0.1),
                broker: stage(p50),
            })
        };
        let mut a = run(1, &[("acks", "1")], 5.0, 2.0);
        a.stages_ms = broker(0.8);
        let mut b = run(2, &[("acks", "all")], 5.0, 4.0);
        b.stages_ms = broker(3.1);
        let why = explain(&a, &b);
        assert_eq!(
            why,
            ["acks all: the answer waits for every in-sync replica's copy (broker time p50 0.80 → 3.10 ms)"]
        );
        // Without the broker's time, no claim.
        b.stages_ms = None;
        assert!(explain(&a, &b).is_empty());
    }

    #[test]
    fn compression_is_named_by_the_bytes_it_saved_or_could_not() {
        let with = |n: u32, codec: &str, records: f64, batch: f64| {
            let mut r = run(n, &[("compression.type", codec)], records, 5.0);
            r.bytes = 400_000; // 400 bytes a record
            r.avg_batch_bytes = Some(batch);
            r
        };
        // 50 records of 400 bytes in 6,000 bytes: 30%.
        let why = explain(
            &with(1, "none", 50.0, 21_000.0),
            &with(2, "lz4", 50.0, 6_000.0),
        );
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(
            why[0].starts_with("run 2: compression.type lz4 sent ~30%"),
            "{why:?}"
        );
        // One record a batch: hardly smaller, and said why.
        let why = explain(&with(1, "none", 1.1, 480.0), &with(2, "zstd", 1.1, 430.0));
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(why[0].contains("little to work on"), "{why:?}");
        // Many records, little saved (random data): nothing to claim.
        assert!(explain(
            &with(1, "none", 50.0, 21_000.0),
            &with(2, "lz4", 50.0, 20_000.0)
        )
        .is_empty());
    }

    #[test]
    fn idempotence_is_named_when_it_dropped_copies() {
        let with = |n: u32, on: &str, duplicated: u64| {
            let mut r = run(n, &[("enable.idempotence", on)], 5.0, 5.0);
            r.accounting = Some(crate::stats::Accounting {
                duplicated,
                ..crate::stats::Accounting::default()
            });
            r
        };
        let why = explain(&with(1, "false", 10), &with(2, "true", 0));
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(
            why[0].starts_with("run 1: 10 records written twice"),
            "{why:?}"
        );
        // No copies either way: nothing it did shows.
        assert!(explain(&with(1, "false", 0), &with(2, "true", 0)).is_empty());
        // Not read back: no claim.
        let mut b = with(2, "true", 0);
        b.accounting = None;
        assert!(explain(&with(1, "false", 10), &b).is_empty());
    }

    #[test]
    fn one_request_in_flight_is_named_when_the_connection_was_busy() {
        let with = |n: u32, in_flight: &str, rate: f64, queue: f64| {
            let mut r = run(n, &[("max.in.flight", in_flight)], 5.0, 5.0);
            r.requests_per_sec = Some(rate);
            r.stages_ms = Some(StageLatency {
                queue: StageFigures {
                    p50: queue,
                    ..StageFigures::default()
                },
                send: StageFigures {
                    p50: 0.2,
                    ..StageFigures::default()
                },
                broker: StageFigures {
                    p50: 2.8,
                    ..StageFigures::default()
                },
            });
            r
        };
        // 300 requests/s of 3 ms each: busy 90% of the time, records queued 8 ms.
        let why = explain(&with(1, "5", 900.0, 1.0), &with(2, "1", 300.0, 8.0));
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(
            why[0].starts_with("run 2: one request in flight per connection, each 3.00 ms"),
            "{why:?}"
        );
        // A quiet connection: one in flight costs nothing.
        assert!(explain(&with(1, "5", 50.0, 1.0), &with(2, "1", 50.0, 1.0)).is_empty());
    }

    #[test]
    fn a_fetch_held_for_its_wait_is_named() {
        let consumer = |n: u32, wait: &str, p50: f64, p99: f64| ConsumerRunReport {
            run: n,
            settings: [("fetch.wait.max.ms".to_string(), wait.to_string())].into(),
            e2e_ms: Some(LatencySummary {
                p50,
                p99,
                ..LatencySummary::default()
            }),
            fetch_requests_per_sec: Some(2.0),
            ..ConsumerRunReport::default()
        };
        let why = explain_consumers(
            &consumer(1, "10", 8.2, 12.9),
            &consumer(2, "500", 259.0, 507.0),
        );
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(
            why[0].starts_with("run 2: the broker held each fetch"),
            "{why:?}"
        );
        // Answered as records came (min.bytes 1): nothing to say.
        assert!(explain_consumers(
            &consumer(1, "10", 8.2, 12.9),
            &consumer(2, "500", 7.2, 10.8)
        )
        .is_empty());
    }
}
