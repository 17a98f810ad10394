//! The consumers' settings the lab edits, typed: how the group shares partitions, how members
//! fetch, how the group notices a member gone, and kafka-lab's own two, how a member commits
//! and how long it works on each record. One value for every member; a member's own work
//! per record is the lab's to keep.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{ClientSettings, Layers, Origin, Role};
use crate::kafka::embedded::{MOCK_FETCH_SETTINGS, MOCK_GROUP_SETTINGS};
use crate::kafka::settings::{choices, parse_bool, GroupProtocol, Strategies, Strategy};

/// Where the panel's values say they came from.
const PANEL: &str = "settings panel";

choices! {
    /// When a member commits what it read: kafka-lab's own setting.
    pub enum Commit {
        /// librdkafka's auto-commit: offsets stored as records are handed over (before the
        /// work), committed every `auto.commit.interval.ms`.
        Auto = "auto",
        /// Commit a member's records after it processed them: nothing lost, some read twice
        /// after a crash (at least once).
        After = "after",
        /// Commit, then process: nothing read twice, some lost after a crash (at most once).
        Before = "before",
    }
}

choices! {
    /// `auto.offset.reset`: where a member starts in a partition without a committed offset.
    pub enum OffsetReset {
        Latest = "latest",
        Earliest = "earliest",
    }
}

choices! {
    /// `isolation.level`: whether a member reads records of open or aborted transactions.
    pub enum Isolation {
        ReadCommitted = "read_committed",
        ReadUncommitted = "read_uncommitted",
    }
}

impl Isolation {
    pub fn other(self) -> Isolation {
        match self {
            Isolation::ReadCommitted => Isolation::ReadUncommitted,
            Isolation::ReadUncommitted => Isolation::ReadCommitted,
        }
    }
}

/// The consumers' settings, applied to every member.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerSettings {
    /// `partition.assignment.strategy` (classic protocol).
    pub strategies: Strategies,
    pub protocol: GroupProtocol,
    /// librdkafka properties as it takes them (checked by librdkafka).
    pub fetch_min_bytes: String,
    pub fetch_wait_max_ms: String,
    pub max_partition_fetch_bytes: String,
    pub session_timeout_ms: String,
    pub heartbeat_interval_ms: String,
    pub max_poll_interval_ms: String,
    pub auto_offset_reset: OffsetReset,
    pub isolation: Isolation,
    /// Each member has a `group.instance.id` (static membership): a member that comes back
    /// within its session timeout gets its partitions back without a rebalance.
    pub static_membership: bool,
    pub commit: Commit,
    /// Simulated processing time per record, for every member.
    pub work: Duration,
}

/// The librdkafka properties the panel edits, and the default kafka-lab falls back on when
/// one cannot be read.
pub const PROPERTIES: [(&str, &str); 8] = [
    ("fetch.min.bytes", "1"),
    ("fetch.wait.max.ms", "500"),
    ("max.partition.fetch.bytes", "1048576"),
    ("session.timeout.ms", "45000"),
    ("heartbeat.interval.ms", "3000"),
    ("max.poll.interval.ms", "300000"),
    ("auto.offset.reset", "largest"),
    ("isolation.level", "read_committed"),
];

/// The librdkafka properties a scenario's `consumer` step may set, besides `static`.
pub const STEP_PROPERTIES: [&str; 10] = [
    "partition.assignment.strategy",
    "group.protocol",
    "fetch.min.bytes",
    "fetch.wait.max.ms",
    "max.partition.fetch.bytes",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "auto.offset.reset",
    "isolation.level",
];

/// A change to the consumers' settings (a scenario's step): what it names, the rest as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumerChange {
    /// Of [`STEP_PROPERTIES`].
    pub properties: BTreeMap<String, String>,
    pub static_membership: Option<bool>,
    pub commit: Option<Commit>,
    pub work: Option<Duration>,
}

impl ConsumerChange {
    /// Checks one property as a step gives it.
    pub fn check_property(key: &str, value: &str) -> Result<(), String> {
        if !STEP_PROPERTIES.contains(&key) {
            return Err(format!(
                "`{key}`: a consumer step sets {} or static (other consumer properties go in \
                 config.ini or -X)",
                STEP_PROPERTIES.join(", ")
            ));
        }
        let probe = ConsumerChange {
            properties: BTreeMap::from([(key.to_string(), value.to_string())]),
            ..ConsumerChange::default()
        };
        probe
            .applied_to(&ConsumerSettings::effective(None))
            .map(drop)
    }

    /// `settings` with this change; an error names the value that cannot be taken.
    pub fn applied_to(&self, settings: &ConsumerSettings) -> Result<ConsumerSettings, String> {
        let mut c = settings.clone();
        for (key, value) in &self.properties {
            let v = value.trim().to_string();
            let number = |what: &str| -> Result<String, String> {
                crate::config::properties::check_value(key, &v)
                    .map(|()| v.clone())
                    .map_err(|e| format!("{key} = {v}: {e} ({what})"))
            };
            match key.as_str() {
                "partition.assignment.strategy" => c.strategies = v.parse()?,
                "group.protocol" => {
                    c.protocol = v.parse().map_err(|_| {
                        format!("group.protocol must be one of {}", GroupProtocol::listed())
                    })?;
                }
                "fetch.min.bytes" => c.fetch_min_bytes = number("bytes")?,
                "fetch.wait.max.ms" => c.fetch_wait_max_ms = number("milliseconds")?,
                "max.partition.fetch.bytes" => c.max_partition_fetch_bytes = number("bytes")?,
                "session.timeout.ms" => c.session_timeout_ms = number("milliseconds")?,
                "heartbeat.interval.ms" => c.heartbeat_interval_ms = number("milliseconds")?,
                "max.poll.interval.ms" => c.max_poll_interval_ms = number("milliseconds")?,
                "auto.offset.reset" => {
                    c.auto_offset_reset = match v.as_str() {
                        "smallest" | "beginning" => OffsetReset::Earliest,
                        "largest" | "end" => OffsetReset::Latest,
                        other => other.parse().map_err(|_| {
                            format!("auto.offset.reset must be one of {}", OffsetReset::listed())
                        })?,
                    };
                }
                "isolation.level" => {
                    c.isolation = v.parse().map_err(|_| {
                        format!("isolation.level must be one of {}", Isolation::listed())
                    })?;
                }
                other => return Err(format!("`{other}` is not a consumer step's property")),
            }
        }
        if let Some(s) = self.static_membership {
            c.static_membership = s;
        }
        if let Some(commit) = self.commit {
            c.commit = commit;
        }
        if let Some(work) = self.work {
            c.work = work;
        }
        Ok(c)
    }
}

/// The shortest session timeout kafka-lab offers: below it no heartbeat comes in time. The
/// embedded cluster and `scripts/kafka-local` take it; other brokers refuse less than their
/// `group.min.session.timeout.ms`, 6000 by default ([`BROKER_SESSION_FLOOR_MS`]).
pub const SHORTEST_SESSION_MS: u64 = 1000;
/// Apache Kafka's `group.min.session.timeout.ms` by default.
pub const BROKER_SESSION_FLOOR_MS: u64 = 6000;
/// The longest work per record the panel takes.
pub const LONGEST_WORK: Duration = Duration::from_secs(600);

impl ConsumerSettings {
    /// The group rebalances incrementally (cooperative-sticky, or the consumer protocol):
    /// members keep what does not move, and what moves is revoked, then assigned.
    pub fn incremental(&self) -> bool {
        self.protocol == GroupProtocol::Consumer
            || self.strategies.first() == Strategy::CooperativeSticky
    }

    /// The values a member would run with from `base` (config file, -X, kafka-lab's own), with
    /// the embedded cluster's quicker group timing when `mock`: librdkafka's defaults where
    /// unset. Also where each came from.
    pub fn starting(base: &Layers, mock: bool) -> (ConsumerSettings, BTreeMap<String, String>) {
        let mut layers = base.clone();
        add_mock_defaults(&mut layers, mock);
        let resolved = layers.resolve(Role::Consumer).ok();
        let origins = PROPERTIES
            .iter()
            .map(|(k, _)| k)
            .chain(&[
                "partition.assignment.strategy",
                "group.protocol",
                "group.instance.id",
            ])
            .map(|k| {
                let origin = resolved
                    .as_ref()
                    .and_then(|r| r.origin(k))
                    .map_or_else(|| "librdkafka's default".to_string(), short_origin);
                ((*k).to_string(), origin)
            })
            .collect();
        let settings = ConsumerSettings::effective(resolved.as_ref());
        (settings, origins)
    }

    /// The values in force for `settings` (librdkafka's defaults where unset or unreadable).
    pub fn effective(settings: Option<&ClientSettings>) -> ConsumerSettings {
        let get = |key: &str| -> String {
            settings
                .and_then(|s| s.get(key))
                .map(str::to_string)
                .or_else(|| {
                    crate::config::properties::lookup(key)
                        .map(|p| p.default.clone())
                        .filter(|d| !d.is_empty())
                })
                .unwrap_or_else(|| {
                    PROPERTIES
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map_or_else(String::new, |(_, d)| (*d).to_string())
                })
        };
        let reset = match get("auto.offset.reset").as_str() {
            "earliest" | "smallest" | "beginning" => OffsetReset::Earliest,
            _ => OffsetReset::Latest,
        };
        ConsumerSettings {
            strategies: get("partition.assignment.strategy")
                .parse()
                .unwrap_or(Strategies(vec![Strategy::Range, Strategy::RoundRobin])),
            protocol: get("group.protocol")
                .parse()
                .unwrap_or(GroupProtocol::Classic),
            fetch_min_bytes: get("fetch.min.bytes"),
            fetch_wait_max_ms: get("fetch.wait.max.ms"),
            max_partition_fetch_bytes: get("max.partition.fetch.bytes"),
            session_timeout_ms: get("session.timeout.ms"),
            heartbeat_interval_ms: get("heartbeat.interval.ms"),
            max_poll_interval_ms: get("max.poll.interval.ms"),
            auto_offset_reset: reset,
            isolation: get("isolation.level")
                .parse()
                .unwrap_or(Isolation::ReadCommitted),
            static_membership: settings.is_some_and(|s| s.get("group.instance.id").is_some()),
            commit: if settings
                .and_then(|s| s.get("enable.auto.commit"))
                .is_some_and(|v| parse_bool(v) == Ok(false))
            {
                Commit::After
            } else {
                Commit::Auto
            },
            work: Duration::ZERO,
        }
    }

    /// Whether the values fit together, as librdkafka and the brokers check them; the error
    /// says which and why, before anything restarts.
    pub fn check(&self) -> Result<(), String> {
        self.check_on(SHORTEST_SESSION_MS)
    }

    /// [`ConsumerSettings::check`] for a cluster whose groups take sessions from `floor` ms.
    pub fn check_on(&self, floor: u64) -> Result<(), String> {
        let ms = |name: &str, v: &str| -> Result<u64, String> {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{name}: a whole number of milliseconds"))
        };
        if self.protocol == GroupProtocol::Consumer {
            // The broker's settings then: nothing of the client's to check together.
            return Ok(());
        }
        let session = ms("session.timeout.ms", &self.session_timeout_ms)?;
        let heartbeat = ms("heartbeat.interval.ms", &self.heartbeat_interval_ms)?;
        let poll = ms("max.poll.interval.ms", &self.max_poll_interval_ms)?;
        if session < floor {
            return Err(if floor > SHORTEST_SESSION_MS {
                format!(
                    "session.timeout.ms = {session}: this cluster's brokers take at least \
                     {floor} (group.min.session.timeout.ms)"
                )
            } else {
                format!("session.timeout.ms = {session}: at least {floor}")
            });
        }
        if heartbeat >= session {
            return Err(format!(
                "heartbeat.interval.ms = {heartbeat} must be below session.timeout.ms = {session} \
                 (a third of it is usual)"
            ));
        }
        if poll < session {
            return Err(format!(
                "max.poll.interval.ms = {poll} must be at least session.timeout.ms = {session} \
                 (librdkafka refuses less)"
            ));
        }
        Ok(())
    }

    /// A member's settings: `base` with these on top. With the consumer protocol (KIP-848)
    /// the broker assigns (`group.remote.assignor`: range for range, uniform otherwise) and
    /// keeps the session and heartbeat timing: librdkafka refuses the classic protocol's
    /// strategy and timing there, so they are dropped even when config.ini sets them.
    pub fn layers(&self, base: &Layers, mock: bool, member: u32) -> Layers {
        let mut layers = base.clone();
        add_mock_defaults(&mut layers, mock);
        let mut live = |key: &str, value: &str| layers.set_live(key, value, PANEL);
        live("group.protocol", self.protocol.as_str());
        live("fetch.min.bytes", &self.fetch_min_bytes);
        live("fetch.wait.max.ms", &self.fetch_wait_max_ms);
        live("max.partition.fetch.bytes", &self.max_partition_fetch_bytes);
        live("max.poll.interval.ms", &self.max_poll_interval_ms);
        live("auto.offset.reset", self.auto_offset_reset.as_str());
        live("isolation.level", self.isolation.as_str());
        // Auto: librdkafka stores an offset as it hands a record over, and commits every
        // auto.commit.interval.ms. After and before: the member commits itself.
        let auto = self.commit == Commit::Auto;
        live("enable.auto.commit", if auto { "true" } else { "false" });
        live(
            "enable.auto.offset.store",
            if auto { "true" } else { "false" },
        );
        if self.static_membership {
            live("group.instance.id", &format!("kafka-lab-consumer-{member}"));
        } else {
            layers.drop_unless_live("group.instance.id");
        }
        match self.protocol {
            GroupProtocol::Consumer => {
                let assignor = match self.strategies.0.as_slice() {
                    [Strategy::Range] => "range",
                    _ => "uniform",
                };
                layers.set_live("group.remote.assignor", assignor, PANEL);
                for key in [
                    "partition.assignment.strategy",
                    "session.timeout.ms",
                    "heartbeat.interval.ms",
                ] {
                    layers.drop_unless_live(key);
                }
            }
            GroupProtocol::Classic => {
                let mut live = |key: &str, value: &str| layers.set_live(key, value, PANEL);
                live(
                    "partition.assignment.strategy",
                    &self.strategies.to_string(),
                );
                live("session.timeout.ms", &self.session_timeout_ms);
                live("heartbeat.interval.ms", &self.heartbeat_interval_ms);
                layers.drop_unless_live("group.remote.assignor");
            }
        }
        layers
    }

    /// Whether the members must rejoin the group to take `other` (their client properties
    /// differ); the commit mode and the work per record apply to running members.
    pub fn needs_rejoin(&self, other: &ConsumerSettings) -> bool {
        let client = |s: &ConsumerSettings| ConsumerSettings {
            commit: Commit::Auto,
            work: Duration::ZERO,
            ..s.clone()
        };
        // Auto-commit or not is librdkafka's: a change to or from `auto` is a rejoin too.
        client(self) != client(other)
            || (self.commit == Commit::Auto) != (other.commit == Commit::Auto)
    }

    /// What differs from `before`, as `session.timeout.ms 45000 → 6000`, in the order the
    /// runs table lists them.
    pub fn changes(&self, before: &ConsumerSettings) -> Vec<String> {
        let (old, new) = (before.report_settings(), self.report_settings());
        new.iter()
            .filter(|(k, v)| old.get(*k) != Some(v))
            .map(|(k, v)| match old.get(k) {
                Some(was) => format!("{k} {was} → {v}"),
                None => format!("{k} {v}"),
            })
            .collect()
    }

    /// `session 45 s, commit after, work 20 ms`: what the runs table shows of a consumer run.
    pub fn report_settings(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert("group.protocol".into(), self.protocol.to_string());
        if self.protocol == GroupProtocol::Classic {
            out.insert(
                "partition.assignment.strategy".into(),
                self.strategies.to_string(),
            );
            out.insert("session.timeout.ms".into(), self.session_timeout_ms.clone());
            out.insert(
                "heartbeat.interval.ms".into(),
                self.heartbeat_interval_ms.clone(),
            );
        }
        out.insert("fetch.min.bytes".into(), self.fetch_min_bytes.clone());
        out.insert("fetch.wait.max.ms".into(), self.fetch_wait_max_ms.clone());
        out.insert(
            "max.partition.fetch.bytes".into(),
            self.max_partition_fetch_bytes.clone(),
        );
        out.insert(
            "max.poll.interval.ms".into(),
            self.max_poll_interval_ms.clone(),
        );
        out.insert(
            "auto.offset.reset".into(),
            self.auto_offset_reset.to_string(),
        );
        out.insert("isolation.level".into(), self.isolation.to_string());
        out.insert("static".into(), self.static_membership.to_string());
        out.insert("commit".into(), self.commit.to_string());
        out.insert("work".into(), crate::text::seconds(self.work));
        out
    }
}

/// The embedded cluster answers fetches and rebalances on timings of its own: kafka-lab's
/// defaults there (a user's own values still win).
fn add_mock_defaults(layers: &mut Layers, mock: bool) {
    if mock {
        for (key, value) in MOCK_FETCH_SETTINGS.into_iter().chain(MOCK_GROUP_SETTINGS) {
            layers.builtin(key, value, "embedded cluster");
        }
    }
}

/// `config.ini:14`, `-X`, `-g`, `embedded cluster`, `settings panel`: where a value came from,
/// short enough for the panel.
fn short_origin(origin: &Origin) -> String {
    match origin {
        Origin::File { path, line, .. } => format!(
            "{}:{line}",
            path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        ),
        Origin::Flag(flag) if flag.starts_with("command line -X") => "-X".to_string(),
        Origin::Flag(flag) => flag
            .strip_prefix("command line ")
            .unwrap_or(flag)
            .to_string(),
        Origin::Builtin(why) => (*why).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Layers {
        let mut base = Layers::default();
        base.flag("bootstrap.servers", "h:1", "test");
        base.flag("group.id", "g", "test");
        base
    }

    #[test]
    fn member_settings_fit_the_protocol_and_librdkafka_takes_them() {
        let (mut s, origins) = ConsumerSettings::starting(&base(), true);
        assert_eq!(s.session_timeout_ms, "2000", "the embedded cluster's");
        assert_eq!(origins["session.timeout.ms"], "embedded cluster");
        assert_eq!(origins["fetch.min.bytes"], "librdkafka's default");
        s.strategies = Strategies(vec![Strategy::CooperativeSticky]);
        s.static_membership = true;
        s.commit = Commit::After;
        let c = s.layers(&base(), true, 3).resolve(Role::Consumer).unwrap();
        assert_eq!(
            c.get("partition.assignment.strategy"),
            Some("cooperative-sticky")
        );
        assert_eq!(c.get("group.instance.id"), Some("kafka-lab-consumer-3"));
        assert_eq!(c.get("enable.auto.commit"), Some("false"));
        c.client_config().create_native_config().unwrap();
        // KIP-848: the classic protocol's strategy and timing are gone, config.ini's too.
        let mut with_file = base();
        with_file
            .overrides
            .push(crate::config::parse_pair("session.timeout.ms=60000", "-X").unwrap());
        s.protocol = GroupProtocol::Consumer;
        let k = s
            .layers(&with_file, false, 1)
            .resolve(Role::Consumer)
            .unwrap();
        assert_eq!(k.get("group.remote.assignor"), Some("uniform"));
        for gone in [
            "partition.assignment.strategy",
            "session.timeout.ms",
            "heartbeat.interval.ms",
        ] {
            assert_eq!(k.get(gone), None, "{gone}");
        }
        k.client_config().create_native_config().unwrap();
    }

    #[test]
    fn values_that_do_not_fit_together_are_refused_before_anything_restarts() {
        let (mut s, _) = ConsumerSettings::starting(&base(), false);
        assert_eq!(s.check(), Ok(()));
        let cases = [
            ("1", "3000", "300000", "at least 1000"),
            ("6000", "6000", "300000", "must be below session.timeout.ms"),
            (
                "10000",
                "3000",
                "9000",
                "must be at least session.timeout.ms",
            ),
            ("x", "3000", "300000", "whole number"),
        ];
        for (session, heartbeat, poll, says) in cases {
            s.session_timeout_ms = session.into();
            s.heartbeat_interval_ms = heartbeat.into();
            s.max_poll_interval_ms = poll.into();
            let e = s.check().unwrap_err();
            assert!(e.contains(says), "{session}/{heartbeat}/{poll}: {e}");
        }
        // The broker's timing with KIP-848: the client's is not checked.
        s.protocol = GroupProtocol::Consumer;
        assert_eq!(s.check(), Ok(()));
    }

    #[test]
    fn only_client_properties_make_members_rejoin() {
        let (s, _) = ConsumerSettings::starting(&base(), false);
        let slower = ConsumerSettings {
            work: Duration::from_millis(20),
            ..s.clone()
        };
        assert!(!s.needs_rejoin(&slower));
        let longer = ConsumerSettings {
            session_timeout_ms: "60000".into(),
            ..s.clone()
        };
        assert!(s.needs_rejoin(&longer));
        let committing = ConsumerSettings {
            commit: Commit::Before,
            ..s.clone()
        };
        assert!(s.needs_rejoin(&committing), "auto-commit off: librdkafka's");
        let after = ConsumerSettings {
            commit: Commit::After,
            ..committing.clone()
        };
        assert!(!committing.needs_rejoin(&after), "the member's own");
    }
}
