//! The arguments of `kafka-lab bench`.

use std::path::PathBuf;

use clap::Args;

use super::{parse_rate, parse_warmup, Rate, SourceArgs, Warmup};

#[derive(Debug, Clone, Args)]
// Each bool is a flag of the command line.
#[allow(clippy::struct_excessive_bools)]
pub struct BenchArgs {
    /// Records to send.
    #[arg(long, default_value_t = 50_000, value_name = "N")]
    pub messages: u64,

    /// Target rate in records per second, or `max` (as fast as possible, like
    /// kafka-producer-perf-test's --throughput -1).
    #[arg(long, default_value = "max", value_name = "R", value_parser = parse_rate)]
    pub rate: Rate,

    /// Payload size in bytes (brewery JSON cut or repeated to size); default: the brewery
    /// records as they are.
    #[arg(long, value_name = "BYTES")]
    pub record_size: Option<usize>,

    /// acks: 0, 1 or all (default: the config's, else librdkafka's: all).
    #[arg(long, value_name = "A")]
    pub acks: Option<String>,

    /// linger.ms: how long the producer waits to fill a batch, in milliseconds (default: the
    /// config's, else librdkafka's 5).
    #[arg(long, value_name = "MS")]
    pub linger_ms: Option<String>,

    /// batch.size: the most bytes in one batch (default: the config's, else librdkafka's
    /// 1000000).
    #[arg(long, value_name = "BYTES")]
    pub batch_size: Option<String>,

    /// compression.type: none, gzip, snappy, lz4 or zstd (default: the config's, else none).
    #[arg(long, value_name = "C")]
    pub compression: Option<String>,

    /// Print the figures as one JSON object (with --sweep: a JSON array, one per combination).
    #[arg(long)]
    pub json: bool,

    /// Run every combination of these values, each with a fresh producer, e.g.
    /// --sweep "acks=0,1,all" --sweep "linger.ms=0,5,50"; repeatable.
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub sweep: Vec<String>,

    /// Also write the runs as CSV rows to this file (checked before anything runs; an
    /// existing file is replaced only with --force).
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,

    /// Replace the --csv file when it exists.
    #[arg(long, requires = "csv")]
    pub force: bool,

    /// Skip reading the records back afterwards (received, missing, duplicated).
    #[arg(long)]
    pub no_verify: bool,

    /// Records at the start of each run left out of its latency and rate (connecting,
    /// metadata, a cold broker), as a count or a share of --messages: `5000`, `10%`, `0`.
    /// They are still counted delivered and read back.
    #[arg(long, default_value = "10%", value_name = "N|P%", value_parser = parse_warmup)]
    pub warmup: Warmup,

    /// Send in transactions of --txn-records records (a transactional producer: each commit
    /// first waits for its records' acknowledgements): what exactly-once costs the producer.
    #[arg(long)]
    pub transactional: bool,

    /// Records per transaction, with --transactional.
    #[arg(long, value_name = "N", default_value_t = 100, requires = "transactional", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub txn_records: u64,

    /// Run on N `kafka-lab worker` processes instead of here: each sends its share of
    /// --messages and of --rate from a common start, and one summary merges their figures.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub workers: Option<u32>,

    /// With --workers: how long to wait for N workers to be there.
    #[arg(long, value_name = "SECS", default_value_t = 60, requires = "workers", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub workers_timeout: u64,

    #[command(flatten)]
    pub control: super::ControlArgs,

    #[command(flatten)]
    pub source: SourceArgs,
}
