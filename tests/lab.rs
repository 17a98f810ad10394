//! The lab's driver without a terminal: a scenario played through `Lab` (no screen, no binary),
//! its runs checked against the broker's own offsets. On the embedded cluster always, and on
//! the real broker when `KAFKA_LAB_BOOTSTRAP` is set.

mod common;

use std::time::Duration;

use clap::Parser;
use kafka_lab::cli::Cli;
use kafka_lab::config::Role;
use kafka_lab::lab::protocol::Event;
use kafka_lab::lab::{scenario_args, Lab, Turn};
use kafka_lab::scenario::player::Player;
use kafka_lab::target::Target;
use rdkafka::consumer::{BaseConsumer, Consumer};

const SCENARIO: &str = r#"
title = "Driver"
[topic]
partitions = 3

[[step]]
consumers = 1
[[step]]
rate = 300
[[step]]
start = "producer"
[[step]]
wait = "4s"
[[step]]
producer = { "linger.ms" = "20" }
[[step]]
wait = "4s"
[[step]]
assert = "delivered > 0"
[[step]]
assert = "missing == 0"
[[step]]
assert = "members == 1"
within = "30s"
"#;

/// Plays the scenario through the driver on the cluster `args` name; returns the player
/// once over, and the topic's records by the broker's high watermarks.
async fn play(args: &[&str]) -> (Player, u64, Vec<u32>) {
    let cli = Cli::parse_from(args);
    let scenario = kafka_lab::scenario::file::parse(SCENARIO, "driver.toml").unwrap();
    let layers = Target::layers(&cli.connection).unwrap();
    let c = kafka_lab::scenario::prepare(&cli.connection, &scenario, &layers).unwrap();
    let target = Target::with_layers(&c, layers, Role::Producer).unwrap();
    let group = format!("kafka-lab-{}", c.topic);
    let mut lab = Lab::open(&c, &scenario_args(&cli.dashboard.source, &group), target)
        .await
        .unwrap();
    let mut player = Player::new(scenario, 2.0, lab.app());
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !player.is_over() {
        assert!(tokio::time::Instant::now() < deadline, "the scenario ends");
        let turn = tokio::select! {
            turn = lab.next() => turn,
            _ = tick.tick() => {
                let events: Vec<Event> = player.tick(lab.app());
                let mut turn = Turn::Applied { redraw: false };
                for event in events {
                    match lab.apply(event) {
                        Turn::Applied { .. } => {}
                        end => turn = end,
                    }
                }
                turn
            }
        };
        assert!(matches!(turn, Turn::Applied { .. }), "{turn:?}");
    }
    let runs: Vec<u32> = lab.app().runs().iter().map(|r| r.run).collect();
    // The broker's count of the topic's records: the sum of its partitions' high watermarks.
    // Asked before the lab shuts down: it owns the embedded cluster.
    let settings = lab.producer_settings().clone();
    let topic = c.topic.clone();
    let (s, t) = (settings.clone(), topic.clone());
    let high = tokio::task::spawn_blocking(move || high_watermarks(&s, &t))
        .await
        .unwrap();
    // The watcher's look (every partition's ends in one request per leader) agrees with the
    // broker asked partition by partition, once a look came after the last record.
    let until = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (s, t) = (settings.clone(), topic.clone());
        let broker = tokio::task::spawn_blocking(move || watermarks(&s, &t))
            .await
            .unwrap();
        let seen: Vec<(i64, i64)> = lab
            .app()
            .topic_snapshot()
            .map(|t| {
                t.partitions
                    .iter()
                    .map(|p| (p.low_watermark, p.high_watermark))
                    .collect()
            })
            .unwrap_or_default();
        if seen == broker {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "the watcher saw {seen:?}, the broker says {broker:?}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(500), lab.next()).await;
    }
    lab.shut_down().await;
    (player, high, runs)
}

/// Each partition's (low, high) watermarks, asked one partition at a time.
fn watermarks(settings: &kafka_lab::config::ClientSettings, topic: &str) -> Vec<(i64, i64)> {
    let mut config = settings.client_config();
    config.set("group.id", "kafka-lab-test-watermarks");
    config.set("isolation.level", "read_uncommitted");
    let consumer: BaseConsumer = config.create().unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut ids: Vec<i32> = metadata.topics()[0]
        .partitions()
        .iter()
        .map(rdkafka::metadata::MetadataPartition::id)
        .collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap()
        })
        .collect()
}

fn high_watermarks(settings: &kafka_lab::config::ClientSettings, topic: &str) -> u64 {
    let mut config = settings.client_config();
    config.set("group.id", "kafka-lab-test-watermarks");
    let consumer: BaseConsumer = config.create().unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    metadata.topics()[0]
        .partitions()
        .iter()
        .map(|p| {
            let (low, high) = consumer
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .unwrap();
            u64::try_from(high - low).unwrap()
        })
        .sum()
}

fn check(player: &Player, high: u64, ended: &[u32]) {
    let failures: Vec<String> = player
        .failures()
        .iter()
        .map(|c| format!("{} ({})", c.text, c.values))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    let runs = player.runs();
    assert_eq!(runs.len(), 2, "a start and a restart: two runs ({ended:?})");
    assert_eq!(runs[1].settings["linger.ms"], "20");
    assert_ne!(runs[0].settings["linger.ms"], "20");
    let delivered: u64 = runs.iter().map(|r| r.delivered).sum();
    assert!(delivered > 0);
    assert_eq!(
        delivered, high,
        "every delivered record is in the topic, by the broker's offsets"
    );
    for r in &runs {
        let a = r.accounting.as_ref().expect("read back");
        assert_eq!((a.received, a.missing, a.duplicated), (r.delivered, 0, 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scenario_plays_through_the_driver_on_the_embedded_cluster() {
    let (player, high, runs) = play(&["kafka-lab"]).await;
    check(&player, high, &runs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scenario_plays_through_the_driver_on_a_real_broker() {
    let Some(bootstrap) = common::real_bootstrap() else {
        eprintln!(
            "SKIPPED lab::real_broker: {} is not set",
            common::BOOTSTRAP_VAR
        );
        return;
    };
    let (player, high, runs) = play(&["kafka-lab", "-b", &bootstrap]).await;
    check(&player, high, &runs);
}

/// A node the lab killed (`b`, "never back") is brought back when the lab shuts down: a
/// cluster is not left short of a node.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_the_lab_killed_is_back_after_it_stops() {
    let Some(bootstrap) = std::env::var("KAFKA_LAB_REPLICATED_BOOTSTRAP").ok() else {
        eprintln!("SKIPPED lab::replicated: KAFKA_LAB_REPLICATED_BOOTSTRAP is not set");
        return;
    };
    let topic = common::unique_topic("lab-node");
    let cli = Cli::parse_from([
        "kafka-lab",
        "-b",
        &bootstrap,
        "-t",
        &topic,
        "--partitions",
        "1",
        "--replication-factor",
        "3",
    ]);
    let c = &cli.connection;
    let target = Target::connect(c, Role::Producer).unwrap();
    let mut lab = Lab::open(c, &scenario_args(&cli.dashboard.source, &topic), target)
        .await
        .unwrap();
    lab.keep_said();
    lab.apply(Event::Script(kafka_lab::lab::protocol::Step::Fault {
        kind: kafka_lab::kafka::local::FaultKind::Kill,
        partition: 0,
        length: None,
    }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut said = Vec::new();
    while !said.iter().any(|s: &String| s.contains("killed")) {
        assert!(tokio::time::Instant::now() < deadline, "no kill: {said:?}");
        lab.next().await;
        said.extend(lab.take_said());
    }
    // The fault was said before it was done (before any client's complaint about the node),
    // and the screen marks the node from then on.
    let before = said
        .iter()
        .position(|s| s.contains("kill (SIGKILL"))
        .unwrap_or_else(|| panic!("{said:?}"));
    let done = said.iter().position(|s| s.contains("killed")).unwrap();
    assert!(before < done, "{said:?}");
    assert_eq!(
        lab.app().nodes_down().values().next().map(|d| d.0),
        Some("killed")
    );
    let ended = lab.shut_down().await;
    assert!(
        ended.said.iter().any(|s| s.contains("is back")),
        "{:?}",
        ended.said
    );
    let status = std::process::Command::new(kafka_lab::runtime::in_repo("scripts/kafka-local"))
        .args(["--nodes", "3", "status"])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "every node up: {}",
        common::stdout(&status)
    );
}

/// The fault dialog's acks=1 loss recipe on three nodes: both followers are paused before the
/// leader is killed, each said before it is done; the followers resume; the quit brings the
/// leader back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_loss_recipe_pauses_the_followers_kills_the_leader_and_resumes_them() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let Some(bootstrap) = std::env::var("KAFKA_LAB_REPLICATED_BOOTSTRAP").ok() else {
        eprintln!("SKIPPED lab::replicated: KAFKA_LAB_REPLICATED_BOOTSTRAP is not set");
        return;
    };
    let topic = common::unique_topic("lab-recipe");
    let cli = Cli::parse_from([
        "kafka-lab",
        "-b",
        &bootstrap,
        "-t",
        &topic,
        "--partitions",
        "1",
        "--replication-factor",
        "3",
    ]);
    let c = &cli.connection;
    let target = Target::connect(c, Role::Producer).unwrap();
    let mut lab = Lab::open(c, &scenario_args(&cli.dashboard.source, &topic), target)
        .await
        .unwrap();
    lab.keep_said();
    // b, the fault row two choices on (kill, pause, the recipe), Enter.
    for code in [
        KeyCode::Char('b'),
        KeyCode::Right,
        KeyCode::Right,
        KeyCode::Enter,
    ] {
        lab.apply(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut said = Vec::new();
    while !said.iter().any(|s: &String| s.contains("loss recipe done")) {
        assert!(tokio::time::Instant::now() < deadline, "no kill: {said:?}");
        lab.next().await;
        said.extend(lab.take_said());
    }
    let at = |what: &str| {
        said.iter()
            .position(|s| s.contains(what))
            .unwrap_or_else(|| panic!("{what}: {said:?}"))
    };
    let pauses: Vec<usize> = said
        .iter()
        .enumerate()
        .filter(|(_, s)| s.contains("(follower of partition 0): pause"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(pauses.len(), 2, "{said:?}");
    let kill = at("(leader of partition 0): kill");
    assert!(pauses.iter().all(|p| *p < kill), "{said:?}");
    // Said in the order done: killed, then the followers back.
    let killed = at("killed (leader of partition 0)");
    let resumed: Vec<usize> = said
        .iter()
        .enumerate()
        .filter(|(_, s)| s.contains("resumed"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(resumed.len(), 2, "{said:?}");
    assert!(resumed.iter().all(|r| *r > killed), "{said:?}");
    // The followers were resumed; only the leader is down now.
    assert_eq!(
        lab.app()
            .nodes_down()
            .values()
            .map(|d| d.0)
            .collect::<Vec<_>>(),
        ["killed"],
        "{said:?}"
    );
    let ended = lab.shut_down().await;
    assert!(
        ended.said.iter().any(|s| s.contains("is back")),
        "{:?}",
        ended.said
    );
    let status = std::process::Command::new(kafka_lab::runtime::in_repo("scripts/kafka-local"))
        .args(["--nodes", "3", "status"])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "every node up: {}",
        common::stdout(&status)
    );
}
