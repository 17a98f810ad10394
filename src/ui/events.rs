//! The events log (`l`): every notice, fault and error, in full, newest at the bottom.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{pane, theme};
use crate::dashboard::state::App;
use crate::text::time_of_day;

pub fn render(frame: &mut Frame, area: Rect, app: &App, up: usize) {
    let popup = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(3),
    };
    frame.render_widget(Clear, popup);
    let title = format!(
        " Events: notices, faults and errors · {} · times UTC · ↑↓ PgUp PgDn scroll · Esc closes ",
        app.events.len()
    );
    let block = pane(popup, title, true);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if app.events.is_empty() {
        frame.render_widget(Paragraph::new("nothing yet").style(theme::muted()), inner);
        return;
    }
    let rows = usize::from(inner.height);
    let end = app.events.len().saturating_sub(up);
    let start = end.saturating_sub(rows);
    let lines: Vec<Line> = app
        .events
        .iter()
        .skip(start)
        .take(end - start)
        .map(|(at, text)| {
            Line::from(vec![
                Span::styled(format!("{}  ", time_of_day(*at)), theme::muted()),
                Span::raw(text.clone()),
            ])
        })
        .collect();
    // Long errors wrap here: this is where their full text is read.
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
