//! The dashboard's Kafka tasks: the producer, one task per group member, and the topic
//! watcher. Each sends a compact snapshot about four times a second; none sends a message per
//! record.

use std::time::Duration;

pub mod member;
pub mod processor;
pub mod producer;
pub mod watcher;
pub mod workers;

/// How often each actor reports.
pub const TICK: Duration = Duration::from_millis(250);
