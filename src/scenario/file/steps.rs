//! A step of a scenario file: its time, and the one action it names, each value checked.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::{Table, Value};

use super::members::{isolation, member_named, work};
use super::{Action, Members, Step, When, ACTIONS};
use crate::cli::parse_rate;
use crate::config::properties::{self, Applies};
use crate::data::source::KeyField;
use crate::kafka::local::FaultKind;
use crate::kafka::processor::Guarantee;
use crate::kafka::settings::{GroupProtocol, Strategies};
use crate::lab::settings::{Commit, ConsumerChange, ConsumerSettings, Rewind, RewindTo};
use crate::lab::state::forms::{parse_abort_every, parse_txn_records};

/// One `[[step]]`; the error carries ` (action)` when the action is known.
pub(super) fn read_step(t: &Table, number: usize, line: usize) -> Result<Step, (String, String)> {
    let mut when = When::After(Duration::ZERO);
    let mut action_key = None;
    let mut extra: Vec<&str> = Vec::new();
    for key in t.keys() {
        match key.as_str() {
            "at" | "after" | "within" => {}
            k if ACTIONS.contains(&k) => {
                if let Some(first) = action_key.replace(k) {
                    return Err((
                        String::new(),
                        format!("has two actions, `{first}` and `{k}`: give each its own [[step]]"),
                    ));
                }
            }
            other => extra.push(other),
        }
    }
    let Some(name) = action_key else {
        let unknown = extra
            .first()
            .map_or(String::new(), |k| format!("`{k}` is not a step; "));
        return Err((
            String::new(),
            format!("{unknown}a step takes one of {}", ACTIONS.join(", ")),
        ));
    };
    let named = |m: String| (format!(" ({name})"), m);
    if let Some(k) = extra
        .iter()
        .find(|k| matches!(**k, "partition" | "for" | "kind"))
    {
        return Err(named(format!(
            "`{k}` belongs inside a fault: write fault = {{ kind = \"down\", partition = 0, for = \"10s\" }}"
        )));
    }
    if let Some(k) = extra.first() {
        return Err(named(format!(
            "`{k}` is not part of a step: a step has one action ({}), `at` or `after`, and `within` for an assert",
            ACTIONS.join(", ")
        )));
    }
    match (t.get("at"), t.get("after")) {
        (Some(_), Some(_)) => {
            return Err(named(
                "has both `at` and `after`: give one (at: from the start; after: from the \
                 step before)"
                    .into(),
            ))
        }
        (Some(v), None) => when = When::At(duration(v, "at").map_err(named)?),
        (None, Some(v)) => when = When::After(duration(v, "after").map_err(named)?),
        (None, None) => {}
    }
    let action = read_action(name, &t[name]).map_err(named)?;
    let within = match t.get("within") {
        Some(_) if name != "assert" => {
            return Err(named(
                "`within` belongs to an assert step (how long it may take to hold)".into(),
            ))
        }
        Some(v) => Some(duration(v, "within").map_err(named)?),
        None => None,
    };
    Ok(Step {
        number,
        line,
        when,
        action,
        within,
    })
}

pub(super) fn text_of<'a>(v: &'a Value, what: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("{what} must be a string in quotes, not {v}"))
}

/// `"10s"`, `"1m 30s"`, `"500ms"`, or a number of seconds.
fn duration(v: &Value, what: &str) -> Result<Duration, String> {
    let bad = |shown: String| {
        format!("{what} = {shown} is not a length of time: give e.g. \"10s\", \"1m 30s\" or \"500ms\" (at most a day)")
    };
    let d = match v {
        Value::Integer(n) if *n >= 0 => Duration::from_secs(*n as u64),
        Value::Float(f) if f.is_finite() && *f >= 0.0 && *f <= 86_400.0 => {
            Duration::from_secs_f64(*f)
        }
        Value::String(s) => humantime::parse_duration(s.trim()).map_err(|_| bad(v.to_string()))?,
        _ => return Err(bad(v.to_string())),
    };
    if d > Duration::from_secs(86_400) {
        return Err(bad(v.to_string()));
    }
    Ok(d)
}

/// A property value: strings as written, numbers and booleans as librdkafka reads them.
fn property_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn read_action(name: &str, v: &Value) -> Result<Action, String> {
    Ok(match name {
        "producer" => {
            let table = v.as_table().ok_or(
                "producer takes a table of librdkafka properties, e.g. producer = { acks = \"all\", \"linger.ms\" = 5 }",
            )?;
            if table.is_empty() {
                return Err("producer = {} sets nothing: name some properties".into());
            }
            let mut set = BTreeMap::new();
            for (key, value) in table {
                let value = property_value(value)
                    .ok_or(format!("{key}: give a string, number or true/false"))?;
                let own = match key.as_str() {
                    // kafka-lab's own: its transactions.
                    "transactions" => parse_txn_records(&value).map(drop),
                    "abort_every" => parse_abort_every(&value).map(drop),
                    _ => {
                        check_producer_property(key, &value)?;
                        Ok(())
                    }
                };
                own.map_err(|e| format!("{key} = {value}: {e}"))?;
                set.insert(key.clone(), value);
            }
            Action::Producer(set)
        }
        "rate" => {
            let shown = property_value(v).unwrap_or_else(|| v.to_string());
            Action::Rate(parse_rate(&shown)?.per_second())
        }
        "key" => Action::Key(
            text_of(v, "key")?
                .parse()
                .map_err(|_| format!("key must be one of {}", KeyField::listed()))?,
        ),
        "start" | "stop" if v.as_str() == Some("processors") => Action::Processors(name == "start"),
        "start" | "stop" => {
            if v.as_str() != Some("producer") {
                return Err(format!(
                    "write {name} = \"producer\" (or {name} = \"processors\")"
                ));
            }
            if name == "start" {
                Action::Start
            } else {
                Action::Stop
            }
        }
        "consumers" => Action::Consumers(members(v)?),
        "group" => group(v)?,
        "consumer" => consumer(v)?,
        "commit" => Action::Consumer(ConsumerChange {
            commit: Some(
                text_of(v, "commit")?
                    .parse()
                    .map_err(|_| format!("commit must be one of {}", Commit::listed()))?,
            ),
            ..ConsumerChange::default()
        }),
        "work" => work(v)?,
        "isolation" => isolation(v)?,
        "crash" | "restart" => {
            match v
                .as_str()
                .and_then(|n| n.strip_prefix("processor-"))
                .and_then(Guarantee::named)
            {
                Some(g) if name == "crash" => Action::ProcessorCrash(g),
                Some(g) => Action::ProcessorRestart(g),
                None if name == "crash" => Action::Crash(member_named(v, "crash")?),
                None => Action::Restart(member_named(v, "restart")?),
            }
        }
        "rewind" => rewind(v)?,
        "fault" => fault(v)?,
        "recover" => {
            if v.as_str() != Some("all") {
                return Err(
                    "write recover = \"all\": every broker the scenario failed comes back".into(),
                );
            }
            Action::Recover
        }
        "wait" => Action::Wait(duration(v, "wait")?),
        "mark" => {
            let label = text_of(v, "mark")?.trim();
            if label.is_empty() {
                return Err("mark needs a label, e.g. mark = \"leader killed\"".into());
            }
            Action::Mark(label.to_string())
        }
        "assert" => Action::Assert(text_of(v, "assert")?.parse()?),
        _ => unreachable!("ACTIONS lists every action"),
    })
}

/// A producer step's settings of kafka-lab's own (not librdkafka properties).
const OWN: [&str; 2] = ["transactions", "abort_every"];

/// Producer properties kafka-lab cannot change by a step: the connection's, and those that
/// change what kafka-lab reads back.
const NOT_BY_STEP: [&str; 3] = ["bootstrap.servers", "transactional.id", "client.id"];

fn check_producer_property(key: &str, value: &str) -> Result<(), String> {
    let Some(info) = properties::lookup(key) else {
        return Err(format!(
            "{} is not a librdkafka property{}",
            crate::config::shown_key(key),
            crate::config::suggestion(key)
        ));
    };
    // A scenario file is shared and its steps are printed and reported: no credentials, and
    // nothing of the connection (that is config.ini's and -X's).
    if crate::config::belongs_to_connection(key) && !NOT_BY_STEP.contains(&key) {
        return Err(format!(
            "`{key}` belongs to the connection: set it in config.ini or with -X, not in a scenario"
        ));
    }
    if info.applies == Applies::Consumer {
        return Err(format!(
            "`{key}` is a consumer property; a producer step takes producer properties"
        ));
    }
    if NOT_BY_STEP.contains(&key) {
        return Err(format!(
            "`{key}` cannot change in a scenario: it belongs to the connection (config.ini, -X)"
        ));
    }
    properties::check_value(key, value).map_err(|e| format!("{key} = {value}: {e}"))
}

/// Properties valid one by one may still not go together (idempotence needs acks=all):
/// librdkafka says so when a client is made. This one has no servers, so it connects nowhere.
pub(super) fn check_together(set: &BTreeMap<String, String>) -> Result<(), String> {
    let mut config = rdkafka::ClientConfig::new();
    for (k, v) in set.iter().filter(|(k, _)| !OWN.contains(&k.as_str())) {
        config.set(k, v);
    }
    // Transactions make the producer transactional (and idempotent: kafka-lab turns it on).
    if set
        .get("transactions")
        .is_some_and(|t| parse_txn_records(t).unwrap_or(0) > 0)
    {
        config.set("transactional.id", "kafka-lab-check");
        config.set("enable.idempotence", "true");
    }
    config.set("log_level", "0");
    match config.create::<rdkafka::producer::BaseProducer>() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "librdkafka refuses these producer settings together: {}",
            e.to_string().trim_start_matches("Client creation error: ")
        )),
    }
}

fn members(v: &Value) -> Result<Members, String> {
    let bad = || {
        "consumers = N makes the group N members (0 to 32); \"+N\" adds N, \"-N\" removes the \
         newest N"
            .to_string()
    };
    let (kind, n) = match v {
        Value::Integer(n) => ('=', *n),
        Value::String(s) => {
            let s = s.trim();
            let (sign, digits) = s.split_at(s.chars().next().map_or(0, char::len_utf8));
            match sign {
                "+" | "-" => (
                    sign.chars().next().unwrap_or('='),
                    digits.trim().parse().map_err(|_| bad())?,
                ),
                _ => ('=', s.parse().map_err(|_| bad())?),
            }
        }
        _ => return Err(bad()),
    };
    let n = u32::try_from(n).ok().filter(|n| *n <= 32).ok_or_else(bad)?;
    Ok(match kind {
        '+' => Members::Add(n),
        '-' => Members::Remove(n),
        _ => Members::To(n),
    })
}

fn group(v: &Value) -> Result<Action, String> {
    let table = v.as_table().ok_or(
        "group takes a table, e.g. group = { \"partition.assignment.strategy\" = \"cooperative-sticky\" }",
    )?;
    let (mut strategies, mut protocol) = (None, None);
    for (key, value) in table {
        let value = text_of(value, key)?;
        match key.as_str() {
            "partition.assignment.strategy" => {
                strategies = Some(value.parse::<Strategies>()?);
            }
            "group.protocol" => {
                protocol = Some(value.parse::<GroupProtocol>().map_err(|_| {
                    format!("group.protocol must be one of {}", GroupProtocol::listed())
                })?);
            }
            other => {
                return Err(format!(
                    "`{other}`: a group step sets partition.assignment.strategy and \
                     group.protocol (other consumer properties go in config.ini or -X)"
                ))
            }
        }
    }
    if strategies.is_none() && protocol.is_none() {
        return Err("group = {} sets nothing".into());
    }
    Ok(Action::Group {
        strategies,
        protocol,
    })
}

/// `consumer = { "session.timeout.ms" = 6000, static = true }`: the consumers' properties.
fn consumer(v: &Value) -> Result<Action, String> {
    let table = v.as_table().ok_or(
        "consumer takes a table, e.g. consumer = { \"session.timeout.ms\" = 6000, static = true }",
    )?;
    if table.is_empty() {
        return Err("consumer = {} sets nothing: name some properties".into());
    }
    let mut change = ConsumerChange::default();
    for (key, value) in table {
        if key == "static" {
            change.static_membership = Some(
                value
                    .as_bool()
                    .ok_or("static takes true or false (a group.instance.id per member)")?,
            );
            continue;
        }
        let value =
            property_value(value).ok_or(format!("{key}: give a string, number or true/false"))?;
        ConsumerChange::check_property(key, &value)?;
        change.properties.insert(key.clone(), value);
    }
    // Values that cannot go together in one step are refused here, before anything runs.
    change
        .applied_to(&ConsumerSettings::effective(None))
        .and_then(|c| {
            let names = |k: &str| change.properties.contains_key(k);
            if names("session.timeout.ms")
                || names("heartbeat.interval.ms")
                || names("max.poll.interval.ms")
            {
                c.check()
            } else {
                Ok(())
            }
        })?;
    Ok(Action::Consumer(change))
}

/// `rewind = "earliest"` (or `"-30s"`, `"1200 p3"`), or `rewind = { to = "-30s", partition = 3 }`.
fn rewind(v: &Value) -> Result<Action, String> {
    let usage = "write rewind = \"earliest\" (or \"latest\", \"-30s\", a UTC time, an offset) or \
                 rewind = { to = \"-30s\", partition = 3 }";
    let rewind = match v {
        Value::String(s) => Rewind::parse(s).map_err(|e| format!("rewind: {e}"))?,
        Value::Table(t) => {
            if let Some(k) = t.keys().find(|k| !matches!(k.as_str(), "to" | "partition")) {
                return Err(format!("`{k}` is not part of rewind: {usage}"));
            }
            let to = match t.get("to") {
                Some(Value::String(s)) => RewindTo::parse(s).map_err(|e| format!("rewind: {e}"))?,
                Some(Value::Integer(n)) if *n >= 0 => RewindTo::Offset(*n),
                Some(other) => return Err(format!("rewind's to = {other}: {usage}")),
                None => return Err(format!("rewind needs `to`: {usage}")),
            };
            let partition = match t.get("partition") {
                None => None,
                Some(Value::Integer(p)) if (0..=i64::from(i32::MAX)).contains(p) => Some(*p as i32),
                Some(other) => {
                    return Err(format!(
                        "rewind's partition = {other} is not a partition number"
                    ))
                }
            };
            Rewind { to, partition }
        }
        other => return Err(format!("rewind = {other}: {usage}")),
    };
    Ok(Action::Rewind(rewind))
}

/// The shortest fault: a broker down for less is no lesson.
const SHORTEST_FAULT: Duration = Duration::from_millis(100);

fn fault(v: &Value) -> Result<Action, String> {
    let usage = "write fault = { kind = \"down\" (or \"pause\"), partition = 0, for = \"10s\" (or \"never\": until a recover step) }";
    let table = v.as_table().ok_or(usage)?;
    for key in table.keys() {
        if !matches!(key.as_str(), "kind" | "partition" | "for") {
            return Err(format!("`{key}` is not part of a fault: {usage}"));
        }
    }
    let kind = match table.get("kind").map(|k| text_of(k, "kind")).transpose()? {
        None | Some("down" | "kill") => FaultKind::Kill,
        Some("pause") => FaultKind::Pause,
        Some(other) => {
            return Err(format!(
                "kind = \"{other}\" is not a fault: \"down\" (the leader's process is killed) \
                 or \"pause\" (it hangs)"
            ))
        }
    };
    let partition = match table.get("partition") {
        None => 0,
        Some(Value::Integer(p)) if (0..10_000).contains(p) => *p as i32,
        Some(other) => return Err(format!("partition = {other}: give a partition number")),
    };
    let length = match table.get("for") {
        None => Some(Duration::from_secs(5)),
        Some(Value::String(s)) if s == "never" => None,
        Some(v) => Some(duration(v, "for")?),
    };
    // Shorter than this no client can see it: refused as 0 is.
    if length.is_some_and(|l| l < SHORTEST_FAULT) {
        return Err(format!(
            "for = {}: a fault lasts a while (at least {} ms); give e.g. \"10s\", or \"never\" (until a recover step)",
            table.get("for").map_or(String::new(), ToString::to_string),
            SHORTEST_FAULT.as_millis()
        ));
    }
    Ok(Action::Fault {
        kind,
        partition,
        length,
    })
}
