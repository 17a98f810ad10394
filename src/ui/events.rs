//! The events log (`l`): every notice, fault and error, in full, newest at the bottom.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{pane, theme};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::App;
use crate::text::time_of_day;

pub fn render(frame: &mut Frame, area: Rect, app: &App, up: usize) {
    let popup = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(3),
    };
    frame.render_widget(Clear, popup);
    let kept = app.status.events.len() as u64;
    let count = if app.status.events_total > kept {
        format!(
            "the last {} of {}",
            crate::text::thousands(kept),
            crate::text::thousands(app.status.events_total)
        )
    } else {
        kept.to_string()
    };
    let title = format!(
        " Events: notices, faults and errors · {count} · times UTC · {}{} {} {} scroll · {} closes ",
        key(Mode::Events, A::Up),
        key(Mode::Events, A::Down),
        key(Mode::Events, A::PageUp),
        key(Mode::Events, A::PageDown),
        key(Mode::Events, A::Close)
    );
    let block = pane(popup, title, true);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if app.status.events.is_empty() {
        frame.render_widget(Paragraph::new("nothing yet").style(theme::muted()), inner);
        return;
    }
    let rows = usize::from(inner.height);
    let end = app.status.events.len().saturating_sub(up);
    let start = end.saturating_sub(rows);
    let lines: Vec<Line> = app
        .status
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
