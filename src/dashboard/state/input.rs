//! Keys (and the mouse) into actions on the state.

use crossterm::event::{Event as TermEvent, KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use tui_input::backend::crossterm::EventHandler;

use super::forms::{AdminForm, FaultForm, FIELDS};
use super::keymap::{self, Action};
use super::layout;
use super::views::Detail;
use super::{App, Focus, Modal, View};
use crate::dashboard::protocol::Command;
use crate::dashboard::settings::{GroupSettings, ProducerSettings};

impl App {
    pub(super) fn key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Some(action) = keymap::action(self.modal.mode(), &key) else {
            return Vec::new();
        };
        if action == Action::Quit {
            return self.quit();
        }
        let page = self.page();
        match &mut self.modal {
            Modal::None => return self.main_action(action),
            Modal::Help => self.modal = Modal::None,
            Modal::Detail(detail) => match action {
                Action::Up => detail.up(),
                Action::Down => detail.down(),
                Action::PageUp => detail.scroll = detail.scroll.saturating_sub(page),
                Action::PageDown => detail.scroll += page,
                Action::Top => detail.scroll = 0,
                Action::Bottom => detail.scroll = usize::MAX / 2,
                Action::Close => self.modal = Modal::None,
                _ => {}
            },
            Modal::Events(up) => {
                if action == Action::Close {
                    self.modal = Modal::None;
                } else {
                    *up = scrolled(*up, action, page, self.events.len());
                }
            }
            Modal::Filter(input) => match action {
                Action::Apply => {
                    let text = input.value().trim().to_string();
                    self.filter = (!text.is_empty()).then_some(text);
                    self.modal = Modal::None;
                }
                Action::Close => {
                    self.filter = None;
                    self.modal = Modal::None;
                }
                _ => {
                    input.handle_event(&TermEvent::Key(key));
                }
            },
            Modal::Topics(form) => match action {
                Action::Up => form.up(),
                Action::Down => form.down(),
                Action::Left | Action::Right => {
                    let topics = self.topic.as_ref().map_or(&[][..], |t| t.topics.as_slice());
                    form.cycle_topic(topics, if action == Action::Right { 1 } else { -1 });
                }
                Action::Close => self.modal = Modal::None,
                Action::Apply => match form.command(self.cluster.partitions) {
                    Ok(command) => {
                        self.modal = Modal::None;
                        self.message = Some("asking the cluster ...".into());
                        return vec![command];
                    }
                    Err(e) => form.error = Some(e),
                },
                _ => {
                    form.inputs[form.selected].handle_event(&TermEvent::Key(key));
                    form.error = None;
                }
            },
            Modal::Fault(form) => match action {
                Action::Up => form.up(),
                Action::Down => form.down(),
                Action::Left | Action::Right => {
                    form.cycle(
                        if action == Action::Right { 1 } else { -1 },
                        self.cluster.partitions,
                    );
                }
                Action::Apply => {
                    let command = form.command();
                    self.modal = Modal::None;
                    self.message = Some("asking the cluster for the partition's leader ...".into());
                    return vec![command];
                }
                Action::Close => self.modal = Modal::None,
                _ => {}
            },
            Modal::Settings => return self.settings_action(action, key),
        }
        Vec::new()
    }

    /// Lines a page scrolls: about a third of the screen.
    fn page(&self) -> usize {
        usize::from(self.size.1 / 3).max(5)
    }
    /// `x` and `h`: on the selected consumer.
    fn member_action(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::RemoveConsumer => {
                if let Focus::Member(i) = self.focus {
                    let m = &self.members[i].snapshot;
                    self.message = Some(format!("{} leaves group {}", m.name, self.cluster.group));
                    self.timeline.expect(format!("{} left", m.name));
                    let id = m.id;
                    self.in_group.remove(&id);
                    return vec![Command::RemoveMember(id)];
                }
                self.message =
                    Some("select a consumer pane first (Tab), then x removes it".to_string());
            }
            Action::HoldConsumer => {
                if let Focus::Member(i) = self.focus {
                    let m = &self.members[i].snapshot;
                    let held = !self.held.contains(&m.id);
                    if held {
                        self.held.insert(m.id);
                    } else {
                        self.held.remove(&m.id);
                    }
                    self.message = Some(if held {
                        format!("{} holds: it reads nothing, stays in the group", m.name)
                    } else {
                        format!("{} reads again", m.name)
                    });
                    return vec![Command::HoldMember { id: m.id, held }];
                }
                self.message =
                    Some("select a consumer pane first (Tab), then h holds it".to_string());
            }
            _ => {}
        }
        Vec::new()
    }

    fn main_action(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Help => self.modal = Modal::Help,
            Action::ToggleProducer => {
                return vec![if self.producer_running() {
                    Command::StopProducer
                } else {
                    Command::StartProducer
                }];
            }
            Action::AddConsumer => {
                let id = self.reserve_member();
                self.message = Some(format!("consumer-{id} joins group {}", self.cluster.group));
                return vec![Command::AddMember(id)];
            }
            Action::RemoveConsumer | Action::HoldConsumer => return self.member_action(action),
            Action::Settings => {
                self.settings.fresh = true;
                self.modal = Modal::Settings;
            }
            Action::Detail => match self.focus {
                Focus::Member(i) if !self.members[i].snapshot.latest.is_empty() => {
                    let m = &self.members[i].snapshot;
                    self.modal = Modal::Detail(Detail {
                        member: m.name.clone(),
                        records: m.latest.iter().rev().cloned().collect(),
                        selected: 0,
                        scroll: 0,
                    });
                }
                Focus::Member(_) => self.message = Some("no record received yet".into()),
                Focus::Producer | Focus::View => {
                    self.message =
                        Some("select a consumer pane (Tab), then Enter shows its records".into());
                }
            },
            Action::Runs => self.toggle_view(View::Runs),
            Action::Partitions => self.toggle_view(View::Partitions),
            Action::Timeline => self.toggle_view(View::Timeline),
            Action::GroupBy => {
                self.group_by = self.group_by.next();
                self.view = View::Partitions;
            }
            Action::Sink => return vec![Command::ToggleSink],
            Action::Topics => {
                self.modal = Modal::Topics(Box::new(AdminForm::new(
                    self.cluster.partitions,
                    !self.cluster.embedded,
                )));
            }
            Action::Export => {
                let rows = self.table_rows();
                if rows.is_empty() {
                    self.message = Some("no run to export yet".into());
                } else {
                    return vec![Command::Export(rows)];
                }
            }
            Action::BrokerOutage => return self.broker_outage(),
            Action::Pause => self.toggle_pause(),
            Action::Filter => {
                let current = self.filter.clone().unwrap_or_default();
                self.modal = Modal::Filter(tui_input::Input::new(current));
            }
            Action::Mark => self.mark(),
            Action::Zoom => self.zoomed = !self.zoomed,
            Action::Events => self.modal = Modal::Events(0),
            Action::NextPane => self.cycle(1),
            Action::PrevPane => self.cycle(-1),
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.scroll_focused(action),
            Action::Quit
            | Action::Left
            | Action::Right
            | Action::Apply
            | Action::Close
            | Action::Edit
            | Action::Ignore => {}
        }
        Vec::new()
    }

    /// Pauses the screen, or resumes it with what came meanwhile.
    fn toggle_pause(&mut self) {
        // While a scenario plays, Space pauses the scenario (its clock stops; the clients and
        // the screen go on).
        if let Some(strip) = self.scenario.as_mut().filter(|s| s.done.is_none()) {
            strip.paused = !strip.paused;
            self.message = Some(if strip.paused {
                "scenario paused: its next step waits (Space resumes)".into()
            } else {
                "scenario resumed".into()
            });
            return;
        }
        match self.paused.take() {
            Some(waiting) => {
                for event in waiting {
                    self.kafka(event);
                }
            }
            None => self.paused = Some(std::collections::VecDeque::new()),
        }
    }

    /// Marks (or unmarks) the selected run for comparison; two at most, the older goes.
    fn mark(&mut self) {
        if self.view != View::Runs {
            self.message = Some("m marks a run in the runs table (r)".into());
            return;
        }
        let rows = self.table_rows();
        let Some(run) = self
            .runs_selected
            .or_else(|| rows.len().checked_sub(1))
            .and_then(|i| rows.get(i))
            .map(|r| r.run)
        else {
            return;
        };
        if let Some(at) = self.marked.iter().position(|m| *m == run) {
            self.marked.remove(at);
        } else {
            if self.marked.len() == 2 {
                self.marked.remove(0);
            }
            self.marked.push(run);
        }
    }

    /// Scrolls what has the keyboard: the send log, a consumer's records, or the view.
    fn scroll_focused(&mut self, action: Action) {
        let page = self.page();
        match self.focus {
            Focus::Producer => {
                self.scroll.log = scrolled(self.scroll.log, action, page, self.producer.log.len());
            }
            Focus::Member(i) => {
                let m = &self.members[i].snapshot;
                let len = m.latest.len();
                let up = self.scroll.records.entry(m.id).or_insert(0);
                *up = scrolled(*up, action, page, len);
            }
            Focus::View if self.view == View::Runs => {
                let last = self.table_rows().len().saturating_sub(1);
                let at = self.runs_selected.unwrap_or(last);
                // Down the table is towards the newest run.
                let moved = match action {
                    Action::Up => at.saturating_sub(1),
                    Action::Down => (at + 1).min(last),
                    Action::PageUp => at.saturating_sub(page),
                    Action::PageDown => (at + page).min(last),
                    Action::Top => 0,
                    _ => last,
                };
                self.runs_selected = (moved != last).then_some(moved);
            }
            Focus::View => {
                // Read from the top: down shows later lines.
                let down = match action {
                    Action::Up => self.scroll.view.saturating_sub(1),
                    Action::Down => self.scroll.view + 1,
                    Action::PageUp => self.scroll.view.saturating_sub(page),
                    Action::PageDown => self.scroll.view + page,
                    Action::Top => 0,
                    _ => usize::MAX / 2,
                };
                self.scroll.view = down;
            }
        }
    }

    /// A mouse event: the wheel scrolls what is under it, a click selects it.
    pub(super) fn mouse(&mut self, mouse: MouseEvent) {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        let Some(screen) = layout::screen_for(area, self.zoomed, self.scenario.is_some()) else {
            return;
        };
        let (x, y) = (mouse.column, mouse.row);
        if mouse.kind == MouseEventKind::Down(MouseButton::Left)
            && self.click_settings(&screen, x, y)
        {
            return;
        }
        let Some(target) = self.pane_at(&screen, x, y) else {
            return;
        };
        match mouse.kind {
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                if matches!(self.modal, Modal::None) {
                    let before = self.focus;
                    self.focus = target;
                    self.scroll_focused(if mouse.kind == MouseEventKind::ScrollUp {
                        Action::Up
                    } else {
                        Action::Down
                    });
                    self.focus = before;
                }
            }
            MouseEventKind::Down(MouseButton::Left) => self.click(&screen, target, y),
            _ => {}
        }
    }

    /// The pane under a point of the main screen.
    fn pane_at(&self, screen: &layout::Screen, x: u16, y: u16) -> Option<Focus> {
        if layout::contains(screen.producer, x, y) {
            return Some(Focus::Producer);
        }
        if !layout::contains(screen.lower, x, y) {
            return None;
        }
        if self.view != View::Consumers {
            return Some(Focus::View);
        }
        match layout::member_panes(screen.lower, self.members.len()) {
            layout::Panes::Tiles(tiles) => tiles
                .iter()
                .position(|t| layout::contains(*t, x, y))
                .map(Focus::Member),
            layout::Panes::Folded(area) => {
                // One line each below the frame's top border.
                let row = usize::from(y.saturating_sub(area.y + 1));
                (row < self.members.len()).then_some(Focus::Member(row))
            }
        }
    }

    /// A click on the settings panel (beside the producer) selects the field clicked; true
    /// when the click landed there.
    fn click_settings(&mut self, screen: &layout::Screen, x: u16, y: u16) -> bool {
        let (Some(settings), Modal::None | Modal::Settings) = (screen.settings, &self.modal) else {
            return false;
        };
        if !layout::contains(settings, x, y) {
            return false;
        }
        // A field per line below the border (an error line follows a bad value).
        let line = usize::from(y.saturating_sub(settings.y + 1));
        if let Some(field) = self.settings.field_at_line(line) {
            self.settings.selected = field;
            self.settings.fresh = true;
            self.modal = Modal::Settings;
        }
        true
    }

    fn click(&mut self, screen: &layout::Screen, target: Focus, y: u16) {
        if !matches!(self.modal, Modal::None) {
            return;
        }
        self.focus = target;
        if target == Focus::View && self.view == View::Runs {
            // Rows start below the border and the header, the oldest shown first.
            let rows = self.table_rows().len();
            let inner = screen.lower.height.saturating_sub(2);
            let visible = usize::from(super::runs::table_height(rows, inner, self.zoomed) - 1);
            let first = super::runs::first_row(rows, visible, self.runs_selected);
            let row = usize::from(y.saturating_sub(screen.lower.y + 2));
            if first + row < rows {
                self.runs_selected = Some(first + row);
            }
        }
    }

    /// `b`: the embedded cluster fails a leader at once; a `scripts/kafka-local` cluster asks
    /// how first.
    fn broker_outage(&mut self) -> Vec<Command> {
        if self.cluster.owned {
            return vec![Command::BrokerOutage];
        }
        if self.cluster.local_nodes.is_some() {
            self.modal = Modal::Fault(FaultForm::new(0));
        } else {
            self.message = Some(
                "b takes brokers down on the embedded cluster or on one that \
                 scripts/kafka-local started; kafka-lab does not run this one"
                    .into(),
            );
        }
        Vec::new()
    }

    fn settings_action(&mut self, action: Action, key: KeyEvent) -> Vec<Command> {
        let form = &mut self.settings;
        let i = form.selected;
        let choice = FIELDS[i].choices().is_some();
        match action {
            Action::Close => {
                if form.any_pending() {
                    form.discard();
                    self.message = Some("edits discarded: the settings in force are shown".into());
                }
                self.modal = Modal::None;
            }
            Action::Up => form.up(),
            Action::Down => form.down(),
            Action::Left | Action::Right if choice => {
                form.cycle(if action == Action::Right { 1 } else { -1 });
            }
            Action::Apply => match form.parse() {
                Ok((mut settings, group)) => {
                    // The panel does not edit a scenario's other properties: they stay.
                    settings.extra.clone_from(&self.applied.extra);
                    form.form_error = None;
                    form.applied_now();
                    // Applied: the screen is the user's again (narrow screens show the
                    // settings over the producer).
                    self.modal = Modal::None;
                    return self.apply(settings, group);
                }
                Err(e) => form.form_error = Some(format!("not applied: {e}")),
            },
            // A field with fixed choices takes ← → only.
            _ if choice => {
                form.form_error = Some(format!("{}: ← → choose", FIELDS[i].label()));
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
    pub(crate) fn apply(
        &mut self,
        settings: ProducerSettings,
        group: GroupSettings,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let mut said = Vec::new();
        if settings != self.applied {
            self.applied = settings.clone();
            said.push("restarting the producer");
            commands.push(Command::ApplySettings(settings));
        }
        if group != self.applied_group {
            self.timeline.expect(format!(
                "consumers rejoined: {} · {}",
                group.strategies, group.protocol
            ));
            self.applied_group = group.clone();
            said.push("restarting the consumers");
            commands.push(Command::Regroup(group));
        }
        self.message = Some(if said.is_empty() {
            "nothing changed".to_string()
        } else {
            format!("{} with the new settings", said.join(" and "))
        });
        commands
    }

    /// Shows `view` in the lower half, or the consumer panes if it is already shown.
    fn toggle_view(&mut self, view: View) {
        self.view = if self.view == view {
            View::Consumers
        } else {
            view
        };
        self.scroll.view = 0;
        self.focus = match (self.view, self.focus) {
            (View::Consumers, Focus::View) => Focus::Producer,
            (View::Consumers, focus) => focus,
            (_, Focus::Member(_)) => Focus::View,
            (_, focus) => focus,
        };
    }

    pub(super) fn quit(&mut self) -> Vec<Command> {
        self.quitting = true;
        self.modal = Modal::None;
        self.message = Some("quitting: flushing the producer, leaving the group ...".into());
        vec![Command::Quit]
    }

    /// Tab order: the producer, then each consumer pane (or the view, when one is shown).
    fn cycle(&mut self, step: isize) {
        let stops: Vec<Focus> = std::iter::once(Focus::Producer)
            .chain(if self.view == View::Consumers {
                (0..self.members.len())
                    .map(Focus::Member)
                    .collect::<Vec<_>>()
            } else {
                vec![Focus::View]
            })
            .collect();
        let current = stops.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        let next = (current + step).rem_euclid(stops.len() as isize);
        self.focus = stops[next as usize];
    }

    pub(super) fn clamp_focus(&mut self) {
        if let Focus::Member(i) = self.focus {
            if self.members.is_empty() {
                self.focus = Focus::Producer;
            } else if i >= self.members.len() {
                self.focus = Focus::Member(self.members.len() - 1);
            }
        }
    }
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
