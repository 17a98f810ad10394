//! kafka-lab: a terminal lab for Kafka producers and consumers.
//!
//! What may use what (a module never imports one listed after it, except where said):
//! - `text`, `stats`: pure helpers; import nothing of the crate but each other.
//! - `config`, `kafka`: client settings and everything that talks to Kafka; know nothing of the
//!   screen or the commands (`kafka` uses `config` and `stats`).
//! - `data`: brewery sources, the sink, counts by field (may use `kafka`'s record type).
//! - `cli`, `target`, `runtime`: the command line, which cluster, what every command shares.
//! - `commands`: the headless subcommands; each uses the above and never another command.
//! - `dashboard`: the dashboard's actors (Kafka tasks), its state (`App`) and its run loop.
//! - `ui`: drawing; reads `dashboard::state` and `stats`, never `kafka`.

pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod data;
pub mod kafka;
pub mod runtime;
pub mod stats;
pub mod target;
pub mod text;
pub mod ui;
