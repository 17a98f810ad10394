//! The subcommands for scripts. Each stands alone: they share what is in `runtime`, never each
//! other's code.

pub mod bench;
pub mod cluster;
pub mod consume;
pub mod process;
pub mod produce;
pub mod worker;
