//! The group's members: started, crashed, restarted, held, slowed and rejoined as the
//! commands ask.

use super::Session;
use crate::lab::actors::member::{self, Keeps};
use crate::lab::protocol::{Command, KafkaEvent};
use crate::lab::settings::ConsumerSettings;

impl Session {
    pub(super) fn add_member(&mut self, id: u32, keeps: Keeps) {
        let c = &self.clients.consumer;
        let member = member::spawn(member::Start {
            id,
            layers: c.layers(&self.clients.base_layers, self.cluster.mock, id),
            topic: self.cluster.topic.clone(),
            events: self.kafka_tx.clone(),
            sink: self.sink.clone(),
            ledger: self.ledger.clone(),
            commit: c.commit,
            work: keeps.work.unwrap_or(c.work),
            marks: self.clients.marks.clone(),
            transactions: self.transactions,
            isolation: self.isolation.get(&id).copied(),
        });
        member.hold(keeps.held);
        member.keep_work(keeps.work);
        self.members.push(member);
    }

    /// The producer runs transactions (or no longer does): the members hear it.
    pub(crate) fn set_transactions(&mut self, on: bool) {
        self.transactions = on;
        for m in &self.members {
            m.set_transactions(on);
        }
    }

    /// Every member leaves, and joins again (with the settings and topic in force, held if it
    /// was) once gone.
    pub(super) fn rejoin_all(&mut self) {
        // A rewind under way has them leave already, and starts them with what is in force.
        if self.rewinding.is_some() {
            return;
        }
        for m in &mut self.members {
            self.rejoining.push((m.id, m.keeps()));
            m.leave();
        }
    }

    pub fn on_kafka_event(&mut self, event: &KafkaEvent) {
        if let KafkaEvent::MemberLeft { id, .. } | KafkaEvent::MemberCrashed { id, .. } = event {
            self.members.retain(|m| m.id != *id);
            self.rewind_member_left(*id);
            if let Some(i) = self.rejoining.iter().position(|(r, _)| r == id) {
                let (id, keeps) = self.rejoining.remove(i);
                self.add_member(id, keeps);
            }
        }
    }

    /// What member `id` keeps when it starts again after a rejoin or a rewind under way.
    fn coming_back(&mut self, id: u32) -> Option<&mut Keeps> {
        self.rejoining
            .iter_mut()
            .chain(self.rewinding.iter_mut().flat_map(|r| r.back.iter_mut()))
            .find(|(r, _)| *r == id)
            .map(|(_, keeps)| keeps)
    }

    /// Member `id` does not start again after a rejoin or a rewind under way.
    fn not_coming_back(&mut self, id: u32) {
        self.rejoining.retain(|(r, _)| *r != id);
        if let Some(r) = self.rewinding.as_mut() {
            r.back.retain(|(r, _)| *r != id);
        }
    }

    /// New consumer settings: members rejoin when their client properties change; the commit
    /// mode and the work per record apply to them as they run.
    fn consumers(&mut self, settings: ConsumerSettings) {
        let rejoin = self.clients.consumer.needs_rejoin(&settings);
        self.clients.consumer = settings;
        if rejoin {
            self.rejoin_all();
            return;
        }
        let c = &self.clients.consumer;
        for m in &self.members {
            m.set_commit(c.commit);
            m.set_work(m.own_work().unwrap_or(c.work));
        }
    }

    /// Carries out a command on the members.
    pub(super) fn member_command(&mut self, command: Command) -> Vec<crate::lab::protocol::Event> {
        match command {
            Command::Consumers(settings) => self.consumers(settings),
            Command::Rewind(rewind) => return self.rewind(rewind),
            Command::Work { id, per_record } => {
                let group = self.clients.consumer.work;
                if let Some(m) = self.members.iter().find(|m| m.id == id) {
                    m.keep_work(per_record);
                    m.set_work(per_record.unwrap_or(group));
                }
                if let Some(keeps) = self.coming_back(id) {
                    keeps.work = per_record;
                }
            }
            Command::Isolation { id, level } => {
                match level {
                    Some(level) => self.isolation.insert(id, level),
                    None => self.isolation.remove(&id),
                };
                // A running member leaves and joins again with it; one coming back anyway
                // starts with it.
                if self.coming_back(id).is_none() {
                    // A member leaving or crashing stays gone.
                    let running = self
                        .members
                        .iter_mut()
                        .find(|m| m.id == id && !m.stopping());
                    if let Some(m) = running {
                        self.rejoining.push((id, m.keeps()));
                        m.leave();
                    }
                }
            }
            Command::Crash(id) => {
                // Crashed, it does not come back from a rejoin or a rewind under way.
                self.not_coming_back(id);
                if let Some(m) = self.members.iter().find(|m| m.id == id) {
                    m.crash();
                }
            }
            Command::Restart(id) | Command::AddMember(id)
                if !self.members.iter().any(|m| m.id == id) =>
            {
                match self.rewinding.as_mut() {
                    // The group must stay empty until its offsets are reset.
                    Some(r) => r.back.push((id, Keeps::default())),
                    None => self.add_member(id, Keeps::default()),
                }
            }
            Command::RemoveMember(id) => {
                // Leaving for good: not back when its rejoin (new group settings) or a rewind
                // completes.
                self.not_coming_back(id);
                if let Some(m) = self.members.iter_mut().find(|m| m.id == id) {
                    m.leave();
                }
            }
            Command::HoldMember { id, held } => {
                if let Some(m) = self.members.iter().find(|m| m.id == id) {
                    m.hold(held);
                }
                // A member rejoining comes back as asked now.
                if let Some(keeps) = self.coming_back(id) {
                    keeps.held = held;
                }
            }
            _ => {}
        }
        Vec::new()
    }
}
