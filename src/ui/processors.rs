//! The processors' panes, under the members: each reads the topic in a group of its own and
//! writes a topic of its own; what its output holds is counted against the input.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{fit, pane, theme};
use crate::lab::snapshots::{Guarantee, ProcessorSnapshot, ProcessorState};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::layout::PROCESSORS_SIDE_BY_SIDE;
use crate::lab::state::App;
use crate::text::{escape, thousands, time_of_day};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let panes = &app.model.processors.panes;
    if area.width < PROCESSORS_SIDE_BY_SIDE {
        render_compact(frame, area, panes);
        return;
    }
    let cells = Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).split(area);
    for (i, g) in Guarantee::ALL.into_iter().enumerate() {
        let cell = cells[i];
        let title = format!(" processor-{} ", g.name());
        if let Some(p) = panes.iter().find(|p| p.guarantee == g) {
            render_pane(frame, cell, app, p);
        } else {
            let block = pane(cell, title, false);
            let inner = block.inner(cell);
            frame.render_widget(block, cell);
            frame.render_widget(Paragraph::new("starting ...").style(theme::muted()), inner);
        }
    }
}

/// The state in a few words, and its style.
fn state_text(p: &ProcessorSnapshot) -> (String, ratatui::style::Style) {
    match &p.state {
        ProcessorState::Starting => ("starting".to_string(), theme::warn()),
        ProcessorState::Running if p.partitions == 0 && p.crashes > 0 => (
            "joining its group (the crashed instance's partitions come back to it)".to_string(),
            theme::warn(),
        ),
        ProcessorState::Running if p.partitions == 0 => {
            ("joining its group".to_string(), theme::warn())
        }
        ProcessorState::Running => (
            format!("running · {} partitions", p.partitions),
            theme::ok(),
        ),
        ProcessorState::Crashed(at) => (
            format!(
                "crashed at {} ({} restarts)",
                time_of_day(*at),
                key(Mode::Main, A::CrashProcessors)
            ),
            theme::error(),
        ),
        ProcessorState::Stopped => ("stopped".to_string(), theme::muted()),
        ProcessorState::Failed(_) => (
            format!("failed ({} restarts)", key(Mode::Main, A::CrashProcessors)),
            theme::error(),
        ),
    }
}

fn render_pane(frame: &mut Frame, area: Rect, app: &App, p: &ProcessorSnapshot) {
    let (state, style) = state_text(p);
    let title = Line::from(vec![
        Span::raw(format!(" processor-{} ", p.guarantee.name())),
        Span::styled(format!("● {state} "), style),
    ]);
    let block = pane(area, title, false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    if let ProcessorState::Failed(reason) = &p.state {
        // Why it failed is the news: it gets the room the crash and output lines had.
        let mut lines: Vec<Line> = lines(app, p)
            .into_iter()
            .take(3)
            .map(|l| fit(l, width))
            .collect();
        lines.push(Line::styled(escape(reason).into_owned(), theme::error()));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        return;
    }
    let lines: Vec<Line> = lines(app, p).into_iter().map(|l| fit(l, width)).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Narrow screens: both processors in one pane, two lines each.
fn render_compact(frame: &mut Frame, area: Rect, panes: &[ProcessorSnapshot]) {
    let block = pane(area, " Processors ", false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let mut lines = Vec::new();
    for p in panes {
        let (state, style) = state_text(p);
        lines.push(fit(
            Line::from(vec![
                Span::styled(format!("{} ", p.guarantee.name()), theme::bold()),
                Span::styled(format!("● {state}"), style),
                Span::styled(
                    format!(
                        " · committed {} · crashes {}",
                        thousands(p.records),
                        p.crashes
                    ),
                    theme::muted(),
                ),
            ]),
            width,
        ));
        let second = match &p.state {
            ProcessorState::Failed(reason) => {
                Line::styled(escape(reason).into_owned(), theme::error())
            }
            _ => output_line(p),
        };
        lines.push(fit(second, width));
    }
    if panes.is_empty() {
        lines.push(Line::styled("starting ...", theme::muted()));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn lines<'a>(app: &App, p: &'a ProcessorSnapshot) -> Vec<Line<'a>> {
    let eo = p.guarantee == Guarantee::ExactlyOnce;
    let ms = |v: Option<f64>| {
        v.map_or("-".into(), |v| {
            if v < 1.0 {
                format!("{v:.2} ms")
            } else {
                format!("{v:.1} ms")
            }
        })
    };
    let mut out = vec![
        Line::from(vec![
            Span::raw(p.from.as_str()),
            Span::styled(" → ", theme::muted()),
            Span::raw(p.to.as_str()),
            Span::styled(
                if eo {
                    " (transactions, read_committed)"
                } else {
                    " (input committed after the output)"
                },
                theme::muted(),
            ),
        ]),
        Line::from(vec![
            Span::styled(
                if eo {
                    "group and transactional.id "
                } else {
                    "group "
                },
                theme::muted(),
            ),
            Span::raw(p.id.as_str()),
        ]),
    ];
    let mut committed = vec![
        Span::styled("committed ", theme::muted()),
        Span::raw(thousands(p.records)),
        Span::styled(
            format!(
                " · {} {} · commit p50 ",
                thousands(p.batches),
                if eo { "transactions" } else { "batches" }
            ),
            theme::muted(),
        ),
        Span::raw(ms(p.commit_p50_ms)),
        Span::styled(" p99 ", theme::muted()),
        Span::raw(ms(p.commit_p99_ms)),
    ];
    if eo && p.aborted > 0 {
        committed.push(Span::styled(
            format!(" · {} aborted", thousands(p.aborted)),
            theme::warn(),
        ));
    }
    if !eo && p.uncommitted > 0 {
        committed.push(Span::styled(
            format!(
                " · {} written, input not committed",
                thousands(p.uncommitted)
            ),
            theme::warn(),
        ));
    }
    out.push(Line::from(committed));
    out.push(Line::from(vec![
        Span::styled("crashes ", theme::muted()),
        Span::raw(p.crashes.to_string()),
        Span::styled(
            if p.crashes == 0 {
                String::new()
            } else if eo {
                ": a restart aborts what the crash left open".into()
            } else {
                ": a restart writes again what followed the last commit".into()
            },
            theme::muted(),
        ),
    ]));
    out.push(output_line(p));
    out.push(last_line(app, p));
    out
}

/// What the output holds, counted against the input.
fn output_line(p: &ProcessorSnapshot) -> Line<'static> {
    let o = p.output;
    let dup_style = if o.duplicated > 0 {
        theme::error()
    } else {
        theme::ok()
    };
    Line::from(vec![
        Span::styled("output ", theme::muted()),
        Span::raw(thousands(o.input.saturating_sub(o.missing))),
        Span::styled(
            format!(" of {} input · ", thousands(o.input)),
            theme::muted(),
        ),
        Span::styled(format!("{} duplicated", thousands(o.duplicated)), dup_style),
        Span::styled(
            format!(" · {} not yet", thousands(o.missing)),
            theme::muted(),
        ),
    ])
}

/// Why it failed, its latest news, or what the embedded cluster cannot show.
fn last_line<'a>(app: &App, p: &'a ProcessorSnapshot) -> Line<'a> {
    match (&p.state, &p.news) {
        (ProcessorState::Failed(e), _) => Line::styled(escape(e), theme::error()),
        (_, Some(news)) => Line::styled(escape(news), theme::warn()),
        _ if p.guarantee == Guarantee::ExactlyOnce && app.model.cluster.embedded => Line::styled(
            "embedded cluster: its mock broker keeps no offsets a transaction commits and hides \
             no aborted output, so duplicates show here; on Apache Kafka, none",
            theme::muted(),
        ),
        _ => Line::default(),
    }
}
