//! `App::update` unit tests: keys in, commands and state out.

use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::forms::{Field, FIELDS};
use super::views::{LogLine, ERROR_SHOWN_FOR, HISTORY, LOG_LINES};
use super::*;
use crate::data::source::KeyField;
use crate::kafka::settings::{Acks, Compression, Partitioner, Strategies, Strategy};
use crate::lab::settings::Isolation;
use crate::lab::snapshots::ProducerSnapshot;
use crate::lab::snapshots::{MemberSnapshot, PartitionLag};

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
        rtt_ms: None,
        txn_records: 0,
        abort_every: 0,
        extra: std::collections::BTreeMap::default(),
    }
}

pub(crate) fn app() -> App {
    App::new(
        ClusterInfo {
            label: "embedded cluster 127.0.0.1:1".into(),
            embedded: true,
            owned: true,
            local_nodes: None,
            topic: "breweries".into(),
            partitions: 6,
            group: "kafka-lab".into(),
        },
        settings(),
        ConsumerSettings::effective(None),
        std::collections::BTreeMap::new(),
    )
}

fn key(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        .commands
}

pub(crate) fn producer(run: u32, state: ProducerState) -> Event {
    Event::Kafka(KafkaEvent::Producer(Box::new(ProducerSnapshot {
        sent: 10,
        delivered: 10,
        run_elapsed: Duration::from_secs(1),
        since_start: Duration::from_secs(1),
        ..ProducerSnapshot::new(run, state, settings())
    })))
}

fn member(id: u32, partitions: &[i32]) -> Event {
    let mut m = MemberSnapshot::new(id);
    m.state = if partitions.is_empty() {
        MemberState::Idle
    } else {
        MemberState::Assigned
    };
    m.partitions = partitions
        .iter()
        .map(|&partition| PartitionLag {
            partition,
            position: Some(1),
            high_watermark: Some(2),
            stable: None,
        })
        .collect();
    m.last_rebalance = Some(SystemTime::UNIX_EPOCH);
    Event::Kafka(KafkaEvent::Member(Box::new(m)))
}

#[test]
fn p_stops_a_running_producer_and_starts_a_stopped_one() {
    let mut a = app();
    assert_eq!(
        key(&mut a, KeyCode::Char('p')),
        vec![Command::StartProducer]
    );
    a.update(producer(1, ProducerState::Running));
    assert_eq!(key(&mut a, KeyCode::Char('p')), vec![Command::StopProducer]);
    a.update(producer(1, ProducerState::Stopped));
    assert_eq!(
        key(&mut a, KeyCode::Char('p')),
        vec![Command::StartProducer]
    );
}

#[test]
fn h_holds_the_selected_consumer_and_resumes_it_once_held() {
    let mut a = app();
    a.update(member(1, &[0, 1, 2]));
    // h needs a selected consumer.
    assert_eq!(key(&mut a, KeyCode::Char('h')), vec![]);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.screen.focus, Focus::Member(0));
    assert_eq!(
        key(&mut a, KeyCode::Char('h')),
        vec![Command::HoldMember { id: 1, held: true }]
    );
    let mut held = a.model.members[0].snapshot.clone();
    held.state = MemberState::Held;
    a.update(Event::Kafka(KafkaEvent::Member(Box::new(held))));
    assert_eq!(
        key(&mut a, KeyCode::Char('h')),
        vec![Command::HoldMember { id: 1, held: false }]
    );
}

#[test]
fn c_adds_members_with_new_ids_and_x_removes_the_selected_one() {
    let mut a = app();
    assert_eq!(a.reserve_member(), 1);
    a.update(member(1, &[0, 1, 2, 3, 4, 5]));
    assert_eq!(key(&mut a, KeyCode::Char('c')), vec![Command::AddMember(2)]);
    a.update(member(2, &[3, 4, 5]));
    assert_eq!(a.model.members.len(), 2);
    // x needs a selected consumer.
    assert_eq!(key(&mut a, KeyCode::Char('x')), vec![]);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.screen.focus, Focus::Member(1));
    assert_eq!(
        key(&mut a, KeyCode::Char('x')),
        vec![Command::RemoveMember(2)]
    );
    a.update(Event::Kafka(KafkaEvent::MemberLeft {
        id: 2,
        at: SystemTime::UNIX_EPOCH,
    }));
    assert_eq!(a.model.members.len(), 1);
    assert_eq!(
        a.screen.focus,
        Focus::Member(0),
        "focus moves to a pane that exists"
    );
}

#[test]
fn tab_and_arrows_cycle_through_panes() {
    let mut a = app();
    a.update(member(1, &[0]));
    assert_eq!(a.screen.focus, Focus::Producer);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.screen.focus, Focus::Member(0));
    key(&mut a, KeyCode::Right);
    assert_eq!(a.screen.focus, Focus::Producer);
    key(&mut a, KeyCode::Left);
    assert_eq!(a.screen.focus, Focus::Member(0));
    key(&mut a, KeyCode::BackTab);
    assert_eq!(a.screen.focus, Focus::Producer);
}

#[test]
fn settings_edit_validate_and_apply() {
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    assert!(matches!(a.screen.modal, Modal::Settings));
    // q is text here, not quit.
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    assert_eq!(FIELDS[a.screen.settings.selected], Field::LingerMs);
    key(&mut a, KeyCode::Backspace);
    for c in "-3".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    assert!(a
        .screen
        .settings
        .error(a.screen.settings.selected)
        .unwrap()
        .contains("range"));
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![],
        "an invalid form is not applied"
    );
    assert!(a
        .screen
        .settings
        .form_error
        .as_ref()
        .unwrap()
        .contains("linger.ms"));
    key(&mut a, KeyCode::Backspace);
    key(&mut a, KeyCode::Backspace);
    for c in "20".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    assert_eq!(a.screen.settings.error(a.screen.settings.selected), None);
    let mut want = settings();
    want.linger_ms = "20".into();
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Command::ApplySettings(want.clone())]
    );
    assert_eq!(a.model.applied, want);
    assert!(
        matches!(a.screen.modal, Modal::None),
        "applied: the settings close"
    );
}

#[test]
fn group_settings_restart_only_the_consumers() {
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    assert_eq!(a.status.message.as_deref(), Some("nothing changed"));
    assert!(
        matches!(a.screen.modal, Modal::None),
        "Enter closes the settings"
    );
    key(&mut a, KeyCode::Char('s'));
    let i = FIELDS.iter().position(|f| *f == Field::Assignment).unwrap();
    for _ in 0..FIELDS.len() {
        if a.screen.settings.selected == i {
            break;
        }
        key(&mut a, KeyCode::Down);
    }
    assert_eq!(
        a.screen.settings.selected, i,
        "↓ reaches the group assignment"
    );
    // A field of fixed choices: ← → move through them, letters do not type.
    key(&mut a, KeyCode::Char('x'));
    assert_eq!(
        a.screen.settings.value(Field::Assignment),
        "range,roundrobin"
    );
    assert!(a
        .screen
        .settings
        .form_error
        .as_ref()
        .unwrap()
        .contains("← →"));
    for _ in 0..8 {
        if a.screen.settings.value(Field::Assignment) == "cooperative-sticky" {
            break;
        }
        key(&mut a, KeyCode::Right);
    }
    assert_eq!(
        a.screen.settings.value(Field::Assignment),
        "cooperative-sticky"
    );
    assert!(
        a.screen.settings.pending(i),
        "an edit shows pending until Enter"
    );
    let want = ConsumerSettings {
        strategies: Strategies(vec![Strategy::CooperativeSticky]),
        ..ConsumerSettings::effective(None)
    };
    assert_eq!(key(&mut a, KeyCode::Enter), vec![Command::Consumers(want)]);
    assert!(!a.screen.settings.any_pending());
}

#[test]
fn topic_form_checks_values_and_issues_one_command() {
    let mut a = app();
    key(&mut a, KeyCode::Char('a'));
    assert!(matches!(a.screen.modal, Modal::Topics(_)));
    for c in "bad name".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    assert!(topic_error(&a).contains("topic name"));
    for _ in 0..8 {
        key(&mut a, KeyCode::Backspace);
    }
    for c in "beers".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    let create = Command::CreateTopic {
        name: "beers".into(),
        partitions: 6,
        replication: 1,
    };
    assert_eq!(key(&mut a, KeyCode::Enter), vec![create]);
    assert!(matches!(a.screen.modal, Modal::None));
    // Partitions only grow, on a cluster that can add them.
    a.model.cluster.embedded = false;
    a.model.cluster.owned = false;
    key(&mut a, KeyCode::Char('a'));
    for _ in 0..3 {
        key(&mut a, KeyCode::Down);
    }
    key(&mut a, KeyCode::Backspace);
    key(&mut a, KeyCode::Char('4'));
    assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    assert!(topic_error(&a).contains("only grow"));
    key(&mut a, KeyCode::Backspace);
    key(&mut a, KeyCode::Char('9'));
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Command::AddPartitions { total: 9 }]
    );
    key(&mut a, KeyCode::Char('a'));
    key(&mut a, KeyCode::Up);
    for c in "beers".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Command::SwitchTopic("beers".into())]
    );
    a.update(Event::TopicSwitched {
        topic: "beers".into(),
        partitions: 6,
    });
    assert_eq!(a.model.cluster.topic, "beers");
}

#[test]
fn idempotence_needs_acks_all() {
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    for _ in 0..Acks::ALL.len() {
        if a.screen.settings.value(Field::Acks) == "1" {
            break;
        }
        key(&mut a, KeyCode::Left);
    }
    assert_eq!(a.screen.settings.value(Field::Acks), "1");
    let i = FIELDS
        .iter()
        .position(|f| *f == Field::Idempotence)
        .unwrap();
    for _ in 0..FIELDS.len() {
        if a.screen.settings.selected == i {
            break;
        }
        key(&mut a, KeyCode::Down);
    }
    assert_eq!(a.screen.settings.selected, i, "↓ reaches idempotence");
    key(&mut a, KeyCode::Right);
    assert_eq!(a.screen.settings.value(Field::Idempotence), "true");
    assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    assert!(a
        .screen
        .settings
        .form_error
        .as_ref()
        .unwrap()
        .contains("acks=all"));
}

/// Transactions need idempotence: said before anything restarts; with it, the producer
/// restarts transactional.
#[test]
fn transactions_need_idempotence_and_then_apply() {
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    let at = |f: Field| FIELDS.iter().position(|g| *g == f).unwrap();
    let select = |a: &mut App, f: Field| {
        while a.screen.settings.selected != at(f) {
            let down = a.screen.settings.selected < at(f);
            key(a, if down { KeyCode::Down } else { KeyCode::Up });
        }
    };
    select(&mut a, Field::Transactions);
    for c in "10".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    assert_eq!(a.screen.settings.value(Field::Transactions), "10");
    assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    let error = a.screen.settings.form_error.clone().unwrap();
    assert!(error.contains("enable.idempotence=true"), "{error}");
    select(&mut a, Field::Idempotence);
    key(&mut a, KeyCode::Right);
    let commands = key(&mut a, KeyCode::Enter);
    let applied = commands
        .iter()
        .find_map(|c| match c {
            Command::ApplySettings(s) | Command::SetSettings(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{commands:?}"));
    assert_eq!((applied.txn_records, applied.abort_every), (10, 0));
    assert!(applied.idempotence);
    assert_eq!(applied.report_settings()["transactions"], "10");
}

#[test]
fn help_and_quit() {
    let mut a = app();
    key(&mut a, KeyCode::Char('?'));
    assert!(matches!(a.screen.modal, Modal::Help));
    assert_eq!(
        key(&mut a, KeyCode::Char('c')),
        vec![],
        "a stray key does nothing in the help: no consumer added"
    );
    assert!(matches!(a.screen.modal, Modal::Help), "and the help stays");
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(
        a.screen.scroll.help, 1,
        "j scrolls the help as in every list"
    );
    key(&mut a, KeyCode::Esc);
    assert!(matches!(a.screen.modal, Modal::None));
    assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Command::Quit]);
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(a.update(Event::Key(ctrl_c)).commands, vec![Command::Quit]);
    assert!(a.status.quitting);
}

#[test]
fn snapshots_fill_a_bounded_log_and_history_and_mark_restarts() {
    let mut a = app();
    for _ in 0..(HISTORY + 50) {
        a.update(producer(1, ProducerState::Running));
    }
    assert_eq!(a.model.producer.history.len(), HISTORY);
    let Event::Kafka(KafkaEvent::Producer(mut s)) = producer(1, ProducerState::Restarting) else {
        unreachable!()
    };
    s.run_ended = Some("run 1 ended: 10 sent".into());
    s.skipped = 5000;
    a.update(Event::Kafka(KafkaEvent::Producer(s)));
    a.update(producer(2, ProducerState::Running));
    let marks: Vec<&LogLine> = a.model.producer.log.iter().collect();
    assert!(marks.contains(&&LogLine::Mark("run 1 ended: 10 sent".into())));
    assert!(marks.contains(&&LogLine::Skipped(5000)));
    assert!(matches!(marks.last(), Some(LogLine::Mark(m)) if m.starts_with("run 2 started")));
    for _ in 0..(LOG_LINES * 2) {
        a.update(producer(2, ProducerState::Running));
        let Event::Kafka(KafkaEvent::Producer(mut s)) = producer(2, ProducerState::Running) else {
            unreachable!()
        };
        s.skipped = 1;
        a.update(Event::Kafka(KafkaEvent::Producer(s)));
    }
    assert_eq!(a.model.producer.log.len(), LOG_LINES);
}

#[test]
fn errors_show_for_a_while_then_clear() {
    let mut a = app();
    let Event::Kafka(KafkaEvent::Producer(mut s)) = producer(1, ProducerState::Running) else {
        unreachable!()
    };
    s.last_error = Some("broker down".into());
    a.update(Event::Kafka(KafkaEvent::Producer(s)));
    assert_eq!(a.connection_problem(), Some("broker down"));
    for _ in 0..ERROR_SHOWN_FOR {
        a.update(producer(1, ProducerState::Running));
    }
    assert_eq!(a.connection_problem(), None, "recovered");
}

fn topic_error(a: &App) -> String {
    match &a.screen.modal {
        Modal::Topics(form) => form.error.clone().unwrap_or_default(),
        other => panic!("the topic dialog is not open: {other:?}"),
    }
}

#[test]
fn one_overlay_at_a_time() {
    let mut a = app();
    a.update(member(1, &[0]));
    key(&mut a, KeyCode::Char('a'));
    assert!(matches!(a.screen.modal, Modal::Topics(_)));
    // Keys go to the dialog: `?` is text there, not the help.
    key(&mut a, KeyCode::Char('?'));
    assert!(matches!(a.screen.modal, Modal::Topics(_)));
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('?'));
    assert!(matches!(a.screen.modal, Modal::Help));
    // In the help, s does not open the settings; ? closes it.
    key(&mut a, KeyCode::Char('s'));
    assert!(matches!(a.screen.modal, Modal::Help));
    key(&mut a, KeyCode::Char('?'));
    assert!(matches!(a.screen.modal, Modal::None));
}

fn delivery(seq: u64, key: &str) -> crate::kafka::producer::Delivery {
    crate::kafka::producer::Delivery {
        at: SystemTime::UNIX_EPOCH,
        seq,
        key: Some(key.into()),
        partition: 0,
        offset: Some(seq as i64),
        latency: Duration::from_millis(5),
        error: None,
    }
}

fn snapshot(run: u32, delivered: u64) -> ProducerSnapshot {
    ProducerSnapshot {
        sent: delivered,
        delivered,
        run_elapsed: Duration::from_secs(1),
        since_start: Duration::from_secs(1),
        ..ProducerSnapshot::new(run, ProducerState::Running, settings())
    }
}

fn send(a: &mut App, s: ProducerSnapshot) {
    a.update(Event::Kafka(KafkaEvent::Producer(Box::new(s))));
}

fn mouse(a: &mut App, kind: crossterm::event::MouseEventKind, column: u16, row: u16) {
    a.update(Event::Mouse(crossterm::event::MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }));
}

#[test]
fn a_client_error_clears_once_records_flow_again() {
    let mut a = app();
    let mut s = snapshot(1, 10);
    s.last_error = Some("GroupCoordinator: Connect to ipv4#127.0.0.1:1 failed".into());
    send(&mut a, s);
    let mut m = MemberSnapshot::new(1);
    m.last_error = Some("GroupCoordinator: down".into());
    m.received = 5;
    a.update(Event::Kafka(KafkaEvent::Member(Box::new(m.clone()))));
    assert!(a.connection_problem().is_some());
    // Both deliver and receive again, with no new error: healthy at once, not after ten
    // seconds; the full texts stay in the events log.
    send(&mut a, snapshot(1, 20));
    m.last_error = None;
    m.received = 9;
    a.update(Event::Kafka(KafkaEvent::Member(Box::new(m))));
    assert_eq!(a.connection_problem(), None);
    assert_eq!(a.status.events.len(), 2);
    assert!(a.status.events[0]
        .1
        .contains("Connect to ipv4#127.0.0.1:1 failed"));
}

#[test]
fn a_fault_is_marked_in_the_log_and_on_its_run() {
    let mut a = app();
    send(&mut a, snapshot(1, 10));
    a.update(Event::Fault {
        text: "broker 1 down for 5 s".into(),
        started: true,
    });
    a.update(Event::Fault {
        text: "broker 1 is back up".into(),
        started: false,
    });
    assert!(a
        .model
        .producer
        .log
        .contains(&LogLine::Mark("fault: broker 1 down for 5 s".into())));
    a.update(Event::Kafka(KafkaEvent::RunEnded(Box::new(RunReport {
        run: 1,
        ..RunReport::default()
    }))));
    assert_eq!(
        a.model.runs[0].faults,
        vec![format!(
            "broker 1 down for 5 s (run 1, at {} UTC)",
            crate::text::time_of_day(a.model.now)
        )]
    );
    // The next run starts clean.
    a.update(Event::Kafka(KafkaEvent::RunEnded(Box::new(RunReport {
        run: 2,
        ..RunReport::default()
    }))));
    assert!(a.model.runs[1].faults.is_empty());
}

#[test]
fn a_run_ends_after_its_last_deliveries_and_a_stopped_producer_keeps_its_figures() {
    let mut a = app();
    let mut s = snapshot(1, 10);
    s.report = Some(RunReport {
        run: 1,
        delivered: 10,
        ..RunReport::default()
    });
    send(&mut a, s);
    let mut last = snapshot(1, 16);
    last.state = ProducerState::Stopped;
    last.latest = (10..16).map(|i| delivery(i, "k")).collect();
    last.run_ended = Some("run 1 ended: 16 delivered".into());
    send(&mut a, last);
    let tail: Vec<&LogLine> = a.model.producer.log.iter().rev().take(2).collect();
    assert_eq!(tail[0], &LogLine::Mark("run 1 ended: 16 delivered".into()));
    assert!(matches!(tail[1], LogLine::Delivery(d) if d.seq == 15));
    assert_eq!(
        a.model
            .producer
            .last_figures
            .as_ref()
            .and_then(|s| s.report.as_ref())
            .map(|r| r.delivered),
        Some(10),
        "the stopped producer's figures stay"
    );
}

#[test]
fn messages_go_after_a_while_and_a_finished_restart_clears_its_own() {
    let mut a = app();
    send(&mut a, snapshot(1, 1));
    a.update(Event::Notice("exported 2 runs".into()));
    for _ in 0..(MESSAGE_SHOWN_FOR - 1) {
        send(&mut a, snapshot(1, 1));
    }
    assert!(a.status.message.is_some());
    send(&mut a, snapshot(1, 1));
    assert_eq!(a.status.message, None, "the key hints come back");
    for _ in 0..(2 * MESSAGE_SHOWN_FOR) {
        send(&mut a, snapshot(1, 1));
    }
    // A key's message long after the last one still stays its while.
    key(&mut a, KeyCode::Char('m'));
    send(&mut a, snapshot(1, 1));
    assert!(a.status.message.is_some(), "a key's message went at once");
    for _ in 0..MESSAGE_SHOWN_FOR {
        send(&mut a, snapshot(1, 1));
    }
    assert_eq!(a.status.message, None);
    key(&mut a, KeyCode::Char('s'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('7'));
    assert!(!key(&mut a, KeyCode::Enter).is_empty());
    assert!(a
        .status
        .message
        .as_deref()
        .unwrap_or("")
        .contains("restarting"));
    send(&mut a, snapshot(2, 1));
    assert_eq!(a.status.message, None, "the restart is done");
}

#[test]
fn idle_counts_only_members_that_stay() {
    let mut a = app();
    for id in 1..=6 {
        a.update(member(id, &[id as i32 - 1]));
    }
    let Event::Kafka(KafkaEvent::Member(mut leaving)) = member(6, &[]) else {
        unreachable!()
    };
    leaving.state = MemberState::Leaving;
    a.update(Event::Kafka(KafkaEvent::Member(leaving)));
    a.update(member(7, &[]));
    assert_eq!(a.model.members.len(), 7);
    assert_eq!(a.active_members(), 6, "the leaving member is not counted");
}

#[test]
fn esc_discards_unapplied_edits_and_typing_replaces_a_selected_value() {
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    // linger.ms is 5; typing 50 gives 50, not 550.
    key(&mut a, KeyCode::Char('5'));
    key(&mut a, KeyCode::Char('0'));
    assert_eq!(a.screen.settings.value(Field::LingerMs), "50");
    assert!(a.screen.settings.any_pending());
    key(&mut a, KeyCode::Esc);
    assert_eq!(
        a.screen.settings.value(Field::LingerMs),
        "5",
        "back to the value in force"
    );
    assert!(!a.screen.settings.any_pending());
    // An arrow moves into the value instead (the same field is still selected).
    key(&mut a, KeyCode::Char('s'));
    assert_eq!(FIELDS[a.screen.settings.selected], Field::LingerMs);
    key(&mut a, KeyCode::End);
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Char('0'));
    assert_eq!(a.screen.settings.value(Field::LingerMs), "50");
}

#[test]
fn lists_scroll_and_the_record_detail_scrolls_instead_of_closing() {
    let mut a = app();
    a.update(Event::Resize(120, 40));
    let mut s = snapshot(1, 100);
    s.latest = (0..100).map(|i| delivery(i, "k")).collect();
    send(&mut a, s);
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Char('k'));
    assert_eq!(a.screen.scroll.log, 2);
    key(&mut a, KeyCode::PageUp);
    assert!(a.screen.scroll.log > 2);
    key(&mut a, KeyCode::End);
    assert_eq!(a.screen.scroll.log, 0, "End follows the newest again");
    let Event::Kafka(KafkaEvent::Member(mut m)) = member(1, &[0]) else {
        unreachable!()
    };
    m.latest = (0..5)
        .map(|i| {
            crate::lab::snapshots::RecentRecord::keep(crate::kafka::consumer::ConsumedRecord {
                topic: "t".into(),
                partition: 0,
                offset: i,
                timestamp_ms: None,
                timestamp_type: "create",
                key: None,
                value: Some(vec![b'x'; 10_000]),
                headers: Vec::new(),
            })
        })
        .collect();
    a.update(Event::Kafka(KafkaEvent::Member(m)));
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(
        a.screen.scroll.records.get(&1),
        Some(&0),
        "already at the newest"
    );
    key(&mut a, KeyCode::Char('k'));
    assert_eq!(a.screen.scroll.records.get(&1), Some(&1));
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::PageDown);
    let Modal::Detail(d) = &a.screen.modal else {
        panic!("PgDn closed the record detail")
    };
    assert!(d.scroll > 0);
    key(&mut a, KeyCode::Down);
    let Modal::Detail(d) = &a.screen.modal else {
        panic!("closed")
    };
    assert_eq!((d.selected, d.scroll), (1, 0));
    // j and k mean what they mean in every list: the next line, here the next record.
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('k'));
    let Modal::Detail(d) = &a.screen.modal else {
        panic!("closed")
    };
    assert_eq!((d.selected, d.scroll), (2, 0));
    key(&mut a, KeyCode::Esc);
    assert!(matches!(a.screen.modal, Modal::None));
}

#[test]
fn the_mouse_selects_panes_settings_fields_and_run_rows_and_scrolls() {
    use crossterm::event::{MouseButton, MouseEventKind as M};
    let mut a = app();
    a.update(Event::Resize(200, 50));
    a.update(member(1, &[0, 1, 2]));
    a.update(member(2, &[3, 4, 5]));
    let screen = layout::screen(ratatui::layout::Rect::new(0, 0, 200, 50), false).unwrap();
    let layout::Panes::Tiles(tiles) = layout::member_panes(screen.lower, 2) else {
        panic!("two panes fit")
    };
    mouse(
        &mut a,
        M::Down(MouseButton::Left),
        tiles[1].x + 3,
        tiles[1].y + 3,
    );
    assert_eq!(a.screen.focus, Focus::Member(1));
    mouse(&mut a, M::Down(MouseButton::Left), 5, 5);
    assert_eq!(a.screen.focus, Focus::Producer);
    // The wheel scrolls what is under it, without moving the selection.
    let mut s = snapshot(1, 100);
    s.latest = (0..100).map(|i| delivery(i, "k")).collect();
    send(&mut a, s);
    mouse(&mut a, M::ScrollUp, 5, 15);
    assert_eq!(a.screen.scroll.log, 1);
    // A settings field: below the border and the producer's heading, the third line is
    // linger.ms.
    let settings = screen.settings.unwrap();
    mouse(
        &mut a,
        M::Down(MouseButton::Left),
        settings.x + 5,
        settings.y + 4,
    );
    assert!(matches!(a.screen.modal, Modal::Settings));
    assert_eq!(FIELDS[a.screen.settings.selected], Field::LingerMs);
    key(&mut a, KeyCode::Esc);
    // A row of the runs table.
    for run in 1..=3 {
        a.update(Event::Kafka(KafkaEvent::RunEnded(Box::new(RunReport {
            run,
            ..RunReport::default()
        }))));
    }
    key(&mut a, KeyCode::Char('r'));
    // Rows start two lines below the lower half's top (its border, the header).
    mouse(&mut a, M::Down(MouseButton::Left), 10, screen.lower.y + 2);
    assert_eq!(a.screen.focus, Focus::View);
    assert_eq!(a.screen.runs_selected, Some(1), "the first row: run 1");
}

#[test]
fn space_pauses_the_screen_and_resumes_with_what_came_meanwhile() {
    let mut a = app();
    send(&mut a, snapshot(1, 10));
    key(&mut a, KeyCode::Char(' '));
    send(&mut a, snapshot(1, 20));
    a.update(member(1, &[0]));
    assert_eq!(
        a.model.producer.snapshot.as_ref().unwrap().delivered,
        10,
        "paused"
    );
    assert!(a.model.members.is_empty());
    key(&mut a, KeyCode::Char(' '));
    assert_eq!(a.model.producer.snapshot.as_ref().unwrap().delivered, 20);
    assert_eq!(a.model.members.len(), 1);
}

#[test]
fn slash_filters_by_text_and_esc_clears_it() {
    let mut a = app();
    key(&mut a, KeyCode::Char('/'));
    assert!(matches!(a.screen.modal, Modal::Filter(_)));
    for c in "brew".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.screen.filter.as_deref(), Some("brew"));
    key(&mut a, KeyCode::Char('/'));
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.screen.filter, None);
}

#[test]
fn m_marks_two_runs_and_the_comparison_shows_each_change() {
    let mut a = app();
    let run = |run: u32, acks: &str, rate: f64, p50: f64| {
        let mut settings = BTreeMap::new();
        settings.insert("acks".to_string(), acks.to_string());
        RunReport {
            run,
            settings,
            records: 100,
            records_per_sec: rate,
            latency_ms: crate::stats::LatencySummary {
                p50,
                ..Default::default()
            },
            ..RunReport::default()
        }
    };
    for r in [
        run(1, "1", 1000.0, 3.0),
        run(2, "all", 1800.0, 28.0),
        run(3, "0", 5.0, 1.0),
    ] {
        a.update(Event::Kafka(KafkaEvent::RunEnded(Box::new(r))));
    }
    key(&mut a, KeyCode::Char('m'));
    assert!(
        a.status.message.is_some(),
        "m outside the runs view explains itself"
    );
    key(&mut a, KeyCode::Char('r'));
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::Char('m'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('m'));
    assert_eq!(a.screen.marked, vec![1, 2]);
    let c = runs::compare(&a.model.runs[0], &a.model.runs[1]);
    assert_eq!(c.settings, vec!["acks: 1 → all".to_string()]);
    // The most changed first: p50 went up 9-fold, the rate 1.8-fold, the rest not at all.
    let order: Vec<&str> = c.figures.iter().map(|f| f[0].as_str()).collect();
    assert_eq!(order[..2], ["p50 ms", "rec/s"], "{order:?}");
    assert_eq!(c.figures[0][3], "+25.00 ms");
    assert_eq!(c.figures[1][3], "x1.80");
    // A third mark lets the oldest go.
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('m'));
    assert_eq!(a.screen.marked, vec![2, 3]);
}

#[test]
fn the_topic_dialog_offers_what_the_cluster_can_do() {
    let mut a = app();
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: Vec::new(),
        topics: vec!["beers".into(), "breweries".into(), "orders".into()],
    })));
    key(&mut a, KeyCode::Char('a'));
    // The embedded cluster cannot add partitions: that row is passed over.
    for _ in 0..3 {
        key(&mut a, KeyCode::Down);
    }
    let Modal::Topics(form) = &a.screen.modal else {
        panic!("the dialog is open")
    };
    assert_eq!(form.selected, forms::SWITCH_ROW);
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Right);
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Command::SwitchTopic("breweries".into())]
    );
}

#[test]
fn b_fails_a_leader_of_a_kafka_local_cluster_through_a_dialog() {
    use crate::kafka::local::FaultKind;
    let mut a = app();
    // The embedded cluster takes its own outage at once.
    assert_eq!(key(&mut a, KeyCode::Char('b')), vec![Command::BrokerOutage]);
    // A cluster kafka-lab does not run: it says why not.
    a.model.cluster.owned = false;
    assert_eq!(key(&mut a, KeyCode::Char('b')), vec![]);
    assert!(a
        .status
        .message
        .as_deref()
        .unwrap()
        .contains("scripts/kafka-local"));
    assert!(matches!(a.screen.modal, Modal::None));
    // One scripts/kafka-local started: a dialog chooses how, which partition, how long.
    a.model.cluster.local_nodes = Some(3);
    key(&mut a, KeyCode::Char('b'));
    assert!(matches!(a.screen.modal, Modal::Fault(_)));
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Left);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Right);
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Command::NodeFault {
            kind: FaultKind::Pause,
            partition: 5,
            back_after: Some(Duration::from_secs(20)),
        }]
    );
    assert!(matches!(a.screen.modal, Modal::None));
    // The dialog remembers: Enter again does the same.
    key(&mut a, KeyCode::Char('b'));
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Command::NodeFault {
            kind: FaultKind::Pause,
            partition: 5,
            back_after: Some(Duration::from_secs(20)),
        }]
    );
    // The third choice is the acks=1 loss recipe.
    key(&mut a, KeyCode::Char('b'));
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Right);
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Command::LossRecipe {
            partition: 5,
            back_after: Some(Duration::from_secs(20)),
        }]
    );
    key(&mut a, KeyCode::Char('b'));
    assert_eq!(key(&mut a, KeyCode::Esc), vec![]);
    assert!(matches!(a.screen.modal, Modal::None));
}

/// A member reading 50 records a second fewer than are written, whose newest record read was
/// created 3 s before the screen's clock.
fn lagging(a: &mut App, id: u32, lag: i64, behind: Duration) {
    use crate::kafka::consumer::ConsumedRecord;
    use crate::lab::snapshots::RecentRecord;
    let mut m = MemberSnapshot::new(id);
    m.state = MemberState::Assigned;
    m.partitions = vec![PartitionLag {
        partition: 0,
        position: Some(1_000),
        high_watermark: Some(1_000 + lag),
        stable: None,
    }];
    let created = a.model.now - behind;
    let ms = created
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    m.latest = vec![RecentRecord::keep(ConsumedRecord {
        topic: "breweries".into(),
        partition: 0,
        offset: 999,
        timestamp_ms: Some(i64::try_from(ms).unwrap()),
        timestamp_type: "create",
        key: None,
        value: None,
        headers: Vec::new(),
    })];
    a.update(Event::Kafka(KafkaEvent::Member(Box::new(m))));
}

#[test]
fn lag_has_a_history_a_trend_and_a_time_behind() {
    use super::views::lag_trend;
    let mut a = app();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    for i in 0..=20i64 {
        a.model.now = t0 + Duration::from_secs(u64::try_from(i).unwrap());
        lagging(&mut a, 1, 50 * i, Duration::from_secs(3));
        lagging(&mut a, 2, 10, Duration::from_millis(500));
    }
    let (slow, fast) = (&a.model.members[0], &a.model.members[1]);
    assert_eq!(slow.lag(), Some(1_000));
    // Over the last 10 s the lag grew by 500: 50 records a second.
    let trend = lag_trend(&slow.lag_history).unwrap();
    assert!((trend - 50.0).abs() < 1e-9, "{trend}");
    assert_eq!(lag_trend(&fast.lag_history), Some(0.0));
    // Behind in time: the age of the newest record read, on the screen's clock.
    assert_eq!(slow.time_lag(a.model.now), Some(Duration::from_secs(3)));
    assert_eq!(fast.time_lag(a.model.now), Some(Duration::from_millis(500)));
    // The group: both members' lag together, growing as the slow one's does.
    assert_eq!(a.model.group_lag.back().map(|(_, l)| *l), Some(1_010));
    assert!((lag_trend(&a.model.group_lag).unwrap() - 50.0).abs() < 1e-9);
    // Caught up: no lag, so nothing behind, however old the last record read.
    a.model.now += Duration::from_secs(1);
    lagging(&mut a, 1, 0, Duration::from_secs(30));
    assert_eq!(
        a.model.members[0].time_lag(a.model.now),
        Some(Duration::ZERO)
    );
    // Two minutes are kept, no more.
    for i in 0..200u64 {
        a.model.now += Duration::from_secs(1);
        lagging(&mut a, 2, i64::try_from(i).unwrap(), Duration::ZERO);
    }
    let kept = &a.model.members[1].lag_history;
    let span = kept
        .back()
        .unwrap()
        .0
        .duration_since(kept.front().unwrap().0);
    assert!(span.unwrap() <= Duration::from_secs(120));
}

#[test]
fn a_crash_keeps_the_pane_and_x_restarts_it_and_a_kick_is_named() {
    let mut a = app();
    key(&mut a, KeyCode::Char('c'));
    a.update(member(1, &[0, 1, 2]));
    key(&mut a, KeyCode::Tab);
    assert_eq!(key(&mut a, KeyCode::Char('X')), vec![Command::Crash(1)]);
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
    a.update(Event::Kafka(KafkaEvent::MemberCrashed { id: 1, at }));
    assert_eq!(a.model.members.len(), 1, "the crashed pane stays");
    assert!(matches!(
        a.model.members[0].snapshot.state,
        MemberState::Crashed(_)
    ));
    assert!(a.model.in_group.is_empty(), "not in the group any more");
    assert!(a
        .status
        .message
        .as_deref()
        .unwrap()
        .contains("session.timeout.ms"));
    // `W` steps its own work; `X` again restarts it with that work.
    assert_eq!(
        key(&mut a, KeyCode::Char('W')),
        vec![Command::Work {
            id: 1,
            per_record: Some(Duration::from_millis(1))
        }]
    );
    assert_eq!(
        key(&mut a, KeyCode::Char('X')),
        vec![
            Command::Restart(1),
            Command::Work {
                id: 1,
                per_record: Some(Duration::from_millis(1))
            }
        ]
    );
    assert!(a.model.in_group.contains(&1));
    // librdkafka took it out for max.poll.interval.ms: said, and the next rebalance's cause.
    let mut m = MemberSnapshot::new(1);
    m.kicked = 1;
    a.update(Event::Kafka(KafkaEvent::Member(Box::new(m))));
    assert!(
        a.status
            .message
            .as_deref()
            .unwrap()
            .contains("consumer-1 exceeded max.poll.interval.ms = 300 s"),
        "{:?}",
        a.status.message
    );
}

/// Member `id`'s snapshot at `ms` after a start, settled on all six partitions, with
/// `records` finished since its last one (each 5 ms end to end) and `fetches` sent.
fn member_at(id: u32, ms: u64, records: u64, fetches: u64) -> Event {
    let Event::Kafka(KafkaEvent::Member(mut m)) = member(id, &[0, 1, 2, 3, 4, 5]) else {
        unreachable!()
    };
    m.at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000) + Duration::from_millis(ms);
    m.fresh = crate::lab::snapshots::Fresh {
        records,
        e2e: vec![(5_000, records)],
        fetches: Some(fetches),
        kicks: 0,
    };
    Event::Kafka(KafkaEvent::Member(m))
}

#[test]
fn each_consumer_settings_change_begins_a_consumer_run_marked_and_exported_beside_the_runs() {
    let mut a = app();
    assert!(a.consumer_rows().is_empty(), "no member, no run");
    // Four snapshots a second for 10 s, 25 records and one fetch in each.
    for i in 0..40 {
        a.update(member_at(1, i * 250, 25, 1));
    }
    let rows = a.consumer_rows();
    assert_eq!(rows.len(), 1);
    let first = &rows[0];
    // Settled at once: 2 s of warm-up, the first snapshot after it starts the count.
    assert!((first.warmup_s - 2.0).abs() < 1e-9, "{first:?}");
    assert_eq!(first.records, 25 * 31);
    assert!((first.records_per_sec - 100.0).abs() < 1e-6, "{first:?}");
    assert!((first.fetch_requests_per_sec.unwrap() - 4.0).abs() < 1e-6);
    assert!((first.e2e_ms.unwrap().p50 - 5.0).abs() < 0.01);
    // A consumer step ends it; the next run's settings say what changed.
    let change = crate::lab::settings::ConsumerChange {
        properties: [("fetch.wait.max.ms".to_string(), "100".to_string())].into(),
        ..Default::default()
    };
    a.update(Event::Script(crate::lab::protocol::Step::Consumer(change)));
    for i in 40..60 {
        a.update(member_at(1, i * 250, 5, 1));
    }
    let rows = a.consumer_rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], *first, "an ended run keeps its figures");
    let defaults = a.consumer_defaults();
    assert_eq!(
        crate::stats::ConsumerColumn::Changed.cell(&rows[1], &defaults, true),
        "fetch.wait.max.ms=100"
    );
    // R shows them; m marks the selected run (the newest), ↑ m the one before.
    key(&mut a, KeyCode::Char('R'));
    assert_eq!(a.view(), View::ConsumerRuns);
    key(&mut a, KeyCode::Tab);
    while a.screen.focus != Focus::View {
        key(&mut a, KeyCode::Tab);
    }
    key(&mut a, KeyCode::Char('m'));
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Char('m'));
    assert_eq!(a.screen.consumer_marked, vec![2, 1]);
    assert!(
        a.screen.marked.is_empty(),
        "the producer runs keep their own marks"
    );
    let commands = key(&mut a, KeyCode::Char('e'));
    let [Command::Export(runs, consumer_runs)] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    assert!(runs.is_empty());
    assert_eq!(consumer_runs.len(), 2);
}

#[test]
fn o_rewinds_the_group_and_says_what_is_wrong_with_a_target() {
    use crate::lab::settings::{Rewind, RewindTo};
    let mut a = app();
    let rewind = |a: &mut App, text: &str| {
        key(a, KeyCode::Char('O'));
        assert!(matches!(a.screen.modal, Modal::Rewind(..)));
        for c in text.chars() {
            key(a, KeyCode::Char(c));
        }
        key(a, KeyCode::Enter)
    };
    assert!(rewind(&mut a, "sometimes").is_empty());
    let Modal::Rewind(_, Some(e)) = &a.screen.modal else {
        panic!("the prompt stays, with the reason")
    };
    assert!(e.contains("`sometimes` is not a place to rewind to"), "{e}");
    key(&mut a, KeyCode::Esc);
    assert!(matches!(a.screen.modal, Modal::None));
    // The embedded cluster cannot look offsets up by time.
    assert!(rewind(&mut a, "-30s").is_empty());
    assert!(a
        .status
        .message
        .as_deref()
        .unwrap()
        .contains("cannot look offsets up by time"));
    assert!(rewind(&mut a, "earliest p9").is_empty());
    assert!(a
        .status
        .message
        .as_deref()
        .unwrap()
        .contains("no partition 9"));
    assert_eq!(
        rewind(&mut a, "earliest p2"),
        vec![Command::Rewind(Rewind {
            to: RewindTo::Earliest,
            partition: Some(2)
        })]
    );
    assert!(matches!(a.screen.modal, Modal::None));
}

#[test]
fn esc_goes_back_a_step_at_a_time() {
    let mut a = app();
    key(&mut a, KeyCode::Char('r'));
    key(&mut a, KeyCode::Char('z'));
    assert!(a.screen.zoomed);
    key(&mut a, KeyCode::Esc);
    assert!(!a.screen.zoomed, "out of the zoom first");
    assert_eq!(a.view(), View::Runs);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.view(), View::Consumers);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.status.message.as_deref(), Some("nothing to go back from"));
}

/// The partition view's "produced this session" counts every run: a run stopped (its idle
/// snapshots carry no counts) and one whose last snapshot was dropped still count whole.
#[test]
fn produced_this_session_keeps_a_stopped_runs_counts() {
    let mut a = app();
    let counted = |run: u32, p0: u64, p1: u64| {
        let mut s = snapshot(run, p0 + p1);
        s.by_partition = [(0, p0), (1, p1)].into();
        s
    };
    send(&mut a, counted(1, 300, 364));
    send(&mut a, counted(1, 400, 500));
    // Stopped: the producer's ticks say nothing of partitions.
    let mut stopped = snapshot(1, 900);
    stopped.state = ProducerState::Stopped;
    send(&mut a, stopped);
    assert_eq!((a.produced(0), a.produced(1)), (400, 500));
    send(&mut a, counted(2, 1000, 2000));
    // A snapshot behind the one before (they can arrive late): the counts do not go back.
    send(&mut a, counted(2, 900, 2100));
    send(&mut a, counted(3, 5, 5));
    assert_eq!((a.produced(0), a.produced(1)), (1405, 2605));
}

/// `1` is the producer, `2`.. the consumers in pane order (or the view when one is shown); a
/// number with no pane says so and leaves the selection alone.
#[test]
fn numbers_select_panes() {
    let mut a = app();
    a.update(member(1, &[0]));
    a.update(member(2, &[1]));
    key(&mut a, KeyCode::Char('3'));
    assert_eq!(a.screen.focus, Focus::Member(1));
    key(&mut a, KeyCode::Char('1'));
    assert_eq!(a.screen.focus, Focus::Producer);
    key(&mut a, KeyCode::Char('2'));
    assert_eq!(a.screen.focus, Focus::Member(0));
    key(&mut a, KeyCode::Char('5'));
    assert_eq!(
        a.screen.focus,
        Focus::Member(0),
        "no fifth pane: nothing moves"
    );
    let said = a.status.message.clone().unwrap();
    assert!(said.contains("5: no such pane (2 consumers: 2-3"), "{said}");
    key(&mut a, KeyCode::Char('r'));
    key(&mut a, KeyCode::Char('2'));
    assert_eq!(a.screen.focus, Focus::View);
}

fn sortable_run(run: u32, rate: f64, p99: f64) -> Event {
    Event::Kafka(KafkaEvent::RunEnded(Box::new(RunReport {
        run,
        records: 100,
        records_per_sec: rate,
        latency_ms: crate::stats::LatencySummary {
            p99,
            ..Default::default()
        },
        ..RunReport::default()
    })))
}

/// `>` and `<` step through the figure columns, best first (lower p99, higher rate), then back
/// to run order; the selected run stays selected through every order.
#[test]
fn runs_sort_best_first_and_keep_the_selection() {
    use crate::stats::Figure;
    let mut a = app();
    a.update(sortable_run(1, 1000.0, 9.0));
    a.update(sortable_run(2, 3000.0, 3.0));
    a.update(sortable_run(3, 2000.0, 5.0));
    key(&mut a, KeyCode::Char('>'));
    assert!(a
        .status
        .message
        .clone()
        .unwrap()
        .contains("show the producer runs"));
    key(&mut a, KeyCode::Char('r'));
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::Down);
    let order = |a: &App| a.shown_runs().iter().map(|r| r.run).collect::<Vec<_>>();
    let selected = |a: &App| a.screen.runs_selected.unwrap();
    assert_eq!(selected(&a), 2);
    let mut seen = Vec::new();
    for _ in 0..40 {
        key(&mut a, KeyCode::Char('>'));
        assert_eq!(selected(&a), 2, "{:?}", a.screen.runs_sort);
        match a.screen.runs_sort {
            Some(super::runs::Column::Figure(Figure::P99)) => {
                assert_eq!(order(&a), [2, 3, 1], "lowest p99 first");
                assert_eq!(
                    a.status.message.as_deref(),
                    Some("runs sorted by p99, best first")
                );
                seen.push("p99");
            }
            Some(super::runs::Column::Figure(Figure::RecordsPerSec)) => {
                assert_eq!(order(&a), [2, 3, 1], "highest rate first");
                seen.push("rate");
            }
            None => break,
            Some(_) => {}
        }
    }
    assert_eq!(seen, ["rate", "p99"]);
    assert_eq!(order(&a), [1, 2, 3], "past the last column: by run again");
    // Sorted by p99, a better run arriving moves the rows; the selection stays on run 2.
    while !matches!(
        a.screen.runs_sort,
        Some(super::runs::Column::Figure(Figure::P99))
    ) {
        key(&mut a, KeyCode::Char('>'));
    }
    a.update(sortable_run(4, 500.0, 1.0));
    assert_eq!(order(&a), [4, 2, 3, 1]);
    assert_eq!(selected(&a), 2);
    let [Command::Copy(text)] = &key(&mut a, KeyCode::Char('y'))[..] else {
        panic!("no copy")
    };
    assert!(text.contains("\"run\": 2,"), "{text}");
    key(&mut a, KeyCode::Char('<'));
    assert!(
        a.screen.runs_sort.is_some(),
        "< from run order: the last column"
    );
}

/// `y` asks the front end to copy the selected run or record as JSON, and says so.
#[test]
fn y_copies_the_selected_run_or_record_as_json() {
    let mut a = app();
    assert!(key(&mut a, KeyCode::Char('y')).is_empty());
    assert!(a.status.message.clone().unwrap().contains("copies a run"));
    a.update(sortable_run(1, 1000.0, 9.0));
    a.update(sortable_run(2, 3000.0, 3.0));
    key(&mut a, KeyCode::Char('r'));
    let [Command::Copy(text)] = &key(&mut a, KeyCode::Char('y'))[..] else {
        panic!("no copy")
    };
    let run: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(run["run"], 2, "nothing selected: the latest run");
    assert_eq!(run["records_per_sec"], 3000.0);
    let said = a.status.message.clone().unwrap();
    assert!(
        said.starts_with("copied run 2 to the clipboard ("),
        "{said}"
    );
    key(&mut a, KeyCode::Char('r'));
    let Event::Kafka(KafkaEvent::Member(mut m)) = member(1, &[0]) else {
        unreachable!()
    };
    m.latest = vec![crate::lab::snapshots::RecentRecord::keep(
        crate::kafka::consumer::ConsumedRecord {
            topic: "t".into(),
            partition: 4,
            offset: 1234,
            timestamp_ms: Some(5),
            timestamp_type: "create",
            key: Some(b"k-\xe2\x82\xac".to_vec()),
            value: Some(br#"{"name":"Brauerei \u00e4","id":7}"#.to_vec()),
            headers: vec![("run".into(), Some(b"r1".to_vec())), ("none".into(), None)],
        },
    )];
    a.update(Event::Kafka(KafkaEvent::Member(m)));
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Enter);
    let [Command::Copy(text)] = &key(&mut a, KeyCode::Char('y'))[..] else {
        panic!("no copy from the record detail")
    };
    let r: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        (r["partition"].clone(), r["offset"].clone()),
        (4.into(), 1234.into())
    );
    assert_eq!(r["key"], "k-€");
    assert_eq!(
        r["value"]["name"], "Brauerei ä",
        "the value as the JSON it holds"
    );
    assert_eq!(r["headers"]["run"], "r1");
    assert!(r["headers"]["none"].is_null());
    assert!(
        matches!(a.screen.modal, Modal::Detail(_)),
        "copying leaves the detail open"
    );
    assert!(a
        .status
        .message
        .clone()
        .unwrap()
        .starts_with("copied the record at partition 4 offset 1234"));
}

/// `+` and `-` step the charts' window through 15 s .. 10 min, and say where they stop.
#[test]
fn plus_and_minus_set_the_charts_window() {
    let mut a = app();
    assert_eq!(a.chart_window(), Duration::from_secs(120));
    key(&mut a, KeyCode::Char('-'));
    assert_eq!(a.chart_window(), Duration::from_secs(300));
    assert_eq!(
        a.status.message.as_deref(),
        Some("the charts show the last 5 min")
    );
    for _ in 0..10 {
        key(&mut a, KeyCode::Char('+'));
    }
    assert_eq!(a.chart_window(), Duration::from_secs(15));
    assert!(a
        .status
        .message
        .clone()
        .unwrap()
        .contains("already show 15 s"));
    key(&mut a, KeyCode::Char('-'));
    key(&mut a, KeyCode::Char('='));
    assert_eq!(
        a.chart_window(),
        Duration::from_secs(15),
        "= is + without Shift"
    );
}

/// A refused rewind takes back the cause it gave the next rebalance: the next one is put
/// down to what really happened.
#[test]
fn a_refused_rewind_is_not_the_cause_of_the_next_rebalance() {
    use crate::lab::settings::{Rewind, RewindTo};
    let mut a = app();
    let report = |a: &mut App, id: u32, partitions: &[i32], after: u64| {
        let Event::Kafka(KafkaEvent::Member(mut m)) = member(id, partitions) else {
            unreachable!()
        };
        m.last_rebalance = Some(a.model.now + Duration::from_secs(after));
        a.update(Event::Kafka(KafkaEvent::Member(m)));
    };
    key(&mut a, KeyCode::Char('c'));
    report(&mut a, 1, &[0, 1], 1);
    assert_eq!(a.model.timeline.rebalances[0].cause, "consumer-1 joined");
    let asked = a.rewind(Rewind {
        to: RewindTo::Earliest,
        partition: None,
    });
    assert_eq!(asked.len(), 1);
    a.update(Event::RewindUndone {
        text: "a rewind is under way already".into(),
        members_left: false,
    });
    assert_eq!(
        a.status.message.as_deref(),
        Some("a rewind is under way already")
    );
    let runs = a.consumer_rows();
    assert!(!runs.is_empty());
    assert!(
        runs.iter().all(|r| !r.settings.contains_key("rewound to")),
        "no consumer run is labelled with a rewind that did not happen: {runs:?}"
    );
    key(&mut a, KeyCode::Char('c'));
    report(&mut a, 1, &[0], 2);
    report(&mut a, 2, &[1], 2);
    let last = a.model.timeline.rebalances.back().unwrap();
    assert_eq!(last.cause, "consumer-2 joined");
}

/// From the moment of a crash its partitions are shown unread: the crashed member stays their
/// owner (marked), their lag grows with the watcher's high watermarks, and a line says what
/// the group waits for; once the group notices, the survivor owns them and the crashed pane
/// lists none.
#[test]
fn a_crash_shows_its_unread_partitions_until_the_group_notices() {
    let mut a = app();
    key(&mut a, KeyCode::Char('c'));
    key(&mut a, KeyCode::Char('c'));
    let report = |a: &mut App, id: u32, partitions: &[i32], after: u64| {
        let Event::Kafka(KafkaEvent::Member(mut m)) = member(id, partitions) else {
            unreachable!()
        };
        m.last_rebalance = Some(a.model.now + Duration::from_secs(after));
        a.update(Event::Kafka(KafkaEvent::Member(m)));
    };
    report(&mut a, 1, &[0, 1], 1);
    report(&mut a, 2, &[2, 3], 1);
    let at = a.model.now + Duration::from_secs(2);
    a.update(Event::Kafka(KafkaEvent::MemberCrashed { id: 2, at }));
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: (0..4)
            .map(|partition| crate::lab::snapshots::PartitionInfo {
                partition,
                leader: 1,
                replicas: vec![1],
                isr: vec![1],
                low_watermark: 0,
                high_watermark: 100,
            })
            .collect(),
        topics: Vec::new(),
    })));
    // Positions stay at 1 where it stopped: 99 unread on each of its partitions.
    assert_eq!(a.model.members[1].lag(), Some(198));
    assert_eq!(a.model.group_lag.back().map(|(_, l)| *l), Some(2 + 198));
    assert_eq!(a.owner(2).unwrap().snapshot.name, "consumer-2");
    let said = a.unnoticed_crashes();
    assert_eq!(said.len(), 1);
    assert!(
        said[0].contains("consumer-2 crashed")
            && said[0].contains("partitions 2, 3 unread until session.timeout.ms = 45000 ms"),
        "{said:?}"
    );
    // Long past its session with nobody taking them, the line stops saying "not noticed".
    let now = a.model.now;
    a.model.now = at + Duration::from_secs(120);
    let late = a.unnoticed_crashes();
    assert!(
        late[0].contains("the group has dropped it by now"),
        "{late:?}"
    );
    a.model.now = now;
    // The group notices: the survivor gets them.
    report(&mut a, 1, &[0, 1, 2, 3], 60);
    assert!(a.unnoticed_crashes().is_empty());
    assert_eq!(a.owner(2).unwrap().snapshot.name, "consumer-1");
    assert!(a.model.members[1].snapshot.partitions.is_empty());
    assert!(a
        .model
        .timeline
        .rebalances
        .back()
        .unwrap()
        .cause
        .starts_with("consumer-2 crashed (no heartbeat for 58"));
}

/// A static member's leave is said for what it is: no `LeaveGroup`, its partitions wait for
/// its session to end (librdkafka closes a static member quietly).
#[test]
fn a_static_members_leave_says_it_waits_for_the_session() {
    let mut a = app();
    a.model.applied_consumer.static_membership = true;
    key(&mut a, KeyCode::Char('c'));
    a.update(member(1, &[0, 1]));
    key(&mut a, KeyCode::Tab);
    assert_eq!(
        key(&mut a, KeyCode::Char('x')),
        vec![Command::RemoveMember(1)]
    );
    let said = a.status.message.clone().unwrap();
    assert!(
        said.contains(
            "as a static member it sends no LeaveGroup: its partitions move after \
             session.timeout.ms (45000 ms)"
        ),
        "{said}"
    );
}

#[test]
fn i_switches_a_members_own_isolation_level_and_back() {
    let mut a = app();
    key(&mut a, KeyCode::Char('c'));
    a.update(member(1, &[0, 1, 2]));
    key(&mut a, KeyCode::Tab);
    // The panel's level is read_committed: the other one is the member's own.
    assert_eq!(
        key(&mut a, KeyCode::Char('I')),
        vec![Command::Isolation {
            id: 1,
            level: Some(Isolation::ReadUncommitted)
        }]
    );
    assert!(a
        .status
        .message
        .as_deref()
        .unwrap()
        .contains("consumer-1 rejoins with read_uncommitted"));
    // Back with it, the member says so; `I` again returns it to the panel's level.
    let mut m = MemberSnapshot::new(1);
    m.isolation = Isolation::ReadUncommitted;
    a.update(Event::Kafka(KafkaEvent::Member(Box::new(m))));
    assert_eq!(
        key(&mut a, KeyCode::Char('I')),
        vec![Command::Isolation { id: 1, level: None }]
    );
}

#[test]
fn a_member_switching_its_isolation_level_keeps_its_pane_and_the_selection() {
    let mut a = app();
    key(&mut a, KeyCode::Char('c'));
    key(&mut a, KeyCode::Char('c'));
    a.update(member(1, &[0, 1, 2]));
    a.update(member(2, &[3, 4, 5]));
    key(&mut a, KeyCode::Char('3'));
    assert_eq!(a.screen.focus, Focus::Member(1));
    key(&mut a, KeyCode::Char('I'));
    // It leaves to join again: its pane waits for it, still selected.
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
    a.update(Event::Kafka(KafkaEvent::MemberLeft { id: 2, at }));
    assert_eq!(a.model.members.len(), 2);
    assert_eq!(a.screen.focus, Focus::Member(1));
    assert_eq!(a.model.members[1].snapshot.state, MemberState::Joining);
    // Removed for good, it goes.
    key(&mut a, KeyCode::Char('x'));
    a.update(Event::Kafka(KafkaEvent::MemberLeft { id: 2, at }));
    assert_eq!(a.model.members.len(), 1);
}

#[test]
fn owners_in_one_pass_agree_with_the_owner_of_each_partition() {
    let mut a = app();
    a.update(member(1, &[0, 1]));
    a.update(member(2, &[1, 2]));
    a.update(member(3, &[3]));
    // Member 1 crashes, keeping its last list: partition 1 is member 2's, 0 still member 1's.
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
    a.update(Event::Kafka(KafkaEvent::MemberCrashed { id: 1, at }));
    let owners = a.owners();
    for p in 0..5 {
        assert_eq!(
            owners.get(&p).map(|(m, l)| (m.snapshot.id, l.partition)),
            a.owner(p).map(|m| (m.snapshot.id, p)),
            "partition {p}"
        );
    }
    assert_eq!(owners[&1].0.snapshot.id, 2);
    assert_eq!(owners[&0].0.snapshot.id, 1);
}

fn processor(
    g: crate::kafka::processor::Guarantee,
    state: crate::lab::snapshots::ProcessorState,
) -> Event {
    Event::Kafka(KafkaEvent::Processor(Box::new(
        crate::lab::snapshots::ProcessorSnapshot {
            instance: 1,
            guarantee: g,
            state,
            from: "breweries".into(),
            to: format!("breweries.{}", g.name()),
            id: "id".into(),
            partitions: 6,
            records: 0,
            batches: 0,
            aborted: 0,
            uncommitted: 0,
            commit_p50_ms: None,
            commit_p99_ms: None,
            crashes: 0,
            output: crate::kafka::processor::TallyFigures::default(),
            news: None,
        },
    )))
}

#[test]
fn processors_start_crash_restart_and_stop_on_their_keys() {
    use crate::kafka::processor::Guarantee::{AtLeastOnce, ExactlyOnce};
    use crate::lab::snapshots::ProcessorState;
    let mut a = app();
    // Nothing to crash before they start.
    assert!(key(&mut a, KeyCode::Char('K')).is_empty());
    assert!(a
        .status
        .message
        .as_deref()
        .unwrap()
        .contains("P starts them"));
    assert_eq!(
        key(&mut a, KeyCode::Char('P')),
        vec![Command::Processors(Some(6))]
    );
    // Still starting: nothing to crash or restart yet.
    a.update(processor(ExactlyOnce, ProcessorState::Starting));
    assert!(key(&mut a, KeyCode::Char('K')).is_empty());
    a.update(processor(AtLeastOnce, ProcessorState::Running));
    a.update(processor(ExactlyOnce, ProcessorState::Running));
    assert_eq!(a.model.processors.panes[0].guarantee, ExactlyOnce);
    assert_eq!(
        key(&mut a, KeyCode::Char('K')),
        vec![
            Command::CrashProcessor(ExactlyOnce),
            Command::CrashProcessor(AtLeastOnce)
        ]
    );
    let at = SystemTime::UNIX_EPOCH;
    a.update(processor(ExactlyOnce, ProcessorState::Crashed(at)));
    a.update(processor(AtLeastOnce, ProcessorState::Crashed(at)));
    assert_eq!(
        key(&mut a, KeyCode::Char('K')),
        vec![
            Command::RestartProcessor(ExactlyOnce),
            Command::RestartProcessor(AtLeastOnce)
        ]
    );
    // A failed one (fenced) is started again with the crashed ones; a running one is
    // crashed alone, and the message names it.
    a.update(processor(
        ExactlyOnce,
        ProcessorState::Failed("fenced".into()),
    ));
    a.update(processor(AtLeastOnce, ProcessorState::Running));
    assert_eq!(
        key(&mut a, KeyCode::Char('K')),
        vec![Command::CrashProcessor(AtLeastOnce)]
    );
    let said = a.status.message.clone().unwrap();
    assert!(
        said.starts_with("processor-at-least-once crashes"),
        "{said}"
    );
    assert!(!said.contains("transaction"), "{said}");
    a.update(processor(AtLeastOnce, ProcessorState::Crashed(at)));
    assert_eq!(
        key(&mut a, KeyCode::Char('K')),
        vec![
            Command::RestartProcessor(ExactlyOnce),
            Command::RestartProcessor(AtLeastOnce)
        ]
    );
    assert_eq!(
        key(&mut a, KeyCode::Char('P')),
        vec![Command::Processors(None)]
    );
    assert!(a.model.processors.panes.is_empty());
    // A stopped processor's last snapshot does not bring its pane back.
    a.update(processor(ExactlyOnce, ProcessorState::Stopped));
    assert!(a.model.processors.panes.is_empty());
    // A scenario's step that asks for what is already so does nothing.
    assert!(a
        .update(Event::Script(crate::lab::protocol::Step::Processors(false)))
        .commands
        .is_empty());
    assert_eq!(
        a.update(Event::Script(crate::lab::protocol::Step::Processors(true)))
            .commands,
        vec![Command::Processors(Some(6))]
    );
}

#[test]
fn a_topic_switch_closes_the_processors_panes_and_p_starts_them_on_the_new_topic() {
    use crate::kafka::processor::Guarantee::ExactlyOnce;
    use crate::lab::snapshots::ProcessorState;
    let mut a = app();
    key(&mut a, KeyCode::Char('P'));
    a.update(processor(ExactlyOnce, ProcessorState::Running));
    a.update(Event::TopicSwitched {
        topic: "other".into(),
        partitions: 3,
    });
    assert!(!a.model.processors.on && a.model.processors.panes.is_empty());
    let said = a.status.message.clone().unwrap();
    assert!(said.contains("P starts them on this one"), "{said}");
    assert_eq!(
        key(&mut a, KeyCode::Char('P')),
        vec![Command::Processors(Some(3))]
    );
}

/// Thousands of topics: what is typed on the switch row narrows ← and → to the topics holding
/// it, and the hint counts them and lists only what fits.
#[test]
fn the_topic_dialog_narrows_thousands_of_topics_as_you_type() {
    let mut a = app();
    let topics: Vec<String> = (0..5_000).map(|i| format!("orders-{i:04}")).collect();
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: Vec::new(),
        topics,
    })));
    key(&mut a, KeyCode::Char('a'));
    for _ in 0..3 {
        key(&mut a, KeyCode::Down);
    }
    for c in "ERS-42".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    let Modal::Topics(form) = &a.screen.modal else {
        panic!("the dialog is open")
    };
    let matching = form.matching(&a.model.topic.as_ref().unwrap().topics);
    // orders-4200 .. orders-4299, whatever the case typed.
    assert_eq!(matching.len(), 100);
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Right);
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Command::SwitchTopic("orders-4201".into())]
    );
}

/// The partition view sorts by lag, by records produced and by owner (`>` steps on, `<` back),
/// and its summary names what stands out: partitions without an owner, the most lag, the
/// fullest partition against the mean.
#[test]
fn the_partition_view_sorts_and_summarises() {
    use crate::lab::snapshots::PartitionInfo;
    use crate::lab::state::partition_view::{PartitionSort, PartitionSummary};
    let mut a = app();
    a.update(Event::Kafka(KafkaEvent::Topic(TopicSnapshot {
        partitions: (0..4)
            .map(|i| PartitionInfo {
                partition: i,
                leader: 1,
                replicas: vec![1],
                isr: vec![1],
                low_watermark: 0,
                high_watermark: 100,
            })
            .collect(),
        topics: vec!["breweries".into()],
    })));
    // consumer-1 owns 0 (lag 5) and 2 (lag 40); consumer-2 owns 1 (lag 0); 3 has no owner.
    let lagging = |id: u32, lags: &[(i32, i64)]| {
        let mut m = MemberSnapshot::new(id);
        m.state = MemberState::Assigned;
        m.partitions = lags
            .iter()
            .map(|&(partition, lag)| PartitionLag {
                partition,
                position: Some(100 - lag),
                high_watermark: Some(100),
                stable: None,
            })
            .collect();
        Event::Kafka(KafkaEvent::Member(Box::new(m)))
    };
    a.update(lagging(1, &[(0, 5), (2, 40)]));
    a.update(lagging(2, &[(1, 0)]));
    let mut p = ProducerSnapshot::new(1, ProducerState::Running, settings());
    p.by_partition = [(0, 10), (1, 10), (2, 10), (3, 50)].into_iter().collect();
    a.update(Event::Kafka(KafkaEvent::Producer(Box::new(p))));
    key(&mut a, KeyCode::Char('v'));
    assert_eq!(a.partition_order(), vec![0, 1, 2, 3]);
    key(&mut a, KeyCode::Char('>'));
    assert_eq!(a.screen.partition_sort, PartitionSort::Lag);
    assert_eq!(a.partition_order(), vec![2, 0, 1, 3]);
    key(&mut a, KeyCode::Char('>'));
    assert_eq!(a.partition_order(), vec![3, 0, 1, 2]);
    key(&mut a, KeyCode::Char('>'));
    // No owner first, then consumer-1's, then consumer-2's.
    assert_eq!(a.partition_order(), vec![3, 0, 2, 1]);
    key(&mut a, KeyCode::Char('<'));
    assert_eq!(a.screen.partition_sort, PartitionSort::Records);
    assert_eq!(
        a.partition_summary(),
        Some(PartitionSummary {
            partitions: 4,
            unowned: 1,
            crashed: 0,
            max_lag: Some((2, 40)),
            // 50 records against a mean of 20.
            fullest: Some((3, 250)),
        })
    );
}

/// The events log keeps the last `EVENTS` and counts every one, so that it can say how many
/// it dropped.
#[test]
fn the_events_log_keeps_its_bound_and_counts_what_it_dropped() {
    let mut a = app();
    for i in 0..(EVENTS + 50) {
        a.update(Event::Notice(format!("notice {i}")));
    }
    assert_eq!(a.status.events.len(), EVENTS);
    assert_eq!(a.status.events_total, (EVENTS + 50) as u64);
    assert_eq!(
        a.status.events.back().unwrap().1,
        format!("notice {}", EVENTS + 49)
    );
}

/// A processor stopped and started again at once: the old instance's last words come after
/// the new one's first snapshot, and do not replace it.
#[test]
fn a_stopped_processors_last_snapshot_does_not_replace_its_successors() {
    use crate::kafka::processor::Guarantee::ExactlyOnce;
    use crate::lab::snapshots::ProcessorState;
    let mut a = app();
    key(&mut a, KeyCode::Char('P'));
    let with_instance = |instance: u64, state| {
        let Event::Kafka(KafkaEvent::Processor(mut s)) = processor(ExactlyOnce, state) else {
            unreachable!()
        };
        s.instance = instance;
        Event::Kafka(KafkaEvent::Processor(s))
    };
    a.update(with_instance(2, ProcessorState::Running));
    a.update(with_instance(1, ProcessorState::Failed("fenced".into())));
    assert_eq!(a.model.processors.panes[0].state, ProcessorState::Running);
    a.update(with_instance(
        2,
        ProcessorState::Crashed(SystemTime::UNIX_EPOCH),
    ));
    assert!(matches!(
        a.model.processors.panes[0].state,
        ProcessorState::Crashed(_)
    ));
}

/// Idle clients send snapshots four times a second; one that changes nothing on screen but its
/// time asks for no frame, and any change does.
#[test]
fn snapshots_that_change_nothing_ask_for_no_frame() {
    let mut a = app();
    assert!(
        a.update(member(1, &[0, 1])).redraw,
        "a member's first snapshot"
    );
    let later = |id: u32, partitions: &[i32], records: u64| {
        let Event::Kafka(KafkaEvent::Member(mut m)) = member(id, partitions) else {
            unreachable!()
        };
        m.at += Duration::from_millis(250);
        m.fresh.records = records;
        Event::Kafka(KafkaEvent::Member(m))
    };
    assert!(
        !a.update(later(1, &[0, 1], 0)).redraw,
        "the same but its time"
    );
    assert!(a.update(later(1, &[0, 1], 3)).redraw, "records finished");
    assert!(a.update(later(1, &[0], 0)).redraw, "a partition taken away");
    assert!(a.update(member(2, &[1])).redraw, "another member");

    // The producer: while it stays stopped with nothing new, no frame.
    let stopped = |delivered: u64| ProducerSnapshot {
        state: ProducerState::Stopped,
        ..snapshot(1, delivered)
    };
    let update = |a: &mut App, s: ProducerSnapshot| {
        a.update(Event::Kafka(KafkaEvent::Producer(Box::new(s))))
            .redraw
    };
    assert!(update(&mut a, snapshot(1, 10)), "running");
    assert!(update(&mut a, stopped(10)), "it stopped");
    assert!(!update(&mut a, stopped(10)), "still stopped, nothing new");
    assert!(update(&mut a, stopped(12)), "late deliveries");
    assert!(update(&mut a, snapshot(2, 0)), "started again");
}
