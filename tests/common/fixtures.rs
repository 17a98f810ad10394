//! Dashboard state for screen tests: a fixed clock, the settings, an `App`, and the snapshots
//! the actors would send.

use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kafka_lab::data::source::KeyField;
use kafka_lab::kafka::consumer::ConsumedRecord;
use kafka_lab::kafka::partitioners::WouldGo;
use kafka_lab::kafka::producer::Delivery;
use kafka_lab::kafka::settings::{Acks, Compression, Partitioner};
use kafka_lab::lab::protocol::{Event, KafkaEvent, Step};
use kafka_lab::lab::settings::{ConsumerSettings, ProducerSettings};
use kafka_lab::lab::snapshots::{MemberSnapshot, MemberState, PartitionLag, RecentRecord};
use kafka_lab::lab::snapshots::{ProducerSnapshot, ProducerState};
use kafka_lab::lab::state::{App, ClusterInfo};
use kafka_lab::stats::{LatencySummary, StageFigures, StageLatency, WindowFigures};

/// 2026-11-25 12:00:00 UTC.
pub fn clock(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_608_000_000 + ms)
}

pub fn settings() -> ProducerSettings {
    ProducerSettings {
        acks: Acks::All,
        batch_size: "1000000".into(),
        linger_ms: "5".into(),
        compression: Compression::None,
        idempotence: false,
        partitioner: Partitioner::ConsistentRandom,
        rate: Some(50.0),
        key: KeyField::Id,
        rtt_ms: Some(0),
        txn_records: 0,
        abort_every: 0,
        extra: std::collections::BTreeMap::default(),
    }
}

/// The embedded cluster of the screen tests.
pub fn embedded() -> ClusterInfo {
    ClusterInfo {
        label: "embedded cluster 127.0.0.1:40001,127.0.0.1:40002,127.0.0.1:40003".into(),
        embedded: true,
        owned: true,
        local_nodes: None,
        topic: "breweries".into(),
        partitions: 6,
        group: "kafka-lab".into(),
    }
}

pub fn app() -> App {
    app_on(embedded())
}

pub fn app_on(cluster: ClusterInfo) -> App {
    App::new(
        cluster,
        settings(),
        ConsumerSettings::effective(None),
        std::collections::BTreeMap::new(),
    )
}

pub fn key(app: &mut App, code: KeyCode) {
    let _ = app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// The group of the screen tests goes to `n` members, as the dashboard's start asks.
pub fn members(app: &mut App, n: usize) {
    let _ = app.update(Event::Script(Step::Members(
        kafka_lab::lab::protocol::Members::To(n as u32),
    )));
}

/// Run `run` of the producer, running, with `deliveries` delivered (the first six listed).
pub fn producer(run: u32, deliveries: u64) -> KafkaEvent {
    let latest = (0..deliveries.min(6))
        .map(|i| Delivery {
            at: clock(20 * i),
            seq: i,
            key: Some(format!("brewery-{i:04}")),
            partition: (i % 6) as i32,
            offset: Some((i / 6) as i64),
            latency: Duration::from_micros(5200 + 37 * i),
            error: None,
        })
        .collect();
    KafkaEvent::Producer(Box::new(ProducerSnapshot {
        sent: deliveries,
        delivered: deliveries,
        run_elapsed: Duration::from_secs(3),
        window: WindowFigures {
            per_sec: 50.0,
            mb_per_sec: 0.0198,
            latency: LatencySummary {
                avg: 5.4,
                p50: 5.31,
                p95: 5.9,
                p99: 9.36,
                p999: 12.0,
                max: 13.25,
            },
            span_s: 5.0,
        },
        latest,
        since_start: Duration::from_secs(3),
        by_partition: (0..6).map(|p| (p, deliveries * (p as u64 + 1))).collect(),
        would: Some({
            let mut would = WouldGo::new(6);
            for i in 0..deliveries * 7 {
                would.add(format!("brewery-{i:04}").as_bytes());
            }
            would
        }),
        stages: Some(StageLatency {
            queue: StageFigures {
                avg: 4.9,
                p50: 4.9,
                p99: 5.8,
            },
            send: StageFigures {
                avg: 0.1,
                p50: 0.1,
                p99: 0.3,
            },
            broker: StageFigures {
                avg: 0.4,
                p50: 0.3,
                p99: 0.9,
            },
        }),
        ..ProducerSnapshot::new(run, ProducerState::Running, settings())
    }))
}

/// Member `id`, settled with `partitions`, having received 120 records.
pub fn member(id: u32, partitions: &[i32]) -> KafkaEvent {
    let mut m = MemberSnapshot::new(id);
    m.state = if partitions.is_empty() {
        MemberState::Idle
    } else {
        MemberState::Assigned
    };
    m.partitions = partitions
        .iter()
        .map(|&p| PartitionLag {
            partition: p,
            position: Some(40 + i64::from(p)),
            high_watermark: Some(42 + i64::from(p)),
            stable: None,
        })
        .collect();
    m.received = 120;
    m.per_sec = 8.5 * partitions.len() as f64;
    m.e2e = LatencySummary {
        avg: 7.0,
        p50: 6.5,
        p95: 9.0,
        p99: 11.25,
        p999: 12.0,
        max: 13.0,
    };
    m.latest = partitions
        .iter()
        .map(|&p| {
            RecentRecord::keep(ConsumedRecord {
                topic: "breweries".into(),
                partition: p,
                offset: 39 + i64::from(p),
                timestamp_ms: Some(1_795_608_000_000 + i64::from(p)),
                timestamp_type: "create",
                key: Some(format!("brewery-{p}").into_bytes()),
                value: Some(
                    format!("{{\"id\":\"brewery-{p}\",\"name\":\"Köln Bräu {p}\"}}").into_bytes(),
                ),
                headers: vec![("kafka-lab-seq".into(), Some(p.to_string().into_bytes()))],
            })
        })
        .collect();
    m.last_rebalance = Some(clock(1500));
    for (i, t) in ["micro", "brewpub", "micro", "planning", "micro", "brewpub"]
        .iter()
        .enumerate()
    {
        if i < partitions.len() * 2 {
            m.counts.add(Some(
                format!(
                    "{{\"brewery_type\":\"{t}\",\"state\":\"Ohio\",\"country\":\"United States\"}}"
                )
                .as_bytes(),
            ));
        }
    }
    KafkaEvent::Member(Box::new(m))
}
