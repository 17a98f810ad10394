//! One consumer-group member of the dashboard: a thread that receives records and, each tick,
//! reports its state, assignment, positions, lag and latest records.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rdkafka::message::BorrowedMessage;
use rdkafka::Message;
use tokio::sync::mpsc::Sender;

use crate::config::{Layers, Role};
use crate::data::sink::{RecordJson, SharedSink};
use crate::kafka::consumer::{timestamp, GroupEvent, LabConsumer};
use crate::lab::actors::TICK;
use crate::lab::protocol::KafkaEvent;
use crate::lab::snapshots::{MemberSnapshot, MemberState, PartitionLag, RecentRecord};
use crate::runtime::StopFlag;
use crate::stats::{Interval, Window};

/// Records kept per member for its pane.
const LATEST: usize = 8;
pub struct MemberHandle {
    pub id: u32,
    stop: StopFlag,
    held: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MemberHandle {
    /// Stops the member's reading (it stays in the group), or resumes it.
    pub fn hold(&self, held: bool) {
        self.held.store(held, Ordering::Relaxed);
    }

    /// The member is held (it reads nothing).
    pub fn held(&self) -> bool {
        self.held.load(Ordering::Relaxed)
    }

    /// Asks the member to leave the group; it reports `MemberLeft` when it has.
    pub fn leave(&mut self) {
        self.stop.raise();
    }

    /// Leaves and waits until it has (bounded).
    pub async fn leave_and_wait(mut self, timeout: Duration) {
        self.leave();
        if let Some(thread) = self.thread.take() {
            let joined = tokio::task::spawn_blocking(move || thread.join());
            let _ = tokio::time::timeout(timeout, joined).await;
        }
    }
}

/// Starts member `id` (named consumer-`id`) in the group of `layers`, on a thread of its own.
pub fn spawn(
    id: u32,
    layers: &Layers,
    topic: &str,
    events: Sender<KafkaEvent>,
    sink: SharedSink,
) -> MemberHandle {
    let mut layers = layers.clone();
    layers.builtin("client.id", format!("kafka-lab-consumer-{id}"), "dashboard");
    let stop = StopFlag::default();
    let held = Arc::new(AtomicBool::new(false));
    let member = Member {
        held: held.clone(),
        m: MemberSnapshot::new(id),
        topic: topic.to_string(),
        events,
        sink,
        stop: stop.clone(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("consumer-{id}"))
        .spawn(move || {
            assert!(
                !crate::runtime::failpoint("member-panic"),
                "failpoint member-panic"
            );
            member.run(&layers);
        })
        .expect("spawn a consumer thread");
    MemberHandle {
        id,
        stop,
        held,
        thread: Some(thread),
    }
}

struct Member {
    m: MemberSnapshot,
    held: Arc<AtomicBool>,
    topic: String,
    events: Sender<KafkaEvent>,
    sink: SharedSink,
    stop: StopFlag,
}

impl Member {
    fn run(mut self, layers: &Layers) {
        let joined = layers
            .resolve(Role::Consumer)
            .map_err(|e| e.to_string())
            .and_then(|s| {
                self.m.client_id = s.get("client.id").unwrap_or_default().to_string();
                LabConsumer::subscribe(&s, &self.topic).map_err(|e| e.to_string())
            });
        match joined {
            Ok((consumer, group_events)) => {
                self.consume(&consumer, &group_events);
                self.m.state = MemberState::Leaving;
                let _ = self
                    .events
                    .try_send(KafkaEvent::Member(Box::new(self.m.clone())));
                // Commits and leaves the group.
                let _ = consumer.close();
            }
            Err(e) => {
                self.m.state = MemberState::Error(e);
                let _ = self
                    .events
                    .blocking_send(KafkaEvent::Member(Box::new(self.m.clone())));
                while !self.stop.raised() {
                    self.stop.sleep(TICK);
                }
            }
        }
        let _ = self.events.blocking_send(KafkaEvent::MemberLeft {
            id: self.m.id,
            at: SystemTime::now(),
        });
    }

    /// Receives records until asked to leave; reports every tick. A held member's partitions
    /// are not fetched, so their cached high watermarks stand still: a second thread asks the
    /// leaders meanwhile (and for a few seconds after), without stalling this one.
    fn consume(&mut self, consumer: &LabConsumer, group_events: &Receiver<GroupEvent>) {
        let asked = AskedMarks::default();
        let topic = self.topic.clone();
        std::thread::scope(|scope| {
            scope.spawn(|| asked.run(consumer, &topic));
            self.read(consumer, group_events, &asked);
            asked.done.store(true, Ordering::Relaxed);
        });
    }

    /// The loop of [`Member::consume`].
    ///
    /// Per record only what each record needs: the offset stored, the counts, the sink when
    /// open, the latency. The clock is read once per poll (the wall clock derived from it, per
    /// tick), and the latest records are held as librdkafka gave them and copied only when
    /// reported: nothing here slows the producer it shares the machine with.
    fn read(
        &mut self,
        consumer: &LabConsumer,
        group_events: &Receiver<GroupEvent>,
        asked: &AskedMarks,
    ) {
        let mut latest: VecDeque<BorrowedMessage<'_>> = VecDeque::with_capacity(LATEST + 1);
        let mut window = Window::new(20);
        let mut interval = Interval::default();
        let mut last_tick = Instant::now();
        let mut clock = WallClock::now();
        let mut now = last_tick;
        let mut was_held = false;
        // When the member was resumed: its partitions are asked for a little longer.
        let mut resumed: Option<Instant> = None;
        while !self.stop.raised() {
            let held = self.held.load(Ordering::Relaxed);
            if held != was_held {
                let _ = consumer.hold(held);
                was_held = held;
                asked.active.store(true, Ordering::Relaxed);
                resumed = (!held).then(Instant::now);
            }
            let wait = (last_tick + TICK).saturating_duration_since(now);
            let received = consumer.poll(wait.min(Duration::from_millis(50)));
            now = Instant::now();
            if held {
                // Partitions a rebalance assigned meanwhile are held at once, before their
                // first fetch.
                let mut assigned = false;
                for event in group_events.try_iter() {
                    assigned |= matches!(event, GroupEvent::Assigned(_));
                    apply(&mut self.m, event);
                }
                if assigned || matches!(received, Some(Ok(_))) {
                    let _ = consumer.hold(true);
                }
            }
            match received {
                Some(Ok(r)) => {
                    let _ = consumer.done(&r);
                    self.m.received += 1;
                    interval.count += 1;
                    self.m.counts.add(r.payload());
                    if let Some(s) = self.sink.lock().unwrap().as_mut() {
                        if let Err(e) = s.write(&RecordJson::of_message(&r)) {
                            self.m.last_error = Some(format!("sink {}: {e}", s.path().display()));
                        }
                    }
                    if let (Some(created), "create") = timestamp(&r) {
                        interval.latency.record(end_to_end(created, clock.at(now)));
                    }
                    if latest.len() == LATEST {
                        latest.pop_front();
                    }
                    latest.push_back(r);
                }
                Some(Err(e)) => self.m.last_error = Some(e.to_string()),
                None => {}
            }
            if now - last_tick < TICK {
                continue;
            }
            for event in group_events.try_iter() {
                apply(&mut self.m, event);
            }
            if resumed.is_some_and(|at| at.elapsed() > ASK_AFTER_RESUME) {
                resumed = None;
                asked.stop();
            }
            if let Some(s) = self.sink.lock().unwrap().as_mut() {
                let _ = s.flush_if_due();
            }
            interval.duration = now - last_tick;
            last_tick = now;
            clock = WallClock::now();
            interval = window.push(interval);
            let figures = window.figures();
            let m = &mut self.m;
            m.per_sec = figures.per_sec;
            m.e2e = figures.latency;
            m.partitions = lags(consumer, &self.topic, asked);
            // Cooperative rebalances assign increments: the assignment itself says idle.
            if matches!(
                m.state,
                MemberState::Assigned | MemberState::Idle | MemberState::Held
            ) {
                m.state = if held {
                    MemberState::Held
                } else if m.partitions.is_empty() {
                    MemberState::Idle
                } else {
                    MemberState::Assigned
                };
            }
            // Oldest first; values cut to what a pane shows.
            m.latest = latest.iter().map(RecentRecord::of_message).collect();
            if let Some(e) = consumer.take_error() {
                m.last_error = Some(e);
            }
            m.at = clock.at(Instant::now());
            let _ = self
                .events
                .try_send(KafkaEvent::Member(Box::new(m.clone())));
            // An error is news once: the screen keeps it until the member is well again.
            m.last_error = None;
        }
    }
}

/// How long a resumed member's partitions are still asked for their high watermarks: until
/// fetching has brought the cached ones up to date.
const ASK_AFTER_RESUME: Duration = Duration::from_secs(5);

/// High watermarks asked of the partitions' leaders, by a thread of their own, while `active`.
#[derive(Default)]
struct AskedMarks {
    active: AtomicBool,
    done: AtomicBool,
    marks: Mutex<BTreeMap<i32, i64>>,
}

impl AskedMarks {
    /// Asks every assigned partition in turn while active, until done.
    fn run(&self, consumer: &LabConsumer, topic: &str) {
        while !self.done.load(Ordering::Relaxed) {
            if self.active.load(Ordering::Relaxed) {
                for (partition, _) in consumer.positions().unwrap_or_default() {
                    if self.done.load(Ordering::Relaxed) || !self.active.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Some(high) =
                        consumer.ask_high_watermark(topic, partition, Duration::from_secs(2))
                    {
                        self.marks.lock().unwrap().insert(partition, high);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&self) {
        self.active.store(false, Ordering::Relaxed);
        self.marks.lock().unwrap().clear();
    }

    fn get(&self, partition: i32) -> Option<i64> {
        self.marks.lock().unwrap().get(&partition).copied()
    }
}

/// The wall clock read once and carried forward by the monotonic clock: a record's receive
/// time without a second clock read per record (`CreateTime` has millisecond resolution; the
/// two clocks drift apart by far less between ticks).
struct WallClock {
    wall: SystemTime,
    instant: Instant,
}

impl WallClock {
    /// Both clocks, read together.
    fn now() -> WallClock {
        WallClock {
            instant: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    fn at(&self, instant: Instant) -> SystemTime {
        self.wall + instant.saturating_duration_since(self.instant)
    }
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

/// Position and high watermark of each assigned partition: the latest fetch's, or the one
/// asked of the leader when that is newer (a held partition is not fetched).
fn lags(consumer: &LabConsumer, topic: &str, asked: &AskedMarks) -> Vec<PartitionLag> {
    consumer
        .positions()
        .unwrap_or_default()
        .into_iter()
        .map(|(partition, position)| PartitionLag {
            partition,
            position,
            high_watermark: consumer
                .cached_high_watermark(topic, partition)
                .max(asked.get(partition)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
