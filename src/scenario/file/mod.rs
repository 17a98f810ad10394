//! A scenario file (TOML) read into typed steps. Every check that needs no cluster happens
//! here, so a bad file is refused, naming its line and step, before anything connects.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use toml::{Spanned, Table, Value};

use steps::{check_together, read_step};

mod members;
mod show;
mod steps;

use super::expr::Assertion;
use crate::data::source::KeyField;
use crate::kafka::local::FaultKind;
use crate::kafka::processor::Guarantee;
use crate::kafka::settings::{GroupProtocol, Strategies};
use crate::lab::settings::{ConsumerChange, Isolation};

/// A scenario file that cannot be run: where, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    /// `step 3 (consumers)` or empty for the file's header.
    pub step: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if !self.step.is_empty() {
            write!(f, "{}: ", self.step)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// The kind of cluster a scenario needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterKind {
    Any,
    /// kafka-lab's embedded cluster only.
    Embedded,
    /// A cluster `scripts/kafka-local` started (real brokers kafka-lab can fail).
    Local,
}

/// The cluster a scenario needs: a kind, and at least this many nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub kind: ClusterKind,
    pub nodes: usize,
}

impl fmt::Display for Needs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ClusterKind::Any => f.write_str("any cluster")?,
            ClusterKind::Embedded => f.write_str("the embedded cluster")?,
            ClusterKind::Local => f.write_str("a cluster scripts/kafka-local started")?,
        }
        if self.nodes > 1 {
            write!(f, " with {} or more nodes", self.nodes)?;
        }
        Ok(())
    }
}

pub use crate::lab::protocol::Members;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// librdkafka producer properties; the producer starts a new run with them.
    Producer(BTreeMap<String, String>),
    /// Records per second (None: as fast as possible); a new run.
    Rate(Option<f64>),
    /// The record field used as key; a new run.
    Key(KeyField),
    Start,
    Stop,
    Consumers(Members),
    /// `partition.assignment.strategy` and/or `group.protocol`: every member rejoins.
    Group {
        strategies: Option<Strategies>,
        protocol: Option<GroupProtocol>,
    },
    /// The leader of `partition` fails as `kind` says and comes back after `length` (or at a
    /// `recover` step when `None`).
    Fault {
        kind: FaultKind,
        partition: i32,
        length: Option<Duration>,
    },
    /// Every broker the scenario failed comes back (up, or resumed).
    Recover,
    /// The consumers' settings (`consumer`, `commit`, `work` for every member).
    Consumer(ConsumerChange),
    /// One member's own work per record.
    MemberWork {
        member: u32,
        per_record: Duration,
    },
    /// One member's own `isolation.level`.
    MemberIsolation {
        member: u32,
        level: Isolation,
    },
    /// A member crashes (no leave, no commit).
    Crash(u32),
    /// A crashed member starts again.
    Restart(u32),
    /// The processors start (true) or stop.
    Processors(bool),
    /// A processor crashes (no commit, no abort).
    ProcessorCrash(Guarantee),
    /// A crashed processor starts again.
    ProcessorRestart(Guarantee),
    /// The group's committed offsets are reset (its members leave and join again).
    Rewind(crate::lab::settings::Rewind),
    /// Nothing: the next step comes this much later.
    Wait(Duration),
    Mark(String),
    Assert(Assertion),
}

impl Action {
    /// Settings that end the run under way and start the next.
    pub fn restarts(&self) -> bool {
        matches!(self, Action::Producer(_) | Action::Rate(_) | Action::Key(_))
    }
}

/// When a step runs: at a time from the start, or a while after the step before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    At(Duration),
    After(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based, as the file lists them.
    pub number: usize,
    pub line: usize,
    pub when: When,
    pub action: Action,
    /// An assertion that may take a while to hold (a group settling) is checked again until
    /// it does, for at most this long on the scenario's clock.
    pub within: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Where it was read from: a path, or `shipped:NAME`.
    pub file: String,
    pub title: String,
    pub description: String,
    pub needs: Needs,
    /// The line of `cluster` (1 when the file has none), for errors about the cluster.
    pub cluster_line: usize,
    pub partitions: i32,
    pub replication: Option<i32>,
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The fault steps.
    pub fn faults(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Fault { .. }))
    }

    /// How long the steps take at speed 1, by their waits and offsets (assertions that wait
    /// for read-backs add to it).
    pub fn planned(&self) -> Duration {
        let mut t = Duration::ZERO;
        for s in &self.steps {
            t = match s.when {
                When::At(at) => at.max(t),
                When::After(d) => t + d,
            };
            if let Action::Wait(d) = s.action {
                t += d;
            }
        }
        t
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    cluster: Option<Spanned<Value>>,
    #[serde(default)]
    topic: Option<Spanned<RawTopic>>,
    #[serde(default)]
    step: Vec<Spanned<Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    #[serde(default = "six")]
    partitions: i32,
    #[serde(default)]
    replication: Option<i32>,
}

fn six() -> i32 {
    6
}

/// The actions a step may take; one per step.
const ACTIONS: [&str; 19] = [
    "producer",
    "rate",
    "key",
    "start",
    "stop",
    "consumers",
    "group",
    "consumer",
    "commit",
    "work",
    "isolation",
    "crash",
    "restart",
    "rewind",
    "fault",
    "recover",
    "wait",
    "mark",
    "assert",
];

/// Reads scenario `text`; `file` names it in errors.
/// A scenario file is a few hundred lines; anything past this is no scenario.
pub const MAX_BYTES: u64 = 1 << 20;

pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let error = |line: usize, step: String, message: String| ScenarioError {
        file: file.to_string(),
        line,
        step,
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(s.start));
        let message = e.message().trim().to_string();
        let message = if message.contains("missing field `title`") {
            "no `title = \"...\"`: a scenario needs a title".to_string()
        } else if message.contains("unknown field") && message.contains("`title`") {
            format!("{message}: a scenario has title, description, cluster, [topic] and [[step]]s")
        } else {
            message
        };
        error(line, String::new(), message)
    })?;
    let needs = match &raw.cluster {
        None => Needs {
            kind: ClusterKind::Any,
            nodes: 1,
        },
        Some(v) => parse_needs(v.get_ref())
            .map_err(|m| error(line_of(v.span().start), String::new(), m))?,
    };
    let (partitions, replication) = match &raw.topic {
        None => (6, None),
        Some(t) => {
            read_topic(t.get_ref()).map_err(|m| error(line_of(t.span().start), String::new(), m))?
        }
    };
    if raw.step.is_empty() {
        return Err(error(
            line_of(text.len()),
            String::new(),
            "no steps: add [[step]] tables, e.g. `[[step]]` then `start = \"producer\"`".into(),
        ));
    }
    let mut steps = Vec::new();
    let mut clock = Duration::ZERO;
    // The producer properties in force after each step, checked together as librdkafka would.
    let mut producer = BTreeMap::new();
    for (i, table) in raw.step.iter().enumerate() {
        let line = line_of(table.span().start);
        let number = i + 1;
        let step = read_step(table.get_ref(), number, line)
            .map_err(|(name, m)| error(line, format!("step {number}{name}"), m))?;
        if let When::At(at) = step.when {
            if at < clock {
                return Err(error(
                    line,
                    format!("step {number}"),
                    format!(
                        "at = {} goes back in time: the step before runs at {}; give a later \
                         time, or `after` for a delay",
                        humantime::format_duration(at),
                        humantime::format_duration(clock)
                    ),
                ));
            }
            clock = at;
        } else if let When::After(d) = step.when {
            clock += d;
        }
        if let Action::Wait(d) = step.action {
            clock += d;
        }
        if let Action::Producer(set) = &step.action {
            producer.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
            check_together(&producer)
                .map_err(|m| error(line, format!("step {number} (producer)"), m))?;
        }
        steps.push(step);
    }
    let scenario = Scenario {
        file: file.to_string(),
        // Shown on terminals and in reports: no escape sequence of the file's reaches them.
        title: crate::text::escape(&raw.title).into_owned(),
        description: crate::text::escape_lines(raw.description.trim()).into_owned(),
        needs,
        cluster_line: raw.cluster.as_ref().map_or(1, |v| line_of(v.span().start)),
        partitions,
        replication,
        steps,
    };
    check_needs(&scenario)
        .and_then(|()| check_processors(&scenario))
        .map_err(|(step, m)| error(step.line, step_name(step), m))?;
    Ok(scenario)
}

fn read_topic(t: &RawTopic) -> Result<(i32, Option<i32>), String> {
    if !(1..=10_000).contains(&t.partitions) {
        return Err(format!(
            "topic: partitions = {} is out of range: give 1 to 10000",
            t.partitions
        ));
    }
    if t.replication.is_some_and(|r| !(1..=32).contains(&r)) {
        return Err("topic: replication is out of range: give 1 to 32".into());
    }
    Ok((t.partitions, t.replication))
}

fn step_name(step: &Step) -> String {
    let action = match step.action {
        Action::Fault { .. } => "fault",
        Action::Recover => "recover",
        Action::Consumers(_) => "consumers",
        Action::Group { .. } => "group",
        Action::Consumer(_) => "consumer",
        Action::MemberWork { .. } => "work",
        Action::MemberIsolation { .. } => "isolation",
        Action::Crash(_) | Action::ProcessorCrash(_) => "crash",
        Action::Processors(true) => "start",
        Action::Processors(false) => "stop",
        Action::Restart(_) | Action::ProcessorRestart(_) => "restart",
        Action::Rewind(_) => "rewind",
        _ => "",
    };
    if action.is_empty() {
        format!("step {}", step.number)
    } else {
        format!("step {} ({action})", step.number)
    }
}

/// A processor is crashed or restarted only while the processors are on.
fn check_processors(s: &Scenario) -> Result<(), (&Step, String)> {
    let mut on = false;
    for step in &s.steps {
        match step.action {
            Action::Processors(now) => on = now,
            Action::ProcessorCrash(_) | Action::ProcessorRestart(_) if !on => {
                return Err((
                    step,
                    "the processors are not on here: start them first (start = \"processors\")"
                        .into(),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// What the scenario's own `cluster` says must hold of its steps.
fn check_needs(s: &Scenario) -> Result<(), (&Step, String)> {
    for step in s.faults() {
        if let Action::Fault {
            kind, partition, ..
        } = step.action
        {
            if partition >= s.partitions {
                return Err((
                    step,
                    format!(
                        "partition {partition} does not exist: the topic has {} (0 to {})",
                        s.partitions,
                        s.partitions - 1
                    ),
                ));
            }
            if kind == FaultKind::Pause && s.needs.kind == ClusterKind::Embedded {
                return Err((
                    step,
                    "the embedded cluster cannot pause a broker (only take it down): use \
                     kind = \"down\", or run on scripts/kafka-local's cluster"
                        .into(),
                ));
            }
        }
    }
    Ok(())
}

fn parse_needs(v: &Value) -> Result<Needs, String> {
    let bad = || {
        "cluster must be \"any\", \"embedded\", \"local\" (one scripts/kafka-local started), or \
         a table such as { kind = \"local\", nodes = 3 }"
            .to_string()
    };
    let kind = |name: &str| match name {
        "any" => Ok(ClusterKind::Any),
        "embedded" => Ok(ClusterKind::Embedded),
        "local" => Ok(ClusterKind::Local),
        _ => Err(bad()),
    };
    match v {
        Value::String(s) => Ok(Needs {
            kind: kind(s)?,
            nodes: 1,
        }),
        Value::Table(t) => {
            let mut needs = Needs {
                kind: ClusterKind::Any,
                nodes: 1,
            };
            for (key, value) in t {
                match (key.as_str(), value) {
                    ("kind", Value::String(s)) => needs.kind = kind(s)?,
                    ("nodes", Value::Integer(n)) if (1..=16).contains(n) => {
                        needs.nodes = *n as usize;
                    }
                    ("nodes", _) => return Err("cluster: nodes must be 1 to 16".into()),
                    _ => return Err(bad()),
                }
            }
            Ok(needs)
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, "lab.toml").unwrap_err().to_string()
    }

    const HEAD: &str = "title = \"t\"\n[topic]\npartitions = 3\n";

    #[test]
    fn a_scenario_reads_into_typed_steps() {
        let s = parse(
            &format!(
                "{HEAD}[[step]]\nproducer = {{ acks = \"1\", \"linger.ms\" = 20, \"enable.idempotence\" = false }}\n\
                 [[step]]\nrate = \"max\"\n[[step]]\nstart = \"producer\"\n\
                 [[step]]\nat = \"1m\"\nconsumers = \"+2\"\n\
                 [[step]]\nafter = 5\nfault = {{ partition = 2, for = \"10s\" }}\n\
                 [[step]]\nassert = \"p99 < 2 x previous.p99\"\nwithin = \"30s\"\n\
                 [[step]]\nwait = \"1.5s\"\n"
            ),
            "lab.toml",
        )
        .unwrap();
        assert_eq!(s.partitions, 3);
        assert_eq!(s.needs.kind, ClusterKind::Any);
        assert_eq!(s.steps.len(), 7);
        let Action::Producer(set) = &s.steps[0].action else {
            panic!("{:?}", s.steps[0]);
        };
        assert_eq!(set["linger.ms"], "20");
        assert_eq!(set["enable.idempotence"], "false");
        assert_eq!(s.steps[1].action, Action::Rate(None));
        assert_eq!(s.steps[3].when, When::At(Duration::from_secs(60)));
        assert_eq!(s.steps[3].action, Action::Consumers(Members::Add(2)));
        assert_eq!(s.steps[3].line, 10, "the line of its [[step]]");
        assert_eq!(
            s.steps[4].action,
            Action::Fault {
                kind: FaultKind::Kill,
                partition: 2,
                length: Some(Duration::from_secs(10))
            }
        );
        assert_eq!(s.steps[5].within, Some(Duration::from_secs(30)));
        assert_eq!(s.planned(), Duration::from_millis(66_500));
    }

    #[test]
    fn a_fault_may_last_until_a_recover_step() {
        let s = parse(
            &format!("{HEAD}[[step]]\nfault = {{ kind = \"pause\", for = \"never\" }}\n[[step]]\nrecover = \"all\"\n"),
            "lab.toml",
        )
        .unwrap();
        assert_eq!(
            s.steps[0].action,
            Action::Fault {
                kind: FaultKind::Pause,
                partition: 0,
                length: None
            }
        );
        assert_eq!(s.steps[1].action, Action::Recover);
        let e = err(&format!("{HEAD}[[step]]\nrecover = \"some\"\n"));
        assert!(
            e.starts_with("lab.toml:4: step 1 (recover): write recover = \"all\""),
            "{e}"
        );
    }

    #[test]
    fn bad_files_name_the_file_the_line_and_the_step() {
        // Unknown step.
        let e = err(&format!(
            "{HEAD}[[step]]\nstart = \"producer\"\n\n[[step]]\njump = 3\n"
        ));
        assert!(
            e.starts_with("lab.toml:7: step 2: `jump` is not a step"),
            "{e}"
        );
        // Unknown property, with the nearest name.
        let e = err(&format!(
            "{HEAD}[[step]]\nproducer = {{ \"linger.mss\" = 5 }}\n"
        ));
        assert!(e.starts_with("lab.toml:4: step 1 (producer): `linger.mss` is not a librdkafka property (did you mean `linger.ms`?)"), "{e}");
        // A consumer's property in a producer step.
        let e = err(&format!(
            "{HEAD}[[step]]\nproducer = {{ \"fetch.min.bytes\" = 5 }}\n"
        ));
        assert!(e.contains("is a consumer property"), "{e}");
        // Bad value, in librdkafka's terms.
        let e = err(&format!(
            "{HEAD}[[step]]\nproducer = {{ \"linger.ms\" = \"soon\" }}\n"
        ));
        assert!(
            e.starts_with("lab.toml:4: step 1 (producer): linger.ms = soon:"),
            "{e}"
        );
        let e = err(&format!("{HEAD}[[step]]\nproducer = {{ acks = 2 }}\n"));
        assert!(e.contains("not an acks setting"), "{e}");
        let e = err(&format!("{HEAD}[[step]]\nrate = -4\n"));
        assert!(e.contains("is not a rate"), "{e}");
        let e = err(&format!("{HEAD}[[step]]\nconsumers = 40\n"));
        assert!(e.contains("0 to 32"), "{e}");
        // Credentials and the connection are config.ini's, and never echoed.
        let e = err(&format!(
            "{HEAD}[[step]]\nproducer = {{ \"sasl.password\" = \"hunter2\" }}\n"
        ));
        assert!(
            e.contains("`sasl.password` belongs to the connection"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        let e = err(&format!(
            "{HEAD}[[step]]\nproducer = {{ \"sasl.passwordhunter2\" = 1 }}\n"
        ));
        assert!(!e.contains("hunter2"), "{e}");
        // Each value fine, together refused.
        let e = err(&format!(
            "{HEAD}[[step]]\nproducer = {{ \"enable.idempotence\" = true }}\n[[step]]\nproducer = {{ acks = 1 }}\n"
        ));
        assert!(e.starts_with("lab.toml:6: step 2 (producer): librdkafka refuses these producer settings together"), "{e}");
        // Time going backwards.
        let e = err(&format!(
            "{HEAD}[[step]]\nat = \"20s\"\nstart = \"producer\"\n[[step]]\nat = \"10s\"\nstop = \"producer\"\n"
        ));
        assert!(
            e.starts_with("lab.toml:7: step 2: at = 10s goes back in time"),
            "{e}"
        );
        let e = err(&format!("{HEAD}[[step]]\nwait = \"soon\"\n"));
        assert!(e.contains("is not a length of time"), "{e}");
        // A fault the cluster it names cannot do, a partition it lacks.
        let e =
            err("title = \"t\"\ncluster = \"embedded\"\n[[step]]\nfault = { kind = \"pause\" }\n");
        assert!(
            e.starts_with("lab.toml:3: step 1 (fault): the embedded cluster cannot pause"),
            "{e}"
        );
        let e = err(&format!("{HEAD}[[step]]\nfault = {{ partition = 3 }}\n"));
        assert!(
            e.contains("partition 3 does not exist: the topic has 3"),
            "{e}"
        );
        // Two actions in one step; an action's option out of place.
        let e = err(&format!("{HEAD}[[step]]\nstart = \"producer\"\nwait = 3\n"));
        assert!(e.contains("has two actions"), "{e}");
        let e = err(&format!("{HEAD}[[step]]\nwait = 3\nwithin = 3\n"));
        assert!(e.contains("`within` belongs to an assert step"), "{e}");
        let e = err(&format!(
            "{HEAD}[[step]]\nstart = \"producer\"\npartition = 3\n"
        ));
        assert!(e.contains("belongs inside a fault"), "{e}");
        // An assertion on a figure that does not exist.
        let e = err(&format!("{HEAD}[[step]]\nassert = \"p100 < 3\"\n"));
        assert!(
            e.starts_with("lab.toml:4: step 1 (assert): `p100` is not a figure"),
            "{e}"
        );
        // The file itself: TOML syntax, no title, unknown tables, no steps, bad cluster.
        let e = err("title = \"t\"\n\n[[step]\nwait = 3\n");
        assert!(e.starts_with("lab.toml:3: "), "{e}");
        assert!(err("[[step]]\nwait = 3\n").contains("a scenario needs a title"));
        assert!(err("title = \"t\"\n[producer]\nacks = 1\n").contains("unknown field `producer`"));
        assert!(err("title = \"t\"\n").contains("no steps"));
        let e = err("title = \"t\"\ncluster = { nodes = 99 }\n[[step]]\nwait = 1\n");
        assert!(
            e.starts_with("lab.toml:2: cluster: nodes must be 1 to 16"),
            "{e}"
        );
        let e = err("title = \"t\"\n[topic]\npartitions = 0\n[[step]]\nwait = 1\n");
        assert!(e.contains("partitions = 0 is out of range"), "{e}");
    }

    #[test]
    fn consumer_steps_read_and_their_bad_values_are_refused() {
        let s = parse(
            &format!(
                "{HEAD}[[step]]\nconsumer = {{ \"session.timeout.ms\" = 6000, static = true }}\n\
                 [[step]]\ncommit = \"before\"\n[[step]]\nwork = \"20ms\"\n\
                 [[step]]\nwork = {{ member = \"consumer-2\", per_record = \"1s\" }}\n\
                 [[step]]\ncrash = \"consumer-2\"\n[[step]]\nrestart = \"consumer-2\"\n"
            ),
            "lab.toml",
        )
        .unwrap();
        let Action::Consumer(c) = &s.steps[0].action else {
            panic!("{:?}", s.steps[0].action)
        };
        assert_eq!(c.properties["session.timeout.ms"], "6000");
        assert_eq!(c.static_membership, Some(true));
        assert_eq!(
            s.steps[1].action,
            Action::Consumer(ConsumerChange {
                commit: Some(crate::lab::settings::Commit::Before),
                ..ConsumerChange::default()
            })
        );
        assert_eq!(
            s.steps[3].action,
            Action::MemberWork {
                member: 2,
                per_record: Duration::from_secs(1)
            }
        );
        assert_eq!(s.steps[4].action, Action::Crash(2));
        assert_eq!(s.steps[5].action, Action::Restart(2));
        let p = parse(
            &format!(
                "{HEAD}[[step]]\nstart = \"processors\"\n[[step]]\ncrash = \"processor-exactly-once\"\n\
                 [[step]]\nrestart = \"processor-at-least-once\"\n[[step]]\nstop = \"processors\"\n"
            ),
            "lab.toml",
        )
        .unwrap();
        let actions: Vec<&Action> = p.steps.iter().map(|s| &s.action).collect();
        assert_eq!(
            actions,
            [
                &Action::Processors(true),
                &Action::ProcessorCrash(Guarantee::ExactlyOnce),
                &Action::ProcessorRestart(Guarantee::AtLeastOnce),
                &Action::Processors(false),
            ]
        );
        for (step, needle) in [
            ("work = \"-5ms\"", "work = \"-5ms\": 0 to"),
            ("crash = \"consumer-x\"", "name a member as the panes do"),
            ("crash = \"bob\"", "name a member as the panes do"),
            (
                "restart = \"processor-twice\"",
                "\"processor-exactly-once\"",
            ),
            ("start = \"processor\"", "(or start = \"processors\")"),
            ("crash = \"processor-exactly-once\"", "start them first"),
            ("consumer = { \"session.timeout.ms\" = 1 }", "at least 1000"),
            (
                "consumer = { \"session.timeout.ms\" = 6000, \"heartbeat.interval.ms\" = 7000 }",
                "must be below session.timeout.ms",
            ),
            ("commit = \"sometimes\"", "commit must be one of"),
            (
                "consumer = { \"enable.auto.commit\" = false }",
                "a consumer step sets",
            ),
            (
                "consumer = { static = \"yes\" }",
                "static takes true or false",
            ),
            ("work = { member = \"consumer-1\" }", "write work ="),
        ] {
            let e = err(&format!("{HEAD}[[step]]\n{step}\n"));
            assert!(e.starts_with("lab.toml:4: step 1"), "{step}: {e}");
            assert!(e.contains(needle), "{step}: {e}");
        }
    }

    #[test]
    fn rewind_steps_read_and_their_bad_values_are_refused() {
        use crate::lab::settings::{Rewind, RewindTo};
        let s = parse(
            &format!(
                "{HEAD}[[step]]\nrewind = \"earliest\"\n[[step]]\nrewind = {{ to = \"-30s\", partition = 3 }}\n\
                 [[step]]\nrewind = {{ to = 1200 }}\n"
            ),
            "lab.toml",
        )
        .unwrap();
        let actions: Vec<&Action> = s.steps.iter().map(|s| &s.action).collect();
        assert_eq!(
            actions,
            [
                &Action::Rewind(Rewind {
                    to: RewindTo::Earliest,
                    partition: None
                }),
                &Action::Rewind(Rewind {
                    to: RewindTo::Ago(Duration::from_secs(30)),
                    partition: Some(3)
                }),
                &Action::Rewind(Rewind {
                    to: RewindTo::Offset(1200),
                    partition: None
                }),
            ]
        );
        for (step, needle) in [
            ("rewind = \"sometimes\"", "is not a place to rewind to"),
            ("rewind = { to = \"-5\" }", "is not a place to rewind to"),
            ("rewind = { partition = 1 }", "rewind needs `to`"),
            (
                "rewind = { to = \"latest\", partition = -1 }",
                "not a partition number",
            ),
            (
                "rewind = { to = \"latest\", when = 1 }",
                "`when` is not part of rewind",
            ),
            ("rewind = 5", "write rewind ="),
        ] {
            let e = err(&format!("{HEAD}[[step]]\n{step}\n"));
            assert!(e.starts_with("lab.toml:4: step 1"), "{step}: {e}");
            assert!(e.contains(needle), "{step}: {e}");
        }
    }

    #[test]
    fn the_shipped_scenarios_read() {
        for (name, text) in crate::scenario::SHIPPED {
            let s = parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.description.is_empty(), "{name} says what it shows");
            assert!(
                s.steps
                    .iter()
                    .any(|s| matches!(s.action, Action::Assert(_))),
                "{name} checks something"
            );
        }
    }
}
