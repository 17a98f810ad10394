//! The runs view: one row per producer run with its settings and figures (best values
//! highlighted), two marked runs compared, and charts of throughput and p99 latency on log
//! scales (one colour per run, each restart marked). Zoomed (`z`) it adds p50 and p99 against
//! records/s, one point per run.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

pub(super) use super::grid::Grid;
use super::{fit, fit_all, is_focused, pane, theme};
use crate::lab::state::habits::window_text;
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::runs::{
    best_row, compare, fit_columns, selected_row, table_height, Column, Comparison,
};
use crate::lab::state::views::HistoryPoint;
use crate::lab::state::{App, Focus};
use crate::stats::figures::UNKNOWN as UNCONFIRMED;
use crate::stats::RunReport;

/// Beside a run's number (after ▶, the run going on): marked for comparison, had a fault.
pub(super) const MARKED: &str = "◆";
const FAULT: &str = "!";

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let title = format!(
        " Runs · the first {} of each run are left out (warm-up) · {} marks two to compare · {} {} sort · {} zooms · {} exports ",
        crate::text::seconds(app.warmup()),
        key(Mode::Main, A::Mark),
        key(Mode::Main, A::SortPrev),
        key(Mode::Main, A::SortNext),
        key(Mode::Main, A::Zoom),
        key(Mode::Main, A::Export)
    );
    let block = pane(area, title, is_focused(app, Focus::View));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = app.shown_runs();
    let mut notes = selected_settings(app, &rows, inner.width as usize);
    notes.extend(footnotes(&rows));
    let marked: Vec<&RunReport> = app
        .screen
        .marked
        .iter()
        .filter_map(|m| rows.iter().find(|r| r.run == *m))
        .collect();
    let comparison =
        (marked.len() == 2).then(|| compare_lines(marked[0], marked[1], inner.width as usize));
    let table_h = table_height(rows.len(), inner.height, app.screen.zoomed);
    let compare_h = comparison.as_ref().map_or(0, |c| c.len() as u16);
    let [table_area, notes_area, compare_area, charts_area] = Layout::vertical([
        Constraint::Length(table_h),
        Constraint::Length(notes.len() as u16),
        Constraint::Length(compare_h),
        Constraint::Min(0),
    ])
    .areas(inner);
    render_table(frame, table_area, app, &rows);
    frame.render_widget(
        Paragraph::new(fit_all(notes, inner.width as usize)),
        notes_area,
    );
    if let Some(lines) = comparison {
        frame.render_widget(
            Paragraph::new(fit_all(lines, inner.width as usize)),
            compare_area,
        );
    }
    if charts_area.height < 7 {
        if charts_area.height > 0 && !rows.is_empty() {
            frame.render_widget(
                Paragraph::new("z: the runs view takes the whole screen, with its charts")
                    .style(theme::muted()),
                charts_area,
            );
        }
        return;
    }
    let window = app.chart_window();
    let history = super::charts::within(&app.model.producer.history, window);
    let parts = if app.screen.zoomed && charts_area.width >= 120 {
        3
    } else {
        2
    };
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, parts); parts as usize])
        .spacing(1)
        .split(charts_area);
    let over = format!(
        "last {} ({} {} window)",
        window_text(window),
        key(Mode::Main, A::ChartsShorter),
        key(Mode::Main, A::ChartsLonger)
    );
    render_chart(
        frame,
        areas[0],
        &history,
        &format!("records/s, log scale, {over}"),
        0.1,
        |p| p.per_sec,
    );
    render_chart(
        frame,
        areas[1],
        &history,
        &format!("p99 ms, log scale, {over}"),
        0.01,
        |p| p.p99_ms,
    );
    if parts == 3 {
        render_scatter(frame, areas[2], &rows);
    }
}

/// The selected run's settings in full (the table's column cuts them), while the view has the
/// keyboard, wrapped at `width`.
fn selected_settings(app: &App, rows: &[RunReport], width: usize) -> Vec<Line<'static>> {
    if !is_focused(app, Focus::View) || width < 20 {
        return Vec::new();
    }
    let runs: Vec<u32> = rows.iter().map(|r| r.run).collect();
    let Some(r) = selected_row(&runs, app.screen.runs_selected).and_then(|i| rows.get(i)) else {
        return Vec::new();
    };
    let text = format!("run {}: {}", r.run, r.settings_diff(&app.model.defaults));
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(Line::styled(std::mem::take(&mut line), theme::muted()));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(Line::styled(line, theme::muted()));
    lines
}

/// What the marks in the table mean, for the marks it shows.
fn footnotes(rows: &[RunReport]) -> Vec<Line<'static>> {
    let mut notes = Vec::new();
    if let Some(r) = rows
        .iter()
        .rev()
        .find(|r| r.accounting.as_ref().is_some_and(|a| a.unconfirmed))
    {
        let a = r.accounting.as_ref().map(|a| (a.received, a.not_found));
        let (found, not_found) = a.unwrap_or_default();
        notes.push(Line::styled(
            format!(
                "missing {UNCONFIRMED}: acks=0 confirms nothing, so nothing counts as missing; \
                 run {}: {found} of {} sent found",
                r.run,
                found + not_found
            ),
            theme::muted(),
        ));
    }
    // A line per faulted run, the latest three: what was done (the export has when, too).
    let faulted: Vec<&RunReport> = rows.iter().filter(|r| !r.faults.is_empty()).collect();
    for r in &faulted[faulted.len().saturating_sub(3)..] {
        let what: Vec<&str> = r
            .faults
            .iter()
            .map(|f| f.rsplit_once(" (run ").map_or(f.as_str(), |(what, _)| what))
            .collect();
        notes.push(Line::styled(
            format!("{FAULT} run {} had a fault: {}", r.run, what.join(" · ")),
            theme::warn(),
        ));
    }
    notes
}

fn compare_lines(a: &RunReport, b: &RunReport, width: usize) -> Vec<Line<'static>> {
    let (a, b) = if a.run <= b.run { (a, b) } else { (b, a) };
    comparison_lines(a.run, b.run, &compare(a, b), width)
}

/// Run `a` → run `b`: the settings that differ, then the figures, as many to a line as fit.
pub(super) fn comparison_lines(a: u32, b: u32, c: &Comparison, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        format!(
            "{MARKED} run {a} → run {b}: {}",
            if c.settings.is_empty() {
                "the same settings".to_string()
            } else {
                c.settings.join(" · ")
            }
        ),
        theme::accent(),
    )];
    // Figures side by side, as many to a line as fit.
    let mut line = String::new();
    for [what, x, y, change] in &c.figures {
        let cell = format!("{what} {x} → {y} {change}").trim_end().to_string();
        if !line.is_empty() && line.chars().count() + 5 + cell.chars().count() > width {
            lines.push(Line::from(std::mem::take(&mut line)));
        }
        if !line.is_empty() {
            line.push_str("  ·  ");
        }
        line.push_str(&cell);
    }
    lines.push(Line::from(line));
    for why in &c.why {
        lines.push(Line::styled(format!("why: {why}"), theme::accent()));
    }
    lines
}

fn render_table(frame: &mut Frame, area: Rect, app: &App, rows: &[RunReport]) {
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(format!(
                "no run yet: {} starts the producer; each start or restart begins a run",
                key(Mode::Main, A::ToggleProducer)
            ))
            .style(theme::muted()),
            area,
        );
        return;
    }
    let live_run = app
        .model
        .producer
        .snapshot
        .as_ref()
        .and_then(|s| s.report.as_ref().map(|r| r.run));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let live =
                Some(r.run) == live_run && app.model.runs.back().is_none_or(|e| e.run != r.run);
            Column::ALL
                .iter()
                .map(|c| {
                    let mut text = c.cell(r, &app.model.defaults, live);
                    if *c == Column::Run {
                        if app.screen.marked.contains(&r.run) {
                            text.push_str(MARKED);
                        }
                        if !r.faults.is_empty() {
                            text.push_str(FAULT);
                        }
                    }
                    text
                })
                .collect()
        })
        .collect();
    let index = |c: Column| Column::ALL.iter().position(|a| *a == c).unwrap_or(0);
    let sorted = app.screen.runs_sort.map(index);
    let headers = super::grid::headers(Column::ALL.iter().map(|c| c.header()), sorted);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let transactions = rows.iter().any(|r| r.transactions.is_some());
    let columns = fit_columns(&cells, &headers, area.width, transactions);
    let grid = Grid {
        headers,
        sorted,
        cells: &cells,
        best: columns.iter().map(|(c, _)| best_row(rows, *c)).collect(),
        columns: columns.iter().map(|(c, w)| (index(*c), *w)).collect(),
        selected: selected_row(
            &rows.iter().map(|r| r.run).collect::<Vec<_>>(),
            app.screen.runs_selected,
        ),
        focused: is_focused(app, Focus::View),
    };
    grid.render(frame, area, |row, column| {
        Column::ALL[column].alarms(&rows[row])
    });
}

/// 1, 10, 100, 1k, ... for an axis of powers of ten.
fn power_label(exponent: f64) -> String {
    let v = 10f64.powf(exponent);
    match v {
        v if v >= 1e6 => format!("{:.0}M", v / 1e6),
        v if v >= 1e3 => format!("{:.0}k", v / 1e3),
        v if v >= 1.0 => format!("{v:.0}"),
        v => format!("{v}"),
    }
}

/// Log-scale bounds (powers of ten) around the positive values, at least a decade apart.
fn log_bounds(values: impl Iterator<Item = f64>, floor: f64) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| *v > 0.0)
        .map(|v| v.max(floor).log10())
        .fold(None, |acc: Option<(f64, f64)>, v| {
            Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
        })?;
    let lo = lo.floor();
    Some((lo, hi.ceil().max(lo + 1.0)))
}

/// A line per run over time on a log scale (so a slow run shows beside a fast one), with a
/// dim vertical mark where each run began.
fn render_chart(
    frame: &mut Frame,
    area: Rect,
    history: &[&HistoryPoint],
    what: &str,
    floor: f64,
    value: impl Fn(&HistoryPoint) -> f64,
) {
    let (legend_area, chart_area) = titled(frame, area, what);
    let width = area.width as usize;
    let (Some(first), Some((y0, y1))) = (
        history.first(),
        log_bounds(history.iter().map(|p| value(p)), floor),
    ) else {
        frame.render_widget(
            Paragraph::new("no data yet").style(theme::muted()),
            legend_area,
        );
        return;
    };
    let (x0, x1) = (
        first.t,
        history.last().map_or(first.t, |p| p.t).max(first.t + 1.0),
    );
    let mut runs: Vec<(u32, Vec<(f64, f64)>)> = Vec::new();
    for p in history {
        let v = value(p);
        let point = (p.t, if v > 0.0 { v.max(floor).log10() } else { y0 });
        match runs.last_mut() {
            Some((run, points)) if *run == p.run => points.push(point),
            _ => runs.push((p.run, vec![point])),
        }
    }
    let marks: Vec<Vec<(f64, f64)>> = runs
        .iter()
        .skip(1)
        .map(|(_, points)| vec![(points[0].0, y0), (points[0].0, y1)])
        .collect();
    let mut datasets: Vec<Dataset> = marks
        .iter()
        .map(|m| {
            Dataset::default()
                .graph_type(GraphType::Line)
                .marker(Marker::Braille)
                .style(theme::muted())
                .data(m)
        })
        .collect();
    let mut legend = Vec::new();
    for (run, points) in &runs {
        datasets.push(
            Dataset::default()
                .graph_type(GraphType::Line)
                .marker(Marker::Braille)
                .style(theme::run(*run))
                .data(points),
        );
        legend.push(Span::styled(format!("━ run {run}  "), theme::run(*run)));
    }
    if runs.len() > 1 {
        legend.push(Span::styled("│ restart", theme::muted()));
    }
    // The newest runs matter most: the legend keeps the end.
    let legend = Line::from(legend);
    let legend = if legend.width() > width {
        let mut spans = legend.spans;
        while Line::from(spans.clone()).width() + 2 > width && spans.len() > 1 {
            spans.remove(0);
        }
        spans.insert(0, Span::styled("… ", theme::muted()));
        Line::from(spans)
    } else {
        legend
    };
    frame.render_widget(Paragraph::new(fit(legend, width)), legend_area);
    let label = |s: String| Span::styled(s, theme::muted());
    let chart = Chart::new(datasets)
        .hidden_legend_constraints((Constraint::Ratio(0, 1), Constraint::Ratio(0, 1)))
        .x_axis(
            Axis::default()
                .bounds([x0, x1])
                .labels([label(format!("{x0:.0} s")), label(format!("{x1:.0} s"))]),
        )
        .y_axis(
            Axis::default().bounds([y0, y1]).labels(
                (y0 as i32..=y1 as i32)
                    .map(|e| label(power_label(f64::from(e))))
                    .collect::<Vec<_>>(),
            ),
        );
    frame.render_widget(chart, chart_area);
}

/// Draws a chart's title on the first line of `area`; returns the legend's line and the rest.
fn titled(frame: &mut Frame, area: Rect, title: &str) -> (Rect, Rect) {
    let [title_area, legend_area, chart_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(fit(
            Line::styled(title.to_string(), theme::bold()),
            area.width as usize,
        )),
        title_area,
    );
    (legend_area, chart_area)
}

/// p50 and p99 against records/s, one point each per ended run, both axes log scale: where
/// more throughput starts to cost latency.
fn render_scatter(frame: &mut Frame, area: Rect, rows: &[RunReport]) {
    let (legend_area, chart_area) =
        titled(frame, area, "latency ms against records/s, a point per run");
    let measured: Vec<&RunReport> = rows
        .iter()
        .filter(|r| r.records > 0 && r.records_per_sec > 0.0)
        .collect();
    let xs = log_bounds(measured.iter().map(|r| r.records_per_sec), 0.1);
    let ys = log_bounds(
        measured
            .iter()
            .flat_map(|r| [r.latency_ms.p50, r.latency_ms.p99]),
        0.01,
    );
    let (Some((x0, x1)), Some((y0, y1))) = (xs, ys) else {
        frame.render_widget(
            Paragraph::new("no measured run yet").style(theme::muted()),
            legend_area,
        );
        return;
    };
    let point = |x: f64, y: f64| (x.max(0.1).log10(), y.max(0.01).log10());
    let p50: Vec<(f64, f64)> = measured
        .iter()
        .map(|r| point(r.records_per_sec, r.latency_ms.p50))
        .collect();
    let p99: Vec<(f64, f64)> = measured
        .iter()
        .map(|r| point(r.records_per_sec, r.latency_ms.p99))
        .collect();
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("• p50  ", theme::ok()),
            Span::styled("• p99", theme::latency()),
        ])),
        legend_area,
    );
    let label = |s: String| Span::styled(s, theme::muted());
    let axis_labels = |lo: f64, hi: f64, unit: &str| -> Vec<Span> {
        (lo as i32..=hi as i32)
            .map(|e| label(format!("{}{unit}", power_label(f64::from(e)))))
            .collect()
    };
    let chart = Chart::new(vec![
        Dataset::default()
            .graph_type(GraphType::Scatter)
            .marker(Marker::Dot)
            .style(theme::ok())
            .data(&p50),
        Dataset::default()
            .graph_type(GraphType::Scatter)
            .marker(Marker::Dot)
            .style(theme::latency())
            .data(&p99),
    ])
    .hidden_legend_constraints((Constraint::Ratio(0, 1), Constraint::Ratio(0, 1)))
    .x_axis(
        Axis::default()
            .bounds([x0, x1])
            .labels(axis_labels(x0, x1, "/s")),
    )
    .y_axis(
        Axis::default()
            .bounds([y0, y1])
            .labels(axis_labels(y0, y1, "")),
    );
    frame.render_widget(chart, chart_area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_span_whole_decades() {
        assert_eq!(
            log_bounds([50.0, 120_000.0].into_iter(), 0.1),
            Some((1.0, 6.0))
        );
        assert_eq!(log_bounds([0.0, 0.0].into_iter(), 0.1), None);
        // One value still gets a decade to sit in.
        assert_eq!(log_bounds([100.0].into_iter(), 0.1), Some((2.0, 3.0)));
        assert_eq!(power_label(3.0), "1k");
        assert_eq!(power_label(-1.0), "0.1");
        assert_eq!(power_label(6.0), "1M");
    }
}
