//! `App::update` unit tests: keys in, commands and state out.

use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::forms::{Field, FIELDS};
use super::views::{LogLine, ERROR_SHOWN_FOR, LOG_LINES};
use super::*;
use crate::dashboard::actors::member::PartitionLag;
use crate::data::source::KeyField;
use crate::kafka::settings::{Acks, Compression, GroupProtocol, Partitioner, Strategies, Strategy};

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
    }
}

fn app() -> App {
    App::new(
        ClusterInfo {
            label: "embedded cluster 127.0.0.1:1".into(),
            embedded: true,
            owned: true,
            topic: "breweries".into(),
            partitions: 6,
            group: "kafka-lab".into(),
        },
        settings(),
        GroupSettings {
            strategies: Strategies(vec![Strategy::Range, Strategy::RoundRobin]),
            protocol: GroupProtocol::Classic,
        },
    )
}

fn key(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn producer(run: u32, state: ProducerState) -> Event {
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
fn c_adds_members_with_new_ids_and_x_removes_the_selected_one() {
    let mut a = app();
    assert_eq!(a.reserve_member(), 1);
    a.update(member(1, &[0, 1, 2, 3, 4, 5]));
    assert_eq!(key(&mut a, KeyCode::Char('c')), vec![Command::AddMember(2)]);
    a.update(member(2, &[3, 4, 5]));
    assert_eq!(a.members.len(), 2);
    // x needs a selected consumer.
    assert_eq!(key(&mut a, KeyCode::Char('x')), vec![]);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Member(1));
    assert_eq!(
        key(&mut a, KeyCode::Char('x')),
        vec![Command::RemoveMember(2)]
    );
    a.update(Event::Kafka(KafkaEvent::MemberLeft {
        id: 2,
        at: SystemTime::UNIX_EPOCH,
    }));
    assert_eq!(a.members.len(), 1);
    assert_eq!(
        a.focus,
        Focus::Member(0),
        "focus moves to a pane that exists"
    );
}

#[test]
fn tab_and_arrows_cycle_through_panes() {
    let mut a = app();
    a.update(member(1, &[0]));
    assert_eq!(a.focus, Focus::Producer);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Member(0));
    key(&mut a, KeyCode::Right);
    assert_eq!(a.focus, Focus::Producer);
    key(&mut a, KeyCode::Left);
    assert_eq!(a.focus, Focus::Member(0));
    key(&mut a, KeyCode::BackTab);
    assert_eq!(a.focus, Focus::Producer);
}

#[test]
fn settings_edit_validate_and_apply() {
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    assert!(matches!(a.modal, Modal::Settings));
    // q is text here, not quit.
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    assert_eq!(FIELDS[a.settings.selected], Field::LingerMs);
    key(&mut a, KeyCode::Backspace);
    for c in "-3".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    assert!(a
        .settings
        .error(a.settings.selected)
        .unwrap()
        .contains("range"));
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![],
        "an invalid form is not applied"
    );
    assert!(a
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
    assert_eq!(a.settings.error(a.settings.selected), None);
    let mut want = settings();
    want.linger_ms = "20".into();
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Command::ApplySettings(want.clone())]
    );
    assert_eq!(a.applied, want);
    key(&mut a, KeyCode::Esc);
    assert!(matches!(a.modal, Modal::None));
}

#[test]
fn group_settings_restart_only_the_consumers() {
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    assert_eq!(a.message.as_deref(), Some("nothing changed"));
    let i = FIELDS.iter().position(|f| *f == Field::Assignment).unwrap();
    while a.settings.selected != i {
        key(&mut a, KeyCode::Down);
    }
    for _ in 0..20 {
        key(&mut a, KeyCode::Backspace);
    }
    for c in "cooperative-sticky".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    let want = GroupSettings {
        strategies: Strategies(vec![Strategy::CooperativeSticky]),
        protocol: GroupProtocol::Classic,
    };
    assert_eq!(key(&mut a, KeyCode::Enter), vec![Command::Regroup(want)]);
    for c in "x".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    assert!(
        a.settings.error(i).is_some(),
        "cooperative-stickyx is no strategy"
    );
}

#[test]
fn topic_form_checks_values_and_issues_one_command() {
    let mut a = app();
    key(&mut a, KeyCode::Char('a'));
    assert!(matches!(a.modal, Modal::Topics(_)));
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
    assert!(matches!(a.modal, Modal::None));
    // Partitions only grow.
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
    assert_eq!(a.cluster.topic, "beers");
}

#[test]
fn idempotence_needs_acks_all() {
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    key(&mut a, KeyCode::Backspace);
    key(&mut a, KeyCode::Backspace);
    key(&mut a, KeyCode::Backspace);
    key(&mut a, KeyCode::Char('1'));
    for _ in 0..4 {
        key(&mut a, KeyCode::Down);
    }
    for _ in 0..5 {
        key(&mut a, KeyCode::Backspace);
    }
    for c in "true".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    assert!(a.settings.form_error.as_ref().unwrap().contains("acks=all"));
}

#[test]
fn help_and_quit() {
    let mut a = app();
    key(&mut a, KeyCode::Char('?'));
    assert!(matches!(a.modal, Modal::Help));
    assert_eq!(
        key(&mut a, KeyCode::Char('c')),
        vec![],
        "a key closes the help first"
    );
    assert!(matches!(a.modal, Modal::None));
    assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Command::Quit]);
    let mut a = app();
    key(&mut a, KeyCode::Char('s'));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(a.update(Event::Key(ctrl_c)), vec![Command::Quit]);
    assert!(a.quitting);
}

#[test]
fn snapshots_fill_a_bounded_log_and_history_and_mark_restarts() {
    let mut a = app();
    for _ in 0..(HISTORY + 50) {
        a.update(producer(1, ProducerState::Running));
    }
    assert_eq!(a.producer.history.len(), HISTORY);
    let Event::Kafka(KafkaEvent::Producer(mut s)) = producer(1, ProducerState::Restarting) else {
        unreachable!()
    };
    s.run_ended = Some("run 1 ended: 10 sent".into());
    s.skipped = 5000;
    a.update(Event::Kafka(KafkaEvent::Producer(s)));
    a.update(producer(2, ProducerState::Running));
    let marks: Vec<&LogLine> = a.producer.log.iter().collect();
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
    assert_eq!(a.producer.log.len(), LOG_LINES);
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
    match &a.modal {
        Modal::Topics(form) => form.error.clone().unwrap_or_default(),
        other => panic!("the topic dialog is not open: {other:?}"),
    }
}

#[test]
fn one_overlay_at_a_time() {
    let mut a = app();
    a.update(member(1, &[0]));
    key(&mut a, KeyCode::Char('a'));
    assert!(matches!(a.modal, Modal::Topics(_)));
    // Keys go to the dialog: `?` is text there, not the help.
    key(&mut a, KeyCode::Char('?'));
    assert!(matches!(a.modal, Modal::Topics(_)));
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('?'));
    assert!(matches!(a.modal, Modal::Help));
    // In the help, s closes it instead of opening the settings.
    key(&mut a, KeyCode::Char('s'));
    assert!(matches!(a.modal, Modal::None));
}
