//! The workers' box: `kafka-lab worker` processes heard on the cluster's control topic, each
//! with its job, rate and p99 as its heartbeats report them. Read-only: the dashboard does not
//! drive them (`kafka-lab bench --workers N` does).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit, pane, theme};
use crate::lab::state::layout::WORKER_LINES;
use crate::lab::state::App;
use crate::text::{escape, thousands};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let workers = &app.model.workers;
    let busy: Vec<_> = workers.iter().filter(|w| w.job.is_some()).collect();
    let summed: f64 = busy.iter().map(|w| w.records_per_sec).sum();
    let title = if busy.is_empty() {
        format!(
            " Workers · {} waiting on the control topic (read-only) ",
            workers.len()
        )
    } else {
        format!(
            " Workers · {} of {} in a run · {} records/s summed (read-only) ",
            busy.len(),
            workers.len(),
            thousands(summed.round() as u64)
        )
    };
    let block = pane(area, title, false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let shown = usize::from(inner.height).min(WORKER_LINES);
    let mut lines: Vec<Line> = Vec::new();
    for (i, w) in workers.iter().enumerate() {
        if lines.len() + 1 == shown && workers.len() > shown {
            lines.push(Line::styled(
                format!("… and {} more", workers.len() - i),
                theme::muted(),
            ));
            break;
        }
        let mut spans = vec![
            Span::styled(format!("{:<20} ", escape(&w.name)), theme::accent()),
            Span::styled(format!("{:<14} ", escape(&w.host)), theme::muted()),
        ];
        match &w.job {
            Some(job) => spans.extend([
                Span::raw(format!(
                    "{:>9} records/s  p99 {:>8.2} ms  {:>11} acknowledged  ",
                    thousands(w.records_per_sec.round() as u64),
                    w.p99_ms,
                    thousands(w.delivered)
                )),
                Span::styled(format!("job {}", escape(job)), theme::muted()),
            ]),
            None => spans.push(Span::styled("waiting for a job", theme::muted())),
        }
        lines.push(fit(Line::from(spans), width));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
