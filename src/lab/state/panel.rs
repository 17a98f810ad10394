//! The settings panel's keys: moving between fields, choosing, typing, and applying what
//! changed.

use crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::backend::crossterm::EventHandler;

use super::forms::FIELDS;
use super::keymap::{self, Action, Mode};
use super::{App, Modal};
use crate::lab::protocol::Command;
use crate::lab::settings::{GroupSettings, ProducerSettings};

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
                Ok((mut settings, group)) => {
                    // The panel does not edit a scenario's other properties: they stay.
                    settings.extra.clone_from(&self.model.applied.extra);
                    form.form_error = None;
                    form.applied_now();
                    // Applied: the screen is the user's again (narrow screens show the
                    // settings over the producer).
                    self.screen.modal = Modal::None;
                    return self.apply_settings(settings, group);
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

    /// Restarts what the new settings change: the producer, the consumers, or both.
    fn apply_settings(&mut self, settings: ProducerSettings, group: GroupSettings) -> Vec<Command> {
        let mut commands = Vec::new();
        let mut said = Vec::new();
        if settings != self.model.applied {
            self.model.applied = settings.clone();
            said.push("restarting the producer");
            commands.push(Command::ApplySettings(settings));
        }
        if group != self.model.applied_group {
            self.model.timeline.expect(format!(
                "consumers rejoined: {} · {}",
                group.strategies, group.protocol
            ));
            self.model.applied_group = group.clone();
            said.push("restarting the consumers");
            commands.push(Command::Regroup(group));
        }
        self.status.message = Some(if said.is_empty() {
            "nothing changed".to_string()
        } else {
            format!("{} with the new settings", said.join(" and "))
        });
        commands
    }
}
