//! The rebalance timeline: newest rebalance first, with its cause, what each member gave up and
//! got, and how long moved partitions had no owner; beside it, the assignment map (which member
//! owned which partition after each rebalance).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit_all, is_focused, pane, theme, window};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::{App, Focus};
use crate::text::time_of_day;

/// Rebalances shown as columns of the assignment map.
const MAP_COLUMNS: usize = 8;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let map_width = (6 + 4 * MAP_COLUMNS as u16 + 2).min(area.width / 2);
    let [left, right] =
        Layout::horizontal([Constraint::Min(30), Constraint::Length(map_width)]).areas(area);
    render_events(frame, left, app);
    render_map(frame, right, app);
}

fn list(parts: &[i32]) -> String {
    let parts: Vec<String> = parts.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(","))
}

fn render_events(frame: &mut Frame, area: Rect, app: &App) {
    let block = pane(
        area,
        format!(
            " Rebalances, newest first (UTC) · {} consumers ",
            key(Mode::Main, A::Timeline)
        ),
        is_focused(app, Focus::View),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let rebalances = &app.model.timeline.rebalances;
    if rebalances.is_empty() {
        frame.render_widget(
            Paragraph::new(format!(
                "no rebalance yet: {} adds a consumer, {} removes one",
                key(Mode::Main, A::AddConsumer),
                key(Mode::Main, A::RemoveConsumer)
            ))
            .style(theme::muted()),
            inner,
        );
        return;
    }
    // What is under way and not yet a rebalance: a crash the group has not noticed.
    let mut lines: Vec<Line> = app
        .unnoticed_crashes()
        .into_iter()
        .map(|l| Line::styled(format!("now  ✗ {l}"), theme::error()))
        .collect();
    for r in rebalances.iter().rev() {
        let mut head = vec![
            Span::styled(format!("#{:<3} ", r.number), theme::accent()),
            Span::styled(format!("{}  ", time_of_day(r.at)), theme::muted()),
            Span::styled(r.cause.clone(), theme::bold()),
        ];
        if r.two_phases {
            head.push(Span::styled(
                " · cooperative: revoked first, assigned in a second phase",
                theme::muted(),
            ));
        }
        lines.push(Line::from(head));
        for c in &r.changes {
            let mut spans = vec![Span::raw(format!("  {:<12}", c.member))];
            if !c.revoked.is_empty() {
                spans.push(Span::styled(
                    format!(" revoked {}", list(&c.revoked)),
                    theme::warn(),
                ));
            }
            if !c.assigned.is_empty() {
                spans.push(Span::styled(
                    format!(" assigned {}", list(&c.assigned)),
                    theme::ok(),
                ));
            }
            if c.revoked.is_empty() && c.assigned.is_empty() {
                spans.push(Span::styled(
                    " joined with nothing to read (idle)",
                    theme::warn(),
                ));
            }
            lines.push(Line::from(spans));
        }
        if !r.unowned.is_empty() {
            let gaps: Vec<String> = r
                .unowned
                .iter()
                .map(|(p, d)| format!("p{p} {:.2} s", d.as_secs_f64()))
                .collect();
            lines.push(Line::styled(
                format!("  without an owner: {}", gaps.join(", ")),
                theme::muted(),
            ));
        }
    }
    let lines = window(lines, 0, inner.height as usize, app.screen.scroll.view);
    frame.render_widget(Paragraph::new(fit_all(lines, width)), inner);
}

fn render_map(frame: &mut Frame, area: Rect, app: &App) {
    let block = pane(area, " Owner after each rebalance ", false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rebalances: Vec<_> = app.model.timeline.rebalances.iter().collect();
    let shown = &rebalances[rebalances.len().saturating_sub(MAP_COLUMNS)..];
    let mut header = vec![Span::styled("part ", theme::muted())];
    for r in shown {
        header.push(Span::styled(
            format!("{:>4}", format!("#{}", r.number)),
            theme::muted(),
        ));
    }
    let mut lines = vec![Line::from(header)];
    for p in 0..app.model.cluster.partitions as i32 {
        let mut spans = vec![Span::raw(format!("{p:>4} "))];
        for r in shown {
            // consumer-3 shows as 3; no owner as a dot.
            let cell = r.owners.get(&p).map_or_else(
                || "·".to_string(),
                |m| m.trim_start_matches("consumer-").to_string(),
            );
            spans.push(Span::raw(format!("{cell:>4}")));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::styled(
        "columns: the rebalances #N of the list",
        theme::muted(),
    ));
    let lines = window(lines, 1, inner.height as usize, app.screen.scroll.view);
    frame.render_widget(Paragraph::new(fit_all(lines, inner.width as usize)), inner);
}
