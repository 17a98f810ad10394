//! One consumer-group member of the lab: a thread that receives records, works on them as an
//! application would (a simulated time per record), commits as its setting says, and, each
//! tick, reports its state, assignment, positions, lag, latest records and what the group's
//! ledger counts. It can leave politely, or crash as a process does: no `LeaveGroup`, no final
//! commit.

mod read;
mod report;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::Sender;

use crate::config::{Layers, Role};
use crate::data::sink::SharedSink;
use crate::kafka::consumer::LabConsumer;
use crate::kafka::verify::AbortedMarks;
use crate::lab::ledger::SharedLedger;
use crate::lab::protocol::KafkaEvent;
use crate::lab::settings::{Commit, Isolation};
use crate::lab::snapshots::{MemberSnapshot, MemberState};
use crate::runtime::StopFlag;
use read::Member;

/// Records kept per member for its pane.
const LATEST: usize = 8;

/// What the lab can change of a running member, shared with its thread.
#[derive(Default)]
struct Controls {
    stop: StopFlag,
    held: AtomicBool,
    crash: AtomicBool,
    /// Work per record in force, in nanoseconds.
    work_ns: AtomicU64,
    /// Its own work per record, in nanoseconds (`NO_OWN_WORK`: the group's).
    own_work_ns: AtomicU64,
    commit: AtomicU8,
    /// The lab's producer runs transactions: a `read_committed` member asks its partitions'
    /// last stable offsets.
    transactions: AtomicBool,
}

const NO_OWN_WORK: u64 = u64::MAX;

impl Controls {
    fn commit(&self) -> Commit {
        Commit::ALL[usize::from(self.commit.load(Ordering::Relaxed)).min(Commit::ALL.len() - 1)]
    }

    fn work(&self) -> Duration {
        Duration::from_nanos(self.work_ns.load(Ordering::Relaxed))
    }
}

/// What a member keeps of itself when it rejoins (new settings, another topic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keeps {
    pub held: bool,
    /// Its own work per record, when it has one.
    pub work: Option<Duration>,
}

pub struct MemberHandle {
    pub id: u32,
    controls: Arc<Controls>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MemberHandle {
    /// Stops the member's reading (it stays in the group), or resumes it.
    pub fn hold(&self, held: bool) {
        self.controls.held.store(held, Ordering::Relaxed);
    }

    /// The member was asked to leave or to crash: it is on its way out.
    pub fn stopping(&self) -> bool {
        self.controls.stop.raised() || self.controls.crash.load(Ordering::Relaxed)
    }

    /// The member is held (it reads nothing).
    pub fn held(&self) -> bool {
        self.controls.held.load(Ordering::Relaxed)
    }

    pub fn set_work(&self, per_record: Duration) {
        let ns = u64::try_from(per_record.as_nanos()).unwrap_or(u64::MAX - 1);
        self.controls.work_ns.store(ns, Ordering::Relaxed);
    }

    /// Keeps this member's own work per record (None: the group's), for its rejoins.
    pub fn keep_work(&self, own: Option<Duration>) {
        let ns = own.map_or(NO_OWN_WORK, |d| {
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1)
        });
        self.controls.own_work_ns.store(ns, Ordering::Relaxed);
    }

    /// Its own work per record, when it has one.
    pub fn own_work(&self) -> Option<Duration> {
        let ns = self.controls.own_work_ns.load(Ordering::Relaxed);
        (ns != NO_OWN_WORK).then(|| Duration::from_nanos(ns))
    }

    /// The lab's producer runs transactions (or no longer does).
    pub fn set_transactions(&self, on: bool) {
        self.controls.transactions.store(on, Ordering::Relaxed);
    }

    pub fn set_commit(&self, commit: Commit) {
        let i = Commit::ALL.iter().position(|c| *c == commit).unwrap_or(0);
        self.controls.commit.store(i as u8, Ordering::Relaxed);
    }

    pub fn keeps(&self) -> Keeps {
        Keeps {
            held: self.held(),
            work: self.own_work(),
        }
    }

    /// Asks the member to leave the group; it reports `MemberLeft` when it has.
    pub fn leave(&mut self) {
        self.controls.stop.raise();
    }

    /// Asks the member to crash: it stops at once, telling the group nothing; it reports
    /// `MemberCrashed`.
    pub fn crash(&self) {
        self.controls.crash.store(true, Ordering::Relaxed);
    }

    /// Leaves and waits until it has (bounded).
    pub async fn leave_and_wait(mut self, timeout: std::time::Duration) {
        self.leave();
        if let Some(thread) = self.thread.take() {
            let joined = tokio::task::spawn_blocking(move || thread.join());
            let _ = tokio::time::timeout(timeout, joined).await;
        }
    }
}

/// What a member starts with.
pub struct Start {
    pub id: u32,
    /// Its client settings (the consumer settings on top of the base).
    pub layers: Layers,
    pub topic: String,
    pub events: Sender<KafkaEvent>,
    pub sink: SharedSink,
    pub ledger: SharedLedger,
    pub commit: Commit,
    pub work: Duration,
    /// Records of aborted transactions, marked by the producer: the member counts those it is
    /// handed.
    pub marks: AbortedMarks,
    /// The lab's producer runs transactions.
    pub transactions: bool,
    /// Its own `isolation.level` (on top of `layers`), when it has one.
    pub isolation: Option<Isolation>,
}

impl Start {
    /// Member `id` with auto-commit, no work per record, no sink and a ledger of its own.
    pub fn new(id: u32, layers: Layers, topic: &str, events: Sender<KafkaEvent>) -> Start {
        Start {
            id,
            layers,
            topic: topic.to_string(),
            events,
            sink: SharedSink::default(),
            ledger: SharedLedger::default(),
            commit: Commit::Auto,
            work: Duration::ZERO,
            marks: AbortedMarks::default(),
            transactions: false,
            isolation: None,
        }
    }
}

/// Starts member `id` (named consumer-`id`) on a thread of its own.
pub fn spawn(start: Start) -> MemberHandle {
    let Start {
        id,
        mut layers,
        topic,
        events,
        sink,
        ledger,
        commit,
        work,
        marks,
        transactions,
        isolation,
    } = start;
    layers.builtin("client.id", format!("kafka-lab-consumer-{id}"), "dashboard");
    if let Some(level) = isolation {
        layers.set_live("isolation.level", level.as_str(), "the member's own");
    }
    let controls = Arc::new(Controls {
        own_work_ns: AtomicU64::new(NO_OWN_WORK),
        ..Controls::default()
    });
    let handle = MemberHandle {
        id,
        controls: controls.clone(),
        thread: None,
    };
    handle.set_commit(commit);
    handle.set_work(work);
    handle.set_transactions(transactions);
    let member = Member::new(
        MemberSnapshot::new(id),
        controls,
        topic,
        events,
        sink,
        ledger,
        marks,
    );
    let thread = std::thread::Builder::new()
        .name(format!("consumer-{id}"))
        .spawn(move || {
            assert!(
                !crate::runtime::failpoint("member-panic"),
                "failpoint member-panic"
            );
            run(member, &layers);
        })
        .expect("spawn a consumer thread");
    MemberHandle {
        thread: Some(thread),
        ..handle
    }
}

/// Joins, reads until asked to leave or crash, then leaves politely or crashes.
fn run(mut member: Member, layers: &Layers) {
    let joined = layers
        .resolve(Role::Consumer)
        .map_err(|e| e.to_string())
        .and_then(|s| {
            member.m.client_id = s.get("client.id").unwrap_or_default().to_string();
            member.from_earliest = matches!(
                s.get("auto.offset.reset"),
                Some("earliest" | "smallest" | "beginning")
            );
            // librdkafka's default, unless set.
            member.m.isolation = s
                .get("isolation.level")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(Isolation::ReadCommitted);
            LabConsumer::subscribe(&s, &member.topic).map_err(|e| e.to_string())
        });
    match joined {
        Ok((consumer, group_events)) => {
            member.consume(&consumer, &group_events);
            if member.controls.crash.load(Ordering::Relaxed) {
                // As a process that dies: its partitions stay its own until the group notices.
                let at = SystemTime::now();
                let last = member.last_word(MemberState::Crashed(at));
                consumer.crash();
                let _ = member
                    .events
                    .blocking_send(KafkaEvent::Member(Box::new(last)));
                let _ = member.events.blocking_send(KafkaEvent::MemberCrashed {
                    id: member.m.id,
                    at,
                });
                return;
            }
            member.m.state = MemberState::Leaving;
            let _ = member
                .events
                .try_send(KafkaEvent::Member(Box::new(member.m.clone())));
            // Commits and leaves the group.
            let _ = consumer.close();
        }
        Err(e) => {
            member.m.state = MemberState::Error(e);
            let _ = member
                .events
                .blocking_send(KafkaEvent::Member(Box::new(member.m.clone())));
            let stop = &member.controls.stop;
            while !stop.raised() && !member.controls.crash.load(Ordering::Relaxed) {
                stop.sleep(crate::lab::actors::TICK);
            }
        }
    }
    let _ = member.events.blocking_send(KafkaEvent::MemberLeft {
        id: member.m.id,
        at: SystemTime::now(),
    });
}
