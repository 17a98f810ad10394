//! The record detail: a consumer's latest records, and the selected one in full: topic,
//! partition, offset, timestamp and its type, key, headers, and the value as pretty JSON (text
//! that is not JSON is shown escaped, bytes that are not UTF-8 in hex).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{pane, theme};
use crate::lab::snapshots::RecentRecord;
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::views::Detail;
use crate::text::{format_timestamp, printable, shorten};

/// Columns of the record list.
const LIST_WIDTH: u16 = 30;

pub fn render(frame: &mut Frame, area: Rect, detail: &Detail) {
    frame.render_widget(Clear, area);
    let block = pane(
        area,
        format!(
            " {}: latest records · {}{} record · {} {} {} {} scroll the value · {} closes ",
            detail.member,
            key(Mode::Detail, A::Up),
            key(Mode::Detail, A::Down),
            key(Mode::Detail, A::PageUp),
            key(Mode::Detail, A::PageDown),
            key(Mode::Detail, A::Top),
            key(Mode::Detail, A::Bottom),
            key(Mode::Detail, A::Close)
        ),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The list, a rule, then the record: the list never runs into the fields.
    let [list, rule, body] = Layout::horizontal([
        Constraint::Length(LIST_WIDTH),
        Constraint::Length(2),
        Constraint::Min(20),
    ])
    .areas(inner);
    let rows = list.height as usize;
    let first = detail.selected.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = detail
        .records
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, r)| {
            let key = r.key.as_deref().map_or("-".to_string(), printable);
            let text = shorten(
                &format!("p{}@{} {key}", r.partition, r.offset),
                LIST_WIDTH as usize - 2,
            );
            if i == detail.selected {
                Line::styled(format!("▸ {text}"), theme::selected())
            } else {
                Line::raw(format!("  {text}"))
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled("│", theme::border());
            rule.height as usize
        ]),
        rule,
    );
    if let Some(r) = detail.records.get(detail.selected) {
        let lines = describe(r);
        // Wrapped lines count as the rows they take.
        let width = body.width.max(1) as usize;
        let total: usize = lines.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
        let height = body.height as usize;
        let max_scroll = total.saturating_sub(height);
        let scroll = detail.scroll.min(max_scroll);
        let [text, status] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(u16::from(max_scroll > 0)),
        ])
        .areas(body);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((scroll as u16, 0)),
            text,
        );
        if max_scroll > 0 {
            frame.render_widget(
                Paragraph::new(format!(
                    "lines {}-{} of {total} · {} {} scroll",
                    scroll + 1,
                    (scroll + height).min(total),
                    key(Mode::Detail, A::PageUp),
                    key(Mode::Detail, A::PageDown)
                ))
                .style(theme::muted()),
                status,
            );
        }
    }
}

/// The value as pretty JSON when it is JSON; escaped text or hex otherwise.
pub fn show_value(value: &[u8]) -> Vec<String> {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(value) {
        if let Ok(pretty) = serde_json::to_string_pretty(&json) {
            // JSON leaves DEL, C1 and the bidirectional overrides as they are: escaped here.
            return pretty
                .lines()
                .map(|l| crate::text::escape(l).into_owned())
                .collect();
        }
    }
    vec![printable(value)]
}

fn describe(r: &RecentRecord) -> Vec<Line<'static>> {
    let field = |name: &str, value: String| Line::from(format!("{name:<10} {value}"));
    let mut lines = vec![
        field("topic", r.topic.clone()),
        field("partition", r.partition.to_string()),
        field("offset", r.offset.to_string()),
        field(
            "timestamp",
            r.timestamp_ms.map_or("-".to_string(), |t| {
                format!(
                    "{} ({t} ms, {} time)",
                    format_timestamp(t),
                    r.timestamp_type
                )
            }),
        ),
        field(
            "key",
            r.key.as_deref().map_or("(none)".to_string(), printable),
        ),
    ];
    if r.headers.is_empty() {
        lines.push(field("headers", "(none)".to_string()));
    }
    for (i, (k, v)) in r.headers.iter().enumerate() {
        let value = v.as_deref().map_or("(null)".to_string(), printable);
        lines.push(field(
            if i == 0 { "headers" } else { "" },
            format!("{} = {value}", printable(k.as_bytes())),
        ));
    }
    lines.push(Line::styled(
        if r.truncated {
            "value (the first 4 KiB)"
        } else {
            "value"
        },
        theme::bold(),
    ));
    match &r.value {
        None => lines.push(Line::styled("(null)", theme::muted())),
        Some(v) => lines.extend(show_value(v).into_iter().map(Line::raw)),
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_pretty_json_escaped_text_or_hex() {
        assert_eq!(show_value(br#"{"a":1}"#), ["{", "  \"a\": 1", "}"]);
        assert_eq!(show_value(b"plain\ttext"), ["plain\\ttext"]);
        // The record's own key order, not sorted.
        assert_eq!(
            show_value(br#"{"name":"x","id":1}"#),
            ["{", "  \"name\": \"x\",", "  \"id\": 1", "}"]
        );
        assert_eq!(show_value(&[0xde, 0xad, 0xbe, 0xef]), ["0xdeadbeef"]);
        // What JSON leaves raw and a terminal acts on: escaped.
        let shown = show_value("{\"a\":\"x\u{202e}y\u{9b}2J\"}".as_bytes()).join("\n");
        assert!(!shown.contains(['\u{202e}', '\u{9b}']), "{shown}");
    }
}
