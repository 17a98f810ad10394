//! One consumer-group member of the dashboard: a task that receives records and, each tick,
//! reports its state, assignment, positions, lag and latest records.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc::Sender;
use tokio::sync::oneshot;

use crate::config::{Layers, Role};
use crate::dashboard::actors::TICK;
use crate::dashboard::protocol::KafkaEvent;
use crate::data::counts::Counts;
use crate::data::sink::{record_line, SharedSink};
use crate::kafka::consumer::{ConsumedRecord, GroupEvent, LabConsumer};
use crate::stats::{Interval, LatencySummary, Window};

/// Records kept per member for its pane.
const LATEST: usize = 8;
/// Bytes of a value kept for display.
const VALUE_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub enum MemberState {
    Joining,
    Assigned,
    /// In the group with no partitions (more members than partitions).
    Idle,
    Rebalancing,
    Error(String),
    Leaving,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PartitionLag {
    pub partition: i32,
    /// The next offset this member will read.
    pub position: Option<i64>,
    pub high_watermark: Option<i64>,
}

impl PartitionLag {
    /// High watermark minus position, when both are known.
    pub fn lag(&self) -> Option<i64> {
        Some((self.high_watermark? - self.position?).max(0))
    }
}

/// A record kept for a pane: its value cut to the first 4 KiB (`truncated` says so).
#[derive(Debug, Clone, PartialEq)]
pub struct RecentRecord {
    pub record: ConsumedRecord,
    pub truncated: bool,
}

impl RecentRecord {
    pub fn keep(mut record: ConsumedRecord) -> RecentRecord {
        let truncated = record.value.as_ref().is_some_and(|v| v.len() > VALUE_BYTES);
        if let Some(v) = record.value.as_mut() {
            v.truncate(VALUE_BYTES);
        }
        RecentRecord { record, truncated }
    }
}

impl std::ops::Deref for RecentRecord {
    type Target = ConsumedRecord;

    fn deref(&self) -> &ConsumedRecord {
        &self.record
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberSnapshot {
    pub id: u32,
    pub name: String,
    pub client_id: String,
    pub state: MemberState,
    pub partitions: Vec<PartitionLag>,
    pub received: u64,
    pub per_sec: f64,
    /// End-to-end latency over the last seconds: receive time minus the record's `CreateTime`
    /// (the same clock only when producer and consumer run on the same machine).
    pub e2e: LatencySummary,
    pub latest: Vec<RecentRecord>,
    /// When partitions were last assigned to this member.
    pub last_rebalance: Option<SystemTime>,
    /// When partitions were last taken from it.
    pub last_revoke: Option<SystemTime>,
    pub last_error: Option<String>,
    /// What this member consumed, counted by brewery type, state and country.
    pub counts: Counts,
}

impl MemberSnapshot {
    /// Member `id`, named consumer-`id`, joining and with nothing received yet.
    pub fn new(id: u32) -> MemberSnapshot {
        MemberSnapshot {
            id,
            name: format!("consumer-{id}"),
            client_id: format!("kafka-lab-consumer-{id}"),
            state: MemberState::Joining,
            partitions: Vec::new(),
            received: 0,
            per_sec: 0.0,
            e2e: LatencySummary::default(),
            latest: Vec::new(),
            last_rebalance: None,
            last_revoke: None,
            last_error: None,
            counts: Counts::default(),
        }
    }
}

pub struct MemberHandle {
    pub id: u32,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl MemberHandle {
    /// Asks the member to leave the group; it reports `MemberLeft` when it has.
    pub fn leave(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Leaves and waits until it has (bounded).
    pub async fn leave_and_wait(mut self, timeout: Duration) {
        self.leave();
        let _ = tokio::time::timeout(timeout, &mut self.task).await;
    }
}

/// Starts member `id` (named consumer-`id`) in the group of `layers`.
pub fn spawn(
    id: u32,
    layers: &Layers,
    topic: &str,
    events: Sender<KafkaEvent>,
    sink: SharedSink,
) -> MemberHandle {
    let mut layers = layers.clone();
    layers.builtin("client.id", format!("kafka-lab-consumer-{id}"), "dashboard");
    let (stop, stop_rx) = oneshot::channel();
    let topic = topic.to_string();
    let task = tokio::spawn(run(id, layers, topic, events, stop_rx, sink));
    MemberHandle {
        id,
        stop: Some(stop),
        task,
    }
}

async fn run(
    id: u32,
    layers: Layers,
    topic: String,
    events: Sender<KafkaEvent>,
    mut stop: oneshot::Receiver<()>,
    sink: SharedSink,
) {
    let mut m = MemberSnapshot::new(id);
    let joined = layers
        .resolve(Role::Consumer)
        .map_err(|e| e.to_string())
        .and_then(|s| {
            m.client_id = s.get("client.id").unwrap_or_default().to_string();
            LabConsumer::subscribe(&s, &topic).map_err(|e| e.to_string())
        });
    let (consumer, group_events) = match joined {
        Ok(c) => c,
        Err(e) => {
            m.state = MemberState::Error(e);
            let _ = events.send(KafkaEvent::Member(Box::new(m))).await;
            let _ = stop.await;
            let _ = events
                .send(KafkaEvent::MemberLeft {
                    id,
                    at: SystemTime::now(),
                })
                .await;
            return;
        }
    };
    let consumer = Arc::new(consumer);
    let mut latest: VecDeque<RecentRecord> = VecDeque::with_capacity(LATEST);
    let mut window = Window::new(20);
    let mut interval = Interval::default();
    let mut last_tick = Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            received = consumer.recv() => match received {
                Ok(r) => {
                    let _ = consumer.done(&r);
                    m.received += 1;
                    interval.count += 1;
                    m.counts.add(r.value.as_deref());
                    if let Some(s) = sink.lock().unwrap().as_mut() {
                        if let Err(e) = s.write(&record_line(&r)) {
                            m.last_error = Some(format!("sink {}: {e}", s.path().display()));
                        }
                    }
                    if let (Some(created), "create") = (r.timestamp_ms, r.timestamp_type) {
                        interval.latency.record(end_to_end(created, SystemTime::now()));
                    }
                    if latest.len() == LATEST {
                        latest.pop_front();
                    }
                    latest.push_back(RecentRecord::keep(r));
                }
                Err(e) => m.last_error = Some(e.to_string()),
            },
            _ = ticker.tick() => {
                for event in group_events.try_iter() {
                    apply(&mut m, event);
                }
                if let Some(s) = sink.lock().unwrap().as_mut() {
                    let _ = s.flush_if_due();
                }
                let now = Instant::now();
                interval.duration = now - last_tick;
                last_tick = now;
                window.push(std::mem::take(&mut interval));
                let figures = window.figures();
                m.per_sec = figures.per_sec;
                m.e2e = figures.latency;
                m.partitions = lags(&consumer, &topic);
                // Cooperative rebalances assign increments: the assignment itself says idle.
                if matches!(m.state, MemberState::Assigned | MemberState::Idle) {
                    m.state = if m.partitions.is_empty() { MemberState::Idle } else { MemberState::Assigned };
                }
                m.latest = latest.iter().cloned().collect();
                if let Some(e) = consumer.take_error() {
                    m.last_error = Some(e);
                }
                let _ = events.try_send(KafkaEvent::Member(Box::new(m.clone())));
            }
        }
    }
    m.state = MemberState::Leaving;
    let _ = events.try_send(KafkaEvent::Member(Box::new(m.clone())));
    // Closing commits and leaves the group; it blocks, so not on an async thread.
    let closing = consumer.clone();
    drop(consumer);
    let _ = tokio::task::spawn_blocking(move || {
        if let Some(c) = Arc::into_inner(closing) {
            let _ = c.close();
        }
    })
    .await;
    let _ = events
        .send(KafkaEvent::MemberLeft {
            id,
            at: SystemTime::now(),
        })
        .await;
}

/// Receive time minus creation time; zero when the clocks disagree the other way.
fn end_to_end(created_ms: i64, received: SystemTime) -> Duration {
    let created = SystemTime::UNIX_EPOCH + Duration::from_millis(created_ms.max(0) as u64);
    received.duration_since(created).unwrap_or(Duration::ZERO)
}

fn apply(m: &mut MemberSnapshot, event: GroupEvent) {
    match event {
        GroupEvent::Assigned(partitions) => {
            m.last_rebalance = Some(SystemTime::now());
            m.state = if partitions.is_empty() {
                MemberState::Idle
            } else {
                MemberState::Assigned
            };
        }
        GroupEvent::Revoked(_) => {
            m.last_revoke = Some(SystemTime::now());
            m.state = MemberState::Rebalancing;
        }
        GroupEvent::Error(e) => m.last_error = Some(e),
    }
}

fn lags(consumer: &LabConsumer, topic: &str) -> Vec<PartitionLag> {
    consumer
        .positions()
        .unwrap_or_default()
        .into_iter()
        .map(|(partition, position)| PartitionLag {
            partition,
            position,
            high_watermark: consumer.cached_high_watermark(topic, partition),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_records_cut_long_values() {
        let record = |len: usize| ConsumedRecord {
            topic: "t".into(),
            partition: 0,
            offset: 7,
            timestamp_ms: None,
            timestamp_type: "none",
            key: None,
            value: Some(vec![b'x'; len]),
            headers: vec![],
        };
        let long = RecentRecord::keep(record(VALUE_BYTES + 1));
        assert!(long.truncated);
        assert_eq!(long.value.as_ref().unwrap().len(), VALUE_BYTES);
        let short = RecentRecord::keep(record(10));
        assert!(!short.truncated);
        assert_eq!(short.offset, 7, "fields read through to the record");
    }

    #[test]
    fn lag_is_high_watermark_minus_position() {
        let p = |position, high_watermark| PartitionLag {
            partition: 0,
            position,
            high_watermark,
        };
        assert_eq!(p(Some(10), Some(25)).lag(), Some(15));
        assert_eq!(p(Some(25), Some(25)).lag(), Some(0));
        assert_eq!(p(None, Some(25)).lag(), None);
        assert_eq!(p(Some(3), None).lag(), None);
    }

    #[test]
    fn end_to_end_latency_uses_the_create_time() {
        let received = SystemTime::UNIX_EPOCH + Duration::from_millis(10_250);
        assert_eq!(end_to_end(10_000, received), Duration::from_millis(250));
        // A record from a clock ahead of ours: no negative latency.
        assert_eq!(end_to_end(11_000, received), Duration::ZERO);
    }

    #[test]
    fn group_events_set_the_state() {
        let mut m = MemberSnapshot::new(1);
        apply(&mut m, GroupEvent::Assigned(vec![0, 1]));
        assert_eq!(m.state, MemberState::Assigned);
        assert!(m.last_rebalance.is_some());
        apply(&mut m, GroupEvent::Revoked(vec![0, 1]));
        assert_eq!(m.state, MemberState::Rebalancing);
        apply(&mut m, GroupEvent::Assigned(vec![]));
        assert_eq!(m.state, MemberState::Idle);
    }
}
