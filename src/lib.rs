//! kafka-lab: a terminal lab for Kafka producers and consumers.
//!
//! What may use what (a module never imports one listed after it, except where said):
//! - `text`, `stats`: pure helpers; import nothing of the crate but each other.
//! - `config`, `kafka`: client settings and everything that talks to Kafka; know nothing of the
//!   screen or the commands. `kafka` uses `config` and `stats`; `config` checks each value
//!   against `kafka::properties` (librdkafka's table of properties), its one use of `kafka`.
//! - `data`: brewery sources, the sink, counts by field (may use `kafka`'s record type).
//! - `cli`, `target`, `runtime`, `progress`: the command line, which cluster, what every
//!   command shares, progress bars.
//! - `commands`: the headless subcommands; each uses the above and never another command.
//! - `dashboard`: its actors (the Kafka tasks), the snapshots they report, its state (`App`)
//!   and its run loop, which calls `ui::render` to draw.
//! - `ui`: drawing; reads `dashboard::state`, `dashboard::snapshots`, `stats` and `text`, never
//!   `kafka` or the actors.
//! - `scenario`: scenario files, their player and reports; drives the dashboard's state and
//!   session. The dashboard's run loop plays a scenario (`--scenario`) through it: the one
//!   use of `scenario` before it.

pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod data;
pub mod kafka;
pub mod progress;
pub mod runtime;
pub mod scenario;
pub mod stats;
pub mod target;
pub mod text;
pub mod ui;
