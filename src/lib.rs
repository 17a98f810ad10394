//! kafka-lab: a terminal lab for Kafka producers and consumers.
//!
//! What may use what (checked by a test that reads the `use` lines: `tests/layout.rs`). A
//! module uses only those listed before it, and only where said:
//! - `text`, `stats`: pure helpers; import nothing of the crate but each other.
//! - `config`: client settings, `config.ini`, and librdkafka's table of properties (which
//!   checks every value); uses `text`.
//! - `kafka`: everything that talks to Kafka; knows nothing of the screen, the lab or the
//!   commands. Uses `config`, `stats`, `text`.
//! - `data`: brewery sources, the sink, counts by field (uses `kafka`'s record type).
//! - `cli`, `target`, `runtime`, `progress`: the command line, which cluster, what every
//!   command shares (signals, output that never shows a secret, output places), progress
//!   bars. One layer: they may use each other (`target` prints through `runtime`'s macros,
//!   `runtime` prints a target's settings).
//! - `commands`: the headless subcommands; each uses the above and never another command.
//! - `lab`: the lab's core: its state (`App`) and the one place it changes, the Kafka actors
//!   and session that carry out its commands, the snapshots, and the driver (`Lab`) that joins
//!   them. Uses everything above except `commands`; never a front end (`ui`, `dashboard`,
//!   `scenario`).
//! - `ui`: drawing; reads `lab::state`, `lab::snapshots`, `stats` and `text`, never `kafka`,
//!   the actors or the session.
//! - `scenario`: the scenario front end: files, their player (which turns due steps into the
//!   lab's events and reads its state), reports, headless play. Never uses `dashboard` or `ui`.
//! - `dashboard`: the terminal front end: keys in, frames out (through `ui`); plays a scenario
//!   on screen through `scenario`'s player.

pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod data;
pub mod kafka;
pub mod lab;
pub mod progress;
pub mod runtime;
pub mod scenario;
pub mod stats;
pub mod target;
pub mod text;
pub mod ui;
