//! How the dashboard's frame time grows with the topic's partitions and the group's members:
//! the whole screen drawn on an off-screen terminal at 200 x 50 and at 80 x 24, every partition
//! owned (dealt round robin to the members), in the consumer panes and in the partition view.
//! A table, then one line per row for scripts (`scale partitions=1000 members=32 size=200x50
//! view=partitions render_p50_ms=.. render_p99_ms=..`). The states are made, not lived: what
//! they cost to draw, not what reaching them costs (the live figures are `--only dashboard`'s).

use std::time::Instant;

use kafka_lab::kafka::partitioners::WouldGo;
use kafka_lab::lab::protocol::{Event, KafkaEvent};
use kafka_lab::lab::snapshots::{PartitionInfo, TopicSnapshot};
use kafka_lab::lab::state::{App, ClusterInfo};
use kafka_lab::stats::Latency;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::fixtures::{app_on, embedded, key, member, producer};

const PARTITIONS: [i32; 3] = [6, 100, 1_000];
const MEMBERS: [u32; 3] = [1, 8, 32];
const SIZES: [(u16, u16); 2] = [(200, 50), (80, 24)];
const FRAMES: usize = 300;

/// The dashboard with a topic of `partitions`, `members` owning them, and two minutes of the
/// producer's history; and the time one tick's snapshots (the producer's and every member's)
/// take to fold in, in ms (the median of 20 ticks).
fn lab(partitions: i32, members: u32) -> (App, f64) {
    let mut a = app_on(ClusterInfo {
        partitions: partitions as usize,
        ..embedded()
    });
    let KafkaEvent::Producer(mut p) = producer(1, 600) else {
        unreachable!()
    };
    p.by_partition = (0..partitions).map(|i| (i, 100 + i as u64)).collect();
    let mut would = WouldGo::new(partitions);
    for i in 0..10_000 {
        would.add(format!("brewery-{i:04}").as_bytes());
    }
    p.would = Some(would);
    for _ in 0..480 {
        a.update(Event::Kafka(KafkaEvent::Producer(p.clone())));
    }
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: (0..partitions)
            .map(|i| PartitionInfo {
                partition: i,
                leader: 1 + i % 3,
                replicas: vec![1 + i % 3],
                isr: vec![1 + i % 3],
                low_watermark: 0,
                high_watermark: 140 + i64::from(i),
            })
            .collect(),
        topics: vec!["breweries".into()],
    })));
    let snapshots: Vec<KafkaEvent> = (1..=members)
        .map(|id| {
            let owned: Vec<i32> = (0..partitions)
                .filter(|p| (*p as u32) % members == id - 1)
                .collect();
            member(id, &owned)
        })
        .collect();
    let mut ticks = Vec::new();
    for _ in 0..20 {
        let began = Instant::now();
        a.update(Event::Kafka(KafkaEvent::Producer(p.clone())));
        for m in &snapshots {
            a.update(Event::Kafka(m.clone()));
        }
        ticks.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    ticks.sort_by(f64::total_cmp);
    (a, ticks[ticks.len() / 2])
}

pub fn run() {
    println!(
        "How it scales: frame render of the whole screen, {FRAMES} frames a cell, by partitions \
         and members"
    );
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for partitions in PARTITIONS {
        for members in MEMBERS {
            let (mut a, fold_ms) = lab(partitions, members);
            for (view, keys) in [("panes", ""), ("partitions", "v")] {
                for k in keys.chars() {
                    key(&mut a, crossterm::event::KeyCode::Char(k));
                }
                for (w, h) in SIZES {
                    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
                    let mut times = Latency::default();
                    for _ in 0..FRAMES {
                        let began = Instant::now();
                        terminal.draw(|f| kafka_lab::ui::render(f, &a)).unwrap();
                        times.record(began.elapsed());
                    }
                    let s = times.summary();
                    rows.push(vec![
                        partitions.to_string(),
                        members.to_string(),
                        view.to_string(),
                        format!("{w}x{h}"),
                        format!("{:.3}", s.p50),
                        format!("{:.3}", s.p99),
                        format!("{fold_ms:.3}"),
                    ]);
                    lines.push(format!(
                        "scale partitions={partitions} members={members} size={w}x{h} \
                         view={view} render_p50_ms={:.3} render_p99_ms={:.3} fold_tick_ms={fold_ms:.3}",
                        s.p50, s.p99
                    ));
                }
            }
        }
    }
    crate::common::table(
        &[
            "partitions",
            "members",
            "view",
            "size",
            "render p50 ms",
            "render p99 ms",
            "fold a tick ms",
        ],
        &rows,
    );
    println!();
    for l in lines {
        println!("{l}");
    }
    println!();
}
