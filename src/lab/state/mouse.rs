//! The mouse: the wheel scrolls what is under it, a click selects a pane, a settings field or
//! a run.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::forms::SettingsForm;
use super::keymap::Action;
use super::layout;
use super::{App, Focus, Modal, View};

impl App {
    /// A mouse event: the wheel scrolls what is under it, a click selects it.
    pub(super) fn mouse(&mut self, mouse: MouseEvent) {
        let area = ratatui::layout::Rect::new(0, 0, self.screen.size.0, self.screen.size.1);
        let Some(screen) =
            layout::screen_for(area, self.screen.zoomed, self.model.scenario.is_some())
        else {
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
                if matches!(self.screen.modal, Modal::None) {
                    let before = self.screen.focus;
                    self.screen.focus = target;
                    self.scroll_focused(if mouse.kind == MouseEventKind::ScrollUp {
                        Action::Up
                    } else {
                        Action::Down
                    });
                    self.screen.focus = before;
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
        if self.screen.view != View::Consumers {
            return Some(Focus::View);
        }
        let (rest, _) = layout::with_workers(screen.lower, self.model.workers.len());
        let (members, _) = layout::with_processors(rest, self.model.processors.on);
        match layout::member_panes(members, self.model.members.len()) {
            layout::Panes::Tiles(tiles) => tiles
                .iter()
                .position(|t| layout::contains(*t, x, y))
                .map(Focus::Member),
            layout::Panes::Folded(area) => {
                // One line each below the frame's top border.
                let row = usize::from(y.saturating_sub(area.y + 1));
                (row < self.model.members.len()).then_some(Focus::Member(row))
            }
        }
    }

    /// A click on the settings panel (beside the producer) selects the field clicked; true
    /// when the click landed there.
    fn click_settings(&mut self, screen: &layout::Screen, x: u16, y: u16) -> bool {
        let (Some(settings), Modal::None | Modal::Settings) = (screen.settings, &self.screen.modal)
        else {
            return false;
        };
        if !layout::contains(settings, x, y) {
            return false;
        }
        // Rows below the border, scrolled to keep the selected field in view.
        let line = usize::from(y.saturating_sub(settings.y + 1));
        let height = SettingsForm::rows_height(usize::from(settings.height.saturating_sub(2)));
        if let Some(field) = self
            .screen
            .settings
            .field_at_line(line, height)
            .filter(|_| line < height)
        {
            self.screen.settings.selected = field;
            self.screen.settings.fresh = true;
            self.screen.modal = Modal::Settings;
        }
        true
    }

    fn click(&mut self, screen: &layout::Screen, target: Focus, y: u16) {
        if !matches!(self.screen.modal, Modal::None) {
            return;
        }
        self.screen.focus = target;
        let zoomed = self.screen.zoomed;
        if target != Focus::View {
            return;
        }
        if let Some((runs, selected, _)) = self.shown_table() {
            // Rows start below the border and the header, the oldest shown first.
            let rows = runs.len();
            let inner = screen.lower.height.saturating_sub(2);
            let visible = usize::from(super::runs::table_height(rows, inner, zoomed) - 1);
            let at = super::runs::selected_row(&runs, *selected);
            let first = super::runs::first_row(rows, visible, at);
            let row = usize::from(y.saturating_sub(screen.lower.y + 2));
            if first + row < rows {
                *selected = Some(runs[first + row]);
            }
        }
    }
}
