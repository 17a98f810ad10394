//! Where each pane goes on a screen of a given size: drawing uses it, and so does a mouse
//! click to find what it landed on.
//!
//! ```text
//! wide (120 columns or more)                 narrow (80 to 119 columns)
//! ┌ Producer ─────────────┐┌ Settings ┐      ┌ Producer ─────────────────┐
//! │ figures, charts, log  ││ 42 cols  │      │ figures, charts, log      │  (s: settings
//! └───────────────────────┘└──────────┘      └───────────────────────────┘   as an overlay)
//! ┌ lower half: consumer panes, or a view ┐   ┌ lower half ───────────────┐
//! └───────────────────────────────────────┘   └───────────────────────────┘
//!  status: two lines                           status
//! ```
//! With `z` the lower half takes everything above the status lines.

use ratatui::layout::{Constraint, Layout, Rect};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// From this width the settings panel stays beside the producer.
pub const WIDE: u16 = 120;
const TOP_PERCENT: u16 = 55;
pub const SETTINGS_WIDTH: u16 = 42;
/// Narrowest and lowest a full consumer pane may be.
pub const PANE_MIN_WIDTH: u16 = 36;
pub const PANE_MIN_HEIGHT: u16 = 7;

/// The areas of the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    /// Empty when the lower half is zoomed.
    pub producer: Rect,
    /// Beside the producer on wide screens; None on narrow ones (an overlay there).
    pub settings: Option<Rect>,
    pub lower: Rect,
    pub status: Rect,
    /// A scenario's steps, one line above the status (empty without a scenario).
    pub strip: Rect,
}

/// The screen's areas, or None when the window is too small.
pub fn screen(area: Rect, zoomed: bool) -> Option<Screen> {
    screen_for(area, zoomed, false)
}

/// The screen's areas with a scenario strip (`strip`) or without.
pub fn screen_for(area: Rect, zoomed: bool, strip: bool) -> Option<Screen> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [main, strip, status] = Layout::vertical([
        Constraint::Min(4),
        Constraint::Length(u16::from(strip)),
        Constraint::Length(2),
    ])
    .areas(area);
    if zoomed {
        return Some(Screen {
            producer: Rect::default(),
            settings: None,
            lower: main,
            status,
            strip,
        });
    }
    let [top, lower] =
        Layout::vertical([Constraint::Percentage(TOP_PERCENT), Constraint::Min(4)]).areas(main);
    let (producer, settings) = if area.width >= WIDE {
        let [p, s] = Layout::horizontal([Constraint::Min(40), Constraint::Length(SETTINGS_WIDTH)])
            .areas(top);
        (p, Some(s))
    } else {
        (top, None)
    };
    Some(Screen {
        producer,
        settings,
        lower,
        status,
        strip,
    })
}

/// The settings as an overlay (narrow screens), centred on `area`.
pub fn settings_overlay(area: Rect) -> Rect {
    let width = (SETTINGS_WIDTH + 4).min(area.width);
    let height = 22.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// How the consumer panes share the lower half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Panes {
    /// A full pane each, row by row.
    Tiles(Vec<Rect>),
    /// Too many for panes: one line each inside one frame.
    Folded(Rect),
}

/// A processor pane's height: six lines and its borders.
pub const PROCESSOR_HEIGHT: u16 = 8;
/// Below this width the two processors share one pane, two lines each.
pub const PROCESSORS_SIDE_BY_SIDE: u16 = 120;

/// The consumers' view split: the members' area, and under it the processors' (when on; the
/// members keep at least 3 lines).
pub fn with_processors(area: Rect, on: bool) -> (Rect, Option<Rect>) {
    if !on {
        return (area, None);
    }
    let wanted = if area.width >= PROCESSORS_SIDE_BY_SIDE {
        PROCESSOR_HEIGHT
    } else {
        6
    };
    let height = wanted.min(area.height.saturating_sub(3));
    let members = Rect {
        height: area.height - height,
        ..area
    };
    let processors = Rect {
        y: area.y + members.height,
        height,
        ..area
    };
    (members, Some(processors))
}

/// Workers listed at most in the workers' box; more are counted on its last line.
pub const WORKER_LINES: usize = 6;

/// The consumers' view split for the workers heard on the control topic: the rest, and under
/// it a box of one line per worker (none when there are none; the rest keeps 3 lines).
pub fn with_workers(area: Rect, n: usize) -> (Rect, Option<Rect>) {
    let height = (n.min(WORKER_LINES) as u16 + 2).min(area.height.saturating_sub(3));
    if n == 0 || height < 3 {
        return (area, None);
    }
    let rest = Rect {
        height: area.height - height,
        ..area
    };
    let workers = Rect {
        y: area.y + rest.height,
        height,
        ..area
    };
    (rest, Some(workers))
}

pub fn member_panes(area: Rect, n: usize) -> Panes {
    if n == 0 {
        return Panes::Tiles(Vec::new());
    }
    let cols = (area.width / PANE_MIN_WIDTH).clamp(1, n as u16) as usize;
    let rows = n.div_ceil(cols);
    if area.height / (rows as u16) < PANE_MIN_HEIGHT {
        return Panes::Folded(area);
    }
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    let mut tiles = Vec::with_capacity(n);
    for row in row_areas.iter() {
        let cells = Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(*row);
        tiles.extend(cells.iter().copied());
    }
    tiles.truncate(n);
    Panes::Tiles(tiles)
}

/// Whether a point lies in a rectangle.
pub fn contains(r: Rect, x: u16, y: u16) -> bool {
    x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_stay_beside_the_producer_only_on_wide_screens() {
        let wide = screen(Rect::new(0, 0, 200, 50), false).unwrap();
        assert_eq!(wide.settings.unwrap().width, SETTINGS_WIDTH);
        let narrow = screen(Rect::new(0, 0, 100, 30), false).unwrap();
        assert!(narrow.settings.is_none());
        assert_eq!(narrow.producer.width, 100);
        let zoomed = screen(Rect::new(0, 0, 100, 30), true).unwrap();
        assert_eq!(zoomed.lower.height, 28);
        assert!(screen(Rect::new(0, 0, 79, 30), false).is_none());
    }

    #[test]
    fn panes_tile_then_fold() {
        let area = Rect::new(0, 0, 120, 20);
        let Panes::Tiles(t) = member_panes(area, 3) else {
            panic!("three fit")
        };
        assert_eq!(t.len(), 3);
        assert!(matches!(member_panes(area, 12), Panes::Folded(_)));
    }
}
