//! One pane per consumer-group member, tiled; one line each when they do not fit.

use std::time::Duration;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

use super::{fit, fit_all, is_focused, pane, theme};
use crate::lab::settings::Isolation;
use crate::lab::snapshots::{MemberSnapshot, MemberState, PartitionLag, RecentRecord};
use crate::lab::state::forms::work_text;
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::layout::{member_panes, with_processors, with_workers, Panes};
use crate::lab::state::views::{lag_trend, MemberView};
use crate::lab::state::{App, Focus};
use crate::text::{printable, shorten, thousands, time_of_day};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let (area, workers) = with_workers(area, app.model.workers.len());
    if let Some(workers) = workers {
        super::workers::render(frame, workers, app);
    }
    let (area, processors) = with_processors(area, app.model.processors.on);
    if let Some(processors) = processors {
        super::processors::render(frame, processors, app);
    }
    match member_panes(area, app.model.members.len()) {
        Panes::Tiles(tiles) if tiles.is_empty() => {
            let block = pane(area, " Consumers ", false);
            let inner = block.inner(area);
            frame.render_widget(block, area);
            frame.render_widget(
                Paragraph::new(format!(
                    "no consumer in the group: {} adds one",
                    key(Mode::Main, A::AddConsumer)
                ))
                .style(theme::muted()),
                inner,
            );
        }
        Panes::Tiles(tiles) => {
            for (i, (m, cell)) in app.model.members.iter().zip(tiles).enumerate() {
                render_pane(frame, cell, app, m, is_focused(app, Focus::Member(i)));
            }
        }
        Panes::Folded(area) => render_folded(frame, area, app),
    }
}

/// The member's state in a word, why (when there is a reason to give), and its style.
fn state_text(app: &App, m: &MemberView) -> (&'static str, Option<String>, Style) {
    match &m.snapshot.state {
        MemberState::Joining => ("joining", None, theme::warn()),
        MemberState::Assigned => ("assigned", None, theme::ok()),
        MemberState::Idle => ("idle", Some(idle_reason(app)), theme::warn()),
        MemberState::Held => (
            "held",
            Some(format!(
                "reads nothing, stays in the group; {} resumes",
                key(Mode::Main, A::HoldConsumer)
            )),
            theme::warn(),
        ),
        MemberState::Rebalancing => ("rebalancing", None, theme::warn()),
        MemberState::Error(e) => ("error", Some(e.clone()), theme::error()),
        MemberState::Leaving => ("leaving", None, theme::warn()),
        MemberState::Crashed(at) => (
            "crashed",
            Some(format!(
                "at {} UTC: no leave, no commit; {} restarts it",
                time_of_day(*at),
                key(Mode::Main, A::CrashConsumer)
            )),
            theme::error(),
        ),
    }
}

/// Why a member holds no partition: more members than partitions, or the group has not
/// handed it any yet.
fn idle_reason(app: &App) -> String {
    let members = app.active_members();
    let partitions = app.model.cluster.partitions;
    if members > partitions {
        format!("{members} members for {partitions} partitions")
    } else {
        "waiting for the group to assign partitions".to_string()
    }
}

/// Whether a record's key or value holds the filter's text.
pub fn matches(r: &RecentRecord, filter: Option<&str>) -> bool {
    let Some(f) = filter else { return true };
    let holds = |b: &Option<Vec<u8>>| {
        b.as_deref()
            .is_some_and(|b| memchr::memmem::find(b, f.as_bytes()).is_some())
    };
    holds(&r.key) || holds(&r.value)
}

fn render_pane(frame: &mut Frame, area: Rect, app: &App, m: &MemberView, focused: bool) {
    let s = &m.snapshot;
    let (word, why, style) = state_text(app, m);
    let mut state = match why {
        Some(why) => format!("{word}: {why}"),
        None => word.to_string(),
    };
    if let Some(at) = s.last_rebalance {
        state = format!("{state} · rebalanced {} UTC", time_of_day(at));
    }
    let title = Line::from(vec![
        Span::styled(format!(" {} ", s.name), theme::bold()),
        Span::styled(format!("{} ", s.client_id), theme::muted()),
    ]);
    let block = pane(area, title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = vec![
        Line::styled(state, style),
        Line::from(format!(
            "{:.1} rec/s  received {}  commit {} · work {}{}",
            s.per_sec,
            thousands(s.received),
            s.commit,
            work_text(s.work),
            if s.isolation == Isolation::ReadUncommitted || transactions(app) {
                format!(" · {}", s.isolation)
            } else {
                String::new()
            }
        )),
    ];
    lines.extend(ledger_line(s));
    lines.extend(aborted_line(app, s));
    let lag_row = m.lag().map(|_| lines.len());
    if let Some(lag) = m.lag() {
        lines.push(lag_line(
            lag,
            lag_trend(&m.lag_history),
            m.time_lag(m.snapshot.at.max(app.model.now)),
        ));
    }
    let chart_row = (s.received > 0).then(|| {
        // Nothing read in the last seconds (held, or nothing produced): no latency to show.
        lines.push(Line::from(if s.e2e_known() {
            format!(
                "end-to-end p50 {:.1} ms  p99 {:.1} ms",
                s.e2e.p50, s.e2e.p99
            )
        } else {
            "end-to-end p50 -  p99 - (nothing read in the last 5 s)".to_string()
        }));
        lines.len() - 1
    });
    if let Some((e, _)) = &m.error {
        lines.push(Line::styled(
            shorten(&format!("error: {e}"), width),
            theme::error(),
        ));
    }
    partition_rows(&mut lines, s, inner.height as usize);
    let room = (inner.height as usize).saturating_sub(lines.len());
    latest_records(&mut lines, app, s, room);
    frame.render_widget(Paragraph::new(fit_all(lines, width)), inner);
    // The lag over the last two minutes, after its figures, on the same row.
    if let Some(row) = lag_row {
        let points: Vec<u64> = m.lag_history.iter().map(|(_, l)| *l).collect();
        sparkline_after(frame, inner, row, &points, theme::warn());
    }
    // A sparkline of end-to-end p99 after the figures, on the same row.
    if let Some(row) = chart_row {
        let points: Vec<u64> = m.e2e_history.iter().map(|v| (v * 1000.0) as u64).collect();
        sparkline_after(frame, inner, row, &points, theme::latency());
    }
}

/// The member's partitions: position, high watermark and lag (and the last stable offset with
/// the lag to it, while it is asked), in the rows `height` leaves.
fn partition_rows(lines: &mut Vec<Line<'_>>, s: &MemberSnapshot, height: usize) {
    // A read_committed member while transactions run: its partitions' last stable offsets too,
    // and the lag to each end.
    let stable = s.partitions.iter().any(|p| p.stable.is_some());
    if !s.partitions.is_empty() {
        lines.push(Line::styled(
            if stable {
                format!(
                    "{:>4} {:>9} {:>9} {:>9} {:>7} {:>7}",
                    "part", "position", "stable", "high", "lag st", "lag hi"
                )
            } else {
                format!("{:>4} {:>9} {:>9} {:>7}", "part", "position", "high", "lag")
            },
            theme::muted(),
        ));
        let count = |v: Option<i64>| {
            v.map_or_else(
                || "-".to_string(),
                |v| thousands(u64::try_from(v).unwrap_or(0)),
            )
        };
        // Rows left for partitions; when they do not all fit, the last says how many more.
        let room = height.saturating_sub(lines.len());
        let fits = if s.partitions.len() > room {
            room.saturating_sub(1)
        } else {
            s.partitions.len()
        };
        for p in &s.partitions[..fits] {
            lines.push(Line::from(if stable {
                format!(
                    "{:>4} {:>9} {:>9} {:>9} {:>7} {:>7}",
                    p.partition,
                    count(p.position),
                    count(p.stable),
                    count(p.high_watermark),
                    count(p.lag_to_stable()),
                    count(p.lag()),
                )
            } else {
                format!(
                    "{:>4} {:>9} {:>9} {:>7}",
                    p.partition,
                    count(p.position),
                    count(p.high_watermark),
                    count(p.lag()),
                )
            }));
        }
        if fits < s.partitions.len() {
            lines.push(Line::styled(
                format!("   ↓ {} more partitions", s.partitions.len() - fits),
                theme::muted(),
            ));
        }
    }
}

/// `reprocessed 120 · skipped 0 · kicked 1× (max.poll.interval.ms)`: what the group's ledger
/// counts against the member, when it counts anything.
fn ledger_line(s: &MemberSnapshot) -> Option<Line<'static>> {
    let c = s.ledger.get(&s.id).copied().unwrap_or_default();
    if c.reprocessed == 0 && c.skipped == 0 && s.kicked == 0 && c.reread == 0 {
        return None;
    }
    let mut spans = vec![
        Span::styled(
            format!("reprocessed {}", thousands(c.reprocessed)),
            if c.reprocessed > 0 {
                theme::warn()
            } else {
                Style::default()
            },
        ),
        Span::styled(
            format!(" · skipped {}", thousands(c.skipped)),
            if c.skipped > 0 {
                theme::error()
            } else {
                Style::default()
            },
        ),
    ];
    if c.reread > 0 {
        spans.push(Span::styled(
            format!(" · re-read {} (rewind)", thousands(c.reread)),
            theme::accent(),
        ));
    }
    if s.kicked > 0 {
        spans.push(Span::styled(
            format!(" · kicked {}× (max.poll.interval.ms)", s.kicked),
            theme::error(),
        ));
    }
    Some(Line::from(spans))
}

/// The lab's producer runs transactions.
fn transactions(app: &App) -> bool {
    app.model.applied.txn_plan().is_some()
}

/// `aborted transactions: 1,200 records handed to it`: what a member read of transactions the
/// producer aborted, while there are any. A `read_committed` member reads none on Apache Kafka.
fn aborted_line(app: &App, s: &MemberSnapshot) -> Option<Line<'static>> {
    if s.aborted_seen == 0 && !(transactions(app) && app.model.applied.abort_every > 0) {
        return None;
    }
    let n = thousands(s.aborted_seen);
    Some(match s.isolation {
        Isolation::ReadUncommitted => Line::styled(
            format!("aborted transactions: {n} records handed to it (read_uncommitted)"),
            if s.aborted_seen > 0 {
                theme::warn()
            } else {
                Style::default()
            },
        ),
        Isolation::ReadCommitted if s.aborted_seen == 0 => {
            Line::from("aborted transactions: none handed to it (read_committed)")
        }
        Isolation::ReadCommitted => Line::styled(
            format!(
                "aborted transactions: {n} records handed to it although read_committed{}",
                if app.model.cluster.embedded {
                    " (the embedded cluster's mock broker does not hide them)"
                } else {
                    ""
                }
            ),
            theme::error(),
        ),
    })
}

/// The latest of `points` that fit, as a sparkline from column 40 of `row`.
fn sparkline_after(frame: &mut Frame, inner: Rect, row: usize, points: &[u64], style: Style) {
    let text_width = 40u16;
    if inner.width > text_width + 8 && (row as u16) < inner.height {
        let area = Rect {
            x: inner.x + text_width,
            y: inner.y + row as u16,
            width: inner.width - text_width,
            height: 1,
        };
        let take = area.width as usize;
        let shown = &points[points.len().saturating_sub(take)..];
        frame.render_widget(Sparkline::default().data(shown).style(style), area);
    }
}

/// `lag 1,234 · +120/s · 3.2 s behind`: the lag, its trend over the last seconds and how far
/// behind in time the member reads (the age of the newest record it read).
pub fn lag_line(lag: u64, trend: Option<f64>, behind: Option<Duration>) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!("lag {}", thousands(lag)),
        if lag > 0 {
            theme::warn()
        } else {
            Style::default()
        },
    )];
    if let Some(t) = trend.filter(|t| t.abs() >= 0.5) {
        spans.push(Span::raw(format!(
            " · {} {:.0}/s",
            if t > 0.0 { "growing" } else { "shrinking" },
            t.abs()
        )));
    }
    if let Some(b) = behind.filter(|_| lag > 0) {
        spans.push(Span::raw(if b < Duration::from_millis(100) {
            " · <0.1 s behind".to_string()
        } else {
            format!(" · {:.1} s behind", b.as_secs_f64())
        }));
    }
    Line::from(spans)
}

/// The member's latest records in `room` lines: filtered, scrolled.
fn latest_records(lines: &mut Vec<Line<'_>>, app: &App, s: &MemberSnapshot, room: usize) {
    let filter = app.screen.filter.as_deref();
    let shown: Vec<&RecentRecord> = s.latest.iter().filter(|r| matches(r, filter)).collect();
    if room > 1 && !shown.is_empty() {
        let up = app
            .screen
            .scroll
            .records
            .get(&s.id)
            .copied()
            .unwrap_or(0)
            .min(shown.len().saturating_sub(1));
        let heading = match (filter, up) {
            (Some(f), _) => format!("latest records holding \"{f}\""),
            (None, 0) => "latest records".to_string(),
            (None, up) => format!(
                "latest records, {up} newer above · {}: newest",
                key(Mode::Main, A::Bottom)
            ),
        };
        lines.push(Line::styled(heading, theme::muted()));
        for r in shown.iter().rev().skip(up).take(room - 1) {
            let key = shorten(&r.key.as_deref().map_or("-".to_string(), printable), 14);
            let value = r.value.as_deref().map_or("-".to_string(), printable);
            lines.push(if r.aborted {
                Line::styled(
                    format!("p{}@{} aborted {} {}", r.partition, r.offset, key, value),
                    theme::warn(),
                )
            } else {
                Line::from(format!("p{}@{} {} {}", r.partition, r.offset, key, value))
            });
        }
    } else if room > 1 && filter.is_some() && !s.latest.is_empty() {
        lines.push(Line::styled(
            "no recent record holds the filter's text",
            theme::muted(),
        ));
    }
}

/// One line per member, scrolled so that the selected one shows.
fn render_folded(frame: &mut Frame, area: Rect, app: &App) {
    let block = pane(
        area,
        format!(
            " Consumers ({}) · one line each: the window is too small for panes ",
            app.model.members.len()
        ),
        matches!(app.screen.focus, Focus::Member(_)),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = inner.height as usize;
    let selected = match app.screen.focus {
        Focus::Member(i) => i,
        Focus::Producer | Focus::View => 0,
    };
    let first = selected.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = app
        .model
        .members
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, m)| {
            let (word, why, style) = state_text(app, m);
            let parts: Vec<String> = m
                .snapshot
                .partitions
                .iter()
                .map(|p| p.partition.to_string())
                .collect();
            let lag: i64 = m
                .snapshot
                .partitions
                .iter()
                .filter_map(PartitionLag::lag)
                .sum();
            let detail = why.map_or(String::new(), |why| format!("  ({why})"));
            let marker = if is_focused(app, Focus::Member(i)) {
                "▸"
            } else {
                " "
            };
            Line::from(vec![
                Span::raw(format!("{marker} {:<12} ", m.snapshot.name)),
                Span::styled(format!("{word:<12} "), style),
                Span::raw(format!(
                    "partitions [{}]  {:.1} rec/s  lag {lag}{detail}",
                    parts.join(","),
                    m.snapshot.per_sec
                )),
            ])
        })
        .map(|l| fit(l, inner.width as usize))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
