//! The status bar: cluster, topic, group, connection; then a message, the filter being typed,
//! or the keys.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit, theme};
use crate::dashboard::state::{keymap, App, Modal};
use crate::text::shorten;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let c = &app.cluster;
    let width = area.width as usize;
    let connection = match app.connection_problem() {
        Some(e) => Span::styled(
            shorten(&format!("trouble: {e} (l: the events log)"), 72),
            theme::error(),
        ),
        None => Span::styled("connected", theme::ok()),
    };
    let mut first = Line::from(vec![
        Span::raw(shorten(&c.label, 48)),
        Span::styled(" · ", theme::muted()),
        Span::raw(format!("topic {} ({} partitions)", c.topic, c.partitions)),
        Span::styled(" · ", theme::muted()),
        Span::raw(format!("group {}", c.group)),
        Span::styled(" · ", theme::muted()),
        connection,
    ]);
    if app.paused.is_some() {
        first.push_span(Span::styled(" · ", theme::muted()));
        first.push_span(Span::styled("PAUSED (Space resumes)", theme::warn()));
    }
    if let Some(filter) = &app.filter {
        first.push_span(Span::styled(" · ", theme::muted()));
        first.push_span(Span::styled(
            format!("filter “{}”", shorten(filter, 20)),
            theme::accent(),
        ));
    }
    if let Some(path) = &app.sink {
        first.push_span(Span::styled(" · ", theme::muted()));
        first.push_span(Span::styled(
            format!("sink {}", shorten(path, 40)),
            theme::accent(),
        ));
    }
    let second = if let Modal::Filter(input) = &app.modal {
        let prompt = "filter (key or value holds): ";
        let x = area.x + (prompt.len() + input.visual_cursor()).min(width.saturating_sub(1)) as u16;
        frame.set_cursor_position((x, area.y + 1));
        Line::from(vec![
            Span::styled(prompt, theme::accent()),
            Span::raw(input.value().to_string()),
            Span::styled("   Enter keeps it · Esc: no filter", theme::muted()),
        ])
    } else {
        match &app.message {
            Some(m) => Line::styled(m.clone(), theme::accent()),
            None => Line::styled(keymap::hints(), theme::muted()),
        }
    };
    frame.render_widget(
        Paragraph::new(vec![fit(first, width), fit(second, width)]),
        area,
    );
}
