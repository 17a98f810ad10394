//! The terminal front end of the lab: it reads keys on a thread of its own, feeds them to the
//! lab, draws with `crate::ui` at most 30 frames a second and only when something changed, and
//! plays a scenario (`--scenario`) on screen. The loop never waits for the cluster or a disk
//! (see `crate::lab::session`).
//!
//! It ends the same clean way on `q`, Ctrl-C, SIGTERM, SIGHUP or a panic in any task: the
//! producer is flushed, the members leave, the terminal is restored; a panic or a signal is
//! said on stderr and makes the exit code non-zero.

mod measure;

pub use measure::{cpu_seconds, measure, measure_steady, Measured, Steady};

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use crate::cli::{Connection, DashboardArgs};
use crate::config::Role;
use crate::lab::protocol::{Event, Step};
use crate::lab::{client_layers, scenario_args, Lab, Turn};
use crate::runtime::{wait_for_signal, Signal};
use crate::scenario::player::Player;
use crate::target::Target;

const FRAME: Duration = Duration::from_millis(33);
/// A running producer's screen gets a frame at least this often (every third tick: ten or
/// more a second).
const REDRAW_EVERY: Duration = Duration::from_millis(80);
/// With the producer stopped, the clients' snapshots (four a second each) are drawn at most
/// this often: what they move is slow, and a frame per snapshot was most of an idle
/// dashboard's CPU. Keys are drawn at once.
const IDLE_EVERY: Duration = Duration::from_millis(250);
/// A snapshot that changes nothing but its time is not drawn (the lab says so): this frame
/// draws what time alone moves (ages, the charts' time axis) when nothing else did.
const CLOCK_EVERY: Duration = Duration::from_secs(1);

/// Why the loop ended.
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
    let (c, args) = with_scenario(c, args, scenario.as_ref(), &layers)?;
    let (c, args) = (&c, &args);
    // The screen needs a terminal: a file or a pipe would fill with escape codes.
    if !c.print_config && !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        anyhow::bail!(
            "the dashboard draws on a terminal, and standard output is not one (a file or a \
             pipe). Run it in a terminal, or use a headless subcommand: produce, consume, bench, \
             scenario run (kafka-lab --help lists them)"
        );
    }
    let report_dir = crate::scenario::report_dir(&c.topic);
    if scenario.is_some() && !c.print_config {
        // Where the report goes, checked before anything connects.
        crate::runtime::places::folder(&report_dir, "the scenario's report")?;
    }
    let target = Target::with_layers(c, layers, Role::Producer)?;
    if c.print_config {
        return print_config(&target, args);
    }
    // Before the clients start: librdkafka's lines about connecting are the telling ones.
    let debug_log = std::path::Path::new("kafka-lab-debug.log");
    let debug_said = crate::runtime::out::library_log(
        &client_layers(&target, args).0.resolve(Role::Producer)?,
        Some(debug_log),
    );
    let mut lab = Lab::open(c, args, target).await?;
    if let Some(said) = debug_said {
        lab.apply(Event::Notice(said));
    }
    lab.apply(Event::Script(Step::Members(
        crate::lab::protocol::Members::To(args.consumers),
    )));
    let mut player =
        scenario.map(|s| Player::new(s, args.speed, lab.app()).report_to(report_dir.clone()));

    let (key_tx, mut key_rx) = mpsc::channel(64);
    let reading = Arc::new(AtomicBool::new(true));
    let input = spawn_input(key_tx, reading.clone());
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    if let Ok(size) = terminal.size() {
        lab.apply(Event::Resize(size.width, size.height));
    }
    give_back_the_mouse_on_panic();
    // Again on top of the terminal's hooks, which restore it for the loop's own panics.
    lab.watch_panics_again();
    let outcome = event_loop(
        &mut terminal,
        &mut lab,
        &mut key_rx,
        player.as_mut(),
        |_, _| true,
    )
    .await;

    // A scenario left before its end still leaves its report (which says it stopped).
    let stopped_report = player
        .as_ref()
        .filter(|_| lab.app().scenario().is_some_and(|s| s.done.is_none()))
        .map(|p| crate::scenario::report::Report::new(p, lab.app()));
    let ended = shut_down(&mut terminal, &mut lab, &mut key_rx).await;
    reading.store(false, Ordering::SeqCst);
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    // Not joined: when the terminal is gone (a closed window, SIGHUP) crossterm's read may
    // never return; the thread ends with the process.
    drop(input);
    say_how_it_ended(&ended);
    if let Some(report) = stopped_report {
        match report.write(&report_dir) {
            Ok(_) => crate::outln!(
                "kafka-lab: the scenario stopped before its end; its report is in {}/",
                report_dir.display()
            ),
            Err(e) => crate::errln!("kafka-lab: the scenario's report could not be written: {e:#}"),
        }
    }
    let done = if ended.is_ok() {
        "the producer was flushed and the consumers left the group"
    } else {
        "it did not wait for the producer and the consumers"
    };
    // Stopped at once with records unaccounted for: not a clean end.
    let clean = ended.as_ref().err().is_none_or(|left| left.in_flight == 0);
    match outcome? {
        End::Quit if clean => Ok(ExitCode::SUCCESS),
        End::Quit => Ok(ExitCode::FAILURE),
        End::Signal(signal) => {
            crate::errln!("kafka-lab: stopped by {signal:?}; {done}");
            Ok(signal.exit_code())
        }
        End::Panic(panic) => anyhow::bail!(
            "a task of the dashboard failed, so it stopped: {panic}\n  This is a bug in kafka-lab; \
             {done}."
        ),
    }
}

/// What a stop at once left: records without a delivery report, nodes still down.
struct AtOnce {
    in_flight: u64,
    recoveries: Vec<String>,
    /// Stopped because the shutdown outran its bound (this long), not by a second quit.
    out_of_time: Option<Duration>,
}

/// How long shutting down may take: the producer's flush and the members' leave, which run
/// side by side; past it the dashboard stops as a second quit does.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(15);
/// More time when kafka-lab brings back nodes it stopped: a killed node is a broker to start.
const RECOVERY_BOUND: Duration = Duration::from_secs(30);

/// Shuts the lab down, saying on screen what it waits for and for how long; a second `q`,
/// Ctrl-C or signal stops at once (None).
async fn shut_down<B: ratatui::backend::Backend>(
    terminal: &mut ratatui::Terminal<B>,
    lab: &mut Lab,
    keys: &mut mpsc::Receiver<crossterm::event::Event>,
) -> Result<crate::lab::session::ShutDown, AtOnce> {
    let in_flight = lab.app().producer().map_or(0, |s| s.in_flight);
    let members = lab.app().active_members();
    let mut at_once = AtOnce {
        in_flight,
        recoveries: lab.recoveries(),
        out_of_time: None,
    };
    let bound = if at_once.recoveries.is_empty() {
        SHUTDOWN_BOUND
    } else {
        SHUTDOWN_BOUND + RECOVERY_BOUND
    };
    let nodes = match at_once.recoveries.len() {
        0 => String::new(),
        1 => ", bringing back the node kafka-lab stopped".to_string(),
        n => format!(", bringing back the {n} nodes kafka-lab stopped"),
    };
    let ending = lab.shut_down();
    tokio::pin!(ending);
    let signal = wait_for_signal();
    tokio::pin!(signal);
    let began = Instant::now();
    let out_of_time = tokio::time::sleep(bound);
    tokio::pin!(out_of_time);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            ended = &mut ending => return Ok(ended),
            _ = &mut signal => return Err(at_once),
            () = &mut out_of_time => {
                at_once.out_of_time = Some(bound);
                return Err(at_once);
            }
            Some(input) = keys.recv() => {
                if let crossterm::event::Event::Key(key) = input {
                    let action = crate::lab::state::keymap::action(
                        crate::lab::state::keymap::Mode::Main,
                        &key,
                    );
                    if action == Some(crate::lab::state::keymap::Action::Quit) {
                        return Err(at_once);
                    }
                }
            }
            _ = tick.tick() => {
                let left = bound.saturating_sub(began.elapsed()).as_secs();
                lab.apply(Event::Stopping(format!(
                    "stopping: flushing the records in flight (~{in_flight}), {members} consumer{} leaving the \
                     group{nodes} (at most {left} s more) · {} again: stop at once",
                    if members == 1 { "" } else { "s" },
                    crate::lab::state::keymap::key(
                        crate::lab::state::keymap::Mode::Main,
                        crate::lab::state::keymap::Action::Quit
                    )
                )));
                let _ = terminal.draw(|f| crate::ui::render(f, lab.app()));
            }
        }
    }
}

/// The connection and options a dashboard runs with: a scenario brings its own topic, group,
/// rate and consumers.
fn with_scenario(
    c: &Connection,
    args: &DashboardArgs,
    scenario: Option<&crate::scenario::file::Scenario>,
    layers: &crate::config::Layers,
) -> Result<(Connection, DashboardArgs)> {
    let Some(s) = scenario else {
        return Ok((c.clone(), args.clone()));
    };
    let c = crate::scenario::prepare(c, s, layers)?;
    let group = format!("kafka-lab-{}", c.topic);
    let args = DashboardArgs {
        speed: args.speed,
        ..scenario_args(&args.source, &group)
    };
    Ok((c, args))
}

/// `--print-config`: both clients' settings, and where each came from.
fn print_config(target: &Target, args: &DashboardArgs) -> Result<ExitCode> {
    let (producer_layers, base_layers) = client_layers(target, args);
    for settings in [
        producer_layers.resolve(Role::Producer)?,
        base_layers.resolve(Role::Consumer)?,
    ] {
        for warning in &settings.warnings {
            crate::errln!("warning: {warning}");
        }
        crate::out!("{}", settings.describe());
    }
    Ok(ExitCode::SUCCESS)
}

/// What the shutdown did, said once the terminal is back: how the last run ended, the nodes
/// brought back; or, stopped at once, what was left.
fn say_how_it_ended(ended: &Result<crate::lab::session::ShutDown, AtOnce>) {
    match ended {
        Ok(ended) => {
            if let Some(run) = &ended.last_run {
                crate::outln!("kafka-lab: {run}");
            }
            for line in &ended.said {
                crate::outln!("kafka-lab: {line}");
            }
        }
        Err(left) => {
            match left.out_of_time {
                None => crate::errln!(
                    "kafka-lab: stopped at once: {} records were still without a delivery \
                     report (not known to be written), and the consumers did not leave the group \
                     (their partitions wait out its session timeout)",
                    left.in_flight
                ),
                Some(bound) => crate::errln!(
                    "kafka-lab: stopped after {} s, the most quitting may take: of the {} records \
                     without a delivery report when it began, those still without one are not \
                     known to be written, and consumers still leaving did not leave the group",
                    bound.as_secs(),
                    left.in_flight
                ),
            }
            for line in &left.recoveries {
                crate::errln!("kafka-lab: {line}");
            }
        }
    }
}

/// Feeds keys and the lab's news to the lab and draws, until a quit, a signal or a panic.
/// `on_frame` sees each frame drawn and how long it took; false ends the loop.
async fn event_loop<B: ratatui::backend::Backend>(
    terminal: &mut ratatui::Terminal<B>,
    lab: &mut Lab,
    keys: &mut mpsc::Receiver<crossterm::event::Event>,
    mut player: Option<&mut Player>,
    mut on_frame: impl FnMut(&crate::lab::state::App, Duration) -> bool,
) -> Result<End>
where
    B::Error: Send + Sync + 'static,
{
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let signal = wait_for_signal();
    tokio::pin!(signal);
    // Stopped from outside (kill -TSTP): the terminal is given back first, as Ctrl-Z does.
    let mut stop_signal =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(libc::SIGTSTP)).ok();
    let mut last_draw = Instant::now();
    let mut dirty = true;
    // What the user did is drawn at the next frame; the clients' news may wait (IDLE_EVERY).
    let mut asked = true;
    loop {
        let mut from_user = false;
        let turn = tokio::select! {
            turn = lab.next() => turn,
            Some(()) = async { stop_signal.as_mut()?.recv().await } => {
                suspend(terminal)?;
                from_user = true;
                Turn::Applied { redraw: true }
            }
            Some(input) = keys.recv() => {
                from_user = true;
                match input {
                    crossterm::event::Event::Key(key) if is_suspend(&key) => {
                        suspend(terminal)?;
                        Turn::Applied { redraw: true }
                    }
                    crossterm::event::Event::Key(key) => lab.apply(Event::Key(key)),
                    crossterm::event::Event::Resize(w, h) => lab.apply(Event::Resize(w, h)),
                    crossterm::event::Event::Mouse(m) => lab.apply(Event::Mouse(m)),
                    _ => Turn::Applied { redraw: false },
                }
            }
            signal = &mut signal => return Ok(End::Signal(signal)),
            _ = frame.tick() => {
                let mut turn = Turn::Applied { redraw: false };
                if let Some(p) = player.as_deref_mut() {
                    for event in p.tick(lab.app()) {
                        turn = merge(turn, lab.apply(event));
                    }
                }
                // While records flow the figures move: at least ten frames a second.
                let running = lab.app().producer_running();
                let stale = last_draw.elapsed() >= REDRAW_EVERY && running;
                let due = running || last_draw.elapsed() >= IDLE_EVERY;
                let clock = last_draw.elapsed() >= CLOCK_EVERY;
                if asked || stale || (dirty && due) || clock {
                    let began = Instant::now();
                    last_draw = began;
                    terminal.draw(|f| crate::ui::render(f, lab.app())).context("drawing")?;
                    dirty = false;
                    asked = false;
                    if !on_frame(lab.app(), began.elapsed()) {
                        return Ok(End::Quit);
                    }
                }
                turn
            }
        };
        for text in lab.take_copied() {
            // A terminal that does not take OSC 52 ignores it; the flash says what was asked.
            let _ = copy_to_clipboard(&mut std::io::stdout(), &text);
        }
        match turn {
            Turn::Applied { redraw } => {
                dirty |= redraw;
                asked |= redraw && from_user;
            }
            Turn::Quit => return Ok(End::Quit),
            Turn::Panicked(panic) => return Ok(End::Panic(panic)),
        }
    }
}

/// Puts `text` on the clipboard of the terminal (and of the one behind SSH or tmux): the
/// OSC 52 escape, its text in base64.
pub fn copy_to_clipboard(out: &mut impl std::io::Write, text: &str) -> std::io::Result<()> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    write!(out, "\x1b]52;c;{encoded}\x07")?;
    out.flush()
}

fn is_suspend(key: &crossterm::event::KeyEvent) -> bool {
    use crate::lab::state::keymap::{action, Action, Mode};
    key.kind != crossterm::event::KeyEventKind::Release
        && action(Mode::Main, key) == Some(Action::Suspend)
}

/// Gives the terminal back to the shell and stops the process, as a program that has not
/// taken the terminal over stops on Ctrl-Z; on `fg` takes it again and draws it whole.
fn suspend<B: ratatui::backend::Backend>(terminal: &mut ratatui::Terminal<B>) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut out = std::io::stdout();
    let _ = crossterm::execute!(out, crossterm::event::DisableMouseCapture);
    ratatui::restore();
    // SIGSTOP, which no handler takes: the shell sees the job stopped, as after Ctrl-Z.
    // SAFETY: raise only sends a signal to this process.
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    // Continued (`fg`).
    crossterm::terminal::enable_raw_mode().context("taking the terminal back")?;
    crossterm::execute!(
        out,
        crossterm::terminal::EnterAlternateScreen,
        crossterm::event::EnableMouseCapture
    )
    .context("taking the terminal back")?;
    terminal.clear().context("drawing")?;
    Ok(())
}

/// Two turns as one: the first that ends the lab, or whether either needs a redraw.
fn merge(a: Turn, b: Turn) -> Turn {
    match (a, b) {
        (Turn::Applied { redraw: x }, Turn::Applied { redraw: y }) => {
            Turn::Applied { redraw: x || y }
        }
        (Turn::Applied { .. }, end) | (end, _) => end,
    }
}

/// A panic of the loop's own thread gives the mouse back before ratatui's hook restores the
/// rest of the terminal.
fn give_back_the_mouse_on_panic() {
    let loop_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == loop_thread {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        }
        previous(info);
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

#[cfg(test)]
mod tests {
    /// OSC 52 with the text in standard base64 ("hi" is "aGk="), ended by BEL.
    #[test]
    fn a_copy_is_an_osc_52_escape() {
        let mut out = Vec::new();
        super::copy_to_clipboard(&mut out, "hi").unwrap();
        assert_eq!(out, b"\x1b]52;c;aGk=\x07");
        let mut out = Vec::new();
        super::copy_to_clipboard(&mut out, "Brauerei ä").unwrap();
        assert_eq!(out, b"\x1b]52;c;QnJhdWVyZWkgw6Q=\x07");
    }
}
