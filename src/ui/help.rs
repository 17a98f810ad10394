//! The help overlay: every key, from the keymap.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::{pane, theme};
use crate::lab::state::keymap::{bindings, key, Action, Mode};
use crate::lab::state::{App, Focus, View};

const KEY_WIDTH: usize = 18;

/// Where the user is, and the keys that act there, most used first.
fn here(app: &App) -> (&'static str, &'static [Action]) {
    use Action as A;
    match (app.screen.focus, app.screen.view) {
        (Focus::Member(_), _) => (
            "the selected consumer",
            &[
                A::Detail,
                A::Copy,
                A::RemoveConsumer,
                A::CrashConsumer,
                A::HoldConsumer,
                A::WorkConsumer,
                A::IsolateConsumer,
                A::Up,
                A::Down,
            ],
        ),
        (Focus::Producer, _) => (
            "the producer",
            &[
                A::ToggleProducer,
                A::Settings,
                A::Filter,
                A::Pause,
                A::ChartsShorter,
                A::ChartsLonger,
                A::Up,
                A::Down,
            ],
        ),
        (Focus::View, View::Runs | View::ConsumerRuns) => (
            "the runs",
            &[
                A::Up,
                A::Down,
                A::Mark,
                A::SortNext,
                A::SortPrev,
                A::Copy,
                A::ChartsShorter,
                A::ChartsLonger,
                A::Export,
                A::Zoom,
                A::Close,
            ],
        ),
        (Focus::View, View::Partitions) => (
            "the partition view",
            &[
                A::GroupBy,
                A::BrokerOutage,
                A::Topics,
                A::Up,
                A::Down,
                A::Close,
            ],
        ),
        (Focus::View, View::Timeline) => (
            "the rebalance timeline",
            &[A::AddConsumer, A::Rewind, A::Up, A::Down, A::Close],
        ),
        (Focus::View, View::Consumers) => {
            ("the consumers", &[A::AddConsumer, A::NextPane, A::Detail])
        }
    }
}

/// The lines of the help: the keys for where the user is, then each main key, then one line
/// per overlay with its keys.
fn lines(app: &App) -> Vec<Line<'static>> {
    let (place, actions) = here(app);
    let mut lines = vec![
        Line::styled("kafka-lab: watch producers and consumers", theme::bold()),
        Line::raw(""),
        Line::styled(format!("Here, on {place}:"), theme::accent()),
    ];
    for action in actions {
        if let Some(b) = bindings(Mode::Main).find(|b| b.action == *action) {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<KEY_WIDTH$}", b.label), theme::bold()),
                Span::raw(format!(" {}", b.help)),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Every key:", theme::accent()));
    for b in bindings(Mode::Main) {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<KEY_WIDTH$}", b.label), theme::bold()),
            Span::raw(format!(" {}", b.help)),
        ]));
    }
    lines.push(Line::raw(""));
    for mode in [Mode::Settings, Mode::Topics, Mode::Detail, Mode::Help] {
        let keys: Vec<String> = bindings(mode)
            .filter(|b| b.mode == Some(mode))
            .map(|b| format!("{} {}", b.label, b.help))
            .collect();
        lines.push(Line::from(vec![
            Span::styled(
                mode.qualifier().trim().trim_matches(['(', ')']).to_string(),
                theme::bold(),
            ),
            Span::raw(format!(": {}", keys.join(" · "))),
        ]));
    }
    lines
}

const WIDTH: u16 = 96;

/// The help over `area`, from line `scroll` when it does not fit (the last line stays at the
/// bottom).
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let scroll = app.screen.scroll.help;
    let lines = lines(app);
    // Rows the lines take once wrapped to the popup's inner width.
    let inner_width = WIDTH.min(area.width).saturating_sub(2).max(1) as usize;
    let rows: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(inner_width).max(1))
        .sum();
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(rows as u16 + 2),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, popup, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(WIDTH),
        Constraint::Fill(1),
    ])
    .areas(middle);
    frame.render_widget(Clear, popup);
    let shown = usize::from(popup.height.saturating_sub(2));
    let scroll = scroll.min(rows.saturating_sub(shown));
    let title = if rows > shown {
        format!(
            " Keys: lines {}-{} of {rows} ({}{} {} {} scroll · {} closes) ",
            scroll + 1,
            scroll + shown,
            key(Mode::Help, Action::Up),
            key(Mode::Help, Action::Down),
            key(Mode::Help, Action::PageUp),
            key(Mode::Help, Action::PageDown),
            key(Mode::Help, Action::Close)
        )
    } else {
        format!(" Keys ({} closes) ", key(Mode::Help, Action::Close))
    };
    let block = pane(popup, title, true);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .scroll((scroll as u16, 0)),
        inner,
    );
}
