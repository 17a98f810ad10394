//! The producer pane: state, figures, settings in force, charts and the send log.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::charts::{render_charts, render_tall_charts};
use super::{fit_all, is_focused, pane, theme};
use crate::lab::snapshots::{ProducerSnapshot, ProducerState};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::views::LogLine;
use crate::lab::state::{App, Focus};
use crate::stats::{StageLatency, STAGES};
use crate::text::{shorten, thousands, time_of_day};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = &app.model.producer;
    let (state, style) = match view.snapshot.as_ref().map(|s| &s.state) {
        None => ("starting", theme::warn()),
        Some(ProducerState::Running) => ("running", theme::ok()),
        Some(ProducerState::Stopped) => ("stopped", theme::warn()),
        Some(ProducerState::Restarting) => ("restarting", theme::warn()),
        Some(ProducerState::Error(_)) => ("error", theme::error()),
    };
    let run = view.snapshot.as_ref().map_or(0, |s| s.run);
    let mut title = vec![
        Span::raw(" Producer "),
        Span::styled(format!("● {state}"), style),
        Span::raw(format!(" · run {run} ")),
    ];
    if app.screen.paused.is_some() {
        title.push(Span::styled("· screen frozen ", theme::warn()));
    }
    let block = pane(area, Line::from(title), is_focused(app, Focus::Producer));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let figures = figure_lines(app, usize::from(inner.width));
    let [figures_area, rest] =
        Layout::vertical([Constraint::Length(figures.len() as u16), Constraint::Min(1)])
            .areas(inner);
    frame.render_widget(Paragraph::new(figures), figures_area);
    if inner.width >= WIDE_LOG + 30 {
        // Wide: the log keeps the columns it needs, the charts take the rest, taller.
        let [log, charts] =
            Layout::horizontal([Constraint::Length(WIDE_LOG), Constraint::Min(30)]).areas(rest);
        render_log(frame, log, app);
        render_tall_charts(frame, charts, &view.history, app.chart_window());
    } else {
        let [charts, log] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(rest);
        render_charts(frame, charts, &view.history, app.chart_window());
        render_log(frame, log, app);
    }
}

/// Columns the send log needs at most: beyond them a wide pane puts taller charts beside it.
const WIDE_LOG: u16 = 100;

/// Segments of a line, most important first: the narrower the pane, the fewer are shown
/// (whole ones, never a number cut in two).
fn by_priority(segments: Vec<(u8, Vec<Span<'_>>)>, width: usize) -> Line<'_> {
    let mut keep: Vec<bool> = vec![true; segments.len()];
    let width_of = |keep: &[bool]| -> usize {
        segments
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|((_, spans), _)| spans.iter().map(Span::width).sum::<usize>())
            .sum()
    };
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(segments[*i].0));
    for i in order {
        if width_of(&keep) <= width {
            break;
        }
        if segments[i].0 > 0 {
            keep[i] = false;
        }
    }
    Line::from(
        segments
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .flat_map(|((_, spans), _)| spans)
            .collect::<Vec<_>>(),
    )
}

fn figures_line(s: &ProducerSnapshot, width: usize) -> Line<'static> {
    let w = &s.window;
    let retries = s.report.as_ref().and_then(|r| r.retries).unwrap_or(0);
    let warn = |n: u64, style: Style| if n > 0 { style } else { Style::new() };
    by_priority(
        vec![
            (
                0,
                vec![Span::styled(
                    format!("{:.1} rec/s", w.per_sec),
                    theme::bold(),
                )],
            ),
            (3, vec![Span::raw(format!("  {:.3} MB/s", w.mb_per_sec))]),
            (
                1,
                vec![Span::raw(format!("  in flight {}", thousands(s.in_flight)))],
            ),
            (
                0,
                vec![Span::raw(format!("  delivered {}", thousands(s.delivered)))],
            ),
            (
                0,
                vec![
                    Span::raw("  failed "),
                    Span::styled(thousands(s.failed), warn(s.failed, theme::error())),
                ],
            ),
            (
                2,
                vec![
                    Span::raw("  retries "),
                    Span::styled(thousands(retries), warn(retries, theme::warn())),
                ],
            ),
        ],
        width,
    )
}

/// The figures above the log: as many lines as there is something to say.
fn figure_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let view = &app.model.producer;
    // A stopped producer keeps showing its last run's figures, marked as such.
    let stopped_with_figures = view.snapshot.as_ref().and_then(|s| {
        (s.state != ProducerState::Running && s.report.is_none())
            .then_some(view.last_figures.as_ref())
            .flatten()
    });
    match stopped_with_figures.or(view.snapshot.as_ref()) {
        Some(s) => {
            lines.push(figures_line(s, width));
            let l = &s.window.latency;
            lines.push(by_priority(
                vec![
                    (
                        0,
                        vec![Span::raw(format!(
                            "latency ({:.0} s):",
                            s.window.span_s.round()
                        ))],
                    ),
                    (0, vec![Span::raw(format!(" p50 {:.2} ms", l.p50))]),
                    (2, vec![Span::raw(format!("  p95 {:.2} ms", l.p95))]),
                    (0, vec![Span::raw(format!("  p99 {:.2} ms", l.p99))]),
                    (1, vec![Span::raw(format!("  max {:.2} ms", l.max))]),
                ],
                width,
            ));
            if let Some(stages) = &s.stages {
                lines.push(stages_line(stages, width));
            }
            if let Some(t) = s.report.as_ref().and_then(|r| r.transactions.as_ref()) {
                lines.push(txn_line(t, width));
            }
            if stopped_with_figures.is_some() {
                lines.push(Line::styled(
                    format!(
                        "stopped: the figures of run {} as it ended ({} starts a new run)",
                        s.run,
                        key(Mode::Main, A::ToggleProducer)
                    ),
                    theme::warn(),
                ));
            }
        }
        None => lines.push(Line::from("waiting for the first figures ...")),
    }
    lines.push(Line::styled(app.model.applied.describe(), theme::muted()));
    if let Some((e, _)) = &app.model.producer.error {
        lines.push(Line::styled(
            format!(
                "error: {e} ({} shows it in full)",
                key(Mode::Main, A::Events)
            ),
            theme::error(),
        ));
    }
    fit_all(lines, width)
}

/// The run's transactions: how many ended which way, and their times.
fn txn_line(t: &crate::stats::TxnFigures, width: usize) -> Line<'static> {
    let ms = |v: f64, ended: u64| {
        if ended == 0 {
            "-".to_string()
        } else {
            format!("{v:.2} ms")
        }
    };
    by_priority(
        vec![
            (
                0,
                vec![Span::raw(format!("transactions: {} begun", t.begun))],
            ),
            (
                0,
                vec![Span::styled(
                    format!(" · {} committed", t.committed),
                    theme::ok(),
                )],
            ),
            (
                0,
                vec![Span::styled(
                    format!(" · {} aborted", t.aborted),
                    if t.aborted > 0 {
                        theme::warn()
                    } else {
                        theme::muted()
                    },
                )],
            ),
            (
                0,
                if t.failed > 0 {
                    vec![Span::styled(
                        format!(" · {} failed", t.failed),
                        theme::error(),
                    )]
                } else {
                    Vec::new()
                },
            ),
            (
                1,
                vec![Span::raw(format!(
                    " · commit p99 {}",
                    ms(t.commit_p99_ms, t.committed)
                ))],
            ),
            (
                2,
                vec![Span::raw(format!(
                    " · open p50 {}",
                    ms(t.open_p50_ms, t.committed)
                ))],
            ),
            (
                3,
                t.transactional_id.as_ref().map_or_else(Vec::new, |id| {
                    vec![Span::styled(
                        format!(
                            " · transactional.id {}",
                            crate::text::printable(id.as_bytes())
                        ),
                        theme::muted(),
                    )]
                }),
            ),
        ],
        width,
    )
}

/// Where the time goes, from the latest statistics: a bar split by stage and each stage's
/// median, e.g. `queue 4.90 ms · send 0.10 ms · broker 0.40 ms`.
fn stages_line(stages: &StageLatency, width: usize) -> Line<'static> {
    const BAR: usize = 16;
    let figures = stages.stages();
    let total: f64 = figures.iter().map(|f| f.p50).sum();
    let styles = [theme::warn(), theme::muted(), theme::rate()];
    let mut spans = vec![Span::raw("stages (p50): ")];
    if width >= 70 && total > 0.0 {
        let mut used = 0;
        for (i, f) in figures.iter().enumerate() {
            let n = if i == 2 {
                BAR - used
            } else {
                ((f.p50 / total * BAR as f64).round() as usize).min(BAR - used)
            };
            used += n;
            spans.push(Span::styled("█".repeat(n), styles[i]));
        }
        spans.push(Span::raw(" "));
    }
    for (i, (name, f)) in STAGES.iter().zip(figures).enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · "));
        }
        spans.push(Span::styled(format!("{name} {:.2} ms", f.p50), styles[i]));
    }
    Line::from(spans)
}

/// The send log, newest at the bottom, scrolled and filtered as the user asked.
fn render_log(frame: &mut Frame, area: Rect, app: &App) {
    let width = usize::from(area.width);
    let rows = usize::from(area.height.saturating_sub(1));
    // The key column takes what the fixed columns leave, up to a UUID's 36 characters; wide
    // panes also show the record's number.
    let wide = width >= 90;
    let fixed = if wide { 56 } else { 44 };
    let kw = width.saturating_sub(fixed).clamp(4, 36);
    let seq = |s: String| {
        if wide {
            format!("{s:>10}  ")
        } else {
            String::new()
        }
    };
    let mut lines = vec![Line::styled(
        format!(
            "{:<12}  {}{:<kw$}  {:>4}  {:>8}  {:>10}",
            "time (UTC)",
            seq("record".into()),
            "key",
            "part",
            "offset",
            "latency"
        ),
        theme::muted(),
    )];
    let filter = app.screen.filter.as_deref();
    let mut rows = rows;
    if let Some(f) = filter {
        // A delivery report carries the key, not the value: say what the filter can match.
        lines.insert(
            0,
            Line::styled(
                format!(
                    "filter “{}”: deliveries whose key holds it (a delivery report carries no value)",
                    shorten(f, 20)
                ),
                theme::accent(),
            ),
        );
        rows = rows.saturating_sub(1);
    }
    let shown: Vec<&LogLine> = app
        .model
        .producer
        .log
        .iter()
        .filter(|l| match (l, filter) {
            (LogLine::Delivery(d), Some(f)) => d.key.as_deref().is_some_and(|k| k.contains(f)),
            (LogLine::Skipped(_), Some(_)) => false,
            _ => true,
        })
        .collect();
    let up = app.screen.scroll.log.min(shown.len().saturating_sub(rows));
    let end = shown.len() - up;
    let rows_for_lines = if up > 0 { rows.saturating_sub(1) } else { rows };
    for line in &shown[end.saturating_sub(rows_for_lines)..end] {
        lines.push(match line {
            LogLine::Delivery(d) => {
                let key = shorten(d.key.as_deref().unwrap_or("-"), kw);
                match &d.error {
                    None => Line::from(format!(
                        "{:<12}  {}{key:<kw$}  {:>4}  {:>8}  {:>7.2} ms",
                        time_of_day(d.at),
                        seq(d.seq.to_string()),
                        d.partition,
                        d.offset.map_or("-".to_string(), |o| o.to_string()),
                        d.latency.as_secs_f64() * 1000.0
                    )),
                    Some(e) => Line::styled(
                        format!(
                            "{:<12}  {}{key:<kw$}  failed: {e}",
                            time_of_day(d.at),
                            seq(d.seq.to_string())
                        ),
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
    if up > 0 {
        lines.push(Line::styled(
            format!(
                "↓ {up} newer lines below · {} follows the newest",
                key(Mode::Main, A::Bottom)
            ),
            theme::warn(),
        ));
    }
    frame.render_widget(Paragraph::new(fit_all(lines, width)), area);
}
