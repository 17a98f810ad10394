//! Scenarios: an experiment written down once (a TOML file of timed steps), played on any
//! cluster, headless (`kafka-lab scenario run`) or on the dashboard (`--scenario`), ending in a
//! report. The steps drive the lab the dashboard shows, so a scenario's figures are the ones
//! the dashboard shows.

pub mod expr;
pub mod file;
pub mod player;
mod readings;
pub mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::cli::{Connection, ScenarioCommand, ScenarioRunArgs};
use crate::kafka::local::{FaultKind, LocalCluster};
use crate::lab::snapshots::ProducerState;
use crate::lab::state::App;
use crate::lab::{Lab, Turn};
use crate::runtime::{wait_for_signal, Signal};
use file::{Action, ClusterKind, Scenario};
use player::Player;
use report::Report;

/// The scenarios shipped with kafka-lab: name, file.
pub const SHIPPED: [(&str, &str); 5] = [
    (
        "partitions-and-keys",
        include_str!("../../assets/scenarios/partitions-and-keys.toml"),
    ),
    (
        "group-scaling",
        include_str!("../../assets/scenarios/group-scaling.toml"),
    ),
    (
        "rebalance-protocols",
        include_str!("../../assets/scenarios/rebalance-protocols.toml"),
    ),
    (
        "batching",
        include_str!("../../assets/scenarios/batching.toml"),
    ),
    (
        "durability",
        include_str!("../../assets/scenarios/durability.toml"),
    ),
];

/// Reads a scenario: a shipped one by name, or a file.
pub fn load(name_or_path: &str) -> Result<Scenario> {
    if let Some((name, text)) = SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
        return Ok(file::parse(text, &format!("{name} (shipped)"))?);
    }
    let path = PathBuf::from(name_or_path);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
            bail!(
                "cannot read the scenario {name_or_path}: {e}\n  Give a scenario file (TOML), or a shipped scenario: {}.",
                names.join(", ")
            );
        }
    };
    Ok(file::parse(&text, name_or_path)?)
}

/// Checks what the scenario needs against the cluster `c` names, before anything connects, and
/// gives the connection the scenario's own topic and partitions (a fresh topic each time, so
/// runs never mix with older records).
pub fn prepare(
    c: &Connection,
    scenario: &Scenario,
    layers: &crate::config::Layers,
) -> Result<Connection> {
    let at = |line: usize| format!("{}:{line}", scenario.file);
    let servers = layers.user_bootstrap(crate::config::Role::Producer);
    let embedded = servers.is_none();
    let local = servers.as_deref().and_then(LocalCluster::find);
    let needs = scenario.needs;
    let mut c = c.clone();
    match needs.kind {
        ClusterKind::Embedded if !embedded => bail!(
            "{}: the scenario needs the embedded cluster: run it without -b or a config.ini",
            at(scenario.cluster_line)
        ),
        ClusterKind::Local if local.is_none() => bail!(
            "{}: the scenario needs a cluster scripts/kafka-local started{}: start one \
             (scripts/kafka-local start --nodes {}) and give its -b",
            at(scenario.cluster_line),
            if embedded {
                ", not the embedded one"
            } else {
                " (none of its state files names these servers)"
            },
            needs.nodes.max(1)
        ),
        _ => {}
    }
    if embedded && needs.nodes > c.brokers as usize {
        bail!(
            "{}: the scenario needs {} nodes; the embedded cluster has {}: add --brokers {}",
            at(scenario.cluster_line),
            needs.nodes,
            c.brokers,
            needs.nodes
        );
    }
    if let Some(l) = &local {
        if l.nodes.len() < needs.nodes {
            bail!(
                "{}: the scenario needs {} nodes; this cluster has {}: scripts/kafka-local start --nodes {}",
                at(scenario.cluster_line),
                needs.nodes,
                l.nodes.len(),
                needs.nodes
            );
        }
    }
    for step in scenario.faults() {
        if let Action::Fault { kind, .. } = step.action {
            let can = if embedded {
                kind == FaultKind::Kill
            } else {
                local.is_some()
            };
            if !can {
                bail!(
                    "{}: step {} (fault): {}",
                    at(step.line),
                    step.number,
                    if embedded {
                        "the embedded cluster can take a broker down, not pause it: use kind = \"down\""
                    } else {
                        "kafka-lab can fail brokers only on the embedded cluster or one scripts/kafka-local started"
                    }
                );
            }
        }
    }
    let nodes = if embedded {
        Some(c.brokers as usize)
    } else {
        local.as_ref().map(|l| l.nodes.len())
    };
    if let (Some(r), Some(n)) = (scenario.replication, nodes) {
        if r as usize > n {
            bail!(
                "{}: topic replication {r} needs {r} nodes; the cluster has {n}",
                at(scenario.cluster_line)
            );
        }
    }
    c.topic = format!("scenario-{}-{}", slug(&scenario.title), stamp());
    c.partitions = Some(scenario.partitions);
    c.replication_factor = scenario.replication;
    Ok(c)
}

/// Where a scenario's report goes unless told: `kafka-lab-report-<title>-<UTC time>`.
pub fn report_dir(topic: &str) -> PathBuf {
    PathBuf::from(format!(
        "kafka-lab-report-{}",
        topic.trim_start_matches("scenario-")
    ))
}

/// `Group scaling` → `group-scaling`.
pub fn slug(title: &str) -> String {
    let s: String = title
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() {
                ch.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let parts: Vec<&str> = s.split('-').filter(|p| !p.is_empty()).collect();
    parts.join("-").chars().take(40).collect()
}

fn stamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "")
        .to_lowercase()
}

/// `scenario run`: plays the scenario without a screen, one line per step on stderr, the
/// report on stdout and in its folder; non-zero when an assertion fails.
pub async fn run(c: &Connection, args: &ScenarioRunArgs) -> Result<ExitCode> {
    let scenario = load(&args.file)?;
    let layers = crate::target::Target::layers(c)?;
    let c = prepare(c, &scenario, &layers)?;
    let group = format!("kafka-lab-{}", c.topic);
    let target = crate::target::Target::with_layers(&c, layers, crate::config::Role::Producer)?;
    let mut lab = Lab::open(&c, &crate::lab::scenario_args(&args.source, &group), target).await?;
    lab.keep_said();
    if !lab.target().is_embedded() {
        if let Err(e) = check_nodes(&scenario, lab.producer_settings()).await {
            lab.shut_down().await;
            return Err(e);
        }
    }
    eprintln!(
        "scenario: {} ({} steps, about {:.0} s at speed {}) on {}, topic {}",
        scenario.title,
        scenario.steps.len(),
        scenario.planned().as_secs_f64() / args.speed,
        args.speed,
        lab.app().cluster().label,
        c.topic
    );
    let mut player = Player::new(scenario, args.speed, lab.app());
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
                    eprintln!("[{:>7.1} s] step {} (line {}): {}{result}", d.at.as_secs_f64(), d.step, d.line, d.text);
                }
                said = player.done.len();
                turn
            }
        };
        for text in lab.take_said() {
            eprintln!("            {text}");
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
    let report = Report::new(&player, lab.app());
    lab.shut_down().await;
    print!("{}", report.markdown);
    let dir = args.report.clone().unwrap_or_else(|| report_dir(&c.topic));
    let written = report.write(&dir)?;
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    eprintln!("scenario: report in {}", names.join(", "));
    if let Some(panic) = panicked {
        bail!(
            "a task of the lab failed, so the scenario stopped: {panic}\n  This is a bug in \
             kafka-lab; the report covers what ran."
        );
    }
    if let Some(signal) = stopped_by {
        eprintln!("scenario: stopped by {signal:?} before its end; the report covers what ran");
        return Ok(ExitCode::from(128 + signal.number()));
    }
    if report.passed {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("scenario: {} assertion(s) failed", player.failures().len());
        Ok(ExitCode::FAILURE)
    }
}

/// A cluster kafka-lab knows no more of than its servers: its metadata says how many
/// brokers it has.
async fn check_nodes(scenario: &Scenario, settings: &crate::config::ClientSettings) -> Result<()> {
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
            eprintln!("            the producer cannot run: {e}");
            news.producer_error = Some(e.clone());
        }
    }
    for (run, e) in app.read_back_failed().iter().skip(news.read_back_failed) {
        eprintln!("            run {run} could not be read back: {e}");
    }
    news.read_back_failed = app.read_back_failed().len();
}

/// `kafka-lab scenario ...`.
pub async fn command(c: &Connection, command: &ScenarioCommand) -> Result<ExitCode> {
    match command {
        ScenarioCommand::Run(args) => Box::pin(run(c, args)).await,
        ScenarioCommand::List => {
            for (name, text) in SHIPPED {
                let s = file::parse(text, name)?;
                println!(
                    "{name:<22} {} (needs {}; about {} at speed 1)",
                    s.title,
                    s.needs,
                    crate::text::seconds(s.planned())
                );
                // Its first sentence.
                let text = s
                    .description
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                let first = text.split_inclusive(". ").next().unwrap_or_default().trim();
                if !first.is_empty() {
                    println!("{:<22} {first}", "");
                }
            }
            println!("\nkafka-lab scenario run NAME plays one; kafka-lab scenario show NAME prints its file.");
            Ok(ExitCode::SUCCESS)
        }
        ScenarioCommand::Show { name } => {
            let Some((_, text)) = SHIPPED.iter().find(|(n, _)| n == name) else {
                let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
                bail!(
                    "no shipped scenario is called {name}: there are {}",
                    names.join(", ")
                )
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        ScenarioCommand::Check { file } => {
            let s = load(file)?;
            println!(
                "{}: {} (needs {}; topic of {} partitions{})",
                s.file,
                s.title,
                s.needs,
                s.partitions,
                s.replication
                    .map_or(String::new(), |r| format!(", replication {r}"))
            );
            for step in &s.steps {
                let when = match step.when {
                    file::When::At(at) => format!("at {}", crate::text::seconds(at)),
                    file::When::After(d) if d.is_zero() => "then".to_string(),
                    file::When::After(d) => format!("after {}", crate::text::seconds(d)),
                };
                println!(
                    "  {:>3}  line {:<4} {when:<12} {}",
                    step.number, step.line, step.action
                );
            }
            println!(
                "ok: {} steps, about {} at speed 1",
                s.steps.len(),
                crate::text::seconds(s.planned())
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
