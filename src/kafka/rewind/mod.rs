//! Resets a group's committed offsets, as `kafka-consumer-groups --reset-offsets` does. Kafka
//! takes it only from outside the group and while the group has no active member: a client
//! of the group that never joins it commits the new offsets, again and again until the group
//! is empty (a crashed or static member stays in it until its session times out) or the
//! deadline passes. The embedded cluster's coordinator takes no commit from outside a group it
//! has seen: there the client joins the group, as its only member, to commit.

use std::time::{Duration, Instant, SystemTime};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::config::ClientSettings;

mod target;
pub use target::{Rewind, RewindTo, REWIND_FORMS};

/// How long each request to the cluster may take.
const ASK: Duration = Duration::from_secs(10);

/// The offsets a rewind set, partition by partition, and what to say of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Reset {
    pub offsets: Vec<(i32, i64)>,
    /// Targets brought within the log (an offset past its end, a time with no record after
    /// it).
    pub notes: Vec<String>,
}

/// How the reset commits: from outside the group (Kafka's way), or as its only member, with
/// this `group.protocol` (the embedded cluster's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitAs {
    Outsider,
    Member(&'static str),
}

/// Moves `group`'s committed offsets in `topic` as `rewind` says; `waiting` hears, once, that
/// the group still has members.
pub fn reset_offsets(
    settings: &ClientSettings,
    group: &str,
    topic: &str,
    rewind: &Rewind,
    how: CommitAs,
    deadline: Duration,
    waiting: &dyn Fn(&str),
) -> Result<Reset, String> {
    let mut config = settings.client_config();
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        // It never joins: the classic protocol commits from outside the group.
        .set("group.protocol", "classic");
    config.remove("group.instance.id");
    config.remove("group.remote.assignor");
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| format!("cannot make a client for the group: {e}"))?;
    let reset = targets(&consumer, topic, rewind)?;
    let mut list = TopicPartitionList::new();
    for (p, o) in &reset.offsets {
        list.add_partition_offset(topic, *p, Offset::Offset(*o))
            .map_err(|e| e.to_string())?;
    }
    match how {
        CommitAs::Member(protocol) => {
            drop(consumer);
            commit_as_member(settings, group, topic, protocol, &list, deadline)?;
        }
        CommitAs::Outsider => commit_from_outside(&consumer, &list, deadline, waiting)?,
    }
    Ok(reset)
}

/// The partitions `rewind` names and the offset each goes to, as the cluster has them now.
fn targets(consumer: &BaseConsumer, topic: &str, rewind: &Rewind) -> Result<Reset, String> {
    let metadata = consumer
        .fetch_metadata(Some(topic), ASK)
        .map_err(|e| format!("cannot describe topic {topic}: {e}"))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| {
            t.partitions()
                .iter()
                .map(rdkafka::metadata::MetadataPartition::id)
        })
        .collect();
    let chosen: Vec<i32> = match rewind.partition {
        Some(p) if !partitions.contains(&p) => {
            return Err(format!(
                "topic {topic} has no partition {p} (it has {})",
                partitions.len()
            ))
        }
        Some(p) => vec![p],
        None => partitions,
    };
    let found = match rewind.to.time(SystemTime::now()) {
        Some(t) => {
            let ms = t
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            let ms = i64::try_from(ms).unwrap_or(i64::MAX);
            let mut list = TopicPartitionList::new();
            for p in &chosen {
                list.add_partition_offset(topic, *p, Offset::Offset(ms))
                    .map_err(|e| e.to_string())?;
            }
            Some(
                consumer
                    .offsets_for_times(list, ASK)
                    .map_err(|e| format!("cannot look offsets up by time: {e}"))?,
            )
        }
        None => None,
    };
    let mut reset = Reset {
        offsets: Vec::new(),
        notes: Vec::new(),
    };
    for p in chosen {
        let (low, high) = consumer
            .fetch_watermarks(topic, p, ASK)
            .map_err(|e| format!("cannot read partition {p}'s offsets: {e}"))?;
        let offset = match rewind.to {
            RewindTo::Earliest => low,
            RewindTo::Latest => high,
            RewindTo::Offset(o) => {
                let within = o.clamp(low, high);
                if within != o {
                    reset.notes.push(format!(
                        "partition {p} holds offsets {low}..{high}: {within} instead of {o}"
                    ));
                }
                within
            }
            RewindTo::Ago(_) | RewindTo::At(_) => {
                let at = found
                    .as_ref()
                    .and_then(|l| l.find_partition(topic, p))
                    .map(|e| e.offset());
                match at {
                    Some(Offset::Offset(o)) => o.clamp(low, high),
                    // No record that late: the end.
                    _ => high,
                }
            }
        };
        reset.offsets.push((p, offset));
    }
    Ok(reset)
}

/// Commits `list` from outside the group, again and again until the group has no member or
/// `deadline` has passed.
fn commit_from_outside(
    consumer: &BaseConsumer,
    list: &TopicPartitionList,
    deadline: Duration,
    waiting: &dyn Fn(&str),
) -> Result<(), String> {
    let start = Instant::now();
    let mut said = false;
    loop {
        match consumer.commit(list, CommitMode::Sync) {
            Ok(()) => return Ok(()),
            Err(e) if !group_not_empty(&e) => {
                return Err(format!("cannot commit the new offsets: {e}"));
            }
            Err(e) if start.elapsed() < deadline => {
                if !said {
                    said = true;
                    waiting(&format!(
                        "the group still has members ({e}); trying again until {} s have \
                         passed",
                        deadline.as_secs()
                    ));
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => {
                return Err(format!(
                    "the group kept active members for {} s ({e}): Kafka resets only a group \
                     with none",
                    deadline.as_secs()
                ))
            }
        }
    }
}

/// What Kafka answers a commit from outside a group that still has members.
fn group_not_empty(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::UnknownMemberId
                | C::IllegalGeneration
                | C::RebalanceInProgress
                | C::FencedInstanceId
                | C::StaleMemberEpoch
                | C::UnreleasedInstanceId
        )
    )
}

/// Joins `group` (alone: its members have left), waits for the partitions of `list`, commits
/// `list` as a member, and leaves.
fn commit_as_member(
    settings: &ClientSettings,
    group: &str,
    topic: &str,
    protocol: &str,
    list: &TopicPartitionList,
    deadline: Duration,
) -> Result<(), String> {
    let mut config = settings.client_config();
    config
        .set("group.id", group)
        .set("group.protocol", protocol)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    config.remove("group.instance.id");
    if protocol == "classic" {
        // The embedded cluster holds a rebalance for the joining member's session timeout.
        for (key, value) in crate::kafka::embedded::MOCK_GROUP_SETTINGS {
            if settings.get(key).is_none() {
                config.set(key, value);
            }
        }
    } else {
        // The broker's to set with the consumer protocol: librdkafka refuses them.
        for key in [
            "session.timeout.ms",
            "heartbeat.interval.ms",
            "partition.assignment.strategy",
        ] {
            config.remove(key);
        }
    }
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| format!("cannot make a client for the group: {e}"))?;
    consumer
        .subscribe(&[topic])
        .map_err(|e| format!("cannot join group {group}: {e}"))?;
    let start = Instant::now();
    let wanted = list.elements().len();
    loop {
        // Records it is handed are not processed, nor their offsets stored.
        let _ = consumer.poll(Duration::from_millis(100));
        let held = consumer.assignment().map_or(0, |a| {
            list.elements()
                .iter()
                .filter(|e| a.find_partition(topic, e.partition()).is_some())
                .count()
        });
        if held == wanted {
            break;
        }
        if start.elapsed() > deadline {
            return Err(format!(
                "joined group {group} to commit the new offsets, but was not given its \
                 partitions within {} s",
                deadline.as_secs()
            ));
        }
    }
    consumer
        .commit(list, CommitMode::Sync)
        .map_err(|e| format!("cannot commit the new offsets: {e}"))
}
