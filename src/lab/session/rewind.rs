//! A rewind: every member leaves (Kafka resets the offsets only of a group with no active
//! member), the group's committed offsets are reset in the background, the ledger hears of it
//! (what is read again is a re-read, not reprocessing), and the members join again.

use std::time::Duration;

use super::{Outcome, Session};
use crate::kafka::rewind::{reset_offsets, CommitAs, Reset};
use crate::kafka::settings::GroupProtocol;
use crate::lab::actors::member::Keeps;
use crate::lab::protocol::Event;
use crate::lab::settings::Rewind;

/// A rewind under way: the members still to leave, and those to start again once it is done.
pub(super) struct Rewinding {
    rewind: Rewind,
    leaving: Vec<u32>,
    /// The reset has begun (every member had left).
    started: bool,
    /// Members to start once the offsets are reset (those there, and any added meanwhile).
    pub(super) back: Vec<(u32, Keeps)>,
}

/// Beyond the members' session timeout, how long the reset keeps trying while the group
/// still has members.
const MARGIN: Duration = Duration::from_secs(15);

impl Session {
    pub(super) fn rewind(&mut self, rewind: Rewind) -> Vec<Event> {
        let refused = |text: &str| {
            vec![Event::RewindUndone {
                text: text.into(),
                members_left: false,
            }]
        };
        if self.rewinding.is_some() {
            return refused("a rewind is under way already");
        }
        if !self.rejoining.is_empty() {
            return refused("the members are rejoining: rewind once they are back");
        }
        // Members on their way out (removed, crashed) stay out.
        let back: Vec<(u32, Keeps)> = self
            .members
            .iter()
            .filter(|m| !m.stopping())
            .map(|m| (m.id, m.keeps()))
            .collect();
        let leaving = self.members.iter().map(|m| m.id).collect();
        for m in &mut self.members {
            if !m.stopping() {
                m.leave();
            }
        }
        self.rewinding = Some(Rewinding {
            rewind,
            leaving,
            started: false,
            back,
        });
        self.reset_when_empty();
        vec![Event::Notice(format!(
            "rewinding the group to {}: the members leave (Kafka resets the offsets only of a \
             group with no active member), then join again",
            rewind.describe()
        ))]
    }

    /// Member `id` has left: the reset begins once every member has.
    pub(super) fn rewind_member_left(&mut self, id: u32) {
        if let Some(r) = self.rewinding.as_mut() {
            r.leaving.retain(|m| *m != id);
        }
        self.reset_when_empty();
    }

    fn reset_when_empty(&mut self) {
        let Some(r) = self
            .rewinding
            .as_mut()
            .filter(|r| r.leaving.is_empty() && !r.started)
        else {
            return;
        };
        r.started = true;
        let rewind = r.rewind;
        let settings = self.clients.consumer_settings.clone();
        let group = settings.get("group.id").unwrap_or("kafka-lab").to_string();
        let topic = self.cluster.topic.clone();
        let c = &self.clients.consumer;
        // A member that crashed, or a static one, stays in the group until its session ends.
        let session_ms = match c.protocol {
            GroupProtocol::Classic => c.session_timeout_ms.parse().unwrap_or(45_000),
            GroupProtocol::Consumer => 45_000,
        };
        let deadline = Duration::from_millis(session_ms) + MARGIN;
        let how = if self.cluster.mock {
            CommitAs::Member(c.protocol.as_str())
        } else {
            CommitAs::Outsider
        };
        let notices = self.outcome_tx.clone();
        let ledger = self.ledger.clone();
        self.later(move || {
            let said = |text: &str| {
                let _ = notices.blocking_send(Outcome::Notice(format!("rewind: {text}")));
            };
            let result = reset_offsets(&settings, &group, &topic, &rewind, how, deadline, &said);
            if let Ok(reset) = &result {
                let mut ledger = ledger.lock().unwrap();
                for (partition, offset) in &reset.offsets {
                    ledger.rewind(&topic, *partition, *offset);
                }
            }
            Outcome::Rewound { rewind, result }
        });
    }

    /// The reset is done (or failed): the members join again.
    pub(super) fn rewound(&mut self, rewind: Rewind, result: Result<Reset, String>) -> Vec<Event> {
        let back = self.rewinding.take().map(|r| r.back).unwrap_or_default();
        for (id, keeps) in back {
            self.add_member(id, keeps);
        }
        let members_left = result.is_err();
        let text = match result {
            Ok(reset) => {
                let offsets: Vec<String> = reset
                    .offsets
                    .iter()
                    .map(|(p, o)| format!("p{p} → {o}"))
                    .collect();
                let mut text = format!(
                    "rewound the group to {}: {}; the members join again and read from there \
                     (counted as re-read, not reprocessed)",
                    rewind.describe(),
                    offsets.join(", ")
                );
                for note in reset.notes {
                    text.push_str("; ");
                    text.push_str(&note);
                }
                text
            }
            Err(e) => format!("the rewind failed: {e}; the members join again where they were"),
        };
        if members_left {
            vec![Event::RewindUndone { text, members_left }]
        } else {
            vec![Event::Notice(text)]
        }
    }
}
