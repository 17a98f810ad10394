//! The dashboard's run loop: connects, starts the Kafka tasks, feeds events to `App::update`,
//! carries out its commands, and draws at most 30 frames a second, only when something changed.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use crate::app::{App, ClusterInfo, Command, Event};
use crate::cli::{Connection, DashboardArgs};
use crate::config::Role;
use crate::headless::load_dataset;
use crate::kafka::cluster;
use crate::kafka::member::{self, GroupSettings, MemberHandle};
use crate::kafka::producer_task::{self, ProducerCommand, ProducerSettings};
use crate::kafka::KafkaEvent;
use crate::sink::{SharedSink, Sink};
use crate::target::Target;

const FRAME: Duration = Duration::from_millis(33);
/// How long quitting waits for consumers to leave the group.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(c: &Connection, args: &DashboardArgs) -> Result<ExitCode> {
    let target = Target::connect(c, Role::Producer)?;
    let mut producer_layers = target.layers.clone();
    producer_layers.builtin("client.id", "kafka-lab-producer", "dashboard");
    // The consumers' settings: the group and new records only (group settings come below).
    let mut base_layers = target.layers.clone();
    base_layers.builtin("auto.offset.reset", "latest", "dashboard");
    base_layers.builtin("group.id", args.group.clone(), "dashboard (-g)");
    if c.print_config {
        print!("{}", producer_layers.resolve(Role::Producer)?.describe());
        print!("{}", base_layers.resolve(Role::Consumer)?.describe());
        return Ok(ExitCode::SUCCESS);
    }
    let producer_settings = producer_layers.resolve(Role::Producer)?;
    for warning in &producer_settings.warnings {
        eprintln!("warning: {warning}");
    }
    let dataset = Arc::new(load_dataset(&args.source).await?);
    let topic = target.ensure_topic(&producer_settings).await?;

    // The panel's group settings go on top (with quick group changes on the mock).
    let consumer_settings = base_layers.resolve(Role::Consumer)?;
    let group_settings = GroupSettings::effective(&consumer_settings);
    let mut member_layers = group_settings.layers(&base_layers, topic.is_mock);
    member_layers.resolve(Role::Consumer)?;
    let group = consumer_settings
        .get("group.id")
        .unwrap_or_default()
        .to_string();
    let servers = producer_settings
        .get("bootstrap.servers")
        .unwrap_or_default();
    let cluster = ClusterInfo {
        label: if target.is_embedded() {
            format!("embedded cluster {servers}")
        } else {
            servers.to_string()
        },
        embedded: topic.is_mock,
        owned: target.is_embedded(),
        topic: target.topic.clone(),
        partitions: topic.partitions.len(),
        group,
    };
    let mut initial =
        ProducerSettings::effective(&producer_settings, args.rate.per_second(), args.source.key);
    if target.is_embedded() {
        initial.rtt_ms = Some(c.rtt_ms);
    }
    let mut rtt_in_force = initial.rtt_ms;
    let mut app = App::new(cluster, initial.clone(), group_settings);
    // Members to start again, with new group settings, once they have left.
    let mut rejoining: Vec<u32> = Vec::new();

    let (kafka_tx, mut kafka_rx) = mpsc::channel(256);
    let producer = producer_task::spawn(
        producer_layers.clone(),
        target.topic.clone(),
        dataset,
        initial,
        !args.paused,
        kafka_tx.clone(),
    );
    let mut topic_name = target.topic.clone();
    let mut watcher =
        crate::kafka::watcher::spawn(&consumer_settings, &topic_name, kafka_tx.clone());
    let mut members: Vec<MemberHandle> = Vec::new();
    let first = app.reserve_member();
    let sink = SharedSink::default();
    members.push(member::spawn(
        first,
        &member_layers,
        &target.topic,
        kafka_tx.clone(),
        sink.clone(),
    ));

    let (key_tx, mut key_rx) = mpsc::channel(64);
    let (notice_tx, mut notice_rx) = mpsc::channel::<Notice>(16);
    let mut outages = 0usize;
    let reading = Arc::new(AtomicBool::new(true));
    let input = spawn_input(key_tx, reading.clone());

    let mut terminal = ratatui::init();
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let outcome: Result<()> = async {
        loop {
            let commands = tokio::select! {
                Some(event) = kafka_rx.recv() => {
                    if let KafkaEvent::MemberLeft { id, .. } = &event {
                        members.retain(|m| m.id != *id);
                        if let Some(i) = rejoining.iter().position(|r| r == id) {
                            rejoining.remove(i);
                            members.push(member::spawn(*id, &member_layers, &topic_name, kafka_tx.clone(), sink.clone()));
                        }
                    }
                    app.update(Event::Kafka(event))
                }
                Some(notice) = notice_rx.recv() => {
                    if let (Some(broker), Some(embedded)) = (notice.bring_up, &target.embedded) {
                        embedded.broker_up(broker);
                    }
                    app.update(Event::Notice(notice.text))
                }
                Some(input) = key_rx.recv() => match input {
                    crossterm::event::Event::Key(key) => app.update(Event::Key(key)),
                    crossterm::event::Event::Resize(..) => app.update(Event::Resize),
                    _ => Vec::new(),
                },
                _ = frame.tick() => {
                    if app.dirty {
                        terminal.draw(|f| crate::ui::render(f, &app)).context("drawing")?;
                        app.dirty = false;
                    }
                    Vec::new()
                }
            };
            for command in commands {
                match command {
                    Command::StartProducer => producer.send(ProducerCommand::Start),
                    Command::StopProducer => producer.send(ProducerCommand::Stop),
                    Command::ApplySettings(s) => {
                        if let (Some(cluster), Some(rtt)) = (&target.embedded, s.rtt_ms) {
                            if rtt_in_force != Some(rtt) {
                                cluster.set_rtt(Duration::from_millis(rtt));
                                rtt_in_force = Some(rtt);
                            }
                        }
                        producer.send(ProducerCommand::Apply(s))
                    }
                    Command::CreateTopic { name, partitions, replication } => match &target.embedded {
                        Some(cluster) => {
                            let notice = match cluster.create_topic(&name, partitions) {
                                Ok(()) => format!("created topic {name} with {partitions} partitions (a, then switch, moves to it)"),
                                Err(e) => e.to_string(),
                            };
                            app.update(Event::Notice(notice));
                        }
                        None => {
                            let (settings, notices) = (producer_settings.clone(), notice_tx.clone());
                            tokio::spawn(async move {
                                let text = match cluster::create_topic(&settings, &name, partitions, replication).await {
                                    Ok(()) => format!("created topic {name} with {partitions} partitions (a, then switch, moves to it)"),
                                    Err(e) => e.to_string(),
                                };
                                let _ = notices.send(Notice { text, bring_up: None }).await;
                            });
                        }
                    },
                    Command::AddPartitions { total } => {
                        if target.embedded.is_some() {
                            app.update(Event::Notice(
                                "the embedded cluster cannot add partitions to an existing topic: create a topic with more (a) and switch to it".into(),
                            ));
                        } else {
                            let (settings, notices, name) = (producer_settings.clone(), notice_tx.clone(), topic_name.clone());
                            tokio::spawn(async move {
                                let text = match cluster::add_partitions(&settings, &name, total as usize).await {
                                    Ok(()) => format!("topic {name} now has {total} partitions: watch the group rebalance (g)"),
                                    Err(e) => e.to_string(),
                                };
                                let _ = notices.send(Notice { text, bring_up: None }).await;
                            });
                        }
                    }
                    Command::SwitchTopic(name) => {
                        let settings = producer_settings.clone();
                        let probe_name = name.clone();
                        let found = tokio::task::spawn_blocking(move || {
                            cluster::probe(&settings, &probe_name, Duration::from_secs(5))
                        })
                        .await?;
                        match found {
                            Ok(info) => {
                                producer.send(ProducerCommand::SwitchTopic(name.clone()));
                                topic_name = name.clone();
                                watcher = crate::kafka::watcher::spawn(&consumer_settings, &topic_name, kafka_tx.clone());
                                for m in &mut members {
                                    rejoining.push(m.id);
                                    m.leave();
                                }
                                app.update(Event::TopicSwitched { topic: name, partitions: info.partitions.len() });
                            }
                            Err(e) => {
                                app.update(Event::Notice(e.to_string()));
                            }
                        }
                    }
                    Command::Regroup(group) => {
                        member_layers = group.layers(&base_layers, topic.is_mock);
                        for m in &mut members {
                            rejoining.push(m.id);
                            m.leave();
                        }
                    }
                    Command::Export(rows) => {
                        let notice = match export(&rows) {
                            Ok(paths) => format!("exported {} runs to {paths}", rows.len()),
                            Err(e) => format!("export failed: {e:#}"),
                        };
                        app.update(Event::Notice(notice));
                    }
                    Command::BrokerOutage => {
                        let notice = match &target.embedded {
                            Some(cluster) => outage(
                                cluster,
                                &producer_settings,
                                &topic_name,
                                &mut outages,
                                notice_tx.clone(),
                            ),
                            None => "b only works on the embedded cluster".to_string(),
                        };
                        app.update(Event::Notice(notice));
                    }
                    Command::AddMember(id) => members.push(member::spawn(
                        id,
                        &member_layers,
                        &topic_name,
                        kafka_tx.clone(),
                        sink.clone(),
                    )),
                    Command::ToggleSink => {
                        let mut open = sink.lock().unwrap();
                        let notice = match open.take() {
                            Some(mut s) => {
                                let _ = s.flush();
                                app.update(Event::SinkChanged(None));
                                format!("stopped writing: {} records in {}", s.written, s.path().display())
                            }
                            None => {
                                let path = std::path::PathBuf::from(format!(
                                    "kafka-lab-sink-{}.jsonl",
                                    std::time::SystemTime::now()
                                        .duration_since(std::time::UNIX_EPOCH)
                                        .unwrap_or_default()
                                        .as_secs()
                                ));
                                match Sink::open(&path) {
                                    Ok(s) => {
                                        let shown = std::env::current_dir().unwrap_or_default().join(&path);
                                        *open = Some(s);
                                        app.update(Event::SinkChanged(Some(shown.display().to_string())));
                                        format!("writing consumed records to {} (w stops)", shown.display())
                                    }
                                    Err(e) => format!("cannot open {}: {e}", path.display()),
                                }
                            }
                        };
                        app.update(Event::Notice(notice));
                    }
                    Command::RemoveMember(id) => {
                        if let Some(m) = members.iter_mut().find(|m| m.id == id) {
                            m.leave();
                        }
                    }
                    Command::Quit => return Ok(()),
                }
            }
        }
    }
    .await;

    // Show that shutdown is under way, then flush and leave the group.
    let _ = terminal.draw(|f| crate::ui::render(f, &app));
    reading.store(false, Ordering::SeqCst);
    let flushing = tokio::task::spawn_blocking(move || producer.shutdown());
    let leaving: Vec<_> = members
        .into_iter()
        .map(|m| tokio::spawn(m.leave_and_wait(LEAVE_TIMEOUT)))
        .collect();
    for l in leaving {
        let _ = l.await;
    }
    let last_run = flushing.await.ok().flatten();
    ratatui::restore();
    let _ = input.join();
    drop(target);
    outcome?;
    if let Some(ended) = last_run {
        println!("kafka-lab: {ended}");
    }
    Ok(ExitCode::SUCCESS)
}

/// News for the screen from a background step, and a broker to bring back.
struct Notice {
    text: String,
    bring_up: Option<i32>,
}

/// How long `b` keeps a broker down.
const OUTAGE: Duration = Duration::from_secs(5);

/// Takes down the leader of the next partition (in turn) for a few seconds.
fn outage(
    cluster: &crate::kafka::cluster::EmbeddedCluster,
    settings: &crate::config::ClientSettings,
    topic: &str,
    count: &mut usize,
    notices: mpsc::Sender<Notice>,
) -> String {
    let leaders = match crate::kafka::cluster::partition_leaders(settings, topic) {
        Ok(l) if !l.is_empty() => l,
        Ok(_) => return "no partition leader found".to_string(),
        Err(e) => return e.to_string(),
    };
    let (partition, broker) = leaders[*count % leaders.len()];
    *count += 1;
    cluster.broker_down(broker);
    tokio::spawn(async move {
        tokio::time::sleep(OUTAGE).await;
        let _ = notices
            .send(Notice {
                text: format!("broker {broker} is back up"),
                bring_up: Some(broker),
            })
            .await;
    });
    format!(
        "broker {broker} (leader of partition {partition}) is down for {} s: watch the errors, retries and recovery",
        OUTAGE.as_secs()
    )
}

/// Writes the runs to `kafka-lab-runs-<time>.csv` and `.json` in the current folder.
fn export(rows: &[crate::kafka::metrics::RunReport]) -> Result<String> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let csv_path = format!("kafka-lab-runs-{stamp}.csv");
    let json_path = format!("kafka-lab-runs-{stamp}.json");
    let mut csv = format!("{}\n", crate::kafka::metrics::RunReport::CSV_HEADER);
    for r in rows {
        csv.push_str(&r.csv_row());
        csv.push('\n');
    }
    std::fs::write(&csv_path, csv).with_context(|| format!("cannot write {csv_path}"))?;
    std::fs::write(&json_path, serde_json::to_string_pretty(rows)?)
        .with_context(|| format!("cannot write {json_path}"))?;
    let dir = std::env::current_dir().unwrap_or_default();
    Ok(format!("{}/{{{csv_path}, {json_path}}}", dir.display()))
}

/// Reads the terminal's events on a thread of its own (crossterm's read blocks).
fn spawn_input(
    keys: mpsc::Sender<crossterm::event::Event>,
    reading: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while reading.load(Ordering::SeqCst) {
            match crossterm::event::poll(Duration::from_millis(100)) {
                Ok(true) => match crossterm::event::read() {
                    Ok(event) => {
                        if keys.blocking_send(event).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    })
}
