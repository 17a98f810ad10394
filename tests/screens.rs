//! Whole-screen snapshots of the dashboard after sequences of events, on ratatui's `TestBackend`.
//! Times are fixed (the snapshots carry their own clock), so the frames are stable.

mod common;

use std::time::Duration;

use common::fixtures::{app, app_on, clock, embedded, key, member, members, producer, settings};
use crossterm::event::KeyCode;
use kafka_lab::kafka::consumer::ConsumedRecord;
use kafka_lab::lab::protocol::{Event, KafkaEvent, Step};
use kafka_lab::lab::settings::Isolation;
use kafka_lab::lab::snapshots::RecentRecord;
use kafka_lab::lab::snapshots::{PartitionInfo, TopicSnapshot};
use kafka_lab::lab::state::{App, ClusterInfo, ScenarioStrip};
use kafka_lab::stats::{Accounting, LatencySummary, RunReport, StageFigures, StageLatency};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn draw(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| kafka_lab::ui::render(f, app)).unwrap();
    terminal.backend().to_string()
}

#[test]
fn start() {
    insta::assert_snapshot!(draw(&app(), 120, 36));
}

#[test]
fn a_few_records() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    a.update(Event::Kafka(member(1, &[0, 1, 2, 3, 4, 5])));
    insta::assert_snapshot!(draw(&a, 120, 36));
}

/// A member that read nothing lately (held) has no latency to show: `-`, never 0.
#[test]
fn a_quiet_member_shows_no_latency_rather_than_zero() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    let KafkaEvent::Member(mut m) = member(1, &[0, 1, 2]) else {
        unreachable!()
    };
    m.per_sec = 0.0;
    m.e2e = LatencySummary::default();
    a.update(Event::Kafka(KafkaEvent::Member(m)));
    let frame = draw(&a, 120, 36);
    assert!(
        frame.contains("end-to-end p50 -  p99 - (nothing read in the last 5 s)"),
        "{frame}"
    );
    assert!(!frame.contains("p50 0.0 ms"), "{frame}");
}

/// An active filter says what it can match in the send log: keys (a delivery report
/// carries no value).
#[test]
fn the_send_log_says_what_the_filter_matches() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    key(&mut a, KeyCode::Char('/'));
    for c in "Calif".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    key(&mut a, KeyCode::Enter);
    let frame = draw(&a, 160, 40);
    assert!(
        frame.contains("filter “Calif”: deliveries whose key holds it"),
        "{frame}"
    );
}

#[test]
fn second_consumer_splits_the_partitions() {
    let mut a = app();
    members(&mut a, 1);
    a.update(Event::Kafka(producer(1, 6)));
    a.update(Event::Kafka(member(1, &[0, 1, 2, 3, 4, 5])));
    key(&mut a, KeyCode::Char('c'));
    a.update(Event::Kafka(member(1, &[0, 1, 2])));
    a.update(Event::Kafka(member(2, &[3, 4, 5])));
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    insta::assert_snapshot!(draw(&a, 120, 36));
}

#[test]
fn more_members_than_partitions_fold_into_lines_and_say_idle() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    for id in 1..=7 {
        let p: Vec<i32> = if id <= 6 { vec![id as i32 - 1] } else { vec![] };
        a.update(Event::Kafka(member(id, &p)));
    }
    insta::assert_snapshot!(draw(&a, 100, 30));
}

#[test]
fn settings_with_an_invalid_value() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    key(&mut a, KeyCode::Char('s'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Backspace);
    for c in "-5".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    key(&mut a, KeyCode::Enter);
    insta::assert_snapshot!(draw(&a, 120, 36));
}

#[test]
fn help_overlay() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    key(&mut a, KeyCode::Char('?'));
    insta::assert_snapshot!(draw(&a, 120, 36));
    // It scrolls to its last line, and no further.
    for _ in 0..20 {
        key(&mut a, KeyCode::PageDown);
    }
    let end = draw(&a, 120, 36);
    assert!(end.contains("Esc, ? close"), "{end}");
    assert!(end.contains("Ctrl-Z"), "{end}");
    key(&mut a, KeyCode::Up);
    assert!(
        draw(&a, 120, 36).contains("Keys: lines"),
        "scrolled up a line"
    );
    key(&mut a, KeyCode::Char('x'));
    assert!(
        draw(&a, 120, 36).contains("Keys"),
        "a stray key leaves it open"
    );
    key(&mut a, KeyCode::Esc);
    assert!(!draw(&a, 120, 36).contains("Keys"), "Esc closes it");
}

/// The help begins with the keys of the pane the user is on: a consumer's, the runs'.
#[test]
fn help_begins_with_the_keys_of_the_selected_pane() {
    let mut a = busy();
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char('?'));
    let member = draw(&a, 120, 40);
    assert!(
        member.contains("Here, on the selected consumer:"),
        "{member}"
    );
    assert!(member.contains("X                  crash"), "{member}");
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('r'));
    key(&mut a, KeyCode::Char('?'));
    let runs = draw(&a, 120, 40);
    assert!(runs.contains("Here, on the runs:"), "{runs}");
    assert!(
        runs.contains("m                  runs tables: mark"),
        "{runs}"
    );
}

#[test]
fn tiny_terminal() {
    insta::assert_snapshot!(draw(&app(), 60, 15));
}

fn run(run: u32, linger: &str, rate: f64, p99: f64, batch: f64, missing: u64) -> KafkaEvent {
    let mut settings = settings();
    settings.linger_ms = linger.into();
    let mut report = RunReport {
        run,
        settings: settings.report_settings(),
        warmup_s: 2.0,
        duration_s: 30.0,
        sent: (rate * 32.0) as u64,
        delivered: (rate * 32.0) as u64,
        failed: 0,
        records: (rate * 30.0) as u64,
        bytes: (rate * 30.0 * 415.0) as u64,
        records_per_sec: rate,
        mb_per_sec: rate * 415.0 / 1_048_576.0,
        latency_ms: LatencySummary {
            avg: p99 / 2.0,
            p50: p99 / 2.2,
            p95: p99 * 0.9,
            p99,
            p999: p99 * 1.2,
            max: p99 * 1.5,
        },
        avg_batch_records: Some(batch),
        requests_per_sec: Some(rate / batch),
        // Most of a record's time is the queue (linger.ms), the rest the broker's answer.
        stages_ms: Some(StageLatency {
            queue: StageFigures {
                avg: p99 / 2.5,
                p50: p99 / 2.6,
                p99: p99 * 0.8,
            },
            send: StageFigures {
                avg: 0.05,
                p50: 0.04,
                p99: 0.2,
            },
            broker: StageFigures {
                avg: 0.4,
                p50: 0.35,
                p99: 1.2,
            },
        }),
        ..RunReport::default()
    };
    report.accounting = Some(Accounting {
        received: report.delivered - missing,
        missing,
        ..Accounting::default()
    });
    KafkaEvent::RunEnded(Box::new(report))
}

/// Three ended runs (linger.ms 5, 50, 0 at `rates`, with these p99s, batches and missing
/// counts), then two minutes of producer snapshots across them (40 s each) for the charts;
/// `wobble` varies the rate a little from second to second.
fn three_runs(
    a: &mut App,
    rates: [f64; 3],
    batches: [f64; 3],
    missing: [u64; 3],
    wobble: bool,
    delivered: u64,
) {
    let p99s = [9.5, 58.0, 3.1];
    for (i, linger) in ["5", "50", "0"].into_iter().enumerate() {
        a.update(Event::Kafka(run(
            i as u32 + 1,
            linger,
            rates[i],
            p99s[i],
            batches[i],
            missing[i],
        )));
    }
    for i in 0..120u32 {
        let at = (i / 40).min(2) as usize;
        let (rate, p99) = (rates[at], p99s[at]);
        let KafkaEvent::Producer(mut s) = producer(at as u32 + 1, delivered) else {
            unreachable!()
        };
        s.since_start = Duration::from_secs(u64::from(i));
        s.window.per_sec = rate + if wobble { f64::from(i % 7) * 10.0 } else { 0.0 };
        // A consistent summary: p50 <= p95 <= p99 <= max.
        s.window.latency.p50 = p99 / 2.0;
        s.window.latency.p95 = p99 * 0.9;
        s.window.latency.p99 = p99;
        s.window.latency.max = p99 * 1.4;
        // The stages add up to the delivery latency's median.
        let stage = |share: f64| StageFigures {
            avg: p99 / 2.0 * share,
            p50: p99 / 2.0 * share,
            p99: p99 * share,
        };
        s.stages = Some(StageLatency {
            queue: stage(0.8),
            send: stage(0.05),
            broker: stage(0.15),
        });
        a.update(Event::Kafka(KafkaEvent::Producer(s)));
    }
}

#[test]
fn runs_table_with_three_runs() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    three_runs(
        &mut a,
        [5000.0, 5000.0, 4200.0],
        [4.2, 41.0, 1.1],
        [0, 0, 3],
        true,
        0,
    );
    key(&mut a, KeyCode::Char('r'));
    insta::assert_snapshot!(draw(&a, 140, 40));
}

/// A transactional run: the producer pane counts its transactions, and the runs table shows
/// their columns (only when a run has transactions).
#[test]
fn a_transactional_run_in_the_pane_and_the_runs_table() {
    let mut a = app();
    let txn = |committed: u64, aborted: u64| kafka_lab::stats::TxnFigures {
        records_per_txn: 10,
        abort_every: 3,
        begun: committed + aborted,
        committed,
        aborted,
        failed: 0,
        commit_p50_ms: 0.7,
        commit_p99_ms: 3.98,
        open_p50_ms: 186.3,
        open_p99_ms: 201.0,
        transactional_id: Some("kafka-lab-4242-breweries".into()),
    };
    let mut first = run(1, "5", 50.0, 9.5, 1.0, 0);
    if let KafkaEvent::RunEnded(r) = &mut first {
        r.settings.insert("transactions".into(), "10".into());
        r.transactions = Some(txn(53, 26));
    }
    a.update(Event::Kafka(first));
    let KafkaEvent::Producer(mut s) = producer(2, 6) else {
        unreachable!()
    };
    s.report = Some(kafka_lab::stats::RunReport {
        run: 2,
        transactions: Some(txn(36, 18)),
        ..Default::default()
    });
    a.update(Event::Kafka(KafkaEvent::Producer(s)));
    key(&mut a, KeyCode::Char('r'));
    let screen = draw(&a, 200, 40);
    assert!(
        screen.contains("transactions: 54 begun · 36 committed · 18 aborted · commit p99 3.98 ms"),
        "{screen}"
    );
    assert!(
        screen.contains("txn ok") && screen.contains("commit p99"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn partition_view_and_stream_table() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    a.update(Event::Kafka(member(1, &[0, 1, 2])));
    a.update(Event::Kafka(member(2, &[3, 4])));
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: (0..6)
            .map(|p| PartitionInfo {
                partition: p,
                leader: p % 3 + 1,
                replicas: vec![p % 3 + 1],
                isr: vec![p % 3 + 1],
                low_watermark: 0,
                high_watermark: 40 + i64::from(p),
            })
            .collect(),
        topics: vec!["breweries".into(), "beers".into()],
    })));
    key(&mut a, KeyCode::Char('v'));
    insta::assert_snapshot!(draw(&a, 140, 36));
}

/// A member's settled assignment at `ms` (its partitions last revoked at `revoked`).
fn assigned(id: u32, partitions: &[i32], ms: u64, revoked: Option<u64>) -> KafkaEvent {
    let KafkaEvent::Member(mut m) = member(id, partitions) else {
        unreachable!()
    };
    m.last_rebalance = Some(clock(ms));
    m.last_revoke = revoked.map(clock);
    KafkaEvent::Member(m)
}

#[test]
fn rebalance_timeline_and_assignment_map() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    members(&mut a, 1);
    a.update(Event::Kafka(assigned(1, &[0, 1, 2, 3, 4, 5], 1_000, None)));
    key(&mut a, KeyCode::Char('c'));
    a.update(Event::Kafka(assigned(1, &[0, 1, 2], 5_900, Some(5_000))));
    a.update(Event::Kafka(assigned(2, &[3, 4, 5], 5_950, None)));
    // consumer-1 leaves: consumer-2 takes all six.
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char('x'));
    a.update(Event::Kafka(KafkaEvent::MemberLeft {
        id: 1,
        at: clock(9_000),
    }));
    a.update(Event::Kafka(assigned(
        2,
        &[0, 1, 2, 3, 4, 5],
        10_250,
        Some(9_100),
    )));
    key(&mut a, KeyCode::Char('g'));
    insta::assert_snapshot!(draw(&a, 120, 36));
}

#[test]
fn record_detail_with_a_binary_value() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    let KafkaEvent::Member(mut m) = member(1, &[0, 1]) else {
        unreachable!()
    };
    // A record that is not UTF-8, with a control character in its key and a null header.
    m.latest.push(RecentRecord::keep(ConsumedRecord {
        topic: "breweries".into(),
        partition: 1,
        offset: 41,
        timestamp_ms: Some(1_795_608_000_500),
        timestamp_type: "log-append",
        key: Some(b"bad\x1b[2Jkey".to_vec()),
        value: Some(vec![0xff, 0xfe, 0x00, 0x41, 0x1b]),
        headers: vec![("trace".into(), None)],
    }));
    a.update(Event::Kafka(KafkaEvent::Member(m)));
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Enter);
    let binary = draw(&a, 120, 36);
    key(&mut a, KeyCode::Down);
    let json = draw(&a, 120, 36);
    insta::assert_snapshot!(format!("{binary}\n{json}"));
}

#[test]
fn any_size_renders_without_panic() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    for id in 1..=12 {
        a.update(Event::Kafka(member(id, &[(id % 6) as i32])));
    }
    key(&mut a, KeyCode::Char('?'));
    for w in (1..=200).step_by(13) {
        for h in (1..=80).step_by(7) {
            draw(&a, w, h);
        }
    }
}

/// A session with something in every view: runs, members, a rebalance, the topic.
fn busy() -> App {
    let mut a = app();
    members(&mut a, 1);
    a.update(Event::Kafka(assigned(1, &[0, 1, 2, 3, 4, 5], 1_000, None)));
    key(&mut a, KeyCode::Char('c'));
    a.update(Event::Kafka(assigned(1, &[0, 1, 2], 5_900, Some(5_000))));
    a.update(Event::Kafka(assigned(2, &[3, 4, 5], 5_950, None)));
    three_runs(
        &mut a,
        [50.0, 50.0, 120_000.0],
        [1.0, 2.4, 96.0],
        [0, 0, 0],
        false,
        3495,
    );
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: (0..6)
            .map(|p| {
                // Three replicas each; partition 4's last follower fell out of sync.
                let replicas: Vec<i32> = (0..3).map(|i| (p + i) % 3 + 1).collect();
                let isr = if p == 4 {
                    replicas[..2].to_vec()
                } else {
                    replicas.clone()
                };
                PartitionInfo {
                    partition: p,
                    leader: p % 3 + 1,
                    replicas,
                    isr,
                    low_watermark: 0,
                    high_watermark: 580 + i64::from(p),
                }
            })
            .collect(),
        topics: vec!["breweries".into()],
    })));
    a
}

/// Every view at every size a terminal is likely to have: nothing may be cut without a mark.
#[test]
fn every_view_at_every_size() {
    for (w, h) in [(80, 24), (100, 30), (120, 40), (200, 50), (250, 60)] {
        let mut a = busy();
        a.update(Event::Resize(w, h));
        let mut frames = Vec::new();
        let main = draw(&a, w, h);
        // The producer's figures stay whole at every width.
        assert!(main.contains("delivered 3,495"), "{w}x{h}:\n{main}");
        frames.push(main);
        for (view, name) in [
            ('v', "partitions"),
            ('g', "rebalances"),
            ('r', "runs"),
            ('R', "consumer runs"),
        ] {
            key(&mut a, KeyCode::Char(view));
            let frame = draw(&a, w, h);
            frames.push(format!("{name}:\n{frame}"));
            key(&mut a, KeyCode::Char(view));
        }
        key(&mut a, KeyCode::Char('r'));
        key(&mut a, KeyCode::Char('z'));
        let zoomed = draw(&a, w, h);
        for header in ["run", "rec/s", "p50", "p99"] {
            assert!(
                zoomed.contains(header),
                "{w}x{h}: the runs table lost {header}"
            );
        }
        frames.push(format!("runs, zoomed:\n{zoomed}"));
        insta::assert_snapshot!(format!("every_view_{w}x{h}"), frames.join("\n"));
    }
}

#[test]
fn narrow_screens_bring_the_settings_up_over_the_producer() {
    let mut a = busy();
    let before = draw(&a, 100, 30);
    assert!(
        !before.contains("Settings (s)"),
        "no settings panel below 120 columns"
    );
    key(&mut a, KeyCode::Char('s'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('7'));
    let editing = draw(&a, 100, 30);
    assert!(editing.contains("*linger.ms"), "a pending edit is marked");
    assert!(editing.contains("1 edit pending"));
    insta::assert_snapshot!(editing);
}

#[test]
fn acks_zero_shows_no_offsets_and_no_missing_records() {
    let mut a = app();
    let mut zero = settings();
    zero.acks = kafka_lab::kafka::settings::Acks::Zero;
    let KafkaEvent::Producer(mut s) = producer(1, 6) else {
        unreachable!()
    };
    s.settings = zero.clone();
    for d in &mut s.latest {
        d.offset = None;
    }
    a.update(Event::Kafka(KafkaEvent::Producer(s)));
    let mut report = RunReport {
        run: 1,
        settings: zero.report_settings(),
        sent: 1034,
        delivered: 1034,
        records: 1000,
        records_per_sec: 50.0,
        ..RunReport::default()
    };
    report.accounting = Some(Accounting {
        received: 1030,
        not_found: 4,
        unconfirmed: true,
        ..Accounting::default()
    });
    a.update(Event::Kafka(KafkaEvent::RunEnded(Box::new(report))));
    key(&mut a, KeyCode::Char('r'));
    let screen = draw(&a, 120, 36);
    assert!(screen.contains("acks=0: the broker does not answer"));
    assert!(!screen.contains("-1001") && !screen.contains("-1 "));
    assert!(screen.contains("1030 of 1034 sent found"));
    insta::assert_snapshot!(screen);
}

#[test]
fn two_marked_runs_compared_with_the_zoomed_charts() {
    let mut a = busy();
    key(&mut a, KeyCode::Char('r'));
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::Char('m'));
    key(&mut a, KeyCode::End);
    key(&mut a, KeyCode::Char('m'));
    key(&mut a, KeyCode::Char('z'));
    let screen = draw(&a, 200, 50);
    assert!(
        screen.contains("run 1 → run 3: linger.ms: 5 → 0"),
        "{screen}"
    );
    assert!(screen.contains("x2400.00"), "throughput change");
    assert!(screen.contains("latency ms against records/s"));
    insta::assert_snapshot!(screen);
}

#[test]
fn the_fault_dialog_of_a_kafka_local_cluster() {
    let mut a = app_on(ClusterInfo {
        owned: false,
        embedded: false,
        local_nodes: Some(3),
        ..embedded()
    });
    a.update(Event::Kafka(producer(1, 6)));
    key(&mut a, KeyCode::Char('b'));
    key(&mut a, KeyCode::Down);
    insta::assert_snapshot!(draw(&a, 100, 30));
    // With the topic's metadata, the dialog names the partition's leader node; the third
    // choice is the loss recipe, explained.
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: (0..6)
            .map(|p| PartitionInfo {
                partition: p,
                leader: p % 3 + 1,
                replicas: (0..3).map(|i| (p + i) % 3 + 1).collect(),
                isr: (0..3).map(|i| (p + i) % 3 + 1).collect(),
                low_watermark: 0,
                high_watermark: 10,
            })
            .collect(),
        topics: vec!["breweries".into()],
    })));
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Right);
    let recipe = draw(&a, 100, 30);
    assert!(
        recipe.contains("partition 1: leader node 2, replicas 2,3,1, in sync 2,3,1"),
        "{recipe}"
    );
    assert!(
        recipe.contains("acks=1 loss: pause the followers 2 s"),
        "{recipe}"
    );
    assert!(recipe.contains("The loss, every time"), "{recipe}");
}

/// A scenario playing: the strip above the status bar, the current step highlighted, the
/// time to the next, the assertions so far; then paused.
#[test]
fn a_scenario_strip() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    a.update(Event::Kafka(member(1, &[0, 1, 2, 3, 4, 5])));
    a.update(Event::Script(Step::Progress(ScenarioStrip {
        title: "Group scaling".into(),
        steps: [
            "rate 500",
            "start the producer",
            "consumers: 1",
            "wait 10s",
            "assert members == 1",
            "consumers: 2",
            "wait 10s",
        ]
        .map(String::from)
        .to_vec(),
        current: Some(3),
        next_in: Some(6.2),
        passed: 1,
        ..Default::default()
    })));
    insta::assert_snapshot!(draw(&a, 120, 36));
    a.update(Event::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(' '),
        crossterm::event::KeyModifiers::NONE,
    )));
    let paused = draw(&a, 120, 36);
    assert!(
        paused.contains("scenario paused (Space resumes)"),
        "{paused}"
    );
    assert!(!paused.contains("screen frozen"), "{paused}");
    assert!(a.scenario().unwrap().paused);
    assert!(!a.frozen(), "Space pauses the scenario, not the screen");
}

/// Without a scenario, Space freezes the screen, and the status bar and the producer's title
/// say so in those words; the hint bar keeps help and quit at every width.
#[test]
fn a_frozen_screen_says_so_and_help_and_quit_stay_hinted() {
    for (w, h) in [(80, 24), (120, 40), (200, 50)] {
        let mut a = app();
        a.update(Event::Kafka(producer(1, 6)));
        let screen = draw(&a, w, h);
        let last = screen.lines().last().unwrap().trim_end_matches(['"', ' ']);
        assert!(last.ends_with("? help · q quit"), "{w}x{h}: {last}");
        key(&mut a, KeyCode::Char(' '));
        let frozen = draw(&a, w, h);
        assert!(a.frozen());
        assert!(frozen.contains("screen frozen"), "{w}x{h}:\n{frozen}");
        assert!(!frozen.contains("PAUSED"), "{w}x{h}:\n{frozen}");
    }
}

/// Member 1's snapshot at `ms`, on all six partitions, with `records` finished since its last
/// one at `e2e_ms` each and `fetches` sent.
fn working(ms: u64, records: u64, e2e_ms: u64, fetches: u64) -> KafkaEvent {
    let KafkaEvent::Member(mut m) = assigned(1, &[0, 1, 2, 3, 4, 5], 100, None) else {
        unreachable!()
    };
    m.at = clock(ms);
    m.fresh = kafka_lab::lab::snapshots::Fresh {
        records,
        e2e: vec![(e2e_ms * 1000, records)],
        fetches: Some(fetches),
        kicks: 0,
    };
    KafkaEvent::Member(m)
}

#[test]
fn consumer_runs_compared() {
    let mut a = app();
    a.update(Event::Resize(120, 40));
    for i in 1..=60 {
        a.update(Event::Kafka(working(i * 250, 5, 8, 5)));
    }
    let change = kafka_lab::lab::settings::ConsumerChange {
        properties: [
            ("fetch.min.bytes".to_string(), "1000000".to_string()),
            ("fetch.wait.max.ms".to_string(), "500".to_string()),
        ]
        .into(),
        ..Default::default()
    };
    a.update(Event::Script(Step::Consumer(change)));
    let KafkaEvent::Member(mut again) = working(15_100, 0, 0, 0) else {
        unreachable!()
    };
    again.last_rebalance = Some(clock(15_100));
    a.update(Event::Kafka(KafkaEvent::Member(again)));
    for i in 61..=120 {
        a.update(Event::Kafka(working(
            i * 250,
            5,
            250,
            u64::from(i % 2 == 0),
        )));
    }
    key(&mut a, KeyCode::Char('R'));
    // From the producer, the next pane is the view.
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char('m'));
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Char('m'));
    let frame = draw(&a, 120, 40);
    assert!(frame.contains("fetch.min.bytes=1000000"), "{frame}");
    insta::assert_snapshot!(frame);
}

/// A node kafka-lab killed is shown at once (its leader cells red and marked, a line saying
/// since when), while the cluster still names it; once the cluster moved its partitions the
/// line says so; brought back, nothing is marked.
#[test]
fn a_killed_leader_is_shown_before_the_cluster_notices() {
    let mut a = busy();
    key(&mut a, KeyCode::Char('v'));
    a.update(Event::NodeState {
        node: 1,
        down: Some("killed"),
    });
    let at_once = draw(&a, 120, 40);
    assert!(
        at_once.contains("✗ node 1 killed 0 s ago · the cluster still says leader of 0, 3"),
        "{at_once}"
    );
    assert!(at_once.contains("1✗"), "{at_once}");
    insta::assert_snapshot!(at_once);
    // The cluster elected others: partitions 0 and 3 led by node 2.
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: (0..6)
            .map(|p| {
                let leader = if p % 3 == 0 { 2 } else { p % 3 + 1 };
                PartitionInfo {
                    partition: p,
                    leader,
                    replicas: (0..3).map(|i| (p + i) % 3 + 1).collect(),
                    isr: (0..3)
                        .map(|i| (p + i) % 3 + 1)
                        .filter(|n| *n != 1)
                        .collect(),
                    low_watermark: 0,
                    high_watermark: 600,
                }
            })
            .collect(),
        topics: vec!["breweries".into()],
    })));
    let moved = draw(&a, 120, 40);
    assert!(
        moved.contains("✗ node 1 killed 0 s ago · leads nothing, in sync for nothing"),
        "{moved}"
    );
    assert!(!moved.contains("1✗"), "{moved}");
    a.update(Event::NodeState {
        node: 1,
        down: None,
    });
    assert!(!draw(&a, 120, 40).contains("✗"));
}

/// At 80x24: a member with more partitions than rows says how many more; big offsets are
/// written as every count is (1,234,567); the state chips come first on the status bar.
#[test]
fn a_small_screen_says_what_it_leaves_out_and_keeps_the_chips() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 12)));
    let KafkaEvent::Member(mut m) = member(1, &(0..12).collect::<Vec<_>>()) else {
        unreachable!()
    };
    m.partitions[0].position = Some(1_234_567);
    m.partitions[0].high_watermark = Some(1_234_600);
    a.update(Event::Kafka(KafkaEvent::Member(m)));
    a.update(Event::Resize(80, 24));
    key(&mut a, KeyCode::Char('/'));
    for c in "Calif".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char(' '));
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("more partitions"), "{screen}");
    assert!(screen.contains("1,234,567"), "{screen}");
    let status = screen.lines().rev().nth(1).unwrap();
    assert!(
        status.contains("screen frozen") && status.contains("filter “Calif”"),
        "{status}"
    );
    insta::assert_snapshot!(screen);
}

/// Under the runs table, a line per faulted run says what was done, without the time stamp
/// the export carries.
#[test]
fn the_runs_table_says_what_each_fault_was() {
    let mut a = app();
    for text in [
        "node 3 (follower of partition 0): pause (SIGSTOP: hangs)",
        "node 2 (leader of partition 0): kill (SIGKILL: dies at once)",
    ] {
        a.update(Event::Fault {
            text: text.into(),
            started: true,
        });
    }
    a.update(Event::Kafka(run(1, "5", 2000.0, 9.0, 40.0, 4145)));
    key(&mut a, KeyCode::Char('r'));
    let screen = draw(&a, 200, 50);
    assert!(
        screen.contains(
            "! run 1 had a fault: node 3 (follower of partition 0): pause (SIGSTOP: hangs) · node 2 \
             (leader of partition 0): kill"
        ),
        "{screen}"
    );
    assert!(!screen.contains("(run 1, at"), "{screen}");
}

/// Sorted by p99, the runs table marks the column (▼) and lists the lowest first; the charts
/// name the window `+`/`-` chose.
#[test]
fn a_sorted_runs_table_and_a_shorter_chart_window_say_so() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    three_runs(
        &mut a,
        [5000.0, 5000.0, 4200.0],
        [4.2, 41.0, 1.1],
        [0, 0, 3],
        false,
        0,
    );
    key(&mut a, KeyCode::Char('r'));
    for _ in 0..20 {
        key(&mut a, KeyCode::Char('>'));
        if draw(&a, 140, 40).contains("runs sorted by p99, best first") {
            break;
        }
    }
    for _ in 0..3 {
        key(&mut a, KeyCode::Char('+'));
    }
    let screen = draw(&a, 140, 40);
    assert!(screen.contains("p99▼"), "{screen}");
    let first_cells: Vec<&str> = screen
        .lines()
        .filter_map(|l| l.trim_start_matches('"').strip_prefix('│'))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|cell| ["1", "2", "3"].contains(cell))
        .collect();
    assert_eq!(first_cells, ["3", "1", "2"], "lowest p99 first:\n{screen}");
    assert!(
        screen.contains("records/s, log scale, last 15 s"),
        "{screen}"
    );
    assert!(screen.contains("p99 ms, log scale, last 15 s"), "{screen}");
}

/// The group's lag counts what members own: partitions without an owner are said, and with
/// nobody reading there is no figure to give.
#[test]
fn group_lag_says_what_it_does_not_count() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    // Twice: the group's lag has a point from a member's second snapshot on.
    a.update(Event::Kafka(member(1, &[0, 1, 2])));
    a.update(Event::Kafka(member(1, &[0, 1, 2])));
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: (0..6)
            .map(|p| PartitionInfo {
                partition: p,
                leader: 1,
                replicas: vec![1],
                isr: vec![1],
                low_watermark: 0,
                high_watermark: 40,
            })
            .collect(),
        topics: vec!["breweries".into()],
    })));
    key(&mut a, KeyCode::Char('v'));
    key(&mut a, KeyCode::Char('z'));
    let screen = draw(&a, 140, 50);
    assert!(
        screen.contains("· 3 partitions without an owner, not counted"),
        "{screen}"
    );
    // The member's partitions taken away (mid-rebalance): no figure, not a stale one.
    a.update(Event::Kafka(member(1, &[])));
    let screen = draw(&a, 140, 50);
    assert!(
        screen.contains("group lag - (no member reads a partition now)"),
        "{screen}"
    );
}

/// Two members at the two isolation levels while transactions run: the `read_committed` one
/// shows each partition's last stable offset beside the high watermark and the lag to each; the
/// `read_uncommitted` one counts the aborted records it was handed and marks them.
#[test]
fn read_committed_and_read_uncommitted_side_by_side() {
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    let KafkaEvent::Member(mut committed) = member(1, &[0, 1, 2]) else {
        unreachable!()
    };
    for p in &mut committed.partitions {
        // An open transaction of 30 records past the stable offset.
        p.stable = p.high_watermark.map(|h| h - 30);
        p.high_watermark = p.high_watermark.map(|h| h + 5);
        p.position = p.stable.map(|s| s - 3);
    }
    a.update(Event::Kafka(KafkaEvent::Member(committed)));
    let KafkaEvent::Member(mut uncommitted) = member(2, &[3, 4, 5]) else {
        unreachable!()
    };
    uncommitted.isolation = Isolation::ReadUncommitted;
    uncommitted.aborted_seen = 1_250;
    let mut aborted = RecentRecord::keep(ConsumedRecord {
        topic: "breweries".into(),
        partition: 4,
        offset: 46,
        timestamp_ms: Some(1_795_608_000_500),
        timestamp_type: "create",
        key: Some(b"b-17".to_vec()),
        value: Some(br#"{"id":"b-17","name":"Aborted Ales"}"#.to_vec()),
        headers: Vec::new(),
    });
    aborted.aborted = true;
    uncommitted.latest.push(aborted);
    a.update(Event::Kafka(KafkaEvent::Member(uncommitted)));
    insta::assert_snapshot!(draw(&a, 160, 44));
}

/// The partition view of a big topic makes only the rows it shows: scrolled, it shows the
/// right ones, with their owners, and says how many are above and below.
#[test]
fn a_thousand_partitions_scroll_in_the_partition_view() {
    let mut a = kafka_lab::lab::state::App::new(
        ClusterInfo {
            partitions: 1000,
            ..common::fixtures::embedded()
        },
        common::fixtures::settings(),
        kafka_lab::lab::settings::ConsumerSettings::effective(None),
        std::collections::BTreeMap::new(),
    );
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: (0..1000)
            .map(|i| PartitionInfo {
                partition: i,
                leader: 1,
                replicas: vec![1],
                isr: vec![1],
                low_watermark: 0,
                high_watermark: 5_000 + i64::from(i),
            })
            .collect(),
        topics: vec!["breweries".into()],
    })));
    let owned: Vec<i32> = (0..1000).filter(|p| p % 2 == 1).collect();
    a.update(Event::Kafka(member(1, &owned)));
    key(&mut a, KeyCode::Char('v'));
    key(&mut a, KeyCode::Char('2'));
    for _ in 0..500 {
        key(&mut a, KeyCode::Down);
    }
    let screen = draw(&a, 120, 40);
    let row = |p: &str| {
        screen
            .lines()
            .find(|l| l.contains(&format!("┃ {p}      1 ")))
            .unwrap_or_else(|| panic!("no row {p}: {screen}"))
    };
    assert!(row("500").contains("no owner"), "an even one has no owner");
    assert!(
        row("501").contains("consumer-1"),
        "an odd one is consumer-1's"
    );
    assert!(!screen.contains("┃ 499 "), "the rows above are not shown");
    assert!(screen.contains("↑ 500 above"), "{screen}");
    // The summary stays on top: how many, how many nobody reads, the order.
    assert!(
        screen.contains("┃1,000 partitions · 500 without an owner"),
        "{screen}"
    );
    assert!(screen.contains("by partition (< >)"), "{screen}");
    // Sorted by owner: those nobody reads come first, from the top.
    for _ in 0..3 {
        key(&mut a, KeyCode::Char('>'));
    }
    let screen = draw(&a, 120, 40);
    assert!(screen.contains("by owner (none first)"), "{screen}");
    assert!(screen.contains("┃   0      1 "), "{screen}");
    assert!(screen.contains("┃   2      1 "), "{screen}");
    assert!(!screen.contains("┃   1      1 "), "{screen}");
}

/// The processors' panes under the members: the exactly-once one crashed (its output whole,
/// nothing twice), the at-least-once one running again with the copies it wrote twice.
#[test]
fn two_processors_one_crashed_one_with_duplicates() {
    use kafka_lab::lab::snapshots::{Guarantee, ProcessorSnapshot, ProcessorState, TallyFigures};
    let mut a = app_on(ClusterInfo {
        embedded: false,
        label: "127.0.0.1:9092".into(),
        ..embedded()
    });
    a.update(Event::Kafka(producer(1, 6)));
    a.update(Event::Kafka(member(1, &[0, 1, 2, 3, 4, 5])));
    key(&mut a, KeyCode::Char('P'));
    let pane = |guarantee, state, duplicated| ProcessorSnapshot {
        instance: 1,
        guarantee,
        state,
        from: "breweries".into(),
        to: format!("breweries.{}", guarantee.name()),
        id: format!("kafka-lab-process.breweries.breweries.{}", guarantee.name()),
        partitions: 6,
        records: 4_000,
        batches: 40,
        aborted: 0,
        uncommitted: 0,
        commit_p50_ms: Some(12.5),
        commit_p99_ms: Some(33.25),
        crashes: 1,
        output: TallyFigures {
            input: 12_100,
            written: 12_000,
            duplicated,
            missing: 100,
        },
        news: None,
    };
    a.update(Event::Kafka(KafkaEvent::Processor(Box::new(pane(
        Guarantee::ExactlyOnce,
        ProcessorState::Crashed(clock(1_000)),
        0,
    )))));
    a.update(Event::Kafka(KafkaEvent::Processor(Box::new(pane(
        Guarantee::AtLeastOnce,
        ProcessorState::Running,
        87,
    )))));
    let screen = draw(&a, 160, 44);
    insta::assert_snapshot!(screen);
    // Narrow: one pane, two lines each, nothing cut that matters.
    let narrow = draw(&a, 80, 30);
    insta::assert_snapshot!("two_processors_at_80x30", narrow);
}

#[test]
fn workers_heard_on_the_control_topic() {
    use kafka_lab::lab::snapshots::WorkerSeen;
    let mut a = app();
    a.update(Event::Kafka(producer(1, 6)));
    a.update(Event::Kafka(member(1, &[0, 1, 2, 3, 4, 5])));
    let worker = |name: &str, job: Option<&str>, rate: f64| WorkerSeen {
        name: name.into(),
        host: "laptop".into(),
        job: job.map(Into::into),
        records_per_sec: rate,
        p99_ms: 4.25,
        delivered: 12_345,
    };
    a.update(Event::Kafka(KafkaEvent::Workers(vec![
        worker("w1", Some("ci-1-a3f"), 4_990.0),
        worker("w2", Some("ci-1-a3f"), 5_010.0),
        worker("w3", None, 0.0),
    ])));
    insta::assert_snapshot!(draw(&a, 120, 36));
}
