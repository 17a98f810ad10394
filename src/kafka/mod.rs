//! Everything that talks to Kafka. Nothing in here knows about the screen.

pub mod cluster;
pub mod consumer;
pub mod embedded;
pub mod local;
pub mod partitioners;
pub mod producer;
pub mod properties;
pub mod settings;
pub mod verify;
