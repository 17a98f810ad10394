//! The settings panel's keys: moving between fields, choosing, typing, and applying what
//! changed.

use crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::backend::crossterm::EventHandler;

use super::forms::FIELDS;
use super::keymap::{self, Action, Mode};
use super::{App, Modal};
use crate::lab::protocol::Command;
use crate::lab::settings::{ConsumerSettings, ProducerSettings};

impl App {
    pub(super) fn settings_action(&mut self, action: Action, key: KeyEvent) -> Vec<Command> {
        let form = &mut self.screen.settings;
        let i = form.selected;
        let choice = FIELDS[i].choices().is_some();
        match action {
            Action::Close => {
                if form.any_pending() {
                    form.discard();
                    self.status.message =
                        Some("edits discarded: the settings in force are shown".into());
                }
                self.screen.modal = Modal::None;
            }
            Action::Up => form.up(),
            Action::Down => form.down(),
            Action::Left | Action::Right if choice => {
                form.cycle(if action == Action::Right { 1 } else { -1 });
            }
            Action::Apply => match form.parse() {
                Ok((mut settings, consumer)) => {
                    // The panel does not edit a scenario's other properties: they stay.
                    settings.extra.clone_from(&self.model.applied.extra);
                    form.form_error = None;
                    form.applied_now();
                    // Applied: the screen is the user's again (narrow screens show the
                    // settings over the producer).
                    self.screen.modal = Modal::None;
                    return self.apply_settings(settings, consumer);
                }
                Err(e) => form.form_error = Some(format!("not applied: {e}")),
            },
            // A field with fixed choices takes ← → only.
            _ if choice => {
                form.form_error = Some(format!(
                    "{}: {} {} choose",
                    FIELDS[i].label(),
                    keymap::key(Mode::Settings, Action::Left),
                    keymap::key(Mode::Settings, Action::Right)
                ));
            }
            _ => {
                // A fresh value is replaced by what is typed (or cleared by Backspace and
                // Delete); an arrow moves into it.
                use crossterm::event::KeyCode;
                if form.fresh {
                    match key.code {
                        KeyCode::Char(_) => form.inputs[i] = tui_input::Input::default(),
                        KeyCode::Backspace | KeyCode::Delete => {
                            form.inputs[i] = tui_input::Input::default();
                            form.fresh = false;
                            form.form_error = None;
                            return Vec::new();
                        }
                        _ => {}
                    }
                }
                form.fresh = false;
                form.inputs[i].handle_event(&TermEvent::Key(key));
                form.form_error = None;
            }
        }
        Vec::new()
    }

    /// Restarts what the new settings change: the producer, the consumers, or both. The
    /// commit mode and the work per record reach running members without a restart.
    fn apply_settings(
        &mut self,
        settings: ProducerSettings,
        consumer: ConsumerSettings,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let mut said = Vec::new();
        if settings != self.model.applied {
            self.model.applied = settings.clone();
            said.push("restarting the producer".to_string());
            commands.push(Command::ApplySettings(settings));
        }
        if consumer != self.model.applied_consumer {
            said.push(self.change_consumers(consumer, &mut commands));
        }
        self.status.message = Some(if said.is_empty() {
            "nothing changed".to_string()
        } else {
            format!("{} with the new settings", said.join(" and "))
        });
        commands
    }

    /// The consumers take `consumer`: what to say of it.
    pub(super) fn change_consumers(
        &mut self,
        consumer: ConsumerSettings,
        commands: &mut Vec<Command>,
    ) -> String {
        let rejoin = consumer.needs_rejoin(&self.model.applied_consumer);
        let changes = consumer.changes(&self.model.applied_consumer).join(", ");
        let members = !self.model.in_group.is_empty();
        if rejoin && members {
            let now = self.model.now;
            self.model
                .timeline
                .expect(format!("consumers rejoined: {changes}"), now);
        }
        self.model.applied_consumer = consumer.clone();
        self.model.timeline.cooperative = consumer.incremental();
        self.next_consumer_run(rejoin && members, None);
        commands.push(Command::Consumers(consumer));
        match (rejoin, members) {
            (true, true) => "restarting the consumers".to_string(),
            (false, true) => format!("the consumers go on ({changes})"),
            (_, false) => "the next consumers take it".to_string(),
        }
    }
}
