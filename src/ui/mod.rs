//! Rendering only: every function here reads `App` and draws; none changes it.
//!
//! ```text
//! ┌ Producer ● running · run 2 ──────────────────────┐┌ Settings ─────────────┐
//! │ figures, settings in force, charts, send log     ││ acks, batch.size, ... │
//! └──────────────────────────────────────────────────┘└───────────────────────┘
//! ┌ consumer-1 ──────────┐┌ consumer-2 ──────────┐┌ consumer-3 ──────────┐
//! │ state, partitions,   ││ position, high, lag, ││ latest records       │
//! └──────────────────────┘└──────────────────────┘└──────────────────────┘
//!   (or, after `r`: the runs table and charts of throughput and p99 across runs;
//!    after `v`: the partition view and the stream table; after `g`: the rebalance timeline)
//!  status: cluster · topic · group · connection · keys
//! ```
//! The top row takes `TOP_PERCENT` of the height; consumer panes tile the rest and fold into one
//! line each when they no longer fit. Below `MIN_WIDTH` x `MIN_HEIGHT` a notice asks for a
//! larger window.

mod admin;
mod detail;
mod help;
mod members;
mod partitions;
mod producer;
mod runs;
mod settings;
mod status;
pub mod theme;
mod timeline;

use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};
use ratatui::Frame;

use crate::dashboard::state::{App, Focus, Modal, View};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
const TOP_PERCENT: u16 = 55;
const SETTINGS_WIDTH: u16 = 42;

pub fn render(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let [top, bottom, status_bar] = Layout::vertical([
        Constraint::Percentage(TOP_PERCENT),
        Constraint::Min(4),
        Constraint::Length(2),
    ])
    .areas(area);
    let [producer_area, settings_area] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(SETTINGS_WIDTH)]).areas(top);
    producer::render(frame, producer_area, app);
    settings::render(frame, settings_area, app);
    match app.view {
        View::Consumers => members::render(frame, bottom, app),
        View::Partitions => partitions::render(frame, bottom, app),
        View::Timeline => timeline::render(frame, bottom, app),
        View::Runs => runs::render(frame, bottom, app),
    }
    status::render(frame, status_bar, app);
    match &app.modal {
        Modal::Detail(d) => detail::render(frame, bottom, d),
        Modal::Topics(form) => admin::render(frame, area, app, form),
        Modal::Help => help::render(frame, area),
        Modal::None | Modal::Settings => {}
    }
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = format!(
        "kafka-lab needs a window of at least {MIN_WIDTH} x {MIN_HEIGHT}; this one is {} x {}.\nMake the window larger (q quits).",
        area.width, area.height
    );
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// A pane's frame: highlighted when it has the keyboard.
fn pane<'a>(title: impl Into<ratatui::text::Line<'a>>, focused: bool) -> Block<'a> {
    let block = Block::bordered().title(title);
    if focused {
        block
            .border_type(BorderType::Thick)
            .border_style(theme::focused_border())
    } else {
        block.border_style(theme::border())
    }
}

/// The pane has the keyboard: it is selected and no overlay is open.
fn is_focused(app: &App, focus: Focus) -> bool {
    app.focus == focus && matches!(app.modal, Modal::None)
}
