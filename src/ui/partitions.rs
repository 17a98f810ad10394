//! The partition view: for each partition its leader, the records produced to it this session
//! (a bar: how the key and partitioner spread them), its high watermark, the member that owns
//! it and that member's lag; beside it, the stream table of consumed breweries.

use std::fmt::Write as _;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit_all, is_focused, pane, theme, window};
use crate::lab::snapshots::PartitionInfo;
use crate::lab::snapshots::PartitionLag;
use crate::lab::snapshots::{KeyHash, MemberState};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::partition_view::PartitionSort;
use crate::lab::state::views::lag_trend;
use crate::lab::state::{App, Focus};
use crate::text::{shorten, thousands};

/// The stream table's widest; narrow screens give it a third.
const STREAM_WIDTH: u16 = 44;
/// Below this inner width the partition list drops its leader column and its bar.
const FULL_WIDTH: usize = 70;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let stream = STREAM_WIDTH.min(area.width / 3);
    let [left, right] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(stream)]).areas(area);
    render_partitions(frame, left, app);
    render_stream(frame, right, app);
}

fn bar(value: u64, max: u64, width: usize) -> String {
    let cells = if max == 0 {
        0
    } else {
        ((value as f64 / max as f64) * width as f64).round() as usize
    };
    let mut s = "█".repeat(cells.min(width));
    s.push_str(&" ".repeat(width - cells.min(width)));
    s
}

fn render_partitions(frame: &mut Frame, area: Rect, app: &App) {
    let title = format!(
        " Partitions of {} · {} consumers · {} groups by field ",
        app.model.cluster.topic,
        key(Mode::Main, A::Partitions),
        key(Mode::Main, A::GroupBy)
    );
    let block = pane(area, title, is_focused(app, Focus::View));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(topic) = &app.model.topic else {
        frame.render_widget(
            Paragraph::new("waiting for the topic's metadata ...").style(theme::muted()),
            inner,
        );
        return;
    };
    let full = inner.width as usize >= FULL_WIDTH;
    let isr_width = isr_width(app, &topic.partitions);
    let bar_width = if full {
        (inner.width as usize)
            .saturating_sub(60 + isr_width + 1)
            .clamp(5, 40)
    } else {
        0
    };
    let produced: Vec<u64> = topic
        .partitions
        .iter()
        .map(|p| app.produced(p.partition))
        .collect();
    let max = produced.iter().copied().max().unwrap_or(0);
    let total: u64 = produced.iter().sum();
    let extras = after_rows(app, &topic.partitions);
    // The summary when the rows do not all fit or are sorted: what stands out, and the order.
    let crowded = 1 + topic.partitions.len() + extras.len() > inner.height as usize
        || app.screen.partition_sort != PartitionSort::Number;
    let mut lines: Vec<Line> = crowded.then(|| summary_line(app)).into_iter().collect();
    lines.push(Line::styled(
        header(full, isr_width, bar_width),
        theme::muted(),
    ));
    let fixed = lines.len();
    let owners = app.owners();
    // Only the rows the window shows are made (`window` below keeps the same ones): a
    // thousand partitions cost what a screenful does.
    let shown = shown_rows(
        fixed + topic.partitions.len() + extras.len(),
        fixed,
        inner.height as usize,
        app.screen.scroll.view,
    );
    for (i, at) in app.partition_order().into_iter().enumerate() {
        if !shown.contains(&i) {
            lines.push(Line::default());
            continue;
        }
        let (p, n) = (&topic.partitions[at], &produced[at]);
        let (owner, assigned) = owners
            .get(&p.partition)
            .map_or((None, None), |(m, l)| (Some(*m), Some(*l)));
        let lag = assigned.and_then(PartitionLag::lag);
        // The owner's latest fetch is fresher than the watcher's look every two seconds.
        let high = assigned
            .and_then(|l| l.high_watermark)
            .unwrap_or(p.high_watermark);
        let share = if total > 0 {
            format!("{:.0}%", *n as f64 * 100.0 / total as f64)
        } else {
            String::new()
        };
        let mut spans = vec![Span::raw(format!("{:>4} ", p.partition))];
        if full {
            spans.extend(placement(p, isr_width, &app.model.nodes_down));
            spans.push(Span::styled(bar(*n, max, bar_width), theme::rate()));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::raw(format!(
            "{:>9} {share:>4} {:>9}  ",
            thousands(*n),
            thousands(u64::try_from(high).unwrap_or(0))
        )));
        spans.push(owner_span(owner));
        spans.push(Span::raw(format!(
            " {:>7}",
            lag.map_or("-".to_string(), |l| thousands(
                u64::try_from(l).unwrap_or(0)
            ))
        )));
        lines.push(Line::from(spans));
    }
    lines.extend(extras);
    // Below the list, when there is room: where the keys produced would go under each key
    // hash (the one in force is marked).
    let compare = would_lines(app);
    if !compare.is_empty() && lines.len() + compare.len() < inner.height as usize {
        lines.push(Line::raw(""));
        lines.extend(compare);
    }
    let lines = window(lines, fixed, inner.height as usize, app.screen.scroll.view);
    frame.render_widget(Paragraph::new(fit_all(lines, inner.width as usize)), inner);
}

/// The in-sync replicas' column, as the brokers' ids: narrower than the replicas when a
/// follower fell behind or died (only on a replicated cluster does this column change).
fn isr_width(app: &App, partitions: &[PartitionInfo]) -> usize {
    partitions
        .iter()
        .map(|p| isr_text(p, &app.model.nodes_down).chars().count())
        .max()
        .unwrap_or(0)
        .max(3)
}

/// The lines after the partitions' rows: nodes down, crashes the group has not noticed, the
/// group's lag.
fn after_rows(app: &App, partitions: &[PartitionInfo]) -> Vec<Line<'static>> {
    let mut lines = down_lines(app, partitions);
    lines.extend(
        app.unnoticed_crashes()
            .into_iter()
            .map(|l| Line::styled(format!("✗ {l}"), theme::error())),
    );
    lines.extend(group_lag(app));
    lines
}

/// Who reads the partition.
fn owner_span(owner: Option<&crate::lab::state::views::MemberView>) -> Span<'static> {
    match owner {
        // Crashed and not yet noticed: the partition is its, and nobody reads it.
        Some(m) if matches!(m.snapshot.state, MemberState::Crashed(_)) => Span::styled(
            format!("{:<12}", format!("{}✗", m.snapshot.name)),
            theme::error(),
        ),
        Some(m) => Span::raw(format!("{:<12}", m.snapshot.name)),
        None => Span::styled(format!("{:<12}", "no owner"), theme::warn()),
    }
}

/// The body rows (after the `fixed` lines) that [`window`] keeps of `total` lines in
/// `height` rows scrolled `down`.
fn shown_rows(total: usize, fixed: usize, height: usize, down: usize) -> std::ops::Range<usize> {
    if total <= height {
        return 0..total;
    }
    let body = total - fixed;
    let rows = height.saturating_sub(fixed + 1);
    let down = down.min(body.saturating_sub(rows));
    down..down + rows
}

/// What stands out among the partitions, and the order the rows are in.
fn summary_line(app: &App) -> Line<'static> {
    let Some(s) = app.partition_summary() else {
        return Line::default();
    };
    let mut spans = vec![Span::raw(crate::text::count(
        s.partitions as u64,
        "partition",
        "partitions",
    ))];
    if s.unowned > 0 {
        spans.push(Span::styled(
            format!(" · {} without an owner", thousands(s.unowned as u64)),
            theme::warn(),
        ));
    }
    if s.crashed > 0 {
        spans.push(Span::styled(
            format!(
                " · {} held by a crashed member",
                thousands(s.crashed as u64)
            ),
            theme::error(),
        ));
    }
    if let Some((p, lag)) = s.max_lag.filter(|(_, l)| *l > 0) {
        spans.push(Span::raw(format!(
            " · most lag p{p} ({})",
            thousands(u64::try_from(lag).unwrap_or(0))
        )));
    }
    if let Some((p, pct)) = s.fullest.filter(|_| s.partitions > 1) {
        spans.push(Span::raw(format!(
            " · most records p{p} ({pct}% of the mean)"
        )));
    }
    spans.push(Span::styled(
        format!(
            " · by {} ({} {})",
            app.screen.partition_sort.label(),
            key(Mode::Main, A::SortPrev),
            key(Mode::Main, A::SortNext)
        ),
        theme::muted(),
    ));
    Line::from(spans)
}

/// The group's lag, its trend and how far behind in time its slowest member reads.
fn group_lag(app: &App) -> Option<Line<'static>> {
    // Nobody reading: the last figure is stale (a rebalance, or a crash not yet noticed).
    if !app.model.members.iter().any(|m| m.lag().is_some()) {
        return (!app.model.members.is_empty()).then(|| {
            Line::styled(
                "group lag - (no member reads a partition now)",
                theme::warn(),
            )
        });
    }
    let (_, lag) = app.model.group_lag.back()?;
    let behind = app
        .model
        .members
        .iter()
        .filter_map(|m| m.time_lag(m.snapshot.at.max(app.model.now)))
        .max();
    let mut line = super::members::lag_line(*lag, lag_trend(&app.model.group_lag), behind);
    line.spans.insert(0, Span::raw("group "));
    // The lag counts what members own: records of a partition nobody owns wait uncounted.
    let unowned = app.model.topic.as_ref().map_or(0, |t| {
        t.partitions
            .iter()
            .filter(|p| app.owner(p.partition).is_none())
            .count()
    });
    if unowned > 0 {
        line.spans.push(Span::styled(
            format!(
                " · {} without an owner, not counted",
                crate::text::count(unowned as u64, "partition", "partitions")
            ),
            theme::warn(),
        ));
    }
    Some(line)
}

/// The keys produced this session, as shares of each partition under each key hash.
fn would_lines(app: &App) -> Vec<Line<'static>> {
    let Some(would) = app
        .model
        .producer
        .snapshot
        .as_ref()
        .and_then(|s| s.would.as_ref())
        .filter(|w| w.total() > 0)
    else {
        return Vec::new();
    };
    let in_force = app.model.applied.partitioner.to_string();
    let mut lines = vec![Line::styled(
        if would.sampled_one_in > 1 {
            format!(
                "{} keys produced (1 in {} at full speed): the share each partition would get, by key hash",
                thousands(would.total()),
                would.sampled_one_in
            )
        } else {
            format!(
                "{} keys produced: the share each partition would get, by key hash",
                thousands(would.total())
            )
        },
        theme::muted(),
    )];
    let mut header = format!("{:<12}", "");
    for p in 0..would.partitions {
        let _ = write!(header, "{:>6}", format!("p{p}"));
    }
    lines.push(Line::styled(header, theme::muted()));
    for (hash, counts) in KeyHash::ALL.iter().zip(&would.counts) {
        let total = counts.iter().sum::<u64>().max(1);
        let mut row = format!("{:<12}", hash.name());
        for n in counts {
            let _ = write!(row, "{:>5.0}%", *n as f64 * 100.0 / total as f64);
        }
        let used = in_force.starts_with(hash.name());
        lines.push(if used {
            Line::from(vec![
                Span::styled(row, theme::selected()),
                Span::styled(format!("  ◂ {in_force}"), theme::muted()),
            ])
        } else {
            Line::raw(row)
        });
    }
    lines
}

/// The column names; the full list has the leader, the in-sync replicas and a bar.
fn header(full: bool, isr_width: usize, bar_width: usize) -> String {
    if full {
        let produced = if bar_width >= 21 {
            "produced this session"
        } else {
            "produced"
        };
        format!(
            "{:>4} {:>6} {:<isr_width$}  {produced:<bar_width$} {:>9} {:>4} {:>9}  {:<12} {:>7}",
            "part", "leader", "isr", "", "", "high", "owner", "lag"
        )
    } else {
        format!(
            "{:>4} {:>9} {:>4} {:>9}  {:<12} {:>7}",
            "part", "produced", "", "high", "owner", "lag"
        )
    }
}

/// The leader (red when there is none, or when kafka-lab stopped it: marked `✗` before the
/// cluster notices) and the in-sync replicas (yellow when fewer than the replicas, red while
/// they name a stopped node).
fn placement(p: &PartitionInfo, isr_width: usize, down: &NodesDown) -> [Span<'static>; 2] {
    let stopped = down.contains_key(&p.leader);
    let leader = match p.leader {
        l if l < 0 => "none".to_string(),
        l if stopped => format!("{l}✗"),
        l => l.to_string(),
    };
    [
        Span::styled(
            format!("{leader:>6} "),
            if p.leader >= 0 && !stopped {
                Style::default()
            } else {
                theme::error()
            },
        ),
        Span::styled(
            format!("{:<isr_width$}  ", isr_text(p, down)),
            if p.isr.iter().any(|n| down.contains_key(n)) {
                theme::error()
            } else if p.isr.len() < p.replicas.len() {
                theme::warn()
            } else {
                Style::default()
            },
        ),
    ]
}

type NodesDown = std::collections::BTreeMap<i32, (&'static str, std::time::SystemTime)>;

/// One line per node kafka-lab stopped: how, how long ago, and whether the cluster has moved
/// its partitions yet.
fn down_lines(app: &App, partitions: &[PartitionInfo]) -> Vec<Line<'static>> {
    app.model
        .nodes_down
        .iter()
        .map(|(node, (how, since))| {
            let ago = app
                .model
                .now
                .duration_since(*since)
                .unwrap_or_default()
                .as_secs();
            let led: Vec<String> = partitions
                .iter()
                .filter(|p| p.leader == *node)
                .map(|p| p.partition.to_string())
                .collect();
            let in_sync: Vec<String> = partitions
                .iter()
                .filter(|p| p.isr.contains(node))
                .map(|p| p.partition.to_string())
                .collect();
            let cluster = if !led.is_empty() {
                format!("the cluster still says leader of {}", led.join(", "))
            } else if !in_sync.is_empty() {
                format!(
                    "leads nothing; the cluster still counts it in sync for {}",
                    in_sync.join(", ")
                )
            } else {
                "leads nothing, in sync for nothing".to_string()
            };
            Line::styled(
                format!("✗ node {node} {how} {ago} s ago · {cluster}"),
                theme::error(),
            )
        })
        .collect()
}

/// The in-sync replicas, e.g. `1,2✗,3` (✗: a node kafka-lab stopped); `-` when the metadata
/// names none.
fn isr_text(p: &PartitionInfo, down: &NodesDown) -> String {
    if p.isr.is_empty() {
        return "-".to_string();
    }
    p.isr
        .iter()
        .map(|n| {
            if down.contains_key(n) {
                format!("{n}✗")
            } else {
                n.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn render_stream(frame: &mut Frame, area: Rect, app: &App) {
    let field = app.screen.group_by.field();
    let block = pane(
        area,
        format!(" Consumed, by {field} ({}) ", key(Mode::Main, A::GroupBy)),
        false,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = app.stream_table();
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new("nothing consumed yet").style(theme::muted()),
            inner,
        );
        return;
    }
    let max = rows.first().map_or(0, |r| r.1);
    // The counts first, then the labels; the bars take what is left, or give way.
    let number_width = thousands(max).len().max(3) + 1;
    let width = inner.width as usize;
    let label_width = 16.min(width.saturating_sub(number_width));
    let bar_width = width.saturating_sub(label_width + number_width + 1);
    let bar_width = if bar_width >= 3 { bar_width } else { 0 };
    let lines: Vec<Line> = rows
        .iter()
        .take(inner.height as usize)
        .map(|(k, n)| {
            Line::from(vec![
                Span::raw(format!("{:<label_width$}", shorten(k, label_width))),
                Span::styled(bar(*n, max, bar_width), theme::bars()),
                Span::raw(format!(" {:>number_width$}", thousands(*n))),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
