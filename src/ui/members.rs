//! One pane per consumer-group member, tiled; one line each when they do not fit.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

use super::{is_focused, pane, theme};
use crate::dashboard::actors::member::{MemberState, PartitionLag};
use crate::dashboard::state::views::MemberView;
use crate::dashboard::state::{App, Focus};
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
            Paragraph::new("no consumer in the group: c adds one").style(theme::muted()),
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

/// The member's state in a word, why (when there is a reason to give), and its style.
fn state_text(app: &App, m: &MemberView) -> (&'static str, Option<String>, Style) {
    match &m.snapshot.state {
        MemberState::Joining => ("joining", None, theme::warn()),
        MemberState::Assigned => ("assigned", None, theme::ok()),
        MemberState::Idle => (
            "idle",
            Some(format!(
                "{} members for {} partitions",
                app.members.len(),
                app.cluster.partitions
            )),
            theme::warn(),
        ),
        MemberState::Rebalancing => ("rebalancing", None, theme::warn()),
        MemberState::Error(e) => ("error", Some(e.clone()), theme::error()),
        MemberState::Leaving => ("leaving", None, theme::warn()),
    }
}

fn render_pane(frame: &mut Frame, area: Rect, app: &App, m: &MemberView, focused: bool) {
    let s = &m.snapshot;
    let (word, why, style) = state_text(app, m);
    let state = match why {
        Some(why) => format!("{word}: {why}"),
        None => word.to_string(),
    };
    let title = Line::from(vec![
        Span::styled(format!(" {} ", s.name), theme::bold()),
        Span::styled(format!("{} ", s.client_id), theme::muted()),
    ]);
    let block = pane(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = vec![
        Line::styled(shorten(&state, width), style),
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
            theme::error(),
        ));
    }
    if !s.partitions.is_empty() {
        lines.push(Line::styled(
            format!("{:>4} {:>9} {:>9} {:>7}", "part", "position", "high", "lag"),
            theme::muted(),
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
        lines.push(Line::styled("latest records", theme::muted()));
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
                Sparkline::default().data(&points).style(theme::latency()),
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
        Focus::Producer => 0,
    };
    let first = selected.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = app
        .members
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, m)| {
            let (word, why, style) = state_text(app, m);
            let parts: Vec<String> = m
                .snapshot
                .partitions
                .iter()
                .map(|p| p.partition.to_string())
                .collect();
            let lag: i64 = m
                .snapshot
                .partitions
                .iter()
                .filter_map(PartitionLag::lag)
                .sum();
            let detail = why.map_or(String::new(), |why| format!("  ({why})"));
            let marker = if is_focused(app, Focus::Member(i)) {
                "▸"
            } else {
                " "
            };
            Line::from(vec![
                Span::raw(format!("{marker} {:<12} ", m.snapshot.name)),
                Span::styled(format!("{word:<12} "), style),
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
