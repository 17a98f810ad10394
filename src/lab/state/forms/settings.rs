//! The settings panel's form: the producer's settings, the consumers' (every member's), and
//! the embedded cluster's simulated round trip. Each value is checked as it is typed; the form
//! yields typed settings only when every value is valid and they fit together.

use std::collections::BTreeMap;

use tui_input::Input;

use super::fields::{parse_abort_every, parse_rate, parse_txn_records, parse_work, Field, FIELDS};
use crate::kafka::settings::{parse_bool, Acks, GroupProtocol};
use crate::lab::settings::{ConsumerSettings, ProducerSettings};

/// The first of the consumers' fields: a heading goes before it.
const FIRST_CONSUMER_FIELD: usize = 10;

/// Lines the panel keeps below its rows for errors and hints.
pub const FOOTER_LINES: usize = 5;

/// A line of the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Heading(&'static str),
    Field(usize),
    /// The field's error, under it.
    Error(usize),
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
    /// Where each consumer property's starting value came from (config.ini:14, -X, librdkafka's
    /// default, ...), by property.
    pub origins: BTreeMap<String, String>,
    /// The shortest session timeout the cluster's brokers take, ms.
    pub session_floor: u64,
}

impl SettingsForm {
    pub fn new(
        s: &ProducerSettings,
        c: &ConsumerSettings,
        origins: BTreeMap<String, String>,
    ) -> Self {
        let applied: Vec<String> = FIELDS.iter().map(|f| f.value_of(s, c)).collect();
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
            origins,
            session_floor: crate::lab::settings::SHORTEST_SESSION_MS,
        }
    }

    /// The form again after settings were applied elsewhere (a scenario's step): its origins
    /// stay.
    pub fn renew(&self, s: &ProducerSettings, c: &ConsumerSettings) -> Self {
        Self {
            session_floor: self.session_floor,
            ..Self::new(s, c, self.origins.clone())
        }
    }

    pub fn error(&self, i: usize) -> Option<String> {
        if self.inactive(i).is_some() {
            return None;
        }
        FIELDS[i].validate(self.inputs[i].value()).err()
    }

    pub fn value(&self, field: Field) -> &str {
        let i = FIELDS.iter().position(|f| *f == field).unwrap_or(0);
        self.inputs[i].value().trim()
    }

    /// Why field `i` has no say now, when it has none: with the consumer protocol (KIP-848)
    /// the broker keeps the session and heartbeat timing.
    pub fn inactive(&self, i: usize) -> Option<&'static str> {
        let consumer = self.value(Field::Protocol) == GroupProtocol::Consumer.as_str();
        match FIELDS[i] {
            Field::SessionTimeoutMs if consumer => {
                Some("the broker's with group.protocol=consumer: group.consumer.session.timeout.ms (45 s by default, 10 s on scripts/kafka-local)")
            }
            Field::HeartbeatIntervalMs if consumer => Some(
                "the broker's with group.protocol=consumer: group.consumer.heartbeat.interval.ms (5 s by default, 2 s on scripts/kafka-local)",
            ),
            _ => None,
        }
    }

    /// Where field `i`'s value came from: the panel (once edited and applied), or its origin
    /// at the start.
    pub fn origin(&self, i: usize) -> Option<String> {
        let property = FIELDS[i].property()?;
        Some(
            self.origins
                .get(property)
                .cloned()
                .unwrap_or_else(|| "librdkafka's default".to_string()),
        )
    }

    /// The panel's lines in order: headings, fields, and each bad value's error.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = vec![Row::Heading("producer")];
        for (i, field) in FIELDS.iter().enumerate().take(self.visible) {
            if i == FIRST_CONSUMER_FIELD {
                rows.push(Row::Heading("consumers (every member)"));
            }
            if *field == Field::Rtt {
                rows.push(Row::Heading("embedded cluster"));
            }
            rows.push(Row::Field(i));
            if self.error(i).is_some() {
                rows.push(Row::Error(i));
            }
        }
        rows
    }

    /// Lines for rows in a panel `inner_height` lines high: the rest is for the hints.
    pub fn rows_height(inner_height: usize) -> usize {
        inner_height.saturating_sub(FOOTER_LINES).max(3)
    }

    /// The first row shown in `height` lines: the selected field stays in view.
    pub fn first_row(&self, height: usize) -> usize {
        let rows = self.rows();
        let at = rows
            .iter()
            .position(|r| *r == Row::Field(self.selected))
            .unwrap_or(0);
        // Its heading too, when it is the first of its section.
        let want = at.saturating_sub(usize::from(
            at > 0 && matches!(rows[at - 1], Row::Heading(_)),
        ));
        if rows.len() <= height || want < height / 2 {
            0
        } else {
            want.saturating_sub(height / 2)
                .min(rows.len().saturating_sub(height))
        }
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

    /// The field shown on `line` of a panel `height` lines high, when a field is there.
    pub fn field_at_line(&self, line: usize, height: usize) -> Option<usize> {
        match self.rows().get(self.first_row(height) + line) {
            Some(Row::Field(i)) => Some(*i),
            _ => None,
        }
    }

    /// The values just applied are the ones in force now; the consumers' come from the panel
    /// from now on.
    pub fn applied_now(&mut self) {
        for (i, f) in FIELDS.iter().enumerate() {
            if let Some(p) = f.property().filter(|_| self.pending(i)) {
                self.origins
                    .insert(p.to_string(), "settings panel".to_string());
            }
        }
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
    pub fn parse(&self) -> Result<(ProducerSettings, ConsumerSettings), String> {
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
        let txn_records = parse_txn_records(v(Field::Transactions))?;
        if txn_records > 0 && !(acks == Acks::All && idempotence) {
            return Err("transactions need acks=all and enable.idempotence=true".to_string());
        }
        let consumer = ConsumerSettings {
            strategies: v(Field::Assignment).parse()?,
            protocol: v(Field::Protocol).parse()?,
            fetch_min_bytes: v(Field::FetchMinBytes).to_string(),
            fetch_wait_max_ms: v(Field::FetchWaitMaxMs).to_string(),
            max_partition_fetch_bytes: v(Field::MaxPartitionFetchBytes).to_string(),
            session_timeout_ms: v(Field::SessionTimeoutMs).to_string(),
            heartbeat_interval_ms: v(Field::HeartbeatIntervalMs).to_string(),
            max_poll_interval_ms: v(Field::MaxPollIntervalMs).to_string(),
            auto_offset_reset: v(Field::AutoOffsetReset).parse()?,
            isolation: v(Field::Isolation).parse()?,
            static_membership: parse_bool(v(Field::StaticMembership))?,
            commit: v(Field::Commit).parse()?,
            work: parse_work(v(Field::Work))?,
        };
        consumer.check_on(self.session_floor)?;
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
            txn_records,
            abort_every: parse_abort_every(v(Field::AbortEvery))?,
            extra: BTreeMap::new(),
        };
        Ok((producer, consumer))
    }
}
