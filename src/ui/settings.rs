//! The settings panel: each field with its value, checked as typed.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{pane, theme};
use crate::dashboard::state::forms::FIELDS;
use crate::dashboard::state::{App, Modal};

const LABEL_WIDTH: usize = 19;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let focused = matches!(app.modal, Modal::Settings);
    let block = pane(" Settings (s) ", focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let form = &app.settings;
    let mut lines = Vec::new();
    let mut cursor = None;
    for (i, field) in FIELDS.iter().enumerate().take(form.visible) {
        let selected = focused && i == form.selected;
        let error = form.error(i);
        let value_style = match (&error, selected) {
            (Some(_), _) => theme::error(),
            (None, true) => theme::selected(),
            (None, false) => Style::new(),
        };
        let marker = if selected { "▸ " } else { "  " };
        let input = &form.inputs[i];
        lines.push(Line::from(vec![
            Span::raw(marker),
            Span::styled(format!("{:<LABEL_WIDTH$}", field.label()), theme::muted()),
            Span::styled(input.value().to_string(), value_style),
        ]));
        if selected {
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
    lines.push(Line::styled(
        if focused {
            "↑↓ field · type to edit · Enter applies (restarts what changed: the producer, the consumers) · Esc leaves"
        } else {
            "s edits; Enter applies: what changed restarts"
        },
        theme::muted(),
    ));
    if app.cluster.embedded {
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
