//! `kafka-lab scenario run`: a scenario played without a screen, through the same lab as the
//! dashboard's, one line per step on stderr, the report on stdout and in its folder.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};

use super::player::Player;
use super::report::Report;
use super::{load, prepare, report_dir};
use crate::cli::{Connection, ScenarioRunArgs};
use crate::lab::snapshots::ProducerState;
use crate::lab::state::App;
use crate::lab::{Lab, Turn};
use crate::runtime::{wait_for_signal, Signal};

/// `scenario run`: plays the scenario without a screen, one line per step on stderr, the
/// report on stdout and in its folder; non-zero when an assertion fails.
pub async fn run(c: &Connection, args: &ScenarioRunArgs) -> Result<ExitCode> {
    let scenario = load(&args.file)?;
    let layers = crate::target::Target::layers(c)?;
    let c = prepare(c, &scenario, &layers)?;
    // The report's folder is made before anything connects: a run must not end unwritten.
    let dir = args.report.clone().unwrap_or_else(|| report_dir(&c.topic));
    crate::runtime::places::report_folder(&dir, "--report", &super::report::FILES, args.force)?;
    let group = format!("kafka-lab-{}", c.topic);
    let target = crate::target::Target::with_layers(&c, layers, crate::config::Role::Producer)?;
    // The warm-up is on the scenario's clock too.
    let lab_args = crate::cli::DashboardArgs {
        speed: args.speed,
        ..crate::lab::scenario_args(&args.source, &group)
    };
    // Before the clients start: librdkafka's lines about connecting are the telling ones.
    let producer_settings = crate::lab::client_layers(&target, &lab_args)
        .0
        .resolve(crate::config::Role::Producer)?;
    if let Some(said) = crate::runtime::out::library_log(&producer_settings, None) {
        crate::errln!("{said}");
    }
    let mut lab = Lab::open(&c, &lab_args, target).await?;
    lab.keep_said();
    if !lab.target().is_embedded() {
        if let Err(e) = check_nodes(&scenario, lab.producer_settings()).await {
            lab.shut_down().await;
            return Err(e);
        }
    }
    crate::errln!(
        "scenario: {} ({} steps, about {:.0} s at speed {}) on {}, topic {}",
        scenario.title,
        scenario.steps.len(),
        scenario.planned().as_secs_f64() / args.speed,
        args.speed,
        lab.app().cluster().label,
        c.topic
    );
    let mut player = Player::new(scenario, args.speed, lab.app());
    let (stopped_by, panicked) = play(&mut lab, &mut player).await;
    let report = Report::new(&player, lab.app());
    crate::errln!(
        "scenario: stopping: flushing the producer, the consumers leaving the group; Ctrl-C stops at once"
    );
    let recoveries = lab.recoveries();
    let ending = lab.shut_down();
    tokio::select! {
        _ = ending => {}
        _ = wait_for_signal() => {
            crate::errln!("scenario: stopped at once: the producer was not flushed, the consumers did not leave the group");
            for line in recoveries {
                crate::errln!("scenario: {line}");
            }
        }
    }
    // Written before it is printed: a reader that has gone must not cost the report.
    let written = report.write(&dir)?;
    crate::out!("{}", report.markdown);
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    crate::errln!("scenario: report in {}", names.join(", "));
    if let Some(panic) = panicked {
        bail!(
            "a task of the lab failed, so the scenario stopped: {panic}\n  This is a bug in \
             kafka-lab; the report covers what ran."
        );
    }
    if let Some(signal) = stopped_by {
        crate::errln!("scenario: stopped by {signal:?} before its end; the report covers what ran");
        return Ok(ExitCode::from(128 + signal.number()));
    }
    if report.passed {
        Ok(ExitCode::SUCCESS)
    } else {
        crate::errln!("scenario: {} assertion(s) failed", player.failures().len());
        Ok(ExitCode::FAILURE)
    }
}

/// A cluster kafka-lab knows no more of than its servers: its metadata says how many
/// brokers it has.
async fn check_nodes(
    scenario: &super::file::Scenario,
    settings: &crate::config::ClientSettings,
) -> Result<()> {
    if scenario.needs.nodes <= 1 {
        return Ok(());
    }
    let settings = settings.clone();
    let brokers =
        tokio::task::spawn_blocking(move || crate::kafka::cluster::broker_count(&settings))
            .await??;
    if brokers < scenario.needs.nodes {
        bail!(
            "{}:{}: the scenario needs {} nodes; the cluster has {brokers}",
            scenario.file,
            scenario.cluster_line,
            scenario.needs.nodes
        );
    }
    Ok(())
}

/// What headless play has said of the producer's errors and the read-backs.
#[derive(Default)]
struct News {
    producer_error: Option<String>,
    read_back_failed: usize,
}

/// Says, once each, a producer that cannot run with the settings and a run that could not be
/// read back: the screen would show them; headless, stderr does.
fn say_news(app: &App, news: &mut News) {
    if let Some(ProducerState::Error(e)) = app.producer().map(|s| &s.state) {
        if news.producer_error.as_ref() != Some(e) {
            crate::errln!("            the producer cannot run: {e}");
            news.producer_error = Some(e.clone());
        }
    }
    for (run, e) in app.read_back_failed().iter().skip(news.read_back_failed) {
        crate::errln!("            run {run} could not be read back: {e}");
    }
    news.read_back_failed = app.read_back_failed().len();
}

/// Plays the steps until the scenario is over, a signal comes (which), or a task panics
/// (its message); one line per step on stderr.
async fn play(lab: &mut Lab, player: &mut Player) -> (Option<Signal>, Option<String>) {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let signal = wait_for_signal();
    tokio::pin!(signal);
    let mut said = 0;
    let mut news = News::default();
    let mut stopped_by: Option<Signal> = None;
    let mut panicked = None;
    while !player.is_over() {
        let turn = tokio::select! {
            turn = lab.next() => turn,
            s = &mut signal => {
                stopped_by = Some(s);
                break;
            }
            _ = tick.tick() => {
                let mut turn = Turn::Applied { redraw: false };
                for event in player.tick(lab.app()) {
                    if let Turn::Applied { .. } = turn {
                        turn = lab.apply(event);
                    }
                }
                for d in &player.done[said..] {
                    let result = d.checked.as_ref().map_or(String::new(), |c| {
                        format!(": {} ({})", if c.passed { "pass" } else { "FAIL" }, c.values)
                    });
                    crate::errln!("[{:>7.1} s] step {} (line {}): {}{result}", d.at.as_secs_f64(), d.step, d.line, d.text);
                }
                said = player.done.len();
                turn
            }
        };
        for text in lab.take_said() {
            crate::errln!("            {text}");
        }
        say_news(lab.app(), &mut news);
        match turn {
            Turn::Applied { .. } => {}
            Turn::Quit => break,
            Turn::Panicked(p) => {
                panicked = Some(p);
                break;
            }
        }
    }
    (stopped_by, panicked)
}
