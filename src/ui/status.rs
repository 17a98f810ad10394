//! The status bar: cluster, topic, group, connection, and the keys.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::theme;
use crate::dashboard::state::{keymap, App};
use crate::text::shorten;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let c = &app.cluster;
    let width = area.width as usize;
    let connection = match app.connection_problem() {
        Some(e) => Span::styled(shorten(&format!("trouble: {e}"), 60), theme::error()),
        None => Span::styled("connected", theme::ok()),
    };
    let first = Line::from(vec![
        Span::raw(shorten(&c.label, 48)),
        Span::styled(" · ", theme::muted()),
        Span::raw(format!("topic {} ({} partitions)", c.topic, c.partitions)),
        Span::styled(" · ", theme::muted()),
        Span::raw(format!("group {}", c.group)),
        Span::styled(" · ", theme::muted()),
        connection,
    ]);
    let mut first = first;
    if let Some(path) = &app.sink {
        first.push_span(Span::styled(" · ", theme::muted()));
        first.push_span(Span::styled(
            format!("sink {}", shorten(path, 40)),
            theme::accent(),
        ));
    }
    let second = match &app.message {
        Some(m) => Line::styled(shorten(m, width), theme::accent()),
        None => Line::styled(shorten(&keymap::hints(), width), theme::muted()),
    };
    frame.render_widget(Paragraph::new(vec![first, second]), area);
}
