//! The settings panel: each field with its value, checked as typed.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{pane, theme};
use crate::lab::state::forms::{Field, FIELDS};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::{App, Modal};

const LABEL_WIDTH: usize = 19;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let focused = matches!(app.screen.modal, Modal::Settings);
    let block = pane(
        area,
        format!(" Settings ({}) ", key(Mode::Main, A::Settings)),
        focused,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let form = &app.screen.settings;
    let mut lines = Vec::new();
    let mut cursor = None;
    for (i, field) in FIELDS.iter().enumerate().take(form.visible) {
        let selected = focused && i == form.selected;
        let error = form.error(i);
        let choice = field.choices().is_some();
        let value_style = match (&error, selected) {
            (Some(_), _) => theme::error(),
            // Being edited: a cursor in it. Otherwise selected as a whole: what is typed
            // replaces it.
            (None, true) if !form.fresh && !choice => theme::editing(),
            (None, true) => theme::selected(),
            (None, false) => Style::new(),
        };
        let marker = if selected { "▸" } else { " " };
        // `*`: an edit waiting for Enter.
        let pending = if form.pending(i) { "*" } else { " " };
        let input = &form.inputs[i];
        let value = if selected && choice {
            format!("◂ {} ▸", input.value())
        } else {
            input.value().to_string()
        };
        lines.push(Line::from(vec![
            Span::raw(marker),
            Span::styled(pending, theme::warn()),
            Span::styled(format!("{:<LABEL_WIDTH$}", field.label()), theme::muted()),
            Span::styled(value, value_style),
        ]));
        if selected && !choice && !form.fresh {
            let x = inner.x + 2 + LABEL_WIDTH as u16 + input.visual_cursor() as u16;
            cursor = Some((
                x.min(inner.right().saturating_sub(1)),
                inner.y + lines.len() as u16 - 1,
            ));
        }
        if let Some(e) = error {
            lines.push(Line::styled(format!("    {e}"), theme::error()));
        }
    }
    lines.push(Line::raw(""));
    if let Some(e) = &form.form_error {
        lines.push(Line::styled(e.clone(), theme::error()));
    }
    let pending = (0..form.visible).filter(|&i| form.pending(i)).count();
    if pending > 0 {
        lines.push(Line::styled(
            format!(
                "{pending} edit{} pending (*): {} applies, {} discards",
                if pending == 1 { "" } else { "s" },
                key(Mode::Settings, A::Apply),
                key(Mode::Settings, A::Close)
            ),
            theme::warn(),
        ));
    }
    let field = FIELDS[form.selected];
    lines.extend(hints(field, focused));
    // Where it matters: not editing, or choosing acks.
    if app.model.cluster.embedded && (!focused || field == Field::Acks) {
        lines.push(Line::styled(
            "embedded cluster: no replication, so acks=1 and acks=all behave alike here; a real cluster shows the difference",
            theme::warn(),
        ));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    if let Some(position) = cursor {
        frame.set_cursor_position(position);
    }
}

/// What the keys do here: choosing or typing the selected field, moving, applying.
fn hints(field: Field, focused: bool) -> Vec<Line<'static>> {
    let arrows = format!(
        "{} {}",
        key(Mode::Settings, A::Left),
        key(Mode::Settings, A::Right)
    );
    let hint = match field.choices() {
        Some(choices) if focused => format!("{arrows} choose: {}", choices.join(" · ")),
        _ if focused => {
            format!("type to edit: the first key replaces the value, {arrows} move in it")
        }
        _ => format!(
            "{} edits; {} applies: what changed restarts",
            key(Mode::Main, A::Settings),
            key(Mode::Settings, A::Apply)
        ),
    };
    let mut lines = vec![Line::styled(hint, theme::muted())];
    if focused {
        lines.push(Line::styled(
            format!(
                "{}{} field · {} applies (what changed restarts) · {} leaves",
                key(Mode::Settings, A::Up),
                key(Mode::Settings, A::Down),
                key(Mode::Settings, A::Apply),
                key(Mode::Settings, A::Close)
            ),
            theme::muted(),
        ));
    }
    lines
}
