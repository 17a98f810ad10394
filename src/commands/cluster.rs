//! `kafka-lab cluster`: serve the embedded cluster to other processes until a signal.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::cli::Connection;
use crate::kafka::embedded::EmbeddedCluster;
use crate::runtime;
use crate::target::embedded_options;

pub async fn cluster(c: &Connection) -> Result<ExitCode> {
    if c.config.is_some() || c.bootstrap_servers.is_some() {
        bail!("`cluster` serves the embedded cluster; it takes no --config or -b");
    }
    let options = embedded_options(c);
    let cluster = EmbeddedCluster::start(&options)?;
    println!("bootstrap.servers={}", cluster.bootstrap_servers());
    std::io::stdout().flush()?;
    eprintln!("embedded cluster: {}; Ctrl-C stops it", options.describe());
    runtime::wait_for_signal().await;
    drop(cluster);
    eprintln!("embedded cluster stopped");
    Ok(ExitCode::SUCCESS)
}
