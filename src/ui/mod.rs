//! Rendering only: every function here reads `App` and draws; none changes it.
//!
//! ```text
//! ┌ Producer ● running · run 2 ──────────────────────┐┌ Settings ─────────────┐
//! │ figures, settings in force, charts, send log     ││ acks, batch.size, ... │
//! └──────────────────────────────────────────────────┘└───────────────────────┘
//! ┌ consumer-1 ──────────┐┌ consumer-2 ──────────┐┌ consumer-3 ──────────┐
//! │ state, partitions,   ││ position, high, lag, ││ latest records       │
//! └──────────────────────┘└──────────────────────┘└──────────────────────┘
//!   (or, after `r`: the runs table and charts of throughput and p99 across runs;
//!    after `v`: the partition view and the stream table; after `g`: the rebalance timeline)
//!  status: cluster · topic · group · connection · keys
//! ```
//! The top row takes `TOP_PERCENT` of the height; consumer panes tile the rest and fold into one
//! line each when they no longer fit. Below `MIN_WIDTH` x `MIN_HEIGHT` a notice asks for a
//! larger window.

mod admin;
mod charts;
mod consumer_runs;
mod detail;
mod events;
mod grid;
mod help;
mod members;
mod partitions;
mod processors;
mod producer;
mod runs;
mod settings;
mod status;
pub mod theme;
mod timeline;
mod workers;

use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use crate::lab::state::{App, Focus, Modal, View};

pub fn render(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let Some(screen) = layout::screen_for(area, app.screen.zoomed, app.model.scenario.is_some())
    else {
        too_small(frame, area);
        return;
    };
    if !app.screen.zoomed {
        producer::render(frame, screen.producer, app);
    }
    if let Some(settings_area) = screen.settings {
        settings::render(frame, settings_area, app);
    }
    match app.screen.view {
        View::Consumers => members::render(frame, screen.lower, app),
        View::Partitions => partitions::render(frame, screen.lower, app),
        View::Timeline => timeline::render(frame, screen.lower, app),
        View::Runs => runs::render(frame, screen.lower, app),
        View::ConsumerRuns => consumer_runs::render(frame, screen.lower, app),
    }
    status::render(frame, screen.status, app);
    if let Some(strip) = &app.model.scenario {
        status::render_strip(frame, screen.strip, strip);
    }
    match &app.screen.modal {
        Modal::Detail(d) => detail::render(frame, screen.lower, d),
        Modal::Topics(form) => admin::render(frame, area, app, form),
        Modal::Fault(form) => admin::render_fault(frame, area, app, form),
        Modal::Help => help::render(frame, area, app),
        Modal::Events(up) => events::render(frame, area, app, *up),
        Modal::Settings if screen.settings.is_none() => {
            // Narrow screens: the settings come up over the producer.
            let overlay = layout::settings_overlay(area);
            frame.render_widget(Clear, overlay);
            settings::render(frame, overlay, app);
        }
        Modal::None | Modal::Settings | Modal::Filter(_) | Modal::Rewind(..) => {}
    }
}

/// A line cut to `width` columns, with `…` where it was cut: nothing is cut silently.
pub fn fit(line: Line<'_>, width: usize) -> Line<'_> {
    if line.width() <= width {
        return line;
    }
    let mut used = 0;
    let mut spans: Vec<Span> = Vec::new();
    for span in line.spans {
        let w = span.width();
        if used + w < width {
            used += w;
            spans.push(span);
            continue;
        }
        // This span crosses the edge: keep what fits before the mark.
        let mut kept = String::new();
        for c in span.content.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw + 1 > width {
                break;
            }
            used += cw;
            kept.push(c);
        }
        spans.push(Span::styled(kept, span.style));
        break;
    }
    spans.push(Span::styled("…", theme::muted()));
    Line::from(spans).style(line.style)
}

/// Fits every line of a block of text to `width`.
pub fn fit_all(lines: Vec<Line<'_>>, width: usize) -> Vec<Line<'_>> {
    lines.into_iter().map(|l| fit(l, width)).collect()
}

/// A list read from the top in `height` lines: its first `header` lines stay, the rest is
/// scrolled `down` lines (held so that the last line can show), and a last line says what
/// lies above and below when it does not all fit.
pub fn window(
    mut lines: Vec<Line<'_>>,
    header: usize,
    height: usize,
    down: usize,
) -> Vec<Line<'_>> {
    if lines.len() <= height {
        return lines;
    }
    let body = lines.split_off(header.min(lines.len()));
    let rows = height.saturating_sub(header + 1);
    let down = down.min(body.len().saturating_sub(rows));
    let below = body.len() - down - rows.min(body.len());
    lines.extend(body.into_iter().skip(down).take(rows));
    lines.push(Line::styled(
        format!(
            "↑ {down} above · ↓ {below} below · select with {}, then {} {} {} {}",
            key(Mode::Main, A::NextPane),
            key(Mode::Main, A::Up),
            key(Mode::Main, A::Down),
            key(Mode::Main, A::PageUp),
            key(Mode::Main, A::PageDown)
        ),
        theme::muted(),
    ));
    lines
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = format!(
        "kafka-lab needs a window of at least {MIN_WIDTH} x {MIN_HEIGHT}; this one is {} x {}.\nMake the window larger ({} quits).",
        area.width,
        area.height,
        key(Mode::Main, A::Quit)
    );
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// A pane's frame for `area`: highlighted when it has the keyboard; a title longer than the
/// frame is cut with a mark.
fn pane<'a>(area: Rect, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
    let title = fit(title.into(), usize::from(area.width.saturating_sub(2)));
    let block = Block::bordered().title(title);
    if focused {
        block
            .border_type(BorderType::Thick)
            .border_style(theme::focused_border())
    } else {
        block.border_style(theme::border())
    }
}

/// The pane has the keyboard: it is selected and no overlay is open.
fn is_focused(app: &App, focus: Focus) -> bool {
    app.screen.focus == focus && matches!(app.screen.modal, Modal::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_cut_line_ends_with_a_mark() {
        assert_eq!(
            text(&fit(Line::from("delivered 3,495"), 15)),
            "delivered 3,495"
        );
        assert_eq!(
            text(&fit(Line::from("delivered 3,495"), 14)),
            "delivered 3,4…"
        );
        let spans = Line::from(vec![Span::raw("ab"), Span::raw("cdé"), Span::raw("f")]);
        let cut = fit(spans, 4);
        assert_eq!(text(&cut), "abc…");
        assert_eq!(cut.width(), 4);
    }

    #[test]
    fn a_long_list_keeps_its_header_and_says_what_is_hidden() {
        let lines: Vec<Line> = (0..10).map(|i| Line::from(i.to_string())).collect();
        let shown = window(lines.clone(), 1, 5, 2);
        let shown: Vec<String> = shown.iter().map(text).collect();
        assert_eq!(shown[..4], ["0", "3", "4", "5"]);
        assert!(
            shown[4].starts_with("↑ 2 above · ↓ 4 below"),
            "{}",
            shown[4]
        );
        // Scrolled past the end: held so that the last line shows.
        let end: Vec<String> = window(lines.clone(), 1, 5, 99).iter().map(text).collect();
        assert_eq!(end[3], "9");
        assert_eq!(window(lines, 0, 20, 3).len(), 10, "it fits: nothing hidden");
    }
}
