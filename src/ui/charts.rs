//! The producer pane's charts: records/s and p99 over the chosen window, squeezed into the
//! columns there are (the runs view draws the same history).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

use super::{fit, theme};
use crate::lab::state::habits::window_text;
use crate::lab::state::views::HistoryPoint;

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
pub(super) fn render_tall_charts(
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

pub(super) fn render_charts(
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
