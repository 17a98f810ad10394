//! The lab's core: its state ([`App`]) and the one place it changes, the Kafka side that
//! carries out its commands ([`session`], [`actors`]), what flows between them ([`protocol`],
//! [`snapshots`]), and the driver that joins them ([`Lab`]). Two front ends use it: the
//! terminal dashboard (`crate::dashboard`, drawing with `crate::ui`) and the scenario player
//! (`crate::scenario`). This module imports neither.
//!
//! A front end feeds events in ([`Lab::apply`]: keys, a script's steps) and awaits what the
//! Kafka side reports ([`Lab::next`]); each returns a [`Turn`]: whether the screen changed,
//! or that the lab must stop (a quit, a panic in any of its tasks).

pub mod actors;
pub mod ledger;
mod open;
pub mod protocol;
pub mod session;
pub mod settings;
pub mod snapshots;
pub mod state;

pub use open::{client_layers, scenario_args};

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use tokio::sync::mpsc;

use crate::cli::{Connection, DashboardArgs};
use crate::config::ClientSettings;
use crate::target::Target;
use protocol::{Command, Event, KafkaEvent};
use session::{Outcome, Session, ShutDown};
use state::App;

/// How often the driver looks whether a task panicked.
const PANIC_CHECK: Duration = Duration::from_millis(100);

/// What the actors and the session's background work send to the driver.
pub struct Channels {
    pub kafka: mpsc::Receiver<KafkaEvent>,
    pub outcomes: mpsc::Receiver<Outcome>,
}

/// What a turn of the driver came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    /// Events were applied; `redraw` when the screen shows something new.
    Applied { redraw: bool },
    /// A key or a command asked the lab to stop.
    Quit,
    /// A thread or task of the lab panicked (its message): the lab must stop.
    Panicked(String),
}

/// The driver: owns the state, the Kafka side and their channels, and runs the cascade of
/// update, carry out, update.
pub struct Lab {
    /// Boxed: the state is large, and the lab moves (into and out of futures).
    app: Box<App>,
    /// Taken when the lab shuts down.
    session: Option<Session>,
    channels: Channels,
    panicked: Arc<Mutex<Option<String>>>,
    check: tokio::time::Interval,
    /// Owns the embedded cluster, when kafka-lab serves it: dropped last.
    target: Target,
    /// The producer's client settings (kept: the session goes at shutdown).
    producer_settings: ClientSettings,
    /// Text asked for on the clipboard, for the front end (which owns the terminal).
    copied: Vec<String>,
}

impl Lab {
    /// Opens a lab on `target`: the topic checked or made, the records loaded, the producer
    /// and the topic watcher started (the members are a step's to start). A panic in any of
    /// its threads or tasks from here on ends it.
    pub async fn open(c: &Connection, args: &DashboardArgs, target: Target) -> Result<Lab> {
        let panicked: Arc<Mutex<Option<String>>> = Arc::default();
        watch_panics(&panicked);
        let (app, session, channels) = open::open(c, args, &target).await?;
        let producer_settings = session.clients.producer_settings.clone();
        let mut check = tokio::time::interval(PANIC_CHECK);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Ok(Lab {
            app: Box::new(app),
            session: Some(session),
            channels,
            panicked,
            check,
            target,
            producer_settings,
            copied: Vec::new(),
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The producer's client settings (bootstrap servers, security): for a question to the
    /// cluster of the front end's own.
    pub fn producer_settings(&self) -> &ClientSettings {
        &self.producer_settings
    }

    /// Keep the notices and faults said from now on, for [`Lab::take_said`].
    pub fn keep_said(&mut self) {
        self.app.status.said.get_or_insert_with(Vec::new);
    }

    /// The notices and faults said since the last call.
    pub fn take_said(&mut self) -> Vec<String> {
        self.app
            .status
            .said
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Installs the panic check again, on top of hooks installed since (a terminal's).
    pub fn watch_panics_again(&self) {
        watch_panics(&self.panicked);
    }

    /// Waits for the next report of the Kafka side (or the next panic check) and applies it.
    /// Safe to cancel: nothing is lost when another branch of a `select!` wins.
    pub async fn next(&mut self) -> Turn {
        tokio::select! {
            Some(event) = self.channels.kafka.recv() => {
                if let Some(session) = self.session.as_mut() {
                    session.on_kafka_event(&event);
                }
                self.apply(Event::Kafka(event))
            }
            Some(outcome) = self.channels.outcomes.recv() => {
                let events = match self.session.as_mut() {
                    Some(session) => session.on_outcome(outcome),
                    None => Vec::new(),
                };
                self.apply_all(events)
            }
            _ = self.check.tick() => self.panic_check(),
        }
    }

    /// The lab stops when a task panicked.
    fn panic_check(&self) -> Turn {
        match self.panicked.lock().map(|mut p| p.take()) {
            Ok(Some(panic)) => Turn::Panicked(panic),
            _ => Turn::Applied { redraw: false },
        }
    }

    /// Applies `event`: the state is updated, the session carries out its commands, and what
    /// they say at once is applied in turn.
    pub fn apply(&mut self, event: Event) -> Turn {
        self.apply_all(vec![event])
    }

    fn apply_all(&mut self, events: Vec<Event>) -> Turn {
        let mut queue: VecDeque<Event> = events.into();
        let mut redraw = false;
        while let Some(event) = queue.pop_front() {
            let update = self.app.update(event);
            redraw |= update.redraw;
            for command in update.commands {
                if command == Command::Quit {
                    return Turn::Quit;
                }
                if let Command::Copy(text) = command {
                    self.copied.push(text);
                    continue;
                }
                if let Some(session) = self.session.as_mut() {
                    queue.extend(session.carry_out(command));
                }
            }
        }
        Turn::Applied { redraw }
    }

    /// Text asked for on the clipboard since the last call, oldest first.
    pub fn take_copied(&mut self) -> Vec<String> {
        std::mem::take(&mut self.copied)
    }

    /// The nodes kafka-lab failed and has not brought back, each with the command that does:
    /// what a stop at once leaves behind.
    pub fn recoveries(&self) -> Vec<String> {
        self.session
            .as_ref()
            .map(Session::recoveries)
            .unwrap_or_default()
    }

    /// Starts shutting down: the producer flushes, the members leave, nodes kafka-lab failed
    /// come back (all bounded). The state stays readable (a screen can show the wait), and the
    /// embedded cluster, when kafka-lab serves it, lives until the lab is dropped.
    pub fn shut_down(&mut self) -> impl std::future::Future<Output = ShutDown> + Send + 'static {
        let session = self.session.take();
        // Nobody reads what the clients report from now on: their sends must fail, not wait
        // for room (a producer blocked on a full channel would never finish its flush).
        self.channels.kafka.close();
        self.channels.outcomes.close();
        async move {
            match session {
                Some(session) => session.shut_down().await,
                None => ShutDown::default(),
            }
        }
    }
}

/// Catches a panic in any thread or task: it is noted for the driver, which ends the lab
/// cleanly. A panic of the thread that installed the hook (the front end's loop) goes on to
/// the hook before (a terminal's restores the screen); others are only noted, so that no
/// message lands on a screen being drawn.
fn watch_panics(noted: &Arc<Mutex<Option<String>>>) {
    let note = noted.clone();
    let loop_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut slot) = note.lock() {
            slot.get_or_insert_with(|| info.to_string());
        }
        if std::thread::current().id() == loop_thread {
            previous(info);
        }
    }));
}
