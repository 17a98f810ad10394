//! A runs table: rows of cells cut to the columns that fit, the best of each column
//! highlighted, alarming cells in red, the selected row marked.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

use super::theme;
use crate::lab::state::runs::first_row;
use crate::text::shorten;

/// After the header of the column a table is sorted by.
pub(super) const SORTED: &str = "▼";

/// Column headers, the one the rows are sorted by (an index of `names`) marked [`SORTED`].
pub(super) fn headers<'a>(
    names: impl Iterator<Item = &'a str>,
    sorted: Option<usize>,
) -> Vec<String> {
    names
        .enumerate()
        .map(|(i, h)| {
            if sorted == Some(i) {
                format!("{h}{SORTED}")
            } else {
                h.to_string()
            }
        })
        .collect()
}

/// A runs table's text and where the user is in it.
pub(super) struct Grid<'a> {
    pub headers: Vec<&'a str>,
    /// Every cell of every row, by column.
    pub cells: &'a [Vec<String>],
    /// The columns shown, as indexes of `headers`, and their widths.
    pub columns: Vec<(usize, u16)>,
    /// The best row of each column shown.
    pub best: Vec<Option<usize>>,
    /// The selected row (None: the last).
    pub selected: Option<usize>,
    /// The column the rows are sorted by (best first): its header, marked [`SORTED`], is
    /// highlighted.
    pub sorted: Option<usize>,
    pub focused: bool,
}

impl Grid<'_> {
    /// Draws the rows that fit (the newest, unless the selection is above them), each best
    /// cell highlighted, `alarms(row, column)` in red, the selected row when focused.
    pub(super) fn render(
        self,
        frame: &mut Frame,
        area: Rect,
        alarms: impl Fn(usize, usize) -> bool,
    ) {
        let rows = self.cells.len();
        let visible = (area.height as usize).saturating_sub(1);
        let selected = self.selected.unwrap_or(rows.saturating_sub(1));
        let first = first_row(rows, visible, self.selected);
        let body: Vec<Row> = (first..rows.min(first + visible))
            .map(|i| {
                let row = Row::new(self.columns.iter().zip(&self.best).map(
                    |((column, width), best)| {
                        let style = if *best == Some(i) && rows > 1 {
                            theme::best()
                        } else if alarms(i, *column) {
                            theme::error()
                        } else {
                            Style::new()
                        };
                        Cell::from(shorten(&self.cells[i][*column], *width as usize)).style(style)
                    },
                ));
                if self.focused && i == selected {
                    row.style(theme::selected())
                } else {
                    row
                }
            })
            .collect();
        let widths: Vec<Constraint> = self
            .columns
            .iter()
            .map(|(_, w)| Constraint::Length(*w))
            .collect();
        let header = Row::new(self.columns.iter().map(|(c, _)| {
            let cell = Cell::from(self.headers[*c]);
            if self.sorted == Some(*c) {
                cell.style(theme::accent())
            } else {
                cell
            }
        }))
        .style(theme::muted());
        frame.render_widget(
            Table::new(body, widths).header(header).column_spacing(1),
            area,
        );
    }
}
