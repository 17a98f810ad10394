//! The settings panel's fields: what each sets, how its value is checked and read, and the
//! choices of those with fixed ones.

use std::time::Duration;

use crate::config::properties;
use crate::data::source::KeyField;
use crate::kafka::settings::{
    parse_bool, Acks, Compression, GroupProtocol, Partitioner, Strategies,
};
use crate::lab::settings::{
    rate_text, txn_text, Commit, ConsumerSettings, Isolation, OffsetReset, ProducerSettings,
};

/// The most records a transaction, or the rarest abort, the panel takes.
pub const TXN_MAX: u64 = 1_000_000;

/// Records per transaction as the panel takes them: `off` (or 0), or 1 to [`TXN_MAX`].
pub fn parse_txn_records(t: &str) -> Result<u64, String> {
    match t {
        "off" | "0" => Ok(0),
        _ => match t.parse::<u64>() {
            Ok(n) if (1..=TXN_MAX).contains(&n) => Ok(n),
            _ => Err(format!(
                "off, or records per transaction from 1 to {TXN_MAX}"
            )),
        },
    }
}

/// Which transactions are aborted: 0 (none), 1 (all), N (every Nth).
pub fn parse_abort_every(t: &str) -> Result<u64, String> {
    match t.parse::<u64>() {
        Ok(n) if n <= TXN_MAX => Ok(n),
        _ => Err(format!("0 (none), 1 (every one) to {TXN_MAX} (every Nth)")),
    }
}

/// The settings the panel edits, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Acks,
    BatchSize,
    LingerMs,
    Compression,
    Idempotence,
    Rate,
    Key,
    Partitioner,
    /// kafka-lab's own: records per transaction (off: none).
    Transactions,
    /// kafka-lab's own: every Nth transaction aborted.
    AbortEvery,
    /// The consumers' partition.assignment.strategy.
    Assignment,
    /// The consumers' group.protocol.
    Protocol,
    FetchMinBytes,
    FetchWaitMaxMs,
    MaxPartitionFetchBytes,
    SessionTimeoutMs,
    HeartbeatIntervalMs,
    MaxPollIntervalMs,
    AutoOffsetReset,
    Isolation,
    StaticMembership,
    /// kafka-lab's own: when a member commits.
    Commit,
    /// kafka-lab's own: simulated processing time per record, every member.
    Work,
    /// The embedded cluster's simulated round trip (only when kafka-lab serves it).
    Rtt,
}

pub const FIELDS: [Field; 24] = [
    Field::Acks,
    Field::BatchSize,
    Field::LingerMs,
    Field::Compression,
    Field::Idempotence,
    Field::Rate,
    Field::Key,
    Field::Partitioner,
    Field::Transactions,
    Field::AbortEvery,
    Field::Assignment,
    Field::Protocol,
    Field::FetchMinBytes,
    Field::FetchWaitMaxMs,
    Field::MaxPartitionFetchBytes,
    Field::SessionTimeoutMs,
    Field::HeartbeatIntervalMs,
    Field::MaxPollIntervalMs,
    Field::AutoOffsetReset,
    Field::Isolation,
    Field::StaticMembership,
    Field::Commit,
    Field::Work,
    Field::Rtt,
];

/// The simulated round trip the settings accept, in milliseconds.
pub const RTT_MAX_MS: u64 = 10_000;

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Acks => "acks",
            Field::BatchSize => "batch.size",
            Field::LingerMs => "linger.ms",
            Field::Compression => "compression.type",
            Field::Idempotence => "enable.idempotence",
            Field::Rate => "rate (records/s)",
            Field::Key => "key",
            Field::Partitioner => "partitioner",
            Field::Transactions => "transactions",
            Field::AbortEvery => "abort every Nth",
            Field::Assignment => "group assignment",
            Field::Protocol => "group.protocol",
            Field::FetchMinBytes => "fetch.min.bytes",
            Field::FetchWaitMaxMs => "fetch.wait.max.ms",
            Field::MaxPartitionFetchBytes => "part. fetch bytes",
            Field::SessionTimeoutMs => "session.timeout.ms",
            Field::HeartbeatIntervalMs => "heartbeat ms",
            Field::MaxPollIntervalMs => "poll interval ms",
            Field::AutoOffsetReset => "auto.offset.reset",
            Field::Isolation => "isolation.level",
            Field::StaticMembership => "static membership",
            Field::Commit => "commit",
            Field::Work => "work per record",
            Field::Rtt => "simulated rtt ms",
        }
    }

    /// The librdkafka property the field sets, when it sets one.
    pub fn property(self) -> Option<&'static str> {
        Some(match self {
            Field::Assignment => "partition.assignment.strategy",
            Field::Protocol => "group.protocol",
            Field::FetchMinBytes => "fetch.min.bytes",
            Field::FetchWaitMaxMs => "fetch.wait.max.ms",
            Field::MaxPartitionFetchBytes => "max.partition.fetch.bytes",
            Field::SessionTimeoutMs => "session.timeout.ms",
            Field::HeartbeatIntervalMs => "heartbeat.interval.ms",
            Field::MaxPollIntervalMs => "max.poll.interval.ms",
            Field::AutoOffsetReset => "auto.offset.reset",
            Field::Isolation => "isolation.level",
            Field::StaticMembership => "group.instance.id",
            _ => return None,
        })
    }

    /// What the field does and what to watch when it changes: a line under the panel.
    pub fn help(self) -> &'static str {
        match self {
            Field::Acks => "replicas that must have a record before the broker answers: 0 none, 1 the leader, all every in-sync one; watch broker ms, missing",
            Field::BatchSize => "most bytes a batch to one partition holds; a full batch leaves at once; watch records/batch, req/s",
            Field::LingerMs => "how long a batch waits for more records; at a low rate each record waits all of it; watch queue ms, p50",
            Field::Compression => "each batch compressed: fewer bytes sent for CPU time; watch MB/s, p99",
            Field::Idempotence => "the broker drops a retried copy and keeps order (needs acks=all); watch duplicated",
            Field::Rate => "kafka-lab's: the records per second the producer keeps to, or max",
            Field::Key => "kafka-lab's: the field each record is keyed by; a key always goes to one partition (none: librdkafka spreads)",
            Field::Partitioner => "how a key picks its partition: consistent_random is CRC32, murmur2_random is Java's",
            Field::Transactions => "kafka-lab's: records per transaction (or what 1 s holds), or off; needs acks=all and idempotence; read_committed skips aborted",
            Field::AbortEvery => "kafka-lab's: every Nth transaction is aborted (0 never, 1 all): its records stay in the log, marked aborted",
            Field::Assignment => "how the group shares partitions: range, roundrobin (everything revoked at each rebalance) or cooperative-sticky (only what moves)",
            Field::Protocol => "classic: members assign, and keep their session timing; consumer (KIP-848): the broker does both",
            Field::FetchMinBytes => "the broker holds a fetch until it has this many bytes, or fetch.wait.max.ms is up; watch e2e, fetch/s in the consumer runs",
            Field::FetchWaitMaxMs => "the longest the broker holds a fetch short of fetch.min.bytes; watch e2e p50 at a low rate",
            Field::MaxPartitionFetchBytes => "the most a fetch brings of one partition; watch a member catching up",
            Field::SessionTimeoutMs => "no heartbeat for this long and the group drops a member: how long a crash goes unnoticed",
            Field::HeartbeatIntervalMs => "how often a member says it is alive; keep it under a third of the session timeout",
            Field::MaxPollIntervalMs => "the longest between two reads before librdkafka takes the member out (kicked); watch with work per record",
            Field::AutoOffsetReset => "where a member starts without a committed offset: earliest (the log's start) or latest (new records only)",
            Field::Isolation => "read_committed hides records of aborted transactions and waits for open ones",
            Field::StaticMembership => "a group.instance.id per member: back within its session, it keeps its partitions with no rebalance",
            Field::Commit => "kafka-lab's: auto (librdkafka's timer), after the work (at least once) or before it (at most once); watch reprocessed, skipped",
            Field::Work => "kafka-lab's: simulated processing per record; a member then handles at most 1 s / work records a second",
            Field::Rtt => "kafka-lab's: the embedded brokers' simulated round trip, added to every request",
        }
    }

    /// The librdkafka property whose default the help names (the panel's own fields have
    /// none).
    pub fn librdkafka_name(self) -> Option<&'static str> {
        Some(match self {
            Field::Acks => "acks",
            Field::BatchSize => "batch.size",
            Field::LingerMs => "linger.ms",
            Field::Compression => "compression.type",
            Field::Idempotence => "enable.idempotence",
            Field::Partitioner => "partitioner",
            // kafka-lab's own, and group.instance.id (no default: unset).
            Field::Rate
            | Field::Key
            | Field::Transactions
            | Field::AbortEvery
            | Field::Commit
            | Field::Work
            | Field::Rtt
            | Field::StaticMembership => return None,
            other => other.property()?,
        })
    }

    /// librdkafka's default for the field, from its own table of properties.
    pub fn default_value(self) -> Option<&'static str> {
        let info = properties::lookup(self.librdkafka_name()?)?;
        (!info.default.is_empty()).then_some(info.default.as_str())
    }

    /// Checks a typed value; the error says what is allowed.
    pub fn validate(self, text: &str) -> Result<(), String> {
        let t = text.trim();
        match self {
            Field::Acks => t.parse::<Acks>().map(drop),
            Field::BatchSize => properties::check_value("batch.size", t),
            Field::LingerMs => properties::check_value("linger.ms", t),
            Field::Compression => t.parse::<Compression>().map(drop),
            Field::Idempotence | Field::StaticMembership => parse_bool(t).map(drop),
            Field::Rate => parse_rate(t).map(drop),
            Field::Key => t.parse::<KeyField>().map(drop),
            Field::Transactions => parse_txn_records(t).map(drop),
            Field::AbortEvery => parse_abort_every(t).map(drop),
            Field::Partitioner => t.parse::<Partitioner>().map(drop),
            Field::Assignment => t.parse::<Strategies>().map(drop),
            Field::Protocol => t.parse::<GroupProtocol>().map(drop),
            Field::AutoOffsetReset => t.parse::<OffsetReset>().map(drop),
            Field::Isolation => t.parse::<Isolation>().map(drop),
            Field::Commit => t.parse::<Commit>().map(drop),
            Field::Work => parse_work(t).map(drop),
            Field::FetchMinBytes
            | Field::FetchWaitMaxMs
            | Field::MaxPartitionFetchBytes
            | Field::SessionTimeoutMs
            | Field::HeartbeatIntervalMs
            | Field::MaxPollIntervalMs => {
                properties::check_value(self.property().unwrap_or_default(), t)
            }
            Field::Rtt => match t.parse::<u64>() {
                Ok(ms) if ms <= RTT_MAX_MS => Ok(()),
                _ => Err(format!("milliseconds, 0 to {RTT_MAX_MS}")),
            },
        }
    }

    /// The values a field with a fixed set of them offers, in order; None for free text.
    pub fn choices(self) -> Option<Vec<String>> {
        fn all<T: ToString>(items: &[T]) -> Vec<String> {
            items.iter().map(ToString::to_string).collect()
        }
        Some(match self {
            Field::Acks => all(Acks::ALL),
            Field::Compression => all(Compression::ALL),
            Field::Idempotence | Field::StaticMembership => all(&[false, true]),
            Field::Key => all(KeyField::ALL),
            Field::Partitioner => all(Partitioner::ALL),
            Field::Assignment => all(&Strategies::choices()),
            Field::Protocol => all(GroupProtocol::ALL),
            Field::AutoOffsetReset => all(OffsetReset::ALL),
            Field::Isolation => all(Isolation::ALL),
            Field::Commit => all(Commit::ALL),
            Field::BatchSize
            | Field::LingerMs
            | Field::Rate
            | Field::Transactions
            | Field::AbortEvery
            | Field::Rtt
            | Field::FetchMinBytes
            | Field::FetchWaitMaxMs
            | Field::MaxPartitionFetchBytes
            | Field::SessionTimeoutMs
            | Field::HeartbeatIntervalMs
            | Field::MaxPollIntervalMs
            | Field::Work => return None,
        })
    }

    pub(super) fn value_of(self, s: &ProducerSettings, c: &ConsumerSettings) -> String {
        match self {
            Field::Acks => s.acks.to_string(),
            Field::BatchSize => s.batch_size.clone(),
            Field::LingerMs => s.linger_ms.clone(),
            Field::Compression => s.compression.to_string(),
            Field::Idempotence => s.idempotence.to_string(),
            Field::Rate => rate_text(s.rate),
            Field::Key => s.key.to_string(),
            Field::Partitioner => s.partitioner.to_string(),
            Field::Transactions => txn_text(s.txn_records),
            Field::AbortEvery => s.abort_every.to_string(),
            Field::Assignment => c.strategies.to_string(),
            Field::Protocol => c.protocol.to_string(),
            Field::FetchMinBytes => c.fetch_min_bytes.clone(),
            Field::FetchWaitMaxMs => c.fetch_wait_max_ms.clone(),
            Field::MaxPartitionFetchBytes => c.max_partition_fetch_bytes.clone(),
            Field::SessionTimeoutMs => c.session_timeout_ms.clone(),
            Field::HeartbeatIntervalMs => c.heartbeat_interval_ms.clone(),
            Field::MaxPollIntervalMs => c.max_poll_interval_ms.clone(),
            Field::AutoOffsetReset => c.auto_offset_reset.to_string(),
            Field::Isolation => c.isolation.to_string(),
            Field::StaticMembership => c.static_membership.to_string(),
            Field::Commit => c.commit.to_string(),
            Field::Work => work_text(c.work),
            Field::Rtt => s.rtt_ms.unwrap_or(0).to_string(),
        }
    }
}

/// A rate as the settings panel takes it: records per second above 0, or `max` (None).
pub fn parse_rate(t: &str) -> Result<Option<f64>, String> {
    if t == "max" {
        return Ok(None);
    }
    crate::cli::parse_rate(t).map(crate::cli::Rate::per_second)
}

/// Work per record as the panel takes it: `0`, `20ms`, `1.5s` (a number alone is ms).
pub fn parse_work(t: &str) -> Result<Duration, String> {
    const LONGEST: Duration = crate::lab::settings::LONGEST_WORK;
    let bad = || {
        format!(
            "0 to {} per record (20ms, 1s; a number is ms)",
            crate::text::seconds(crate::lab::settings::LONGEST_WORK)
        )
    };
    let d = match t.parse::<f64>() {
        // Bounded before it becomes a Duration (which panics past its range).
        Ok(ms) if (0.0..=LONGEST.as_secs_f64() * 1000.0).contains(&ms) => {
            Duration::from_secs_f64(ms / 1000.0)
        }
        Ok(_) => return Err(bad()),
        Err(_) => humantime::parse_duration(t).map_err(|_| bad())?,
    };
    if d > crate::lab::settings::LONGEST_WORK {
        return Err(bad());
    }
    Ok(d)
}

/// `0`, `20ms`, `1s`.
pub fn work_text(d: Duration) -> String {
    if d.is_zero() {
        "0".to_string()
    } else {
        humantime::format_duration(d).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fit_the_panel_and_properties_are_librdkafkas() {
        for f in FIELDS {
            assert!(f.label().chars().count() <= 18, "{:?}: {}", f, f.label());
            if let Some(p) = f.property() {
                assert!(properties::lookup(p).is_some(), "{p}");
            }
        }
    }

    /// Every field says what it does; those that set a librdkafka property name its default
    /// as librdkafka's own table has it.
    #[test]
    fn every_field_explains_itself() {
        for f in FIELDS {
            assert!(!f.help().is_empty() && f.help().len() < 160, "{f:?}");
        }
        assert_eq!(Field::LingerMs.default_value(), Some("5"));
        assert_eq!(Field::SessionTimeoutMs.default_value(), Some("45000"));
        assert_eq!(Field::FetchWaitMaxMs.default_value(), Some("500"));
        assert_eq!(Field::Work.default_value(), None);
        for f in FIELDS.iter().filter(|f| f.librdkafka_name().is_some()) {
            assert!(f.default_value().is_some(), "{f:?} has a default");
        }
    }

    #[test]
    fn field_validation() {
        assert!(Field::Acks.validate("all").is_ok());
        assert!(Field::Acks.validate("2").is_err());
        assert!(Field::BatchSize.validate("abc").is_err());
        assert!(Field::Rate.validate("max").is_ok());
        assert!(Field::Rate.validate("0").is_err());
        assert!(
            Field::Rate.validate("1e-300").is_err(),
            "a rate too small to pace"
        );
        assert!(Field::Compression.validate("zstd").is_ok());
        assert!(Field::Partitioner.validate("murmur2_random").is_ok());
        assert!(Field::Key.validate("country").is_err());
        assert!(Field::Assignment.validate("range,roundrobin").is_ok());
        assert!(Field::Assignment.validate("range,").is_err());
        assert!(Field::SessionTimeoutMs.validate("6000").is_ok());
        assert!(Field::SessionTimeoutMs.validate("-5").is_err());
        assert!(Field::FetchWaitMaxMs.validate("abc").is_err());
        assert!(Field::Commit.validate("sometimes").is_err());
        for (work, ok) in [
            ("0", true),
            ("20ms", true),
            ("1.5", true),
            ("2s", true),
            ("-5ms", false),
            ("-5", false),
            ("11m", false),
            ("soon", false),
        ] {
            assert_eq!(Field::Work.validate(work).is_ok(), ok, "{work}");
        }
        for (text, ok) in [
            ("off", true),
            ("0", true),
            ("1", true),
            ("1000000", true),
            ("1000001", false),
            ("-1", false),
            ("some", false),
        ] {
            assert_eq!(Field::Transactions.validate(text).is_ok(), ok, "{text}");
        }
        assert_eq!(parse_txn_records("off"), Ok(0));
        assert_eq!(parse_abort_every("1"), Ok(1));
        assert!(Field::AbortEvery.validate("x").is_err());
        assert_eq!(parse_work("20").unwrap(), Duration::from_millis(20));
        assert_eq!(work_text(Duration::from_millis(20)), "20ms");
    }
}
