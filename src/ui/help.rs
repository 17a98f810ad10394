//! The help overlay: every key.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::{bold, pane};

pub const KEYS: [(&str, &str); 20] = [
    ("p", "start or stop the producer"),
    ("c", "add a consumer to the group (a new pane)"),
    ("x", "remove the selected consumer (it leaves the group)"),
    ("Tab / arrows", "select the producer or a consumer pane"),
    (
        "Enter (consumer)",
        "the selected consumer's latest records in full",
    ),
    ("s", "edit the producer settings"),
    ("↑ ↓ (settings)", "move between fields; type to edit"),
    (
        "Enter (settings)",
        "apply; what changed restarts (producer: new run; consumers)",
    ),
    ("Esc (settings)", "leave the settings panel"),
    (
        "r",
        "switch the lower half: consumer panes / runs table and charts",
    ),
    (
        "v",
        "switch the lower half: consumer panes / partition view",
    ),
    (
        "g",
        "switch the lower half: consumer panes / rebalance timeline",
    ),
    (
        "t",
        "stream table: group consumed breweries by type, state, country",
    ),
    ("e", "export the runs table to CSV and JSON files"),
    (
        "b",
        "embedded cluster: take a partition leader down for 5 s",
    ),
    ("a", "topics: create one, add partitions, switch topic"),
    (
        "w",
        "start / stop writing consumed records to a JSON-lines file",
    ),
    ("?", "this help; any key closes it"),
    ("q", "quit: flush, leave the group, restore the terminal"),
    ("Ctrl-C", "quit from anywhere"),
];

pub fn render(frame: &mut Frame, area: Rect) {
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(KEYS.len() as u16 + 4),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, popup, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(86),
        Constraint::Fill(1),
    ])
    .areas(middle);
    frame.render_widget(Clear, popup);
    let block = pane(" Keys ", true);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(key, what)| Line::from(format!("{key:<18} {what}")))
        .collect();
    lines.insert(
        0,
        Line::styled("kafka-lab: watch producers and consumers", bold()),
    );
    lines.insert(1, Line::raw(""));
    frame.render_widget(Paragraph::new(lines), inner);
}
