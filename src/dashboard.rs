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
use crate::config::{ClientSettings, Layers, Role};
use crate::headless::load_dataset;
use crate::kafka::cluster;
use crate::kafka::member::{self, GroupSettings, MemberHandle};
use crate::kafka::producer_task::{self, ProducerCommand, ProducerHandle, ProducerSettings};
use crate::kafka::watcher::Watcher;
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
    let member_layers = group_settings.layers(&base_layers, topic.is_mock);
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
    let mut app = App::new(cluster, initial.clone(), group_settings);

    let (kafka_tx, mut kafka_rx) = mpsc::channel(256);
    let (notice_tx, mut notice_rx) = mpsc::channel::<Notice>(16);
    let producer = producer_task::spawn(
        producer_layers.clone(),
        target.topic.clone(),
        dataset,
        initial.clone(),
        !args.paused,
        kafka_tx.clone(),
    );
    let watcher = crate::kafka::watcher::spawn(&consumer_settings, &target.topic, kafka_tx.clone());
    let mut session = Session {
        topic: target.topic.clone(),
        mock: topic.is_mock,
        rtt_in_force: initial.rtt_ms,
        target,
        producer_settings,
        consumer_settings,
        base_layers,
        member_layers,
        producer,
        members: Vec::new(),
        rejoining: Vec::new(),
        watcher,
        sink: SharedSink::default(),
        outages: 0,
        kafka_tx,
        notice_tx,
    };
    let first = app.reserve_member();
    session.add_member(first);

    let (key_tx, mut key_rx) = mpsc::channel(64);
    let reading = Arc::new(AtomicBool::new(true));
    let input = spawn_input(key_tx, reading.clone());

    let mut terminal = ratatui::init();
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let outcome: Result<()> = async {
        loop {
            let commands = tokio::select! {
                Some(event) = kafka_rx.recv() => {
                    session.on_kafka_event(&event);
                    app.update(Event::Kafka(event))
                }
                Some(notice) = notice_rx.recv() => {
                    session.on_notice(&notice);
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
                if matches!(command, Command::Quit) {
                    return Ok(());
                }
                for event in session.carry_out(command).await? {
                    app.update(event);
                }
            }
        }
    }
    .await;

    // Show that shutdown is under way, then flush and leave the group.
    let _ = terminal.draw(|f| crate::ui::render(f, &app));
    reading.store(false, Ordering::SeqCst);
    let last_run = session.shut_down().await;
    ratatui::restore();
    let _ = input.join();
    outcome?;
    if let Some(ended) = last_run {
        println!("kafka-lab: {ended}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The Kafka side of a dashboard session: the producer, the group's members, the topic
/// watcher, the sink, and the cluster when kafka-lab serves it. Carries out `App`'s commands.
struct Session {
    target: Target,
    /// The topic the producer and the members work on now.
    topic: String,
    mock: bool,
    producer_settings: ClientSettings,
    consumer_settings: ClientSettings,
    /// The members' settings without the panel's group settings.
    base_layers: Layers,
    member_layers: Layers,
    rtt_in_force: Option<u64>,
    producer: ProducerHandle,
    members: Vec<MemberHandle>,
    /// Members to start again (new group settings or topic) once they have left.
    rejoining: Vec<u32>,
    watcher: Watcher,
    sink: SharedSink,
    outages: usize,
    kafka_tx: mpsc::Sender<KafkaEvent>,
    notice_tx: mpsc::Sender<Notice>,
}

impl Session {
    fn add_member(&mut self, id: u32) {
        self.members.push(member::spawn(
            id,
            &self.member_layers,
            &self.topic,
            self.kafka_tx.clone(),
            self.sink.clone(),
        ));
    }

    /// Every member leaves, and joins again (with the settings and topic in force) once gone.
    fn rejoin_all(&mut self) {
        for m in &mut self.members {
            self.rejoining.push(m.id);
            m.leave();
        }
    }

    fn on_kafka_event(&mut self, event: &KafkaEvent) {
        if let KafkaEvent::MemberLeft { id, .. } = event {
            self.members.retain(|m| m.id != *id);
            if let Some(i) = self.rejoining.iter().position(|r| r == id) {
                self.rejoining.remove(i);
                self.add_member(*id);
            }
        }
    }

    fn on_notice(&mut self, notice: &Notice) {
        if let (Some(broker), Some(cluster)) = (notice.bring_up, &self.target.embedded) {
            cluster.broker_up(broker);
        }
    }

    /// Tells the screen, later, how a background step went.
    fn notify_later(&self, work: impl std::future::Future<Output = String> + Send + 'static) {
        let notices = self.notice_tx.clone();
        tokio::spawn(async move {
            let text = work.await;
            let _ = notices
                .send(Notice {
                    text,
                    bring_up: None,
                })
                .await;
        });
    }

    /// Does what a command asks; returns what the screen should hear about it.
    async fn carry_out(&mut self, command: Command) -> Result<Vec<Event>> {
        let notice = |text: String| vec![Event::Notice(text)];
        Ok(match command {
            Command::Quit => Vec::new(),
            Command::StartProducer => {
                self.producer.send(ProducerCommand::Start);
                Vec::new()
            }
            Command::StopProducer => {
                self.producer.send(ProducerCommand::Stop);
                Vec::new()
            }
            Command::ApplySettings(s) => {
                if let (Some(cluster), Some(rtt)) = (&self.target.embedded, s.rtt_ms) {
                    if self.rtt_in_force != Some(rtt) {
                        cluster.set_rtt(Duration::from_millis(rtt));
                        self.rtt_in_force = Some(rtt);
                    }
                }
                self.producer.send(ProducerCommand::Apply(s));
                Vec::new()
            }
            Command::Regroup(group) => {
                self.member_layers = group.layers(&self.base_layers, self.mock);
                self.rejoin_all();
                Vec::new()
            }
            Command::AddMember(id) => {
                self.add_member(id);
                Vec::new()
            }
            Command::RemoveMember(id) => {
                if let Some(m) = self.members.iter_mut().find(|m| m.id == id) {
                    m.leave();
                }
                Vec::new()
            }
            Command::CreateTopic {
                name,
                partitions,
                replication,
            } => {
                let topic = name.clone();
                let created = move |r: Result<(), cluster::ClusterError>| {
                    match r {
                    Ok(()) => format!(
                        "created topic {name} with {partitions} partitions (a, then switch, moves to it)"
                    ),
                    Err(e) => e.to_string(),
                }
                };
                match &self.target.embedded {
                    Some(c) => notice(created(c.create_topic(&topic, partitions))),
                    None => {
                        let settings = self.producer_settings.clone();
                        self.notify_later(async move {
                            let result =
                                cluster::create_topic(&settings, &topic, partitions, replication)
                                    .await;
                            created(result)
                        });
                        Vec::new()
                    }
                }
            }
            Command::AddPartitions { total } => {
                if self.target.embedded.is_some() {
                    return Ok(notice(
                        "the embedded cluster cannot add partitions to an existing topic: \
                         create a topic with more (a) and switch to it"
                            .into(),
                    ));
                }
                let (settings, name) = (self.producer_settings.clone(), self.topic.clone());
                self.notify_later(async move {
                    match cluster::add_partitions(&settings, &name, total as usize).await {
                        Ok(()) => format!(
                            "topic {name} now has {total} partitions: watch the group rebalance (g)"
                        ),
                        Err(e) => e.to_string(),
                    }
                });
                Vec::new()
            }
            Command::SwitchTopic(name) => {
                let (settings, probe_name) = (self.producer_settings.clone(), name.clone());
                let found = tokio::task::spawn_blocking(move || {
                    cluster::probe(&settings, &probe_name, Duration::from_secs(5))
                })
                .await?;
                match found {
                    Ok(info) => {
                        self.producer
                            .send(ProducerCommand::SwitchTopic(name.clone()));
                        self.topic = name.clone();
                        self.watcher = crate::kafka::watcher::spawn(
                            &self.consumer_settings,
                            &self.topic,
                            self.kafka_tx.clone(),
                        );
                        self.rejoin_all();
                        vec![Event::TopicSwitched {
                            topic: name,
                            partitions: info.partitions.len(),
                        }]
                    }
                    Err(e) => notice(e.to_string()),
                }
            }
            Command::Export(rows) => notice(match export(&rows) {
                Ok(paths) => format!("exported {} runs to {paths}", rows.len()),
                Err(e) => format!("export failed: {e:#}"),
            }),
            Command::BrokerOutage => notice(match &self.target.embedded {
                Some(cluster) => outage(
                    cluster,
                    &self.producer_settings,
                    &self.topic,
                    &mut self.outages,
                    self.notice_tx.clone(),
                ),
                None => "b only works on the embedded cluster".to_string(),
            }),
            Command::ToggleSink => self.toggle_sink(),
        })
    }

    fn toggle_sink(&mut self) -> Vec<Event> {
        let mut open = self.sink.lock().unwrap();
        match open.take() {
            Some(mut s) => {
                let _ = s.flush();
                vec![
                    Event::SinkChanged(None),
                    Event::Notice(format!(
                        "stopped writing: {} records in {}",
                        s.written,
                        s.path().display()
                    )),
                ]
            }
            None => {
                let path = std::env::current_dir()
                    .unwrap_or_default()
                    .join(format!("kafka-lab-sink-{}.jsonl", unix_seconds()));
                match Sink::open(&path) {
                    Ok(s) => {
                        *open = Some(s);
                        vec![
                            Event::SinkChanged(Some(path.display().to_string())),
                            Event::Notice(format!(
                                "writing consumed records to {} (w stops)",
                                path.display()
                            )),
                        ]
                    }
                    Err(e) => vec![Event::Notice(format!(
                        "cannot open {}: {e}",
                        path.display()
                    ))],
                }
            }
        }
    }

    /// Flushes the producer and has every member leave (bounded); returns how the last run
    /// ended. The embedded cluster stops when the session is dropped.
    async fn shut_down(self) -> Option<String> {
        let producer = self.producer;
        let flushing = tokio::task::spawn_blocking(move || producer.shutdown());
        let leaving: Vec<_> = self
            .members
            .into_iter()
            .map(|m| tokio::spawn(m.leave_and_wait(LEAVE_TIMEOUT)))
            .collect();
        for l in leaving {
            let _ = l.await;
        }
        flushing.await.ok().flatten()
    }
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
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
    let stamp = unix_seconds();
    let csv_path = format!("kafka-lab-runs-{stamp}.csv");
    let json_path = format!("kafka-lab-runs-{stamp}.json");
    std::fs::write(&csv_path, crate::kafka::metrics::RunReport::csv(rows))
        .with_context(|| format!("cannot write {csv_path}"))?;
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
