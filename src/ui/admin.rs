//! The topic form (`a`): create a topic, add partitions to the current one, switch topics; and
//! the broker fault dialog (`b` on a cluster `scripts/kafka-local` started).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{pane, theme};
use crate::lab::state::forms::{AdminForm, FaultForm, ADD_ROW, ADMIN_ROWS, FAULT_ROWS, SWITCH_ROW};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::App;

/// A centred box `width` by `height`, at most the screen.
fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, popup, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(width),
        Constraint::Fill(1),
    ])
    .areas(middle);
    popup
}

pub fn render_fault(frame: &mut Frame, area: Rect, app: &App, form: &FaultForm) {
    let popup = popup(area, 76, FAULT_ROWS.len() as u16 + 11);
    frame.render_widget(Clear, popup);
    let block = pane(
        popup,
        format!(" Broker fault ({}) ", key(Mode::Main, A::BrokerOutage)),
        true,
    );
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let nodes = app.model.cluster.local_nodes.unwrap_or(0);
    let mut lines = vec![Line::styled(
        format!(
            "{nodes} kafka-local nodes · {}{} row · {} {} choose · {} · {} closes",
            key(Mode::Fault, A::Up),
            key(Mode::Fault, A::Down),
            key(Mode::Fault, A::Left),
            key(Mode::Fault, A::Right),
            key(Mode::Fault, A::Apply),
            key(Mode::Fault, A::Close)
        ),
        theme::muted(),
    )];
    for (i, (label, value)) in FAULT_ROWS.iter().zip(form.values()).enumerate() {
        let selected = i == form.selected;
        lines.push(Line::from(vec![
            Span::raw(if selected { "▸ " } else { "  " }),
            Span::styled(format!("{label:<30}"), theme::muted()),
            Span::styled(
                if selected {
                    format!("◂ {value} ▸")
                } else {
                    value
                },
                if selected {
                    theme::selected()
                } else {
                    Style::new()
                },
            ),
        ]));
    }
    // Which node that is now, as the cluster last said.
    let placed = app
        .model
        .topic
        .as_ref()
        .and_then(|t| t.partitions.iter().find(|p| p.partition == form.partition));
    lines.push(Line::styled(
        match placed {
            Some(p) if p.leader >= 0 => format!(
                "partition {}: leader node {}, replicas {}, in sync {}",
                p.partition,
                p.leader,
                ids(&p.replicas),
                ids(&p.isr)
            ),
            Some(p) => format!("partition {}: no leader now", p.partition),
            None => "the partition's leader: not known yet".to_string(),
        },
        theme::accent(),
    ));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        if form.kind().is_some() {
            "The leader of the partition fails; the producer pane, the partition view's isr \
             column and the run (marked !) show what follows. acks=1 can lose what the leader \
             acknowledged before its followers had it; acks=all does not."
        } else {
            "The loss, every time: the followers hang while the leader takes records alone, \
             then it dies and a follower leads without them. Run the producer with acks=1: the \
             run's read-back counts them missing. With acks=all they wait, and are not lost."
        },
        theme::muted(),
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// Broker ids as `1,2,3`.
fn ids(ids: &[i32]) -> String {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    ids.join(",")
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, form: &AdminForm) {
    let popup = popup(area, 72, ADMIN_ROWS.len() as u16 + 10);
    frame.render_widget(Clear, popup);
    let block = pane(
        popup,
        format!(" Topics ({}) ", key(Mode::Main, A::Topics)),
        true,
    );
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let mut lines = vec![Line::styled(
        format!(
            "current: {} ({} partitions) · {}{} row · {} does that row's action · {} closes",
            app.model.cluster.topic,
            app.model.cluster.partitions,
            key(Mode::Topics, A::Up),
            key(Mode::Topics, A::Down),
            key(Mode::Topics, A::Apply),
            key(Mode::Topics, A::Close)
        ),
        theme::muted(),
    )];
    for (i, label) in ADMIN_ROWS.iter().enumerate() {
        let selected = i == form.selected;
        if i == ADD_ROW && !form.can_add {
            // Not offered: this cluster cannot add partitions to a topic.
            lines.push(Line::styled(
                format!("  {label:<26}not on this cluster"),
                theme::muted().add_modifier(Modifier::CROSSED_OUT),
            ));
            continue;
        }
        let style = if selected {
            theme::selected()
        } else {
            Style::new()
        };
        let value = form.inputs[i].value();
        let value = if i == SWITCH_ROW && selected {
            format!("◂ {value} ▸")
        } else {
            value.to_string()
        };
        lines.push(Line::from(vec![
            Span::raw(if selected { "▸ " } else { "  " }),
            Span::styled(format!("{label:<26}"), theme::muted()),
            Span::styled(format!("{value:<20}"), style),
        ]));
    }
    if let Some(topic) = &app.model.topic {
        if form.selected == SWITCH_ROW && !topic.topics.is_empty() {
            lines.push(Line::styled(
                switch_hint(form, &topic.topics, usize::from(area.width)),
                theme::muted(),
            ));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        if app.model.cluster.owned {
            "embedded cluster: topics are made by the cluster itself; it cannot add partitions to an existing topic"
        } else {
            "a real cluster: through the admin API (needs the rights to create and alter topics)"
        },
        theme::muted(),
    ));
    if let Some(e) = &form.error {
        lines.push(Line::styled(e.clone(), theme::error()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// What ← and → pick among: the topics holding what was typed (as many as the line holds),
/// and how many there are.
fn switch_hint(form: &AdminForm, topics: &[String], width: usize) -> String {
    let matching = form.matching(topics);
    let (left, right) = (key(Mode::Topics, A::Left), key(Mode::Topics, A::Right));
    if matching.is_empty() {
        return format!(
            "none of the cluster's {} topics holds \"{}\": type less, or a name to make",
            crate::text::thousands(topics.len() as u64),
            crate::text::escape(form.typed.trim())
        );
    }
    let mut said = if form.typed.trim().is_empty() {
        format!(
            "{left} {right} pick one of the cluster's {} topics (type to narrow):",
            crate::text::thousands(topics.len() as u64)
        )
    } else {
        format!(
            "{left} {right} pick one of the {} of {} topics holding \"{}\":",
            crate::text::thousands(matching.len() as u64),
            crate::text::thousands(topics.len() as u64),
            crate::text::escape(form.typed.trim())
        )
    };
    // Only what the line can show is joined: thousands of names are not.
    for (i, t) in matching.iter().enumerate() {
        if said.len() + t.len() + 2 > width.saturating_sub(4) {
            let _ = std::fmt::Write::write_fmt(
                &mut said,
                format_args!(" … {} more", matching.len() - i),
            );
            break;
        }
        said.push_str(if i == 0 { " " } else { ", " });
        said.push_str(&crate::text::escape(t));
    }
    said
}
