//! The status bar: cluster, topic, group, connection; then a message, the filter being typed,
//! or the keys.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit, theme};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::{keymap, App, Modal, ScenarioStrip};
use crate::text::shorten;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let c = &app.model.cluster;
    let width = area.width as usize;
    let connection = match app.connection_problem() {
        Some(e) => Span::styled(
            shorten(&format!("trouble: {e} (l: the events log)"), 72),
            theme::error(),
        ),
        None => Span::styled("connected", theme::ok()),
    };
    // The state chips (frozen, filter, sink) first: on a narrow screen the cluster's name
    // gives way, not they.
    let mut first = Line::default();
    if app.screen.paused.is_some() {
        first.push_span(Span::styled(
            format!("screen frozen ({} resumes)", key(Mode::Main, A::Pause)),
            theme::warn(),
        ));
        first.push_span(Span::styled(" · ", theme::muted()));
    }
    if let Some(filter) = &app.screen.filter {
        first.push_span(Span::styled(
            format!("filter “{}”", shorten(filter, 20)),
            theme::accent(),
        ));
        first.push_span(Span::styled(" · ", theme::muted()));
    }
    if let Some(path) = &app.model.sink {
        first.push_span(Span::styled(
            format!("sink {}", shorten(path, 40)),
            theme::accent(),
        ));
        first.push_span(Span::styled(" · ", theme::muted()));
    }
    first.push_span(connection);
    first.push_span(Span::styled(" · ", theme::muted()));
    first.push_span(Span::raw(format!(
        "topic {} ({} partitions)",
        c.topic, c.partitions
    )));
    first.push_span(Span::styled(" · ", theme::muted()));
    first.push_span(Span::raw(format!("group {}", c.group)));
    first.push_span(Span::styled(" · ", theme::muted()));
    if !app.model.data.is_empty() {
        first.push_span(Span::raw(shorten(&app.model.data, 60)));
        first.push_span(Span::styled(" · ", theme::muted()));
    }
    first.push_span(Span::raw(shorten(&c.label, 48)));
    let second = if let Modal::Rewind(input, error) = &app.screen.modal {
        let tail = format!(
            "   {} · {} rewinds · {}: nothing",
            error
                .as_deref()
                .unwrap_or(crate::lab::settings::REWIND_FORMS),
            key(Mode::Rewind, A::Apply),
            key(Mode::Rewind, A::Close)
        );
        let style = if error.is_some() {
            theme::error()
        } else {
            theme::muted()
        };
        prompt(frame, area, "rewind the group to: ", input, (tail, style))
    } else if let Modal::Filter(input) = &app.screen.modal {
        let tail = format!(
            "   {} keeps it · {}: no filter",
            key(Mode::Filter, A::Apply),
            key(Mode::Filter, A::Close)
        );
        prompt(
            frame,
            area,
            "filter (key or value holds): ",
            input,
            (tail, theme::muted()),
        )
    } else {
        match &app.status.message {
            Some(m) => Line::styled(m.clone(), theme::accent()),
            None => Line::styled(keymap::hints(width), theme::muted()),
        }
    };
    frame.render_widget(
        Paragraph::new(vec![fit(first, width), fit(second, width)]),
        area,
    );
}

/// A scenario's strip: its title, the steps around the current one (highlighted), the time to
/// the next, the assertions so far.
pub fn render_strip(frame: &mut Frame, area: Rect, strip: &ScenarioStrip) {
    let width = area.width as usize;
    let mut line = Line::from(vec![Span::styled(
        format!("scenario {} ", shorten(&strip.title, 28)),
        theme::accent(),
    )]);
    let state = if let Some(done) = &strip.done {
        Span::styled(format!("{done} "), theme::ok())
    } else if strip.paused {
        Span::styled(
            format!("scenario paused ({} resumes) ", key(Mode::Main, A::Pause)),
            theme::warn(),
        )
    } else if strip.waiting_for_run {
        Span::styled("waiting for the new run ", theme::muted())
    } else {
        match strip.next_in {
            Some(s) if s >= 0.5 => Span::styled(format!("next in {s:.0} s "), theme::muted()),
            _ => Span::raw(""),
        }
    };
    line.push_span(state);
    if strip.passed + strip.failed > 0 {
        let style = if strip.failed > 0 {
            theme::error()
        } else {
            theme::ok()
        };
        line.push_span(Span::styled(
            format!("asserts {} ok {} failed ", strip.passed, strip.failed),
            style,
        ));
    }
    line.push_span(Span::styled("│ ", theme::muted()));
    // The step under way and the next few: what is happening and what comes.
    let from = strip.current.unwrap_or(0).saturating_sub(1);
    for (i, step) in strip.steps.iter().enumerate().skip(from) {
        let text = format!("{} {} ", i + 1, shorten(step, 36));
        let style = if Some(i) == strip.current {
            theme::selected()
        } else if strip.current.is_some_and(|c| i < c) {
            theme::muted()
        } else {
            ratatui::style::Style::default()
        };
        line.push_span(Span::styled(text, style));
        line.push_span(Span::styled("› ", theme::muted()));
        if line.width() > width {
            break;
        }
    }
    frame.render_widget(Paragraph::new(fit(line, width)), area);
}

/// A one-line prompt on the status bar's second line, with the cursor in it.
fn prompt(
    frame: &mut Frame,
    area: Rect,
    prompt: &'static str,
    input: &tui_input::Input,
    (tail, style): (String, Style),
) -> Line<'static> {
    let width = area.width as usize;
    let x = area.x + (prompt.len() + input.visual_cursor()).min(width.saturating_sub(1)) as u16;
    frame.set_cursor_position((x, area.y + 1));
    Line::from(vec![
        Span::styled(prompt, theme::accent()),
        Span::raw(input.value().to_string()),
        Span::styled(tail, style),
    ])
}
