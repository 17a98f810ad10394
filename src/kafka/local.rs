//! A cluster that `scripts/kafka-local` started on this machine. The script writes a state file
//! (`cluster.json`: its own path, the nodes' ids and ports); kafka-lab finds the one whose nodes
//! serve its bootstrap servers and takes nodes down and back through the script, which checks
//! every pid before it signals it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// How a broker fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// SIGKILL: the process dies at once, with whatever its followers had not fetched yet.
    Kill,
    /// SIGSTOP: the process hangs, sockets open, until it is resumed.
    Pause,
}

impl FaultKind {
    pub const ALL: &'static [FaultKind] = &[FaultKind::Kill, FaultKind::Pause];

    pub fn describe(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill (SIGKILL: dies at once)",
            FaultKind::Pause => "pause (SIGSTOP: hangs)",
        }
    }

    /// `killed`, `paused`.
    pub fn past(self) -> &'static str {
        match self {
            FaultKind::Kill => "killed",
            FaultKind::Pause => "paused",
        }
    }

    /// The script's subcommand that brings a node back from this fault.
    pub fn recovery(self) -> &'static str {
        match self {
            FaultKind::Kill => "start-node",
            FaultKind::Pause => "resume",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Node {
    pub id: i32,
    pub port: u16,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LocalCluster {
    pub script: PathBuf,
    /// The Apache Kafka release it runs.
    #[serde(default)]
    pub kafka_version: Option<String>,
    pub state_dir: PathBuf,
    pub nodes_arg: u32,
    pub nodes: Vec<Node>,
}

impl LocalCluster {
    /// The cluster `scripts/kafka-local` started whose nodes serve `bootstrap` (a
    /// `bootstrap.servers` list), looked for where the script keeps its state.
    pub fn find(bootstrap: &str) -> Option<LocalCluster> {
        state_files()
            .into_iter()
            .filter_map(|f| LocalCluster::read(&f))
            .find(|c| c.serves(bootstrap))
    }

    fn read(path: &Path) -> Option<LocalCluster> {
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
    }

    /// Whether one of the bootstrap servers is a node of this cluster (on this machine).
    fn serves(&self, bootstrap: &str) -> bool {
        bootstrap.split(',').any(|server| {
            let server = server.trim();
            let server = server.rsplit_once("://").map_or(server, |(_, s)| s);
            let Some((host, port)) = server.rsplit_once(':') else {
                return false;
            };
            matches!(host, "127.0.0.1" | "localhost" | "[::1]")
                && self.nodes.iter().any(|n| port == n.port.to_string())
        })
    }

    pub fn has(&self, node: i32) -> bool {
        self.nodes.iter().any(|n| n.id == node)
    }

    /// Takes `node` down as `kind` says; returns what happened, in words.
    pub fn fault(&self, node: i32, kind: FaultKind) -> Result<String, String> {
        let action = match kind {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
        };
        self.script(action, node)?;
        Ok(format!("node {node} {}", kind.past()))
    }

    /// The command that brings back `node` after `kind`, for a person to run.
    pub fn recovery_command(&self, node: i32, kind: FaultKind) -> String {
        format!(
            "KAFKA_LOCAL_DIR={} {} --nodes {} {} {node}",
            self.state_dir.display(),
            self.script.display(),
            self.nodes_arg,
            kind.recovery()
        )
    }

    /// Brings back a node that `kind` took down: resumes it, or starts it again.
    pub fn recover(&self, node: i32, kind: FaultKind) -> Result<String, String> {
        self.script(kind.recovery(), node)
    }

    fn script(&self, action: &str, node: i32) -> Result<String, String> {
        if !self.has(node) {
            return Err(format!(
                "broker {node} is not a node of the kafka-local cluster in {}",
                self.state_dir.display()
            ));
        }
        let out = Command::new(&self.script)
            .env("KAFKA_LOCAL_DIR", &self.state_dir)
            .args([
                "--nodes",
                &self.nodes_arg.to_string(),
                action,
                &node.to_string(),
            ])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.script.display()))?;
        let said = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .lines()
                .map(|l| l.trim_start_matches("kafka-local: ").trim())
                .rfind(|l| !l.is_empty())
                .unwrap_or_default()
                .to_string()
        };
        if out.status.success() {
            // The script reports on stderr (stdout is for what scripts read).
            let stdout = said(&out.stdout);
            Ok(if stdout.is_empty() {
                said(&out.stderr)
            } else {
                stdout
            })
        } else {
            Err(format!(
                "kafka-local {action} {node}: {}",
                said(&out.stderr)
            ))
        }
    }
}

/// Where `scripts/kafka-local` may keep a cluster's state: `KAFKA_LAB_REPLICATED_STATE` (what its
/// `env` prints), `KAFKA_LOCAL_DIR`, then each `run*` folder of its cache.
fn state_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(f) = std::env::var_os("KAFKA_LAB_REPLICATED_STATE") {
        files.push(PathBuf::from(f));
    }
    if let Some(d) = std::env::var_os("KAFKA_LOCAL_DIR") {
        files.push(PathBuf::from(d).join("cluster.json"));
    }
    let cache = std::env::var_os("KAFKA_LOCAL_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kafka-lab")));
    if let Some(Ok(entries)) = cache.map(std::fs::read_dir) {
        let mut runs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("run"))
            .map(|e| e.path().join("cluster.json"))
            .collect();
        runs.sort();
        files.extend(runs);
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> LocalCluster {
        serde_json::from_str(
            r#"{"version":1,"script":"/x/scripts/kafka-local","nodes_arg":3,"cluster_id":"c",
                "state_dir":"/tmp/run-3","bootstrap":"127.0.0.1:19092",
                "nodes":[{"id":1,"pid":10,"port":19092,"controller_port":19093},
                         {"id":2,"pid":11,"port":19102,"controller_port":19103}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_cluster_is_ours_when_a_bootstrap_server_is_one_of_its_nodes() {
        let c = cluster();
        assert!(c.serves("127.0.0.1:19102"));
        assert!(c.serves("broker.example.com:9092, localhost:19092"));
        assert!(c.serves("PLAINTEXT://127.0.0.1:19092"));
        assert!(!c.serves("127.0.0.1:9092"));
        assert!(!c.serves("10.0.0.5:19092"), "another machine's port");
        assert!(!c.serves(""));
        assert!(c.has(2) && !c.has(3));
    }

    #[test]
    fn a_node_outside_the_cluster_is_refused_before_anything_runs() {
        let err = cluster().fault(7, FaultKind::Kill).unwrap_err();
        assert!(err.contains("broker 7 is not a node"), "{err}");
    }
}
