//! Where a record's time goes, by librdkafka's statistics, and the batches it made.

use std::time::Instant;

use serde::Serialize;

use super::per_second;

/// Where a record's time goes, by librdkafka's statistics: `queue` (in the producer's queue
/// until it went into a request: linger.ms and batching), `send` (the request waiting for the
/// connection) and `broker` (the request's round trip: the broker's work, acks, the network).
pub const STAGES: [&str; 3] = ["queue", "send", "broker"];

/// One stage over a run, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageFigures {
    /// Exact: the sum of every value over their count.
    pub avg: f64,
    /// The statistics windows' medians, weighted by their counts.
    pub p50: f64,
    /// The worst window's 99th percentile.
    pub p99: f64,
}

/// The three stages of a run (see [`STAGES`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageLatency {
    pub queue: StageFigures,
    pub send: StageFigures,
    pub broker: StageFigures,
}

impl StageLatency {
    pub fn stages(&self) -> [StageFigures; 3] {
        [self.queue, self.send, self.broker]
    }

    /// `where the time went (...): queue mean 4.91 ms (windows' median 4.90, worst window's
    /// p99 5.80) · send ... · broker ...`. librdkafka gives percentiles per statistics window,
    /// not the values: the mean is exact, the other two describe the windows, and a few records
    /// that waited long can put the mean above every window's p99; the words say which is which.
    pub fn line(&self) -> String {
        let parts: Vec<String> = STAGES
            .iter()
            .zip(self.stages())
            .map(|(name, f)| {
                format!(
                    "{name} mean {:.2} ms (windows' median {:.2}, worst window's p99 {:.2})",
                    f.avg, f.p50, f.p99
                )
            })
            .collect();
        format!(
            "where the time went (librdkafka statistics, by window): {}",
            parts.join(" · ")
        )
    }
}

/// A window of one statistic (microseconds), as librdkafka reports it per broker.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageWindow {
    pub sum: i64,
    pub cnt: i64,
    pub p50: i64,
    pub p99: i64,
}

#[derive(Debug, Clone, Copy, Default)]
struct StageSum {
    sum_us: i64,
    cnt: i64,
    p50_weighted: f64,
    p99_max_us: i64,
}

impl StageSum {
    fn add(&mut self, w: StageWindow) {
        if w.cnt <= 0 {
            return;
        }
        self.sum_us += w.sum;
        self.cnt += w.cnt;
        self.p50_weighted += w.p50 as f64 * w.cnt as f64;
        self.p99_max_us = self.p99_max_us.max(w.p99);
    }

    fn figures(&self) -> Option<StageFigures> {
        (self.cnt > 0).then(|| StageFigures {
            avg: self.sum_us as f64 / self.cnt as f64 / 1000.0,
            p50: self.p50_weighted / self.cnt as f64 / 1000.0,
            p99: self.p99_max_us as f64 / 1000.0,
        })
    }
}

/// Figures from librdkafka's statistics, summed over a run.
#[derive(Debug, Clone, Default)]
pub struct BatchStats {
    /// The stages over the whole run.
    stages: [StageSum; 3],
    /// The stages in the latest statistics (all brokers together): the live figures.
    latest: [StageSum; 3],
    batch_records: i64,
    batch_bytes: i64,
    batches: i64,
    first_requests: Option<(Instant, i64)>,
    last_requests: Option<(Instant, i64)>,
    /// Requests the client sent again (librdkafka's txretries), as of the last statistics.
    pub retries: Option<u64>,
}

impl BatchStats {
    /// One statistics window of the topic: sums and count of its batches.
    pub fn add_window(&mut self, records_sum: i64, bytes_sum: i64, batches: i64) {
        self.batch_records += records_sum;
        self.batch_bytes += bytes_sum;
        self.batches += batches;
    }

    /// One statistics report's windows of the three stages ([`STAGES`]), one set per broker.
    pub fn add_stages(&mut self, brokers: &[[StageWindow; 3]]) {
        self.latest = Default::default();
        for windows in brokers {
            for (i, w) in windows.iter().enumerate() {
                self.stages[i].add(*w);
                self.latest[i].add(*w);
            }
        }
    }

    /// The stages over the run so far; None before any statistics with traffic.
    pub fn stages(&self) -> Option<StageLatency> {
        Self::latency(&self.stages)
    }

    /// The stages in the latest statistics window.
    pub fn latest_stages(&self) -> Option<StageLatency> {
        Self::latency(&self.latest)
    }

    fn latency(sums: &[StageSum; 3]) -> Option<StageLatency> {
        let [queue, send, broker] = sums.map(|s| s.figures());
        // A window with records queued has requests too; without both there is nothing to say.
        Some(StageLatency {
            queue: queue?,
            send: send.unwrap_or_default(),
            broker: broker?,
        })
    }

    /// The client's total of produce requests so far, at `at`.
    pub fn requests(&mut self, at: Instant, total: i64) {
        if self.first_requests.is_none() {
            self.first_requests = Some((at, total));
        }
        self.last_requests = Some((at, total));
    }

    pub fn avg_batch_records(&self) -> Option<f64> {
        (self.batches > 0).then(|| self.batch_records as f64 / self.batches as f64)
    }

    pub fn avg_batch_bytes(&self) -> Option<f64> {
        (self.batches > 0).then(|| self.batch_bytes as f64 / self.batches as f64)
    }

    /// Produce requests per second between the first and the last statistics.
    pub fn requests_per_sec(&self) -> Option<f64> {
        let ((t0, n0), (t1, n1)) = (self.first_requests?, self.last_requests?);
        let span = t1.saturating_duration_since(t0);
        (!span.is_zero()).then(|| per_second((n1 - n0).max(0) as u64, span))
    }
}
