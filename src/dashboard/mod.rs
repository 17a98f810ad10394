//! The dashboard: connects, starts the Kafka actors, feeds events to `App::update`, has the
//! session carry out its commands, and draws at most 30 frames a second, only when something
//! changed. The loop never waits for the cluster (see `session`).
//!
//! It ends the same clean way on `q`, Ctrl-C, SIGTERM, SIGHUP or a panic in any task: the
//! producer is flushed, the members leave, the terminal is restored; a panic or a signal is
//! said on stderr and makes the exit code non-zero.

pub mod actors;
mod measure;
pub mod protocol;
pub mod session;
pub mod settings;
pub mod snapshots;
pub mod state;

pub use measure::{measure, Measured};

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use crate::cli::{Connection, DashboardArgs};
use crate::config::{Layers, Role};
use crate::data::sink::SharedSink;
use crate::kafka::consumer::FAST_FETCH;
use crate::kafka::embedded::EmbeddedCluster;
use crate::runtime::{load_dataset, wait_for_signal, Signal};
use crate::target::Target;
use protocol::{Command, Event};
use session::{Outcome, Session};
use settings::{GroupSettings, ProducerSettings};
use state::{App, ClusterInfo};

const FRAME: Duration = Duration::from_millis(33);
/// A running producer's screen gets a frame at least this often (every third tick: ten or
/// more a second).
const REDRAW_EVERY: Duration = Duration::from_millis(80);

/// Why the loop ended, besides a key.
enum End {
    Quit,
    Signal(Signal),
    Panic(String),
}

pub async fn run(c: &Connection, args: &DashboardArgs) -> Result<ExitCode> {
    // A scenario is read and checked before anything connects; it brings its own topic.
    let scenario = args
        .scenario
        .as_deref()
        .map(crate::scenario::load)
        .transpose()?;
    let layers = Target::layers(c)?;
    let (c, args) = match &scenario {
        Some(s) => {
            let c = crate::scenario::prepare(c, s, &layers)?;
            let group = format!("kafka-lab-{}", c.topic);
            let args = DashboardArgs {
                speed: args.speed,
                ..scenario_args(&args.source, &group)
            };
            (c, args)
        }
        None => (c.clone(), args.clone()),
    };
    let (c, args) = (&c, &args);
    let target = Target::with_layers(c, layers, Role::Producer)?;
    let (producer_layers, base_layers) = client_layers(&target, args);
    if c.print_config {
        for settings in [
            producer_layers.resolve(Role::Producer)?,
            base_layers.resolve(Role::Consumer)?,
        ] {
            for warning in &settings.warnings {
                eprintln!("warning: {warning}");
            }
            print!("{}", settings.describe());
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Noted from here on: a task may fail while the others start.
    let panicked: Arc<Mutex<Option<String>>> = Arc::default();
    watch_panics(&panicked);
    let (mut app, mut session, channels) =
        start(c, args, &target, producer_layers, base_layers).await?;
    let mut player = scenario.map(|s| crate::scenario::player::Player::new(s, args.speed, &app));

    let (key_tx, key_rx) = mpsc::channel(64);
    let reading = Arc::new(AtomicBool::new(true));
    let input = spawn_input(key_tx, reading.clone());
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    if let Ok(size) = terminal.size() {
        app.update(Event::Resize(size.width, size.height));
    }
    // Again on top of ratatui's hook, which restores the terminal for the loop's own panics.
    watch_panics(&panicked);
    let outcome = event_loop(
        &mut terminal,
        &mut app,
        &mut session,
        (channels, key_rx),
        &panicked,
        player.as_mut(),
        |_, _| true,
    )
    .await;

    // Show that shutdown is under way, then flush and leave the group.
    if !matches!(outcome, Ok(End::Quit)) {
        app.message = Some("stopping: flushing the producer, leaving the group ...".into());
    }
    let _ = terminal.draw(|f| crate::ui::render(f, &app));
    reading.store(false, Ordering::SeqCst);
    let last_run = session.shut_down().await;
    let scenario_report = player.as_ref().and_then(|p| report_if_stopped(p, &app));
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    // Not joined: when the terminal is gone (a closed window, SIGHUP) crossterm's read may
    // never return; the thread ends with the process.
    drop(input);
    if let Some(ended) = &last_run {
        println!("kafka-lab: {ended}");
    }
    match scenario_report {
        Some(Ok(dir)) => println!(
            "kafka-lab: the scenario stopped before its end; its report is in {}/",
            dir.display()
        ),
        Some(Err(e)) => eprintln!("kafka-lab: the scenario's report could not be written: {e:#}"),
        None => {}
    }
    match outcome? {
        End::Quit => Ok(ExitCode::SUCCESS),
        End::Signal(signal) => {
            eprintln!(
                "kafka-lab: stopped by {signal:?}; the producer was flushed and the consumers left the group"
            );
            Ok(ExitCode::from(128 + signal.number()))
        }
        End::Panic(panic) => anyhow::bail!(
            "a task of the dashboard failed, so it stopped: {panic}\n  This is a bug in kafka-lab; \
             the producer was flushed and the consumers left the group."
        ),
    }
}

/// librdkafka queues up to 1 GB and 100,000 records a producer by default; the dashboard runs
/// for hours: a tenth of a second of records at full speed keeps batches full.
const QUEUE_BOUNDS: [(&str, &str); 2] = [
    ("queue.buffering.max.kbytes", "32768"),
    ("queue.buffering.max.messages", "50000"),
];
/// A consumer prefetches up to 64 MB by default, each member its own.
const PREFETCH_BOUNDS: [(&str, &str); 2] = [
    ("queued.max.messages.kbytes", "16384"),
    ("queued.min.messages", "20000"),
];

/// The producer's layers, and the consumers' (the group and new records only; the panel's
/// group settings come later).
fn client_layers(target: &Target, args: &DashboardArgs) -> (Layers, Layers) {
    let mut producer_layers = target.layers.clone();
    producer_layers.builtin("client.id", "kafka-lab-producer", "dashboard");
    for (key, value) in QUEUE_BOUNDS {
        producer_layers.builtin(key, value, "dashboard (bounded memory)");
    }
    let mut base_layers = target.layers.clone();
    for (key, value) in PREFETCH_BOUNDS {
        base_layers.builtin(key, value, "dashboard (bounded memory)");
    }
    base_layers.builtin("auto.offset.reset", "latest", "dashboard");
    base_layers.builtin("group.id", args.group.clone(), "dashboard (-g)");
    base_layers.builtin(
        FAST_FETCH.0,
        FAST_FETCH.1,
        "dashboard (read as fast as possible)",
    );
    (producer_layers, base_layers)
}

/// What the actors and the session's background work send to the loop.
pub struct Channels {
    pub kafka: mpsc::Receiver<protocol::KafkaEvent>,
    pub outcomes: mpsc::Receiver<Outcome>,
}

/// A dashboard session without a screen, for a scenario: the state, the Kafka side, and the
/// target (which owns the embedded cluster, when there is one).
pub struct Opened {
    pub app: App,
    pub session: Session,
    pub channels: Channels,
    pub target: Target,
}

/// Opens the dashboard's session for a scenario: the producer stopped, no consumers yet (the
/// steps start them), the group `group`.
pub async fn open_for_scenario(
    c: &Connection,
    layers: Layers,
    source: &crate::cli::SourceArgs,
    group: &str,
) -> Result<Opened> {
    let target = Target::with_layers(c, layers, Role::Producer)?;
    let args = scenario_args(source, group);
    let (producer_layers, base_layers) = client_layers(&target, &args);
    let (app, session, channels) = start(c, &args, &target, producer_layers, base_layers).await?;
    Ok(Opened {
        app,
        session,
        channels,
        target,
    })
}

/// The dashboard's arguments a scenario starts from: paused, no consumers, 1,000 records/s.
fn scenario_args(source: &crate::cli::SourceArgs, group: &str) -> DashboardArgs {
    DashboardArgs {
        rate: crate::cli::Rate::PerSecond(1000.0),
        group: group.to_string(),
        paused: true,
        consumers: 0,
        source: source.clone(),
        scenario: None,
        speed: 1.0,
    }
}

/// Checks the cluster and the topic, loads the records, and starts the producer, the first
/// member and the topic watcher.
async fn start(
    c: &Connection,
    args: &DashboardArgs,
    target: &Target,
    producer_layers: Layers,
    base_layers: Layers,
) -> Result<(App, Session, Channels)> {
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
    let servers = producer_settings
        .get("bootstrap.servers")
        .unwrap_or_default();
    // A cluster scripts/kafka-local started on this machine: `b` can fail its nodes.
    let local = if target.is_embedded() || topic.is_mock {
        None
    } else {
        crate::kafka::local::LocalCluster::find(servers).map(std::sync::Arc::new)
    };
    let cluster = ClusterInfo {
        label: if target.is_embedded() {
            format!("embedded cluster {servers}")
        } else {
            servers.to_string()
        },
        embedded: topic.is_mock,
        owned: target.is_embedded(),
        local_nodes: local.as_ref().map(|l| l.nodes.len()),
        topic: target.topic.clone(),
        partitions: topic.partitions.len(),
        group: consumer_settings
            .get("group.id")
            .unwrap_or_default()
            .to_string(),
    };
    let mut initial =
        ProducerSettings::effective(&producer_settings, args.rate.per_second(), args.source.key);
    if target.is_embedded() {
        initial.rtt_ms = Some(c.rtt_ms);
    }
    let mut app = App::new(cluster, initial.clone(), group_settings);

    let (kafka_tx, kafka) = mpsc::channel(256);
    let (outcome_tx, outcomes) = mpsc::channel(16);
    let producer = actors::producer::spawn(
        producer_layers,
        target.topic.clone(),
        dataset,
        initial.clone(),
        !args.paused,
        kafka_tx.clone(),
    );
    let watcher = actors::watcher::spawn(&consumer_settings, &target.topic, kafka_tx.clone());
    let mut session = Session {
        topic: target.topic.clone(),
        embedded: target.embedded.as_ref().map(EmbeddedCluster::control),
        mock: topic.is_mock,
        rtt_in_force: initial.rtt_ms,
        producer_settings,
        consumer_settings,
        base_layers,
        member_layers,
        producer,
        members: Vec::new(),
        held: std::collections::BTreeSet::new(),
        rejoining: Vec::new(),
        watcher,
        sink: SharedSink::default(),
        outages: 0,
        local,
        paused: Vec::new(),
        down: Vec::new(),
        kafka_tx,
        outcome_tx,
    };
    for _ in 0..args.consumers {
        let id = app.reserve_member();
        session.add_member(id);
    }
    Ok((app, session, Channels { kafka, outcomes }))
}

/// Folds events into the app and draws, until a quit, a signal or a panic.
async fn event_loop<B: ratatui::backend::Backend>(
    terminal: &mut ratatui::Terminal<B>,
    app: &mut App,
    session: &mut Session,
    (mut channels, mut keys): (Channels, mpsc::Receiver<crossterm::event::Event>),
    panicked: &Mutex<Option<String>>,
    mut player: Option<&mut crate::scenario::player::Player>,
    mut on_frame: impl FnMut(&App, Duration) -> bool,
) -> Result<End>
where
    B::Error: Send + Sync + 'static,
{
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let signal = wait_for_signal();
    tokio::pin!(signal);
    let mut last_draw = std::time::Instant::now();
    loop {
        let events: Vec<Event> = tokio::select! {
            Some(event) = channels.kafka.recv() => {
                session.on_kafka_event(&event);
                vec![Event::Kafka(event)]
            }
            Some(outcome) = channels.outcomes.recv() => session.on_outcome(outcome),
            Some(input) = keys.recv() => match input {
                crossterm::event::Event::Key(key) => vec![Event::Key(key)],
                crossterm::event::Event::Resize(w, h) => vec![Event::Resize(w, h)],
                crossterm::event::Event::Mouse(m) => vec![Event::Mouse(m)],
                _ => Vec::new(),
            },
            signal = &mut signal => return Ok(End::Signal(signal)),
            _ = frame.tick() => {
                if let Some(panic) = panicked.lock().unwrap().take() {
                    return Ok(End::Panic(panic));
                }
                if let Some(p) = player.as_deref_mut() {
                    play(p, app, session);
                }
                // While records flow the figures move: at least ten frames a second.
                let stale = last_draw.elapsed() >= REDRAW_EVERY && app.producer_running();
                if app.dirty || stale {
                    let began = std::time::Instant::now();
                    last_draw = began;
                    terminal.draw(|f| crate::ui::render(f, app)).context("drawing")?;
                    app.dirty = false;
                    if !on_frame(app, began.elapsed()) {
                        return Ok(End::Quit);
                    }
                }
                Vec::new()
            }
        };
        for event in events {
            for command in app.update(event) {
                if matches!(command, Command::Quit) {
                    return Ok(End::Quit);
                }
                for event in session.carry_out(command) {
                    app.update(event);
                }
            }
        }
    }
}

/// A scenario left before its end still leaves its report (which says it stopped).
fn report_if_stopped(
    player: &crate::scenario::player::Player,
    app: &App,
) -> Option<Result<std::path::PathBuf>> {
    if app.scenario.as_ref().is_some_and(|s| s.done.is_some()) {
        return None;
    }
    let dir = crate::scenario::report_dir(&app.cluster.topic);
    Some(
        crate::scenario::report::Report::new(player, app)
            .write(&dir)
            .map(|_| dir),
    )
}

/// Carries out a scenario's due steps; once it is over, writes its report and says where.
fn play(player: &mut crate::scenario::player::Player, app: &mut App, session: &mut Session) {
    if app.scenario.as_ref().is_some_and(|s| s.done.is_some()) {
        return;
    }
    for command in player.tick(app) {
        for event in session.carry_out(command) {
            app.update(event);
        }
    }
    if player.is_over() {
        let report = crate::scenario::report::Report::new(player, app);
        let dir = crate::scenario::report_dir(&app.cluster.topic);
        let said = match report.write(&dir) {
            Ok(_) => format!(
                "{}: report in {}/ (report.md, runs.csv, runs.json)",
                if report.passed { "passed" } else { "FAILED" },
                dir.display()
            ),
            Err(e) => format!("finished; the report could not be written: {e:#}"),
        };
        app.message = Some(format!("scenario {said}"));
        if let Some(strip) = app.scenario.as_mut() {
            strip.done = Some(said);
        }
        app.dirty = true;
    }
}

/// Catches a panic in any thread or task: it is noted in `noted` for the loop, which ends
/// the dashboard cleanly. A panic of the loop's own thread goes on to the hook before (which
/// restores the terminal).
fn watch_panics(noted: &Arc<Mutex<Option<String>>>) {
    let note = noted.clone();
    let loop_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut slot) = note.lock() {
            slot.get_or_insert_with(|| info.to_string());
        }
        if std::thread::current().id() == loop_thread {
            // The hook before restores the screen; the mouse is ours to give back.
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
            previous(info);
        }
    }));
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
