//! The arguments of `kafka-lab process`.

use clap::Args;

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["exactly_once", "at_least_once"])))]
pub struct ProcessArgs {
    /// The topic read (default: the topic of -t).
    #[arg(long, value_name = "TOPIC", value_parser = crate::kafka::settings::topic_name)]
    pub from: Option<String>,

    /// The topic written: it must exist, or give --partitions to make it. A restart after a
    /// crash waits for the crashed instance's session to end (`-X session.timeout.ms=...`).
    #[arg(long, value_name = "TOPIC", value_parser = crate::kafka::settings::topic_name)]
    pub to: String,

    /// Transactions: each batch of output and the input offsets it consumed commit together,
    /// and the input is read `read_committed`. A crash repeats nothing.
    #[arg(long)]
    pub exactly_once: bool,

    /// Commit the input offsets after the output is acknowledged: a crash between the two
    /// writes that batch again.
    #[arg(long)]
    pub at_least_once: bool,

    /// The consumer group (default: kafka-lab-process.FROM.TO).
    #[arg(short = 'g', long, value_name = "GROUP")]
    pub group: Option<String>,

    /// The transactional.id (default: one given in config.ini, else kafka-lab-process.FROM.TO;
    /// -X transactional.id wins over this flag): a restart with the same one fences the
    /// instance before it.
    #[arg(long, value_name = "ID")]
    pub transactional_id: Option<String>,

    /// Records per transaction (or per commit, at least once); a batch also ends after
    /// 100 ms.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub txn_records: u64,

    /// Stop after this many records (default: until Ctrl-C).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Stop once no record came for this long, e.g. `5s` (default: wait).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub idle_exit: Option<std::time::Duration>,
}
