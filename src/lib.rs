//! kafka-lab: a terminal lab for Kafka producers and consumers.
//!
//! `kafka` talks to Kafka and knows nothing of the screen; `headless` holds the subcommands for
//! scripts; `config` and `target` turn the command line and `config.ini` into client settings.

pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod headless;
pub mod kafka;
pub mod sink;
pub mod source;
pub mod target;
pub mod text;
pub mod timeline;
pub mod ui;
