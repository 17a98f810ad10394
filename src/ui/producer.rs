//! The producer pane: state, figures, settings in force, charts and the send log.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Wrap};
use ratatui::Frame;

use super::{is_focused, pane, theme};
use crate::dashboard::actors::producer::ProducerState;
use crate::dashboard::state::views::{HistoryPoint, LogLine};
use crate::dashboard::state::{App, Focus};
use crate::text::{shorten, thousands, time_of_day};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = &app.producer;
    let (state, style) = match view.snapshot.as_ref().map(|s| &s.state) {
        None => ("starting", theme::warn()),
        Some(ProducerState::Running) => ("running", theme::ok()),
        Some(ProducerState::Stopped) => ("stopped", theme::warn()),
        Some(ProducerState::Restarting) => ("restarting", theme::warn()),
        Some(ProducerState::Error(_)) => ("error", theme::error()),
    };
    let run = view.snapshot.as_ref().map_or(0, |s| s.run);
    let title = Line::from(vec![
        Span::raw(" Producer "),
        Span::styled(format!("● {state}"), style),
        Span::raw(format!(" · run {run} ")),
    ]);
    let block = pane(title, is_focused(app, Focus::Producer));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let [figures, charts, log] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inner);
    render_figures(frame, figures, app);
    render_charts(frame, charts, &view.history);
    render_log(frame, log, app);
}

fn render_figures(frame: &mut Frame, area: Rect, app: &App) {
    let mut lines = Vec::new();
    match &app.producer.snapshot {
        Some(s) => {
            let w = &s.window;
            let retries = s.report.as_ref().and_then(|r| r.retries).unwrap_or(0);
            let warn = |n: u64, style: Style| if n > 0 { style } else { Style::new() };
            lines.push(Line::from(vec![
                Span::styled(format!("{:.1} rec/s", w.per_sec), theme::bold()),
                Span::raw(format!(
                    "  {:.3} MB/s  in flight {}  delivered {}  failed ",
                    w.mb_per_sec,
                    thousands(s.in_flight),
                    thousands(s.delivered)
                )),
                Span::styled(thousands(s.failed), warn(s.failed, theme::error())),
                Span::raw("  retries "),
                Span::styled(thousands(retries), warn(retries, theme::warn())),
            ]));
            let l = &w.latency;
            lines.push(Line::from(format!(
                "latency ({:.0} s): p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                w.span_s.round(),
                l.p50,
                l.p95,
                l.p99,
                l.max
            )));
        }
        None => lines.push(Line::from("waiting for the first figures ...")),
    }
    lines.push(Line::styled(app.applied.describe(), theme::muted()));
    if let Some((e, _)) = &app.producer.error {
        lines.push(Line::styled(format!("error: {e}"), theme::error()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn render_charts(
    frame: &mut Frame,
    area: Rect,
    history: &std::collections::VecDeque<HistoryPoint>,
) {
    let label_width = 16;
    let [labels, charts] =
        Layout::horizontal([Constraint::Length(label_width), Constraint::Min(1)]).areas(area);
    let [rate_area, p99_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(charts);
    let take = charts.width as usize;
    let recent: Vec<&HistoryPoint> = history.iter().rev().take(take).rev().collect();
    let rate: Vec<u64> = recent.iter().map(|p| p.per_sec.round() as u64).collect();
    let p99: Vec<u64> = recent.iter().map(|p| (p.p99_ms * 1000.0) as u64).collect();
    let peak_rate = recent.iter().map(|p| p.per_sec).fold(0.0, f64::max);
    let peak_p99 = recent.iter().map(|p| p.p99_ms).fold(0.0, f64::max);
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(format!("rec/s ≤{peak_rate:.0}"), theme::muted()),
            Line::styled(format!("p99 ≤{peak_p99:.1}ms"), theme::muted()),
        ]),
        labels,
    );
    frame.render_widget(
        Sparkline::default().data(&rate).style(theme::rate()),
        rate_area,
    );
    frame.render_widget(
        Sparkline::default().data(&p99).style(theme::latency()),
        p99_area,
    );
}

fn render_log(frame: &mut Frame, area: Rect, app: &App) {
    let rows = area.height.saturating_sub(1) as usize;
    // The key column takes what the fixed columns leave, up to a UUID's 36 characters.
    let kw = (area.width as usize).saturating_sub(44).clamp(4, 36);
    let mut lines = vec![Line::styled(
        format!(
            "{:<12}  {:<kw$}  {:>4}  {:>8}  {:>10}",
            "time", "key", "part", "offset", "latency"
        ),
        theme::muted(),
    )];
    let log = &app.producer.log;
    for line in log.iter().skip(log.len().saturating_sub(rows)) {
        lines.push(match line {
            LogLine::Delivery(d) => {
                let key = d.key.as_deref().unwrap_or("-");
                let key = shorten(key, kw);
                match &d.error {
                    None => Line::from(format!(
                        "{:<12}  {key:<kw$}  {:>4}  {:>8}  {:>7.2} ms",
                        time_of_day(d.at),
                        d.partition,
                        d.offset.map_or("-".to_string(), |o| o.to_string()),
                        d.latency.as_secs_f64() * 1000.0
                    )),
                    Some(e) => Line::styled(
                        format!("{:<12}  {key:<kw$}  failed: {e}", time_of_day(d.at)),
                        theme::error(),
                    ),
                }
            }
            LogLine::Skipped(n) => Line::styled(
                format!("… {} more delivered (the log samples)", thousands(*n)),
                theme::muted(),
            ),
            LogLine::Mark(text) => Line::styled(format!("── {text}"), theme::accent()),
        });
    }
    frame.render_widget(Paragraph::new(lines), area);
}
