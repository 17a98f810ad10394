//! The producer pane: state, figures, settings in force, charts and the send log.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

use super::{fit, fit_all, is_focused, pane, theme};
use crate::lab::snapshots::{ProducerSnapshot, ProducerState};
use crate::lab::state::habits::window_text;
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::views::{HistoryPoint, LogLine};
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

/// The right end of `area`, `columns` wide: a sparkline draws from the left, and the newest
/// point belongs at the right edge.
fn newest_right(area: Rect, columns: usize) -> Rect {
    let width = (columns as u16).min(area.width);
    Rect {
        x: area.x + area.width - width,
        width,
        ..area
    }
}

/// The history's last `window` squeezed into at most `width` columns, each the mean
/// records/s and the highest p99 of its points: the columns, the peaks, and the time covered
/// (the window, or less when the history is shorter).
pub(super) struct Squeezed {
    pub rate: Vec<u64>,
    pub p99: Vec<u64>,
    pub peak_rate: f64,
    pub peak_p99: f64,
    pub span: String,
}

pub(super) fn squeeze(
    history: &std::collections::VecDeque<HistoryPoint>,
    width: usize,
    window: std::time::Duration,
) -> Squeezed {
    let points = within(history, window);
    let per_column = points.len().div_ceil(width.max(1)).max(1);
    // Whole columns from the newest point back: the oldest column may hold fewer.
    let chunks: Vec<&[&HistoryPoint]> = points.rchunks(per_column).rev().collect();
    let rate = chunks
        .iter()
        .map(|c| (c.iter().map(|p| p.per_sec).sum::<f64>() / c.len() as f64).round() as u64)
        .collect();
    let p99 = chunks
        .iter()
        .map(|c| (c.iter().map(|p| p.p99_ms).fold(0.0, f64::max) * 1000.0) as u64)
        .collect();
    let span = match (points.first(), points.last()) {
        (Some(a), Some(b)) => b.t - a.t,
        _ => 0.0,
    };
    Squeezed {
        rate,
        p99,
        peak_rate: points.iter().map(|p| p.per_sec).fold(0.0, f64::max),
        peak_p99: points.iter().map(|p| p.p99_ms).fold(0.0, f64::max),
        span: if span + 0.5 >= window.as_secs_f64() {
            window_text(window)
        } else {
            format!("{span:.0} s")
        },
    }
}

/// The points of the last `window` of `history` (by its own clock, the producer's).
pub(super) fn within(
    history: &std::collections::VecDeque<HistoryPoint>,
    window: std::time::Duration,
) -> Vec<&HistoryPoint> {
    let Some(last) = history.back() else {
        return Vec::new();
    };
    let from = last.t - window.as_secs_f64();
    // The history is in time order: skip what is older than the window.
    let first = history.partition_point(|p| p.t < from);
    history.range(first..).collect()
}

/// The last `window` of records/s and p99, each in half the height.
fn render_tall_charts(
    frame: &mut Frame,
    area: Rect,
    history: &std::collections::VecDeque<HistoryPoint>,
    window: std::time::Duration,
) {
    let [rate_area, p99_area] =
        Layout::vertical([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(area);
    let s = squeeze(history, area.width as usize, window);
    for (chart_area, label, style, points) in [
        (
            rate_area,
            format!("records/s, last {} · peak {:.0}", s.span, s.peak_rate),
            theme::rate(),
            s.rate.clone(),
        ),
        (
            p99_area,
            format!("p99 latency, last {} · peak {:.1} ms", s.span, s.peak_p99),
            theme::latency(),
            s.p99.clone(),
        ),
    ] {
        let [title, chart] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(chart_area);
        frame.render_widget(
            Paragraph::new(fit(
                Line::styled(label, theme::muted()),
                title.width as usize,
            )),
            title,
        );
        frame.render_widget(
            Sparkline::default().data(&points).style(style),
            newest_right(chart, points.len()),
        );
    }
}

fn render_charts(
    frame: &mut Frame,
    area: Rect,
    history: &std::collections::VecDeque<HistoryPoint>,
    window: std::time::Duration,
) {
    let label_width = 16;
    let [labels, charts] =
        Layout::horizontal([Constraint::Length(label_width), Constraint::Min(1)]).areas(area);
    let [rate_area, p99_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(charts);
    let Squeezed {
        rate,
        p99,
        peak_rate,
        peak_p99,
        ..
    } = squeeze(history, charts.width as usize, window);
    frame.render_widget(
        Paragraph::new(vec![
            fit(
                Line::styled(format!("rec/s ≤{peak_rate:.0}"), theme::muted()),
                15,
            ),
            fit(
                Line::styled(format!("p99 ≤{peak_p99:.1}ms"), theme::muted()),
                15,
            ),
        ]),
        labels,
    );
    frame.render_widget(
        Sparkline::default().data(&rate).style(theme::rate()),
        newest_right(rate_area, rate.len()),
    );
    frame.render_widget(
        Sparkline::default().data(&p99).style(theme::latency()),
        newest_right(p99_area, p99.len()),
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn history(seconds: usize) -> std::collections::VecDeque<HistoryPoint> {
        (0..seconds * 4)
            .map(|i| HistoryPoint {
                t: i as f64 / 4.0,
                run: 1,
                per_sec: 100.0,
                // One slow tick in each second.
                p99_ms: if i % 4 == 0 { 50.0 } else { 5.0 },
            })
            .collect()
    }

    const TWO_MINUTES: std::time::Duration = std::time::Duration::from_secs(120);

    /// A shorter window shows only its own points, and a spike older than it is no
    /// longer its peak.
    #[test]
    fn a_window_shows_its_own_points_and_peaks() {
        let mut ten_minutes = history(600);
        ten_minutes[4].p99_ms = 900.0;
        let whole = squeeze(&ten_minutes, 200, std::time::Duration::from_secs(600));
        assert_eq!(whole.span, "10 min");
        assert_eq!(whole.peak_p99, 900.0);
        let last = squeeze(&ten_minutes, 200, std::time::Duration::from_secs(15));
        assert_eq!(last.span, "15 s");
        assert_eq!(last.peak_p99, 50.0, "the spike was 9 min ago");
        // 15 s at four a second, both ends kept: 61 points, one per column.
        assert_eq!(last.rate.len(), 61);
    }

    /// The charts say how long they cover, and a narrow one still covers it all: a column
    /// holds several points, its highest p99 kept.
    #[test]
    fn the_charts_cover_what_they_say() {
        let two_minutes = history(120);
        let s = squeeze(&two_minutes, 100, TWO_MINUTES);
        assert_eq!(s.span, "2 min");
        assert!(
            s.rate.len() <= 100 && s.rate.len() >= 96,
            "{}",
            s.rate.len()
        );
        assert!(s.rate.iter().all(|r| *r == 100));
        assert!(s.p99.iter().all(|p| *p == 50_000), "no peak lost");
        assert_eq!(s.peak_p99, 50.0);
        let short = squeeze(&history(10), 200, TWO_MINUTES);
        assert_eq!(short.span, "10 s");
        assert_eq!(short.rate.len(), 40, "a point per column");
        assert!(squeeze(&std::collections::VecDeque::new(), 80, TWO_MINUTES)
            .rate
            .is_empty());
    }
}
