//! The runs view: one row per producer run with its settings and figures (best values
//! highlighted), and charts of throughput and p99 latency across runs with each restart marked.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Cell, Chart, Dataset, GraphType, Paragraph, Row, Table};
use ratatui::Frame;

use super::{pane, theme};
use crate::dashboard::actors::producer::WARMUP;
use crate::dashboard::state::runs::{best_row, Column, PENDING};
use crate::dashboard::state::views::HistoryPoint;
use crate::dashboard::state::App;
use crate::stats::RunReport;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let title = format!(
        " Runs · the first {} s of each run are left out (warm-up) · r consumers · e export ",
        WARMUP.as_secs()
    );
    let block = pane(title, false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = app.table_rows();
    let table_height = (rows.len() as u16 + 1).clamp(2, inner.height.saturating_sub(6).max(2));
    let [table_area, charts_area] =
        Layout::vertical([Constraint::Length(table_height), Constraint::Min(0)]).areas(inner);
    render_table(frame, table_area, app, &rows);
    if charts_area.height >= 4 {
        let [left, right] = Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)])
            .areas(charts_area);
        let history: Vec<&HistoryPoint> = app.producer.history.iter().collect();
        render_chart(frame, left, &history, "records/s", |p| p.per_sec);
        render_chart(frame, right, &history, "p99 ms", |p| p.p99_ms);
    }
}

fn render_table(frame: &mut Frame, area: Rect, app: &App, rows: &[RunReport]) {
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new("no run yet: p starts the producer; each start or restart begins a run")
                .style(theme::muted()),
            area,
        );
        return;
    }
    let best: Vec<Option<usize>> = Column::ALL.iter().map(|c| best_row(rows, *c)).collect();
    let visible = (area.height as usize).saturating_sub(1);
    let first = rows.len().saturating_sub(visible);
    let live_run = app
        .producer
        .snapshot
        .as_ref()
        .and_then(|s| s.report.as_ref().map(|r| r.run));
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(first)
        .map(|(i, r)| {
            let live = Some(r.run) == live_run && app.runs.back().is_none_or(|e| e.run != r.run);
            Row::new(Column::ALL.iter().zip(&best).map(|(column, best)| {
                let text = column.cell(r, &app.defaults, live);
                let style = if *best == Some(i) && rows.len() > 1 {
                    theme::best()
                } else if column.is_alarm() && text != "0" && text != PENDING {
                    theme::error()
                } else {
                    Style::new()
                };
                Cell::from(text).style(style)
            }))
        })
        .collect();
    let widths = Column::ALL.map(|c| match c {
        Column::Changed => Constraint::Min(c.width()),
        _ => Constraint::Length(c.width()),
    });
    let header = Row::new(Column::ALL.map(|c| Cell::from(c.header()))).style(theme::muted());
    frame.render_widget(
        Table::new(body, widths).header(header).column_spacing(1),
        area,
    );
}

/// A line per run over time, with a dim vertical mark where each run began.
fn render_chart(
    frame: &mut Frame,
    area: Rect,
    history: &[&HistoryPoint],
    what: &str,
    value: impl Fn(&HistoryPoint) -> f64,
) {
    let Some(first) = history.first() else {
        frame.render_widget(
            Paragraph::new(format!("{what}: no data yet")).style(theme::muted()),
            area,
        );
        return;
    };
    let (x0, x1) = (
        first.t,
        history.last().map_or(first.t, |p| p.t).max(first.t + 1.0),
    );
    let y_max = history
        .iter()
        .map(|p| value(p))
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.1;
    let mut runs: Vec<(u32, Vec<(f64, f64)>)> = Vec::new();
    for p in history {
        match runs.last_mut() {
            Some((run, points)) if *run == p.run => points.push((p.t, value(p))),
            _ => runs.push((p.run, vec![(p.t, value(p))])),
        }
    }
    let marks: Vec<Vec<(f64, f64)>> = runs
        .iter()
        .skip(1)
        .map(|(_, points)| vec![(points[0].0, 0.0), (points[0].0, y_max)])
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
    for (run, points) in &runs {
        datasets.push(
            Dataset::default()
                .name(format!("run {run}"))
                .graph_type(GraphType::Line)
                .marker(Marker::Braille)
                .style(theme::run(*run))
                .data(points),
        );
    }
    let label = |v: f64| Span::styled(format!("{v:.0}"), theme::muted());
    let [title, chart_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(format!("{what} by run, over seconds; ")),
            Span::styled("│", theme::muted()),
            Span::raw(" marks a restart"),
        ])),
        title,
    );
    let chart = Chart::new(datasets)
        .hidden_legend_constraints((Constraint::Ratio(0, 1), Constraint::Ratio(0, 1)))
        .x_axis(
            Axis::default()
                .bounds([x0, x1])
                .labels([label(x0), label(x1)]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, y_max])
                .labels([label(0.0), label(y_max)]),
        );
    frame.render_widget(chart, chart_area);
}
