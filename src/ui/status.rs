//! The status bar: cluster, topic, group, connection, and the keys.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::dim;
use crate::app::App;
use crate::text::shorten;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let c = &app.cluster;
    let width = area.width as usize;
    let connection = match app.connection_problem() {
        Some(e) => Span::styled(
            shorten(&format!("trouble: {e}"), 60),
            Style::new().fg(Color::Red),
        ),
        None => Span::styled("connected", Style::new().fg(Color::Green)),
    };
    let first = Line::from(vec![
        Span::raw(shorten(&c.label, 48)),
        Span::styled(" · ", dim()),
        Span::raw(format!("topic {} ({} partitions)", c.topic, c.partitions)),
        Span::styled(" · ", dim()),
        Span::raw(format!("group {}", c.group)),
        Span::styled(" · ", dim()),
        connection,
    ]);
    let mut first = first;
    if let Some(path) = &app.sink {
        first.push_span(Span::styled(" · ", dim()));
        first.push_span(Span::styled(
            format!("sink {}", shorten(path, 40)),
            Style::new().fg(Color::Cyan),
        ));
    }
    let second = match &app.message {
        Some(m) => Line::styled(shorten(m, width), Style::new().fg(Color::Cyan)),
        None => Line::styled(
            shorten(
                "p producer · c add consumer · x remove · Tab select · s settings · v partitions · g rebalances · r runs · e export · b broker down · ? help · q quit",
                width,
            ),
            dim(),
        ),
    };
    frame.render_widget(Paragraph::new(vec![first, second]), area);
}
