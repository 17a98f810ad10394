//! Scenarios: an experiment written down once (a TOML file of timed steps), played on any
//! cluster, headless (`kafka-lab scenario run`) or on the dashboard (`--scenario`), ending in a
//! report. The steps drive the lab the dashboard shows, so a scenario's figures are the ones
//! the dashboard shows.

pub mod expr;
pub mod file;
mod headless;
mod hold;
pub mod player;
mod readings;
pub mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::cli::{Connection, ScenarioCommand};
use crate::kafka::local::{FaultKind, LocalCluster};
use file::{Action, ClusterKind, Scenario};

/// The scenarios shipped with kafka-lab: name, file.
pub const SHIPPED: [(&str, &str); 10] = [
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
    (
        "delivery-semantics",
        include_str!("../../assets/scenarios/delivery-semantics.toml"),
    ),
    (
        "failure-detection",
        include_str!("../../assets/scenarios/failure-detection.toml"),
    ),
    (
        "consumer-fetching",
        include_str!("../../assets/scenarios/consumer-fetching.toml"),
    ),
    (
        "transactions",
        include_str!("../../assets/scenarios/transactions.toml"),
    ),
    (
        "exactly-once",
        include_str!("../../assets/scenarios/exactly-once.toml"),
    ),
];

/// Reads a scenario: a shipped one by name, or a file.
pub fn load(name_or_path: &str) -> Result<Scenario> {
    if let Some((name, text)) = SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
        return Ok(file::parse(text, &format!("{name} (shipped)"))?);
    }
    let path = PathBuf::from(name_or_path);
    let text = match crate::text::read_text_file(&path, file::MAX_BYTES) {
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
    // Two runs started in the same second (or by two shells) must not share a topic or a
    // report folder: the process id tells them apart.
    c.topic = format!(
        "scenario-{}-{}-{}",
        slug(&scenario.title),
        stamp(),
        std::process::id()
    );
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
    let slug: String = parts.join("-").chars().take(40).collect();
    // A title of symbols or of other scripts leaves nothing: a name all the same.
    if slug.is_empty() {
        "untitled".to_string()
    } else {
        slug
    }
}

fn stamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "")
        .to_lowercase()
}

/// `kafka-lab scenario ...`.
pub async fn command(c: &Connection, command: &ScenarioCommand) -> Result<ExitCode> {
    match command {
        ScenarioCommand::Run(args) => Box::pin(headless::run(c, args)).await,
        ScenarioCommand::List => {
            for (name, text) in SHIPPED {
                let s = file::parse(text, name)?;
                crate::outln!(
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
                    crate::outln!("{:<22} {first}", "");
                }
            }
            crate::outln!("\nkafka-lab scenario run NAME plays one; kafka-lab scenario show NAME prints its file.");
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
            crate::out!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        ScenarioCommand::Check { file } => {
            let s = load(file)?;
            crate::outln!(
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
                crate::outln!(
                    "  {:>3}  line {:<4} {when:<12} {}",
                    step.number,
                    step.line,
                    step.action
                );
            }
            crate::outln!(
                "ok: {} steps, about {} at speed 1",
                s.steps.len(),
                crate::text::seconds(s.planned())
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn every_title_gives_a_name() {
        assert_eq!(slug("Group scaling"), "group-scaling");
        assert_eq!(slug("  !!! "), "untitled");
        assert_eq!(slug("Лаборатория"), "untitled");
        assert_eq!(slug(&"a".repeat(100)).len(), 40);
    }
}
