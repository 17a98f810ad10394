//! One pane per consumer-group member, tiled; one line each when they do not fit.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

use super::{bold, dim, is_focused, pane};
use crate::app::{App, Focus, MemberView};
use crate::kafka::member::MemberState;
use crate::text::{printable, shorten, thousands, time_of_day};

/// Narrowest and lowest a full pane may be.
const PANE_MIN_WIDTH: u16 = 36;
const PANE_MIN_HEIGHT: u16 = 7;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let n = app.members.len();
    if n == 0 {
        let block = pane(" Consumers ", false);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new("no consumer in the group: c adds one").style(dim()),
            inner,
        );
        return;
    }
    let cols = (area.width / PANE_MIN_WIDTH).clamp(1, n as u16) as usize;
    let rows = n.div_ceil(cols);
    if area.height / (rows as u16) < PANE_MIN_HEIGHT {
        render_folded(frame, area, app);
        return;
    }
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let col_areas =
            Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(*row_area);
        for (c, cell) in col_areas.iter().enumerate() {
            let i = r * cols + c;
            if let Some(m) = app.members.get(i) {
                render_pane(frame, *cell, app, m, is_focused(app, Focus::Member(i)));
            }
        }
    }
}

fn state_text(app: &App, m: &MemberView) -> (String, Color) {
    match &m.snapshot.state {
        MemberState::Joining => ("joining".into(), Color::Yellow),
        MemberState::Assigned => ("assigned".into(), Color::Green),
        MemberState::Idle => (
            format!(
                "idle: {} members for {} partitions",
                app.members.len(),
                app.cluster.partitions
            ),
            Color::Yellow,
        ),
        MemberState::Rebalancing => ("rebalancing".into(), Color::Yellow),
        MemberState::Error(e) => (format!("error: {e}"), Color::Red),
        MemberState::Leaving => ("leaving".into(), Color::Yellow),
    }
}

fn render_pane(frame: &mut Frame, area: Rect, app: &App, m: &MemberView, focused: bool) {
    let s = &m.snapshot;
    let (state, color) = state_text(app, m);
    let title = Line::from(vec![
        Span::styled(format!(" {} ", s.name), bold()),
        Span::styled(format!("{} ", s.client_id), dim()),
    ]);
    let block = pane(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = vec![
        Line::styled(shorten(&state, width), Style::new().fg(color)),
        Line::from(format!(
            "{:.1} rec/s  received {}  rebalanced {}",
            s.per_sec,
            thousands(s.received),
            s.last_rebalance.map_or("-".to_string(), time_of_day)
        )),
    ];
    let chart_row = (s.received > 0).then(|| {
        lines.push(Line::from(format!(
            "end-to-end p50 {:.1} ms  p99 {:.1} ms",
            s.e2e.p50, s.e2e.p99
        )));
        lines.len() - 1
    });
    if let Some((e, _)) = &m.error {
        lines.push(Line::styled(
            shorten(&format!("error: {e}"), width),
            Style::new().fg(Color::Red),
        ));
    }
    if !s.partitions.is_empty() {
        lines.push(Line::styled(
            format!("{:>4} {:>9} {:>9} {:>7}", "part", "position", "high", "lag"),
            dim(),
        ));
        let dash = || "-".to_string();
        for p in &s.partitions {
            lines.push(Line::from(format!(
                "{:>4} {:>9} {:>9} {:>7}",
                p.partition,
                p.position.map_or_else(dash, |v| v.to_string()),
                p.high_watermark.map_or_else(dash, |v| v.to_string()),
                p.lag().map_or_else(dash, |v| v.to_string()),
            )));
        }
    }
    let room = (inner.height as usize).saturating_sub(lines.len());
    if room > 1 && !s.latest.is_empty() {
        lines.push(Line::styled("latest records", dim()));
        for r in s.latest.iter().rev().take(room - 1) {
            let key = shorten(&r.key.as_deref().map_or("-".to_string(), printable), 14);
            let value = r.value.as_deref().map_or("-".to_string(), printable);
            lines.push(Line::from(shorten(
                &format!("p{}@{} {} {}", r.partition, r.offset, key, value),
                width,
            )));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
    // A sparkline of end-to-end p99 after the figures, on the same row.
    if let Some(row) = chart_row {
        let text_width = 40u16;
        if inner.width > text_width + 8 && (row as u16) < inner.height {
            let area = Rect {
                x: inner.x + text_width,
                y: inner.y + row as u16,
                width: inner.width - text_width,
                height: 1,
            };
            let take = area.width as usize;
            let points: Vec<u64> = m
                .e2e_history
                .iter()
                .skip(m.e2e_history.len().saturating_sub(take))
                .map(|v| (v * 1000.0) as u64)
                .collect();
            frame.render_widget(
                Sparkline::default()
                    .data(&points)
                    .style(Style::new().fg(Color::Magenta)),
                area,
            );
        }
    }
}

/// One line per member, scrolled so that the selected one shows.
fn render_folded(frame: &mut Frame, area: Rect, app: &App) {
    let block = pane(
        format!(
            " Consumers ({}) · one line each: the window is too small for panes ",
            app.members.len()
        ),
        matches!(app.focus, Focus::Member(_)),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = inner.height as usize;
    let selected = match app.focus {
        Focus::Member(i) => i,
        _ => 0,
    };
    let first = selected.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = app
        .members
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, m)| {
            let (state, color) = state_text(app, m);
            let parts: Vec<String> = m
                .snapshot
                .partitions
                .iter()
                .map(|p| p.partition.to_string())
                .collect();
            let lag: i64 = m.snapshot.partitions.iter().filter_map(|p| p.lag()).sum();
            let (state, detail) = match state.split_once(": ") {
                Some((word, why)) => (word.to_string(), format!("  ({why})")),
                None => (state, String::new()),
            };
            let marker = if is_focused(app, Focus::Member(i)) {
                "▸"
            } else {
                " "
            };
            Line::from(vec![
                Span::raw(format!("{marker} {:<12} ", m.snapshot.name)),
                Span::styled(
                    format!("{:<12} ", shorten(&state, 12)),
                    Style::new().fg(color),
                ),
                Span::raw(shorten(
                    &format!(
                        "partitions [{}]  {:.1} rec/s  lag {lag}{detail}",
                        parts.join(","),
                        m.snapshot.per_sec
                    ),
                    (inner.width as usize).saturating_sub(28),
                )),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
