//! Colours and styles by meaning; no other file names a colour. With colour off (`NO_COLOR`),
//! meaning is kept by bold and reverse video where it matters.

use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::style::{Color, Modifier, Style};

static COLOR: AtomicBool = AtomicBool::new(true);

/// Turns colours on or off for everything drawn from now on.
pub fn set_color(on: bool) {
    COLOR.store(on, Ordering::Relaxed);
}

fn fg(color: Color) -> Style {
    if COLOR.load(Ordering::Relaxed) {
        Style::new().fg(color)
    } else {
        Style::new()
    }
}

/// Healthy: running, assigned, connected.
pub fn ok() -> Style {
    fg(Color::Green)
}

/// Needs attention but not wrong: joining, idle, retries, restarting.
pub fn warn() -> Style {
    fg(Color::Yellow)
}

/// Wrong: errors, failed or missing records.
pub fn error() -> Style {
    fg(Color::Red).add_modifier(if COLOR.load(Ordering::Relaxed) {
        Modifier::empty()
    } else {
        Modifier::BOLD
    })
}

/// Secondary text: headers, units, hints.
pub fn muted() -> Style {
    fg(Color::DarkGray)
}

/// News and marks: messages, run boundaries, the sink.
pub fn accent() -> Style {
    fg(Color::Cyan)
}

pub fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// The selected row or value.
pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// A value being edited, with a cursor in it.
pub fn editing() -> Style {
    Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
}

/// The best value of a column.
pub fn best() -> Style {
    ok().add_modifier(Modifier::BOLD)
}

/// Throughput series and bars.
pub fn rate() -> Style {
    fg(Color::Green)
}

/// Latency series.
pub fn latency() -> Style {
    fg(Color::Magenta)
}

/// Bars of counted records.
pub fn bars() -> Style {
    fg(Color::Cyan)
}

/// The border of the pane that has the keyboard, and of the others.
pub fn focused_border() -> Style {
    fg(Color::Cyan)
}

pub fn border() -> Style {
    fg(Color::DarkGray)
}

const RUN_COLORS: [Color; 6] = [
    Color::Green,
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Blue,
    Color::LightRed,
];

/// Each run's series in charts across runs.
pub fn run(run: u32) -> Style {
    fg(RUN_COLORS[run as usize % RUN_COLORS.len()])
}
