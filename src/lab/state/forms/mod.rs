//! The dashboard's forms: the settings panel and the topic dialog. Values are checked as they
//! are typed; a form yields typed settings or a command only when every value is valid.

use std::time::Duration;

use tui_input::Input;

use crate::config::properties;
use crate::data::source::KeyField;
use crate::kafka::local::FaultKind;
use crate::kafka::settings::{
    parse_bool, topic_name, Acks, Compression, GroupProtocol, Partitioner, Strategies,
};
use crate::lab::protocol::Command;
use crate::lab::settings::{rate_text, GroupSettings, ProducerSettings};

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
    /// The consumers' partition.assignment.strategy.
    Assignment,
    /// The consumers' group.protocol.
    Protocol,
    /// The embedded cluster's simulated round trip (only when kafka-lab serves it).
    Rtt,
}

pub const FIELDS: [Field; 11] = [
    Field::Acks,
    Field::BatchSize,
    Field::LingerMs,
    Field::Compression,
    Field::Idempotence,
    Field::Rate,
    Field::Key,
    Field::Partitioner,
    Field::Assignment,
    Field::Protocol,
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
            Field::Assignment => "group assignment",
            Field::Protocol => "group.protocol",
            Field::Rtt => "simulated rtt ms",
        }
    }

    /// Checks a typed value; the error says what is allowed.
    pub fn validate(self, text: &str) -> Result<(), String> {
        let t = text.trim();
        match self {
            Field::Acks => t.parse::<Acks>().map(drop),
            Field::BatchSize => properties::check_value("batch.size", t),
            Field::LingerMs => properties::check_value("linger.ms", t),
            Field::Compression => t.parse::<Compression>().map(drop),
            Field::Idempotence => parse_bool(t).map(drop),
            Field::Rate => parse_rate(t).map(drop),
            Field::Key => t.parse::<KeyField>().map(drop),
            Field::Partitioner => t.parse::<Partitioner>().map(drop),
            Field::Assignment => t.parse::<Strategies>().map(drop),
            Field::Protocol => t.parse::<GroupProtocol>().map(drop),
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
            Field::Idempotence => all(&[false, true]),
            Field::Key => all(KeyField::ALL),
            Field::Partitioner => all(Partitioner::ALL),
            Field::Assignment => all(&Strategies::choices()),
            Field::Protocol => all(GroupProtocol::ALL),
            Field::BatchSize | Field::LingerMs | Field::Rate | Field::Rtt => return None,
        })
    }

    fn value_of(self, s: &ProducerSettings, g: &GroupSettings) -> String {
        match self {
            Field::Acks => s.acks.to_string(),
            Field::BatchSize => s.batch_size.clone(),
            Field::LingerMs => s.linger_ms.clone(),
            Field::Compression => s.compression.to_string(),
            Field::Idempotence => s.idempotence.to_string(),
            Field::Rate => rate_text(s.rate),
            Field::Key => s.key.to_string(),
            Field::Partitioner => s.partitioner.to_string(),
            Field::Assignment => g.strategies.to_string(),
            Field::Protocol => g.protocol.to_string(),
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

#[derive(Debug, Clone)]
pub struct SettingsForm {
    pub inputs: Vec<Input>,
    /// The values in force: edits that differ are pending until Enter; Esc goes back to them.
    pub applied: Vec<String>,
    /// The selected text field's value is selected as a whole: typing replaces it, an arrow
    /// moves into it.
    pub fresh: bool,
    /// Fields shown: the simulated rtt only where kafka-lab serves the cluster.
    pub visible: usize,
    pub selected: usize,
    /// Why the form cannot be applied as a whole (a field's own error is shown beside it).
    pub form_error: Option<String>,
}

impl SettingsForm {
    pub fn new(s: &ProducerSettings, g: &GroupSettings) -> Self {
        let applied: Vec<String> = FIELDS.iter().map(|f| f.value_of(s, g)).collect();
        SettingsForm {
            inputs: applied.iter().map(|v| Input::new(v.clone())).collect(),
            applied,
            fresh: true,
            visible: if s.rtt_ms.is_some() {
                FIELDS.len()
            } else {
                FIELDS.len() - 1
            },
            selected: 0,
            form_error: None,
        }
    }

    pub fn error(&self, i: usize) -> Option<String> {
        FIELDS[i].validate(self.inputs[i].value()).err()
    }

    pub fn value(&self, field: Field) -> &str {
        let i = FIELDS.iter().position(|f| *f == field).unwrap_or(0);
        self.inputs[i].value().trim()
    }

    pub fn up(&mut self) {
        self.selected = (self.selected + self.visible - 1) % self.visible;
        self.fresh = true;
    }

    pub fn down(&mut self) {
        self.selected = (self.selected + 1) % self.visible;
        self.fresh = true;
    }

    /// Field `i` holds an edit not applied yet.
    pub fn pending(&self, i: usize) -> bool {
        self.inputs[i].value().trim() != self.applied[i]
    }

    pub fn any_pending(&self) -> bool {
        (0..self.visible).any(|i| self.pending(i))
    }

    /// Back to the values in force.
    pub fn discard(&mut self) {
        self.inputs = self.applied.iter().map(|v| Input::new(v.clone())).collect();
        self.form_error = None;
        self.fresh = true;
    }

    /// The field shown on `line` of the panel (a bad value adds a line for its error).
    pub fn field_at_line(&self, line: usize) -> Option<usize> {
        let mut at = 0;
        for i in 0..self.visible {
            if at == line {
                return Some(i);
            }
            at += 1 + usize::from(self.error(i).is_some());
        }
        None
    }

    /// The values just applied are the ones in force now.
    pub fn applied_now(&mut self) {
        self.applied = self
            .inputs
            .iter()
            .map(|i| i.value().trim().to_string())
            .collect();
        self.fresh = true;
    }

    /// Moves the selected field's value to the next (`step` 1) or previous (-1) choice;
    /// false for a free-text field.
    pub fn cycle(&mut self, step: isize) -> bool {
        let i = self.selected;
        let Some(choices) = FIELDS[i].choices() else {
            return false;
        };
        let current = self.inputs[i].value().trim();
        let at = choices.iter().position(|c| c == current);
        let n = choices.len() as isize;
        let next = match at {
            Some(at) => (at as isize + step).rem_euclid(n),
            None => 0,
        };
        self.inputs[i] = Input::new(choices[next as usize].clone());
        self.form_error = None;
        true
    }

    /// The settings the form describes, if every field is valid and they fit together.
    pub fn parse(&self) -> Result<(ProducerSettings, GroupSettings), String> {
        for (i, f) in FIELDS.iter().enumerate().take(self.visible) {
            if let Some(e) = self.error(i) {
                return Err(format!("{}: {e}", f.label()));
            }
        }
        let v = |f: Field| self.value(f);
        let acks: Acks = v(Field::Acks).parse()?;
        let idempotence = parse_bool(v(Field::Idempotence))?;
        if idempotence && acks != Acks::All {
            return Err("enable.idempotence=true needs acks=all".to_string());
        }
        let group = GroupSettings {
            strategies: v(Field::Assignment).parse()?,
            protocol: v(Field::Protocol).parse()?,
        };
        let producer = ProducerSettings {
            acks,
            batch_size: v(Field::BatchSize).to_string(),
            linger_ms: v(Field::LingerMs).to_string(),
            compression: v(Field::Compression).parse()?,
            idempotence,
            partitioner: v(Field::Partitioner).parse()?,
            rate: parse_rate(v(Field::Rate))?,
            key: v(Field::Key).parse()?,
            rtt_ms: (self.visible == FIELDS.len()).then(|| v(Field::Rtt).parse().unwrap_or(0)),
            extra: std::collections::BTreeMap::new(),
        };
        Ok((producer, group))
    }
}

/// The broker fault dialog (`b` on a cluster `scripts/kafka-local` started): how the chosen
/// partition's leader fails and when it comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultForm {
    pub selected: usize,
    kind: usize,
    pub partition: i32,
    back_after: usize,
}

pub const FAULT_ROWS: [&str; 3] = ["fault", "partition (its leader fails)", "back after"];
/// Seconds before the node comes back; `None`: it stays down.
const BACK_AFTER: [Option<u64>; 5] = [Some(5), Some(10), Some(20), Some(30), None];

impl FaultForm {
    pub fn new(partition: i32) -> FaultForm {
        FaultForm {
            selected: 0,
            kind: 0,
            partition,
            back_after: 1,
        }
    }

    pub fn up(&mut self) {
        self.selected = (self.selected + FAULT_ROWS.len() - 1) % FAULT_ROWS.len();
    }

    pub fn down(&mut self) {
        self.selected = (self.selected + 1) % FAULT_ROWS.len();
    }

    /// The selected row's next (`step` 1) or previous (-1) choice; `partitions` in the topic.
    pub fn cycle(&mut self, step: isize, partitions: usize) {
        let turn =
            |at: usize, n: usize| (at as isize + step).rem_euclid(n.max(1) as isize) as usize;
        match self.selected {
            0 => self.kind = turn(self.kind, FaultKind::ALL.len()),
            1 => self.partition = turn(self.partition.max(0) as usize, partitions) as i32,
            _ => self.back_after = turn(self.back_after, BACK_AFTER.len()),
        }
    }

    pub fn kind(&self) -> FaultKind {
        FaultKind::ALL[self.kind]
    }

    pub fn back_after(&self) -> Option<Duration> {
        BACK_AFTER[self.back_after].map(Duration::from_secs)
    }

    /// Each row's value, as shown.
    pub fn values(&self) -> [String; 3] {
        [
            self.kind().describe().to_string(),
            self.partition.to_string(),
            match BACK_AFTER[self.back_after] {
                Some(s) => format!("{s} s"),
                None => "never (start-node brings it back)".to_string(),
            },
        ]
    }

    pub fn command(&self) -> Command {
        Command::NodeFault {
            kind: self.kind(),
            partition: self.partition,
            back_after: self.back_after(),
        }
    }
}

/// The topic dialog (`a`): create a topic, add partitions to the current one, switch topics.
#[derive(Debug, Clone)]
pub struct AdminForm {
    /// create: name, partitions, replication; add: total; switch: name.
    pub inputs: [Input; 5],
    pub selected: usize,
    pub error: Option<String>,
    /// The cluster can add partitions (the embedded one cannot): the row is offered.
    pub can_add: bool,
}

/// The row that adds partitions.
pub const ADD_ROW: usize = 3;
/// The row that switches topics.
pub const SWITCH_ROW: usize = 4;

pub const ADMIN_ROWS: [&str; 5] = [
    "new topic name",
    "  partitions",
    "  replication factor",
    "partitions in all (add)",
    "switch to topic",
];

fn count(t: &str, what: &str, min: i32) -> Result<i32, String> {
    match t.trim().parse::<i32>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(format!("{what}: a whole number from {min}")),
    }
}

impl AdminForm {
    pub fn new(partitions: usize, can_add: bool) -> AdminForm {
        AdminForm {
            can_add,
            inputs: [
                Input::default(),
                Input::new("6".into()),
                Input::new("1".into()),
                Input::new((partitions + 2).to_string()),
                Input::default(),
            ],
            selected: 0,
            error: None,
        }
    }

    pub fn up(&mut self) {
        self.step(ADMIN_ROWS.len() - 1);
    }

    pub fn down(&mut self) {
        self.step(1);
    }

    /// Moves by `by` rows (wrapping), past a row the cluster does not offer.
    fn step(&mut self, by: usize) {
        self.selected = (self.selected + by) % ADMIN_ROWS.len();
        if self.selected == ADD_ROW && !self.can_add {
            self.selected = (self.selected + by) % ADMIN_ROWS.len();
        }
        self.error = None;
    }

    /// On the switch row, the next (`step` 1) or previous topic of the cluster.
    pub fn cycle_topic(&mut self, topics: &[String], step: isize) {
        if self.selected != SWITCH_ROW || topics.is_empty() {
            return;
        }
        let current = self.inputs[SWITCH_ROW].value().trim();
        let n = topics.len() as isize;
        let next = match topics.iter().position(|t| t == current) {
            Some(at) => (at as isize + step).rem_euclid(n),
            None if step > 0 => 0,
            None => n - 1,
        };
        self.inputs[SWITCH_ROW] = Input::new(topics[next as usize].clone());
        self.error = None;
    }

    /// The command of the selected row, if its values are valid.
    pub fn command(&self, current_partitions: usize) -> Result<Command, String> {
        let v = |i: usize| self.inputs[i].value().trim();
        match self.selected {
            0..=2 => {
                let replication = match v(2) {
                    "-1" => -1,
                    other => count(other, "replication factor", 1)?,
                };
                Ok(Command::CreateTopic {
                    name: topic_name(v(0))?,
                    partitions: count(v(1), "partitions", 1)?,
                    replication,
                })
            }
            3 => {
                let total = count(v(3), "partitions", 1)?;
                if total as usize <= current_partitions {
                    return Err(format!(
                        "a topic's partitions can only grow: it has {current_partitions}"
                    ));
                }
                Ok(Command::AddPartitions { total })
            }
            _ => Ok(Command::SwitchTopic(topic_name(v(4))?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
