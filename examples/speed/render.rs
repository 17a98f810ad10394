//! The dashboard's frame time: the whole screen, 200 x 50, with 8 consumer panes, drawn on an
//! off-screen terminal (what the terminal itself does with the frame is not counted).

use std::time::Instant;

use kafka_lab::lab::protocol::Event;
use kafka_lab::stats::Latency;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::fixtures::{app, key, member, producer};

pub fn run() {
    let mut a = app();
    // A full send log and two minutes of history.
    for _ in 0..480 {
        a.update(Event::Kafka(producer(1, 6)));
    }
    for id in 1..=8 {
        let parts: Vec<i32> = if id <= 6 { vec![id as i32 - 1] } else { vec![] };
        a.update(Event::Kafka(member(id, &parts)));
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    println!(
        "Frame render: the whole screen at 200 x 50 with 8 consumer panes, 2,000 frames per view"
    );
    let mut rows = Vec::new();
    for (view, keys) in [
        ("consumer panes", ""),
        ("partition view", "v"),
        ("rebalance timeline", "vg"),
        ("runs table", "gr"),
    ] {
        for k in keys.chars() {
            key(&mut a, crossterm::event::KeyCode::Char(k));
        }
        let mut times = Latency::default();
        for _ in 0..2000 {
            let began = Instant::now();
            terminal.draw(|f| kafka_lab::ui::render(f, &a)).unwrap();
            times.record(began.elapsed());
        }
        let s = times.summary();
        rows.push(vec![
            view.to_string(),
            format!("{:.3}", s.p50),
            format!("{:.3}", s.p99),
            format!("{:.3}", s.max),
        ]);
    }
    crate::common::table(&["view", "p50 ms", "p99 ms", "max ms"], &rows);
    println!();
}
