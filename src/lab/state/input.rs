//! Keys (and the mouse) into actions on the state.

use crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::backend::crossterm::EventHandler;

use super::forms::{AdminForm, FaultForm, SWITCH_ROW};
use super::keymap::{self, Action, Mode};
use super::views::Detail;
use super::{App, Focus, Modal, View};
use crate::lab::protocol::Command;

impl App {
    /// What `action` (from `key`) does where the keyboard is.
    pub(super) fn key(&mut self, action: Action, key: KeyEvent) -> Vec<Command> {
        if action == Action::Quit {
            return self.quit();
        }
        if matches!(self.screen.modal, Modal::None | Modal::Detail(_)) {
            if let Some(commands) = self.habit(action, key) {
                return commands;
            }
        }
        let page = self.page();
        match &mut self.screen.modal {
            Modal::None => return self.main_action(action),
            Modal::Help => match action {
                Action::Up | Action::PageUp => {
                    let by = if action == Action::Up { 1 } else { page };
                    self.screen.scroll.help = self.screen.scroll.help.saturating_sub(by);
                }
                // The help shows its last line at most (it knows how many it has wrapped).
                Action::Down | Action::PageDown => {
                    let by = if action == Action::Down { 1 } else { page };
                    self.screen.scroll.help =
                        (self.screen.scroll.help + by).min(keymap::KEYMAP.len());
                }
                Action::Top => self.screen.scroll.help = 0,
                Action::Bottom => self.screen.scroll.help = keymap::KEYMAP.len(),
                Action::Close => self.screen.modal = Modal::None,
                _ => {}
            },
            Modal::Detail(detail) => match action {
                Action::Up => detail.up(),
                Action::Down => detail.down(),
                Action::PageUp => detail.scroll = detail.scroll.saturating_sub(page),
                Action::PageDown => detail.scroll += page,
                Action::Top => detail.scroll = 0,
                Action::Bottom => detail.scroll = usize::MAX / 2,
                Action::Close => self.screen.modal = Modal::None,
                _ => {}
            },
            Modal::Events(up) => {
                if action == Action::Close {
                    self.screen.modal = Modal::None;
                } else {
                    *up = scrolled(*up, action, page, self.status.events.len());
                }
            }
            Modal::Filter(..) | Modal::Rewind(..) => return self.prompt_key(action, key),
            Modal::Topics(form) => match action {
                Action::Up => form.up(),
                Action::Down => form.down(),
                Action::Left | Action::Right => {
                    let topics = self
                        .model
                        .topic
                        .as_ref()
                        .map_or(&[][..], |t| t.topics.as_slice());
                    form.cycle_topic(topics, if action == Action::Right { 1 } else { -1 });
                }
                Action::Close => self.screen.modal = Modal::None,
                Action::Apply => match form.command(self.model.cluster.partitions) {
                    Ok(command) => {
                        self.screen.modal = Modal::None;
                        self.status.message = Some("asking the cluster ...".into());
                        return vec![command];
                    }
                    Err(e) => form.error = Some(e),
                },
                _ => {
                    form.inputs[form.selected].handle_event(&TermEvent::Key(key));
                    if form.selected == SWITCH_ROW {
                        form.typed = form.inputs[SWITCH_ROW].value().to_string();
                    }
                    form.error = None;
                }
            },
            Modal::Fault(form) => match action {
                Action::Up => form.up(),
                Action::Down => form.down(),
                Action::Left | Action::Right => {
                    form.cycle(
                        if action == Action::Right { 1 } else { -1 },
                        self.model.cluster.partitions,
                    );
                }
                Action::Apply => {
                    let command = form.command();
                    // The next `b` opens on this choice.
                    self.screen.last_fault = Some(form.clone());
                    self.screen.modal = Modal::None;
                    self.status.message =
                        Some("asking the cluster for the partition's leader ...".into());
                    return vec![command];
                }
                Action::Close => self.screen.modal = Modal::None,
                _ => {}
            },
            Modal::Settings => return self.settings_action(action, key),
        }
        Vec::new()
    }

    /// Lines a page scrolls: about a third of the screen.
    fn page(&self) -> usize {
        usize::from(self.screen.size.1 / 3).max(5)
    }
    fn main_action(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Help => {
                self.screen.scroll.help = 0;
                self.screen.modal = Modal::Help;
            }
            Action::ToggleProducer => {
                return vec![if self.producer_running() {
                    Command::StopProducer
                } else {
                    Command::StartProducer
                }];
            }
            Action::AddConsumer => {
                let id = self.reserve_member();
                self.status.message = Some(format!(
                    "consumer-{id} joins group {}",
                    self.model.cluster.group
                ));
                return vec![Command::AddMember(id)];
            }
            Action::RemoveConsumer
            | Action::HoldConsumer
            | Action::CrashConsumer
            | Action::WorkConsumer
            | Action::IsolateConsumer => return self.member_action(action),
            Action::Processors => return self.toggle_processors(true),
            Action::CrashProcessors => return self.crash_processors(),
            Action::Settings => {
                self.screen.settings.fresh = true;
                self.screen.modal = Modal::Settings;
            }
            Action::Detail => match self.screen.focus {
                Focus::Member(i) if !self.model.members[i].snapshot.latest.is_empty() => {
                    let m = &self.model.members[i].snapshot;
                    self.screen.modal = Modal::Detail(Detail {
                        member: m.name.clone(),
                        records: m.latest.iter().rev().cloned().collect(),
                        selected: 0,
                        scroll: 0,
                    });
                }
                Focus::Member(_) => self.status.message = Some("no record received yet".into()),
                Focus::Producer | Focus::View => {
                    self.status.message = Some(select_first(Action::Detail, "shows its records"));
                }
            },
            Action::Runs => self.toggle_view(View::Runs),
            Action::ConsumerRuns => self.toggle_view(View::ConsumerRuns),
            Action::Partitions => self.toggle_view(View::Partitions),
            Action::Timeline => self.toggle_view(View::Timeline),
            Action::GroupBy => {
                self.screen.group_by = self.screen.group_by.next();
                self.screen.view = View::Partitions;
            }
            Action::Sink => return vec![Command::ToggleSink],
            Action::Data => return vec![Command::SwitchData],
            Action::Topics => {
                self.screen.modal = Modal::Topics(Box::new(AdminForm::new(
                    self.model.cluster.partitions,
                    !self.model.cluster.embedded,
                )));
            }
            Action::Export => {
                let (rows, consumer_rows) = (self.table_rows(), self.consumer_rows());
                if rows.is_empty() && consumer_rows.is_empty() {
                    self.status.message = Some("no run to export yet".into());
                } else {
                    return vec![Command::Export(rows, consumer_rows)];
                }
            }
            Action::BrokerOutage => return self.broker_outage(),
            Action::Pause => self.toggle_pause(),
            Action::Filter => {
                let current = self.screen.filter.clone().unwrap_or_default();
                self.screen.modal = Modal::Filter(tui_input::Input::new(current));
            }
            Action::Mark => self.mark(),
            Action::Rewind => {
                self.screen.modal = Modal::Rewind(tui_input::Input::default(), None);
            }
            Action::Zoom => self.screen.zoomed = !self.screen.zoomed,
            Action::Events => self.screen.modal = Modal::Events(0),
            Action::NextPane => self.cycle(1),
            Action::PrevPane => self.cycle(-1),
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.scroll_focused(action),
            // Back, a step at a time: out of the zoom, then to the consumer panes.
            Action::Close if self.screen.zoomed => self.screen.zoomed = false,
            Action::Close if self.screen.view != View::Consumers => {
                self.toggle_view(self.screen.view);
            }
            Action::Close => self.status.message = Some("nothing to go back from".into()),
            // Quit is handled first; the rest are another mode's (or `habits`').
            _ => {}
        }
        Vec::new()
    }

    /// A key in a one-line prompt (the filter, the rewind).
    fn prompt_key(&mut self, action: Action, key: KeyEvent) -> Vec<Command> {
        match &mut self.screen.modal {
            Modal::Filter(input) => match action {
                Action::Apply => {
                    let text = input.value().trim().to_string();
                    self.screen.filter = (!text.is_empty()).then_some(text);
                    self.screen.modal = Modal::None;
                }
                Action::Close => {
                    self.screen.filter = None;
                    self.screen.modal = Modal::None;
                }
                _ => {
                    input.handle_event(&TermEvent::Key(key));
                }
            },
            Modal::Rewind(input, error) => match action {
                Action::Apply => match crate::lab::settings::Rewind::parse(input.value()) {
                    Ok(rewind) => {
                        self.screen.modal = Modal::None;
                        return self.rewind(rewind);
                    }
                    Err(e) => *error = Some(e),
                },
                Action::Close => self.screen.modal = Modal::None,
                _ => {
                    input.handle_event(&TermEvent::Key(key));
                }
            },
            _ => {}
        }
        Vec::new()
    }

    /// Pauses the screen, or resumes it with what came meanwhile.
    fn toggle_pause(&mut self) {
        // While a scenario plays, Space pauses the scenario (its clock stops; the clients and
        // the screen go on).
        if let Some(strip) = self.model.scenario.as_mut().filter(|s| s.done.is_none()) {
            strip.paused = !strip.paused;
            self.status.message = Some(if strip.paused {
                format!(
                    "scenario paused: its next step waits ({} resumes)",
                    keymap::key(Mode::Main, Action::Pause)
                )
            } else {
                "scenario resumed".into()
            });
            return;
        }
        match self.screen.paused.take() {
            Some(waiting) => {
                for event in waiting {
                    self.kafka(event);
                }
            }
            None => self.screen.paused = Some(std::collections::VecDeque::new()),
        }
    }

    /// The runs table shown (the producer's or the consumers'): its rows' run numbers, its
    /// selected row and its marked runs.
    pub(super) fn shown_table(&mut self) -> Option<(Vec<u32>, &mut Option<u32>, &mut Vec<u32>)> {
        match self.screen.view {
            View::Runs => Some((
                self.shown_runs().iter().map(|r| r.run).collect(),
                &mut self.screen.runs_selected,
                &mut self.screen.marked,
            )),
            View::ConsumerRuns => Some((
                self.shown_consumer_runs().iter().map(|r| r.run).collect(),
                &mut self.screen.consumer_selected,
                &mut self.screen.consumer_marked,
            )),
            _ => None,
        }
    }

    /// Marks (or unmarks) the selected run for comparison; two at most, the older goes.
    fn mark(&mut self) {
        let Some((runs, selected, marked)) = self.shown_table() else {
            self.status.message = Some(format!(
                "{} marks one of the runs: show the producer runs ({}) or the consumer runs ({}) first",
                keymap::key(Mode::Main, Action::Mark),
                keymap::key(Mode::Main, Action::Runs),
                keymap::key(Mode::Main, Action::ConsumerRuns)
            ));
            return;
        };
        let Some(run) = super::runs::selected_row(&runs, *selected).map(|i| runs[i]) else {
            return;
        };
        if let Some(at) = marked.iter().position(|m| *m == run) {
            marked.remove(at);
        } else {
            if marked.len() == 2 {
                marked.remove(0);
            }
            marked.push(run);
        }
    }

    /// Scrolls what has the keyboard: the send log, a consumer's records, or the view.
    pub(super) fn scroll_focused(&mut self, action: Action) {
        let page = self.page();
        match self.screen.focus {
            Focus::Producer => {
                self.screen.scroll.log = scrolled(
                    self.screen.scroll.log,
                    action,
                    page,
                    self.model.producer.log.len(),
                );
            }
            Focus::Member(i) => {
                let m = &self.model.members[i].snapshot;
                let len = m.latest.len();
                let up = self.screen.scroll.records.entry(m.id).or_insert(0);
                *up = scrolled(*up, action, page, len);
            }
            Focus::View if matches!(self.screen.view, View::Runs | View::ConsumerRuns) => {
                let Some((runs, selected, _)) = self.shown_table() else {
                    return;
                };
                let Some(at) = super::runs::selected_row(&runs, *selected) else {
                    return;
                };
                let last = runs.len() - 1;
                let moved = match action {
                    Action::Up => at.saturating_sub(1),
                    Action::Down => (at + 1).min(last),
                    Action::PageUp => at.saturating_sub(page),
                    Action::PageDown => (at + page).min(last),
                    Action::Top => 0,
                    _ => last,
                };
                // On the latest run, the selection follows the runs to come.
                let latest = runs.iter().max().copied();
                *selected = Some(runs[moved]).filter(|r| Some(*r) != latest);
            }
            Focus::View => {
                // Read from the top: down shows later lines.
                let down = match action {
                    Action::Up => self.screen.scroll.view.saturating_sub(1),
                    Action::Down => self.screen.scroll.view + 1,
                    Action::PageUp => self.screen.scroll.view.saturating_sub(page),
                    Action::PageDown => self.screen.scroll.view + page,
                    Action::Top => 0,
                    _ => usize::MAX / 2,
                };
                self.screen.scroll.view = down;
            }
        }
    }

    /// `b`: the embedded cluster fails a leader at once; a `scripts/kafka-local` cluster asks
    /// how first.
    fn broker_outage(&mut self) -> Vec<Command> {
        if self.model.cluster.owned {
            return vec![Command::BrokerOutage];
        }
        if self.model.cluster.local_nodes.is_some() {
            let form = self
                .screen
                .last_fault
                .clone()
                .unwrap_or_else(|| FaultForm::new(0));
            self.screen.modal = Modal::Fault(form);
        } else {
            self.status.message = Some(format!(
                "{} takes brokers down on the embedded cluster or on one that \
                 scripts/kafka-local started; kafka-lab does not run this one",
                keymap::key(Mode::Main, Action::BrokerOutage)
            ));
        }
        Vec::new()
    }

    /// Shows `view` in the lower half, or the consumer panes if it is already shown.
    fn toggle_view(&mut self, view: View) {
        self.screen.view = if self.screen.view == view {
            View::Consumers
        } else {
            view
        };
        self.screen.scroll.view = 0;
        self.screen.focus = match (self.screen.view, self.screen.focus) {
            (View::Consumers, Focus::View) => Focus::Producer,
            (View::Consumers, focus) => focus,
            (_, Focus::Member(_)) => Focus::View,
            (_, focus) => focus,
        };
    }

    pub(super) fn quit(&mut self) -> Vec<Command> {
        self.status.quitting = true;
        self.screen.modal = Modal::None;
        self.status.message = Some("quitting: flushing the producer, leaving the group ...".into());
        vec![Command::Quit]
    }

    /// Tab order: the producer, then each consumer pane (or the view, when one is shown).
    fn cycle(&mut self, step: isize) {
        let stops: Vec<Focus> = std::iter::once(Focus::Producer)
            .chain(if self.screen.view == View::Consumers {
                (0..self.model.members.len())
                    .map(Focus::Member)
                    .collect::<Vec<_>>()
            } else {
                vec![Focus::View]
            })
            .collect();
        let current = stops
            .iter()
            .position(|f| *f == self.screen.focus)
            .unwrap_or(0) as isize;
        let next = (current + step).rem_euclid(stops.len() as isize);
        self.screen.focus = stops[next as usize];
    }

    pub(super) fn clamp_focus(&mut self) {
        if let Focus::Member(i) = self.screen.focus {
            if self.model.members.is_empty() {
                self.screen.focus = Focus::Producer;
            } else if i >= self.model.members.len() {
                self.screen.focus = Focus::Member(self.model.members.len() - 1);
            }
        }
    }
}

/// `select a consumer pane first (Tab), then x removes it`.
pub(super) fn select_first(action: Action, does: &str) -> String {
    format!(
        "select a consumer pane first ({}), then {} {does}",
        keymap::key(Mode::Main, Action::NextPane),
        keymap::key(Mode::Main, action)
    )
}

/// A list's distance up from its newest line after `action`, for a list of `len` lines.
fn scrolled(up: usize, action: Action, page: usize, len: usize) -> usize {
    let most = len.saturating_sub(1);
    match action {
        Action::Up => (up + 1).min(most),
        Action::Down => up.saturating_sub(1),
        Action::PageUp => (up + page).min(most),
        Action::PageDown => up.saturating_sub(page),
        Action::Top => most,
        _ => 0,
    }
}
