//! The lab's forms: the settings panel ([`settings`]), the topic dialog and the fault dialog.
//! Values are checked as they are typed; a form yields typed settings or a command only when
//! every value is valid.

mod fields;
mod settings;
pub use fields::{
    parse_abort_every, parse_rate, parse_txn_records, parse_work, work_text, Field, FIELDS,
    RTT_MAX_MS,
};
pub use settings::{Row, SettingsForm};

use std::time::Duration;

use tui_input::Input;

use crate::kafka::local::FaultKind;
use crate::kafka::settings::topic_name;
use crate::lab::protocol::Command;

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
/// The fault row's choices after the node faults: the loss recipe, last.
const RECIPE: usize = FaultKind::ALL.len();
/// How long the recipe keeps the followers paused before it kills the leader: well within the
/// 3 s broker session of `scripts/kafka-local`, so the followers stay in the ISR and one of
/// them leads afterwards, without what the leader took alone.
pub const RECIPE_PAUSE: Duration = Duration::from_secs(2);
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
            0 => self.kind = turn(self.kind, RECIPE + 1),
            1 => self.partition = turn(self.partition.max(0) as usize, partitions) as i32,
            _ => self.back_after = turn(self.back_after, BACK_AFTER.len()),
        }
    }

    /// The node fault chosen; `None`: the loss recipe.
    pub fn kind(&self) -> Option<FaultKind> {
        FaultKind::ALL.get(self.kind).copied()
    }

    pub fn back_after(&self) -> Option<Duration> {
        BACK_AFTER[self.back_after].map(Duration::from_secs)
    }

    /// Each row's value, as shown.
    pub fn values(&self) -> [String; 3] {
        [
            self.kind().map_or_else(
                || {
                    format!(
                        "acks=1 loss: pause the followers {} s, kill the leader, resume them",
                        RECIPE_PAUSE.as_secs()
                    )
                },
                |k| k.describe().to_string(),
            ),
            self.partition.to_string(),
            match BACK_AFTER[self.back_after] {
                Some(s) => format!("{s} s"),
                None => "never (start-node brings it back)".to_string(),
            },
        ]
    }

    pub fn command(&self) -> Command {
        match self.kind() {
            Some(kind) => Command::NodeFault {
                kind,
                partition: self.partition,
                back_after: self.back_after(),
            },
            None => Command::LossRecipe {
                partition: self.partition,
                back_after: self.back_after(),
            },
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
    /// What the user typed on the switch row: ← and → pick among the topics holding it.
    pub typed: String,
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
            typed: String::new(),
        }
    }

    /// The cluster's topics holding what was typed on the switch row (any case), in order.
    pub fn matching<'a>(&self, topics: &'a [String]) -> Vec<&'a String> {
        let typed = self.typed.trim().to_lowercase();
        topics
            .iter()
            .filter(|t| typed.is_empty() || t.to_lowercase().contains(&typed))
            .collect()
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

    /// On the switch row, the next (`step` 1) or previous topic of the cluster among those
    /// holding what was typed.
    pub fn cycle_topic(&mut self, topics: &[String], step: isize) {
        let matching = self.matching(topics);
        if self.selected != SWITCH_ROW || matching.is_empty() {
            return;
        }
        let current = self.inputs[SWITCH_ROW].value().trim();
        let n = matching.len() as isize;
        let next = match matching.iter().position(|t| *t == current) {
            Some(at) => (at as isize + step).rem_euclid(n),
            None if step > 0 => 0,
            None => n - 1,
        };
        self.inputs[SWITCH_ROW] = Input::new(matching[next as usize].clone());
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
