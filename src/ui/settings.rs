//! The settings panel: the producer's fields, the consumers', and the embedded cluster's,
//! each with its value, checked as typed; scrolled to keep the selected field in view.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{pane, theme};
use crate::lab::state::forms::{Field, Row, SettingsForm, FIELDS};
use crate::lab::state::keymap::{key, Action as A, Mode};
use crate::lab::state::{App, Modal};

/// Labels are at most 18 wide (the footer names a shortened one's property in full).
const LABEL_WIDTH: usize = 19;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let focused = matches!(app.screen.modal, Modal::Settings);
    let block = pane(
        area,
        format!(" Settings ({}) ", key(Mode::Main, A::Settings)),
        focused,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let form = &app.screen.settings;
    let height = SettingsForm::rows_height(usize::from(inner.height));
    let rows = form.rows();
    let first = form.first_row(height);
    let mut lines = Vec::new();
    let mut cursor = None;
    for row in rows.iter().skip(first).take(height) {
        match *row {
            Row::Heading(title) => lines.push(Line::styled(format!("── {title} "), theme::bold())),
            Row::Error(i) => {
                if let Some(e) = form.error(i) {
                    lines.push(Line::styled(format!("    {e}"), theme::error()));
                }
            }
            Row::Field(i) => {
                let (line, at) = field_line(form, i, focused);
                if let Some(at) = at {
                    let x = inner.x + 2 + LABEL_WIDTH as u16 + at;
                    cursor = Some((
                        x.min(inner.right().saturating_sub(1)),
                        inner.y + lines.len() as u16,
                    ));
                }
                lines.push(line);
            }
        }
    }
    let shown = lines.len() as u16;
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            height: shown,
            ..inner
        },
    );
    let footer_area = Rect {
        y: inner.y + shown,
        height: inner.height.saturating_sub(shown),
        ..inner
    };
    let mut footer = Vec::new();
    if first + height < rows.len() || first > 0 {
        let how = if focused {
            format!(
                "{}{} scroll",
                key(Mode::Settings, A::Up),
                key(Mode::Settings, A::Down)
            )
        } else {
            format!("{} shows the rest", key(Mode::Main, A::Settings))
        };
        footer.push(Line::styled(
            format!(
                "rows {}-{} of {}: {how}",
                first + 1,
                (first + height).min(rows.len()),
                rows.len(),
            ),
            theme::muted(),
        ));
    }
    footer.extend(footer_lines(app, focused));
    frame.render_widget(
        Paragraph::new(footer).wrap(Wrap { trim: false }),
        footer_area,
    );
    if let Some(position) = cursor {
        frame.set_cursor_position(position);
    }
}

/// Field `i`'s line, and the cursor's column in its value while it is typed in.
fn field_line(form: &SettingsForm, i: usize, focused: bool) -> (Line<'static>, Option<u16>) {
    let field = FIELDS[i];
    let selected = focused && i == form.selected;
    let error = form.error(i);
    let choice = field.choices().is_some();
    let inactive = form.inactive(i).is_some();
    let value_style = match (&error, selected) {
        (Some(_), _) => theme::error(),
        // Being edited: a cursor in it. Otherwise selected as a whole: what is typed
        // replaces it.
        (None, true) if !form.fresh && !choice => theme::editing(),
        (None, true) => theme::selected(),
        (None, false) if inactive => theme::muted(),
        (None, false) => Style::new(),
    };
    let marker = if selected { "▸" } else { " " };
    // `*`: an edit waiting for Enter.
    let pending = if form.pending(i) { "*" } else { " " };
    let input = &form.inputs[i];
    let value = if selected && choice {
        format!("◂ {} ▸", input.value())
    } else if inactive {
        format!("{} (broker's)", input.value())
    } else {
        input.value().to_string()
    };
    let line = Line::from(vec![
        Span::raw(marker),
        Span::styled(pending, theme::warn()),
        Span::styled(format!("{:<LABEL_WIDTH$}", field.label()), theme::muted()),
        Span::styled(value, value_style),
    ]);
    let cursor = (selected && !choice && !form.fresh).then(|| input.visual_cursor() as u16);
    (line, cursor)
}

/// Below the fields: the form's error, pending edits, where the selected value came from,
/// and what the keys do.
fn footer_lines(app: &App, focused: bool) -> Vec<Line<'static>> {
    let form = &app.screen.settings;
    let mut lines = Vec::new();
    if let Some(e) = &form.form_error {
        lines.push(Line::styled(e.clone(), theme::error()));
    }
    let pending = (0..form.visible).filter(|&i| form.pending(i)).count();
    if pending > 0 {
        lines.push(Line::styled(
            format!(
                "{pending} edit{} pending (*): {} applies, {} discards",
                if pending == 1 { "" } else { "s" },
                key(Mode::Settings, A::Apply),
                key(Mode::Settings, A::Close)
            ),
            theme::warn(),
        ));
    }
    let field = FIELDS[form.selected];
    if focused {
        // The selected field's error in full (its line above is cut to the panel's width).
        if let Some(e) = form.error(form.selected) {
            lines.push(Line::styled(
                format!("{}: {e}", field.label()),
                theme::error(),
            ));
        }
        // What it does, what to watch, and librdkafka's default.
        let help = match field.default_value() {
            Some(d) => format!("{}: {} (default {d})", field.label(), field.help()),
            None => format!("{}: {}", field.label(), field.help()),
        };
        lines.push(Line::styled(help, theme::accent()));
        if let Some(why) = form.inactive(form.selected) {
            lines.push(Line::styled(why.to_string(), theme::warn()));
        } else if let (Some(p), Some(from)) = (field.property(), form.origin(form.selected)) {
            lines.push(Line::styled(format!("{p}: from {from}"), theme::muted()));
        }
        if matches!(
            field,
            Field::Transactions | Field::AbortEvery | Field::Isolation
        ) && app.model.cluster.embedded
        {
            lines.push(Line::styled(
                crate::lab::settings::EMBEDDED_ABORTED,
                theme::warn(),
            ));
        }
        if field == Field::StaticMembership && app.model.cluster.embedded {
            lines.push(Line::styled(
                "embedded cluster: group.instance.id is accepted but not honoured (a restarted member rejoins as new); a real broker shows it",
                theme::warn(),
            ));
        }
    }
    lines.extend(hints(field, focused));
    // Where it matters: not editing, or choosing acks.
    if app.model.cluster.embedded && (!focused || field == Field::Acks) {
        lines.push(Line::styled(
            "embedded cluster: no replication, so acks=1 and acks=all behave alike here; a real cluster shows the difference",
            theme::warn(),
        ));
    }
    lines
}

/// What the keys do here: choosing or typing the selected field, moving, applying.
fn hints(field: Field, focused: bool) -> Vec<Line<'static>> {
    let arrows = format!(
        "{} {}",
        key(Mode::Settings, A::Left),
        key(Mode::Settings, A::Right)
    );
    let hint = match field.choices() {
        Some(choices) if focused => format!("{arrows} choose: {}", choices.join(" · ")),
        _ if focused => {
            format!("type to edit: the first key replaces the value, {arrows} move in it")
        }
        _ => format!(
            "{} edits; {} applies: what changed restarts",
            key(Mode::Main, A::Settings),
            key(Mode::Settings, A::Apply)
        ),
    };
    let mut lines = vec![Line::styled(hint, theme::muted())];
    if focused {
        lines.push(Line::styled(
            format!(
                "{}{} field · {} applies (what changed restarts) · {} leaves",
                key(Mode::Settings, A::Up),
                key(Mode::Settings, A::Down),
                key(Mode::Settings, A::Apply),
                key(Mode::Settings, A::Close)
            ),
            theme::muted(),
        ));
    }
    lines
}
