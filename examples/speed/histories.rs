//! What the dashboard's histories cost as they fill: runs, rebalances (the timeline), events
//! (the events log) and the cluster's topics (the topic dialog), each given many times what
//! it keeps. Heap (glibc's count of bytes in use) after the state is made, against the state
//! with the smaller size, and the frame time of the view that shows it at 200 x 50.

use std::time::Instant;

use crossterm::event::KeyCode;
use kafka_lab::lab::protocol::{Event, KafkaEvent};
use kafka_lab::lab::snapshots::TopicSnapshot;
use kafka_lab::lab::state::App;
use kafka_lab::stats::{Latency, RunReport};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::fixtures::{app, clock, key, member, producer};

const FRAMES: usize = 200;

/// Fills a history with so many entries.
type Fill = fn(&mut App, u64);

/// Bytes the allocator has handed out and not taken back.
fn heap_bytes() -> f64 {
    // SAFETY: mallinfo2 only reads the allocator's counters.
    let info = unsafe { libc::mallinfo2() };
    (info.uordblks + info.hblkhd) as f64
}

fn runs(app: &mut App, n: u32) {
    for run in 1..=n {
        app.update(Event::Kafka(KafkaEvent::RunEnded(Box::new(RunReport {
            run,
            records: 10_000,
            delivered: 10_000,
            records_per_sec: 1000.0 + f64::from(run),
            ..RunReport::default()
        }))));
    }
}

fn rebalances(app: &mut App, n: u64) {
    for i in 0..n {
        let owned: &[i32] = if i % 2 == 0 { &[0, 1, 2] } else { &[0, 1] };
        let KafkaEvent::Member(mut m) = member(1, owned) else {
            unreachable!()
        };
        m.last_rebalance = Some(clock(i * 1000));
        app.update(Event::Kafka(KafkaEvent::Member(m)));
    }
}

fn events(app: &mut App, n: u64) {
    for i in 0..n {
        app.update(Event::Notice(format!(
            "event {i}: a notice of about the length the lab says"
        )));
    }
}

fn topics(app: &mut App, n: usize) {
    app.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: Vec::new(),
        topics: (0..n).map(|i| format!("orders-{i:05}")).collect(),
    })));
}

/// The frame time (p50, p99 in ms) of what `app` shows now.
fn frames(app: &App) -> (f64, f64) {
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let mut times = Latency::default();
    for _ in 0..FRAMES {
        let began = Instant::now();
        terminal.draw(|f| kafka_lab::ui::render(f, app)).unwrap();
        times.record(began.elapsed());
    }
    let s = times.summary();
    (s.p50, s.p99)
}

pub fn run() {
    println!(
        "How the histories cost as they fill: heap over a fresh dashboard's, and the frame of \
         the view that shows them (200 x 50, {FRAMES} frames)"
    );
    let cases: [(&str, &str, Fill, [u64; 2]); 4] = [
        ("runs", "r", |a, n| runs(a, n as u32), [1, 1_000]),
        ("rebalances", "g", rebalances, [10, 1_000]),
        ("events", "l", events, [100, 100_000]),
        ("topics", "a", |a, n| topics(a, n as usize), [10, 5_000]),
    ];
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    for (what, view, fill, sizes) in cases {
        for n in sizes {
            let before = heap_bytes();
            let mut a = app();
            a.update(Event::Kafka(producer(1, 600)));
            fill(&mut a, n);
            let filled = Instant::now();
            for k in view.chars() {
                key(&mut a, KeyCode::Char(k));
            }
            if what == "topics" {
                // The switch row, narrowed by typing.
                for _ in 0..3 {
                    key(&mut a, KeyCode::Down);
                }
                for c in "42".chars() {
                    key(&mut a, KeyCode::Char(c));
                }
            }
            let opened_ms = filled.elapsed().as_secs_f64() * 1000.0;
            let heap_mb = (heap_bytes() - before) / (1024.0 * 1024.0);
            let (p50, p99) = frames(&a);
            rows.push(vec![
                what.to_string(),
                n.to_string(),
                format!("{heap_mb:.2}"),
                format!("{opened_ms:.2}"),
                format!("{p50:.3}"),
                format!("{p99:.3}"),
            ]);
            lines.push(format!(
                "scale {what}={n} heap_mb={heap_mb:.2} open_ms={opened_ms:.2} render_p50_ms={p50:.3} render_p99_ms={p99:.3}"
            ));
            drop(a);
        }
    }
    crate::common::table(
        &[
            "history",
            "given",
            "heap MB",
            "view open ms",
            "render p50 ms",
            "render p99 ms",
        ],
        &rows,
    );
    println!();
    for l in lines {
        println!("{l}");
    }
    println!();
}
