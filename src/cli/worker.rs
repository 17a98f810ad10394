//! The arguments of `kafka-lab worker`, and those `bench` takes to drive workers.

use clap::Args;

/// The shared secret and the meeting place of workers and their coordinator.
#[derive(Debug, Clone, Args)]
pub struct ControlArgs {
    /// The secret every control message is sealed with (HMAC-SHA256); the same on the workers and
    /// on the coordinator, at least 16 characters. Never printed.
    #[arg(
        long,
        env = "KAFKA_LAB_TOKEN",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub token: Option<String>,

    /// The topic workers and coordinators meet on (created with 1 partition and an hour's
    /// retention when missing; `kafka-lab cluster` has it).
    #[arg(long, default_value = crate::kafka::control::CONTROL_TOPIC, value_name = "TOPIC", value_parser = crate::kafka::settings::topic_name)]
    pub control_topic: String,
}

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// The name this worker goes by in summaries (default: HOST-PID).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The breweries a job's records are made of: `bundled`, `openbrewerydb` or a file (see
    /// `bench --help`).
    #[arg(long, default_value = "bundled", value_name = "SOURCE")]
    pub source: String,

    #[command(flatten)]
    pub control: ControlArgs,
}
