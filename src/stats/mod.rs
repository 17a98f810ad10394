//! Latency histograms, rates and run summaries. Pure: no Kafka, no screen.

mod accounting;
mod consumer_run;
pub mod figures;
mod latency;
mod report;
mod stages;
mod window;

use std::time::Duration;

pub use accounting::{Accounting, PartitionAccount};
pub use consumer_run::{settings_diff, ConsumerColumn, ConsumerRunReport};
pub use figures::Figure;
pub use latency::{Latency, LatencySummary};
pub use report::{RunReport, RunTotals, TxnFigures};
pub use stages::{BatchStats, StageFigures, StageLatency, StageWindow, STAGES};
pub use window::{Interval, RunMeter, Window, WindowFigures};

/// 1 MB as the figures count it: 1024 * 1024 bytes of payload.
pub const MB: f64 = 1024.0 * 1024.0;

/// Events per second; zero for an empty interval.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}
