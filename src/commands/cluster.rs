//! `kafka-lab cluster`: serve the embedded cluster to other processes until a signal.

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
    // Watched before the address is out: whoever reads it may signal at once.
    let mut signals = runtime::Signals::watch();
    let cluster = EmbeddedCluster::start(&options)?;
    crate::outln!("bootstrap.servers={}", cluster.bootstrap_servers());
    crate::errln!("embedded cluster: {}; Ctrl-C stops it", options.describe());
    let signal = signals.next().await;
    drop(cluster);
    crate::errln!("embedded cluster stopped ({signal:?})");
    // As every other command: stopped by a signal, it says which in its exit code.
    Ok(signal.exit_code())
}
