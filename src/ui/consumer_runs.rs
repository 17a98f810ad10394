//! The consumer runs view: one row per consumer run (each change of the consumer settings
//! begins one) with the group's figures, best values highlighted, two marked runs compared,
//! and what each column means.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::runs::{comparison_lines, Grid, MARKED};
use super::{fit_all, is_focused, pane, theme};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::runs::{best_of, fit_widths, selected_row, table_height};
use crate::lab::state::{compare_consumers, App, Focus};
use crate::stats::{ConsumerColumn as C, ConsumerRunReport};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let title = format!(
        " Consumer runs · one per consumer settings change · from {} after the members \
         settle · {} marks two · {} exports ",
        crate::text::seconds(app.warmup()),
        key(Mode::Main, A::Mark),
        key(Mode::Main, A::Export)
    );
    let block = pane(area, title, is_focused(app, Focus::View));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = app.shown_consumer_runs();
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(format!(
                "no consumer yet: {} adds one; each change of consumer settings ({}) begins a run",
                key(Mode::Main, A::AddConsumer),
                key(Mode::Main, A::Settings)
            ))
            .style(theme::muted()),
            inner,
        );
        return;
    }
    let width = inner.width as usize;
    let marked: Vec<&ConsumerRunReport> = app
        .screen
        .consumer_marked
        .iter()
        .filter_map(|m| rows.iter().find(|r| r.run == *m))
        .collect();
    let comparison = (marked.len() == 2).then(|| {
        let (a, b) = if marked[0].run <= marked[1].run {
            (marked[0], marked[1])
        } else {
            (marked[1], marked[0])
        };
        comparison_lines(a.run, b.run, &compare_consumers(a, b), width)
    });
    let table_h = table_height(rows.len(), inner.height, app.screen.zoomed);
    let compare_h = comparison.as_ref().map_or(0, |c| c.len() as u16);
    let [table_area, compare_area, legend_area] = Layout::vertical([
        Constraint::Length(table_h),
        Constraint::Length(compare_h),
        Constraint::Min(0),
    ])
    .areas(inner);
    render_table(frame, table_area, app, &rows);
    if let Some(lines) = comparison {
        frame.render_widget(Paragraph::new(fit_all(lines, width)), compare_area);
    }
    frame.render_widget(Paragraph::new(fit_all(legend(), width)), legend_area);
}

/// What each figure column means, one to a line.
fn legend() -> Vec<Line<'static>> {
    C::ALL
        .iter()
        .filter(|c| !matches!(c, C::Run | C::Changed))
        .map(|c| Line::styled(format!("{:<8} {}", c.header(), c.about()), theme::muted()))
        .collect()
}

fn render_table(frame: &mut Frame, area: Rect, app: &App, rows: &[ConsumerRunReport]) {
    let defaults = app.consumer_defaults();
    // The latest run is the one going on (the table may be sorted).
    let live_run = rows.iter().map(|r| r.run).max();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let live = Some(r.run) == live_run;
            C::ALL
                .iter()
                .map(|c| {
                    let mut text = c.cell(r, &defaults, live);
                    if *c == C::Run && app.screen.consumer_marked.contains(&r.run) {
                        text.push_str(MARKED);
                    }
                    text
                })
                .collect()
        })
        .collect();
    let index = |c: C| C::ALL.iter().position(|a| *a == c).unwrap_or(0);
    let sorted = app.screen.consumer_sort.map(index);
    let headers = super::grid::headers(C::ALL.iter().map(|c| c.header()), sorted);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let priority: Vec<usize> = C::PRIORITY.iter().map(|c| index(*c)).collect();
    let columns = fit_widths(&headers, &priority, index(C::Changed), &cells, area.width);
    let grid = Grid {
        best: columns
            .iter()
            .map(|(c, _)| best_row(rows, C::ALL[*c]))
            .collect(),
        headers,
        cells: &cells,
        columns,
        selected: selected_row(
            &rows.iter().map(|r| r.run).collect::<Vec<_>>(),
            app.screen.consumer_selected,
        ),
        sorted,
        focused: is_focused(app, Focus::View),
    };
    grid.render(frame, area, |row, column| C::ALL[column].alarms(&rows[row]));
}

/// The row with the best value in `column` (ties: the earlier run); runs that consumed
/// nothing have no latency or rate to be best at.
fn best_row(rows: &[ConsumerRunReport], column: C) -> Option<usize> {
    let higher = column.higher_is_better()?;
    best_of(
        rows.iter()
            .map(|r| column.value(r).filter(|_| r.records > 0)),
        higher,
    )
}
