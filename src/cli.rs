//! The command line.

mod bench;
mod process;
mod worker;
pub use bench::BenchArgs;
pub use process::ProcessArgs;
pub use worker::{ControlArgs, WorkerArgs};

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::data::source::{KeyField, DEFAULT_API_URL};

const ABOUT: &str = "A terminal lab for Kafka producers and consumers.";
const LONG_ABOUT: &str = "A terminal lab for Kafka producers and consumers.

With no broker given (no --config, no -b, no ./config.ini) kafka-lab starts an embedded cluster \
(librdkafka's mock cluster: 3 brokers, topic `breweries` with 6 partitions) inside the process. \
Give -b HOST:PORT for a local Kafka, or a config.ini in the format of Confluent's getting-started \
guides ([default], [producer], [consumer] sections of librdkafka properties) for Confluent Cloud.

Without a subcommand kafka-lab opens the dashboard: a live producer, one pane per consumer-group
member, settings that restart the producer, runs side by side. Press ? there for every key.

Precedence of settings: -X > the subcommand's own flags > -b > config file > built-in defaults.";

#[derive(Debug, Parser)]
#[command(name = "kafka-lab", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// Colours: `auto` (on a terminal, unless `NO_COLOR` is set), `always` or `never`. The
    /// headless commands print plain text; this governs help, errors and the dashboard.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN", help_heading = "Display")]
    pub color: ColorWhen,

    #[command(flatten)]
    pub connection: Connection,

    #[command(flatten)]
    pub dashboard: DashboardArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The dashboard's own options given on the command line (`--rate`), when a subcommand runs:
/// they would do nothing there, so they are refused rather than ignored.
pub fn dashboard_options_before(matches: &clap::ArgMatches) -> Vec<String> {
    if matches.subcommand().is_none() {
        return Vec::new();
    }
    let dashboard = DashboardArgs::augment_args(clap::Command::new("dashboard"));
    dashboard
        .get_arguments()
        .filter(|a| {
            matches.value_source(a.get_id().as_str())
                == Some(clap::parser::ValueSource::CommandLine)
        })
        .map(|a| {
            a.get_long()
                .map_or_else(|| a.get_id().to_string(), |l| format!("--{l}"))
        })
        .collect()
}

/// Options of the dashboard (the default command).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Dashboard")]
pub struct DashboardArgs {
    /// The producer's starting rate: records per second, or `max`.
    #[arg(long, default_value = "50", value_name = "R", value_parser = parse_rate)]
    pub rate: Rate,

    /// The consumer group the dashboard's consumers join.
    #[arg(short = 'g', long, default_value = "kafka-lab", value_name = "GROUP")]
    pub group: String,

    /// Start with the producer stopped (p starts it).
    #[arg(long)]
    pub paused: bool,

    /// Consumers in the group at the start (c adds more, x removes one).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=32))]
    pub consumers: u32,

    /// Play a scenario on the dashboard: a file, or a shipped one by name (`kafka-lab scenario
    /// list`). Its steps show in a strip; Space pauses it; keys still work. It brings its own
    /// topic, group, rate and consumers.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rate", "paused", "consumers", "group"])]
    pub scenario: Option<String>,

    /// With --scenario: divide every wait, time offset, fault length and `within` by F (rates
    /// stay as written); 0.1 to 100.
    #[arg(long, value_name = "F", default_value_t = 1.0, value_parser = parse_speed, requires = "scenario")]
    pub speed: f64,

    /// The topic `kafka-lab worker` processes meet on (their --control-topic): the Workers box
    /// shows the heartbeats read there. Read only.
    #[arg(long, default_value = crate::kafka::control::CONTROL_TOPIC, value_name = "TOPIC", value_parser = crate::kafka::settings::topic_name)]
    pub control_topic: String,

    #[command(flatten)]
    pub source: SourceArgs,
}

/// Where the cluster is and how to reach it; accepted before or after the subcommand.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Cluster")]
pub struct Connection {
    /// A config.ini with [default], [producer] and [consumer] sections (default: ./config.ini
    /// when it exists).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Bootstrap servers of an external cluster, e.g. 127.0.0.1:9092.
    #[arg(short = 'b', long, global = true, value_name = "LIST")]
    pub bootstrap_servers: Option<String>,

    /// The topic.
    #[arg(short = 't', long, global = true, default_value = "breweries", value_parser = crate::kafka::settings::topic_name)]
    pub topic: String,

    /// Any librdkafka property, as key=value; repeatable (like kcat's -X).
    #[arg(short = 'X', global = true, value_name = "KEY=VALUE")]
    pub property: Vec<String>,

    /// Print each client's merged configuration (secrets masked) and where each value came
    /// from, then exit.
    #[arg(long, global = true)]
    pub print_config: bool,

    /// Partitions of the topic when kafka-lab creates it: always in the embedded cluster
    /// (default 6); on an external cluster a missing topic is created only when this is given.
    #[arg(long, global = true, value_name = "P", value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub partitions: Option<i32>,

    /// Replication factor of a topic that kafka-lab creates on an external cluster (default:
    /// the broker's default).
    #[arg(long, global = true, value_name = "R", value_parser = clap::value_parser!(i32).range(1..=32))]
    pub replication_factor: Option<i32>,

    /// Brokers of the embedded cluster (1 to 16).
    #[arg(long, global = true, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=16))]
    pub brokers: i32,

    /// Simulated network round-trip time of each embedded broker, in milliseconds (0 to
    /// 10000).
    #[arg(long, global = true, value_name = "MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub rtt_ms: u64,

    /// How long to try to reach the cluster before giving up, in seconds (1 to 3600).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send brewery records as JSON; print one line per delivery report and a summary.
    Produce(ProduceArgs),
    /// Read records; print one line per record with its metadata.
    Consume(ConsumeArgs),
    /// A timed producer run; prints a kafka-producer-perf-test style summary.
    Bench(BenchArgs),
    /// Read, transform and write: each brewery from --from written to --to with where it came
    /// from, exactly once (transactions) or at least once (commit after writing). Restarted
    /// with the same arguments it resumes where the last one committed.
    Process(ProcessArgs),
    /// Serve the embedded cluster to other processes until Ctrl-C; prints its bootstrap
    /// servers first.
    Cluster,
    /// Wait for `bench --workers N` jobs on the cluster's control topic and run them: start
    /// one on each machine that should send, with the same --token.
    Worker(WorkerArgs),
    /// Print a shell completion script, e.g. `kafka-lab completions bash >
    /// ~/.local/share/bash-completion/completions/kafka-lab`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print kafka-lab's manual page (roff), e.g. `kafka-lab man | man -l -`.
    Man,
    /// Experiments written down as steps (TOML): play one headless with a report, list the
    /// shipped ones, check a file. `kafka-lab --scenario FILE` plays one on the dashboard.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Play a scenario without a screen: a line per step on stderr, the Markdown report on
    /// stdout and in a folder with the runs as CSV and JSON. Exits 1 when an assertion fails.
    Run(ScenarioRunArgs),
    /// List the shipped scenarios with what each asks.
    List,
    /// Print a shipped scenario's file, to copy and change.
    Show {
        /// A shipped scenario's name.
        name: String,
    },
    /// Read a scenario file and list its steps, without connecting.
    Check {
        /// A scenario file, or a shipped scenario's name.
        file: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ScenarioRunArgs {
    /// A scenario file (TOML), or a shipped scenario's name (see `kafka-lab scenario list`).
    pub file: String,

    /// Divide every wait, time offset, fault length and `within` by F, e.g. 5 for a quick
    /// check (rates stay as written, so runs hold fewer records); 0.1 to 100.
    #[arg(long, value_name = "F", default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,

    /// Folder for report.md, runs.csv, runs.json and consumer-runs.csv (default:
    /// kafka-lab-report-<title>-<UTC time> in the current folder).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,

    /// Replace a report already in the --report folder.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub source: SourceArgs,
}

/// `--speed`: a factor from 0.1 to 100.
pub fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim().trim_end_matches('x').parse::<f64>() {
        Ok(f) if (0.1..=100.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "`{s}` is not a speed: give a factor from 0.1 to 100 (5 makes a 60 s wait 12 s)"
        )),
    }
}

/// Where records come from.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Records")]
pub struct SourceArgs {
    /// `bundled` (the sample shipped with kafka-lab), `openbrewerydb` (the public API, fetched
    /// once and kept in $XDG_CACHE_HOME/kafka-lab, else ~/.cache/kafka-lab, for the next runs,
    /// offline too), or the path of a JSON array / JSON lines file of breweries. Records repeat
    /// in a loop.
    #[arg(long, default_value = "bundled", value_name = "SOURCE")]
    pub source: String,

    /// With --source openbrewerydb: fetch the set again instead of using the kept one.
    #[arg(long)]
    pub refresh: bool,

    /// Base URL of the Open Brewery DB API, for --source openbrewerydb.
    #[arg(
        long,
        default_value = DEFAULT_API_URL,
        env = "KAFKA_LAB_API_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub api_url: String,

    /// The record key: a brewery's id, state or city, or none.
    #[arg(long, value_enum, default_value_t = KeyField::Id)]
    pub key: KeyField,
}

#[derive(Debug, Clone, Args)]
pub struct ProduceArgs {
    /// Records to send (default: until Ctrl-C).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Records per second, or `max` for as fast as possible.
    #[arg(long, default_value = "10", value_name = "R", value_parser = parse_rate)]
    pub rate: Rate,

    #[command(flatten)]
    pub source: SourceArgs,

    /// On exit, wait this long for outstanding delivery reports, in seconds (0 to 86400;
    /// default 10, or ten simulated round trips when --rtt-ms makes that longer).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub flush_timeout: Option<u64>,

    /// Afterwards, read the records back and count them: received, missing, duplicated.
    #[arg(long)]
    pub verify: bool,

    /// Send in transactions of N records, each committed (a transactional producer: the
    /// transactional.id given with -X or in config.ini, or one of kafka-lab's own). A given
    /// transactional.id alone means transactions of 100.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub txn_records: Option<u64>,
}

#[derive(Debug, Clone, Args)]
pub struct ConsumeArgs {
    /// The consumer group (default: a new group kafka-lab-consume-<random>).
    #[arg(short = 'g', long, value_name = "GROUP")]
    pub group: Option<String>,

    /// Exit after this many records (default: read until Ctrl-C).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// With no committed offset, start at the oldest record (default: only new records).
    #[arg(long)]
    pub from_beginning: bool,

    /// `text`: one readable line per record; `json`: one JSON object per line.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,

    /// Also append each record with its metadata to this JSON-lines file (flushed every
    /// second: a crash loses at most the last second).
    #[arg(long, value_name = "PATH.jsonl")]
    pub sink: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// What `--color` says in `args` (the last one wins), read before the command line is
    /// parsed: help and parse errors are drawn by then.
    pub fn from_args(args: &[std::ffi::OsString]) -> ColorWhen {
        let mut when = ColorWhen::Auto;
        let mut it = args.iter().filter_map(|a| a.to_str());
        while let Some(arg) = it.next() {
            let value = match arg.strip_prefix("--color") {
                Some("") => it.next(),
                Some(v) => v.strip_prefix('='),
                None => None,
            };
            if let Some(v) = value.and_then(|v| ColorWhen::from_str(v, true).ok()) {
                when = v;
            }
        }
        when
    }

    /// Whether colours are on: `auto` means unless `NO_COLOR` is set (to anything but empty).
    pub fn enabled(self) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn clap(self) -> clap::ColorChoice {
        match self {
            ColorWhen::Auto => clap::ColorChoice::Auto,
            ColorWhen::Always => clap::ColorChoice::Always,
            ColorWhen::Never => clap::ColorChoice::Never,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// The warm-up of a bench run: a count of records, or a share of the run's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Warmup {
    Records(u64),
    Percent(f64),
}

impl Warmup {
    /// The records left out of a run of `messages` (never all of them).
    pub fn records(self, messages: u64) -> u64 {
        let n = match self {
            Warmup::Records(n) => n,
            Warmup::Percent(p) => (messages as f64 * p / 100.0).round() as u64,
        };
        n.min(messages.saturating_sub(1))
    }
}

fn parse_warmup(text: &str) -> Result<Warmup, String> {
    let t = text.trim();
    let wrong = || {
        format!(
            "`{t}` is not a warm-up: give a count of records (5000) or a share below 100% (10%)"
        )
    };
    match t.strip_suffix('%') {
        Some(p) => p
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|p| (0.0..100.0).contains(p))
            .map(Warmup::Percent)
            .ok_or_else(wrong),
        None => t.parse::<u64>().map(Warmup::Records).map_err(|_| wrong()),
    }
}

/// A target send rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    PerSecond(f64),
    Max,
}

impl Rate {
    pub fn per_second(self) -> Option<f64> {
        match self {
            Rate::PerSecond(r) => Some(r),
            Rate::Max => None,
        }
    }
}

/// The slowest and fastest finite rates accepted, records per second.
pub const MIN_RATE: f64 = 0.001;
pub const MAX_RATE: f64 = 10_000_000.0;

/// A rate: records per second (`50`, `2.5/s`) from [`MIN_RATE`] to [`MAX_RATE`], or `max`.
pub fn parse_rate(s: &str) -> Result<Rate, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("max") {
        return Ok(Rate::Max);
    }
    match t.trim_end_matches("/s").parse::<f64>() {
        Ok(r) if (MIN_RATE..=MAX_RATE).contains(&r) => Ok(Rate::PerSecond(r)),
        _ => Err(format!(
            "`{s}` is not a rate: give records per second from {MIN_RATE} (one every \
             {:.0} minutes) to {MAX_RATE:.0}, or `max`",
            1.0 / MIN_RATE / 60.0
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_warm_up_is_a_count_or_a_share_and_never_the_whole_run() {
        assert_eq!(parse_warmup("10%"), Ok(Warmup::Percent(10.0)));
        assert_eq!(parse_warmup(" 5000 "), Ok(Warmup::Records(5000)));
        assert_eq!(Warmup::Percent(10.0).records(1000), 100);
        assert_eq!(
            Warmup::Records(5000).records(100),
            99,
            "one record is measured"
        );
        assert_eq!(Warmup::Records(0).records(100), 0);
        for bad in ["100%", "-5", "5s", "", "ten"] {
            let e = parse_warmup(bad).unwrap_err();
            assert!(e.contains("is not a warm-up"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_defaults_named_in_bench_help_are_librdkafkas() {
        use crate::config::properties::lookup;
        assert_eq!(lookup("linger.ms").unwrap().default, "5");
        assert_eq!(lookup("batch.size").unwrap().default, "1000000");
    }

    #[test]
    fn color_is_read_before_parsing() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(ColorWhen::from_args(&args(&["kafka-lab"])), ColorWhen::Auto);
        assert_eq!(
            ColorWhen::from_args(&args(&["kafka-lab", "--color", "never", "bench"])),
            ColorWhen::Never
        );
        assert_eq!(
            ColorWhen::from_args(&args(&["kafka-lab", "bench", "--color=always"])),
            ColorWhen::Always
        );
        // Not a value it knows: clap says so when it parses.
        assert_eq!(
            ColorWhen::from_args(&args(&["kafka-lab", "--color", "sometimes"])),
            ColorWhen::Auto
        );
        assert!(!ColorWhen::Never.enabled() && ColorWhen::Always.enabled());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("50"), Ok(Rate::PerSecond(50.0)));
        assert_eq!(parse_rate("2.5/s"), Ok(Rate::PerSecond(2.5)));
        assert_eq!(parse_rate("MAX"), Ok(Rate::Max));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
        for tiny_or_huge in ["1e-300", "1e-20", "0.0009", "1e300", "inf", "NaN", "-5"] {
            let e = parse_rate(tiny_or_huge).unwrap_err();
            assert!(e.contains("from 0.001"), "{tiny_or_huge}: {e}");
        }
        assert_eq!(parse_rate("0.001"), Ok(Rate::PerSecond(0.001)));
    }

    #[test]
    fn common_options_go_before_or_after_the_subcommand() {
        let a = Cli::parse_from(["kafka-lab", "-b", "h:1", "produce", "-X", "linger.ms=5"]);
        let b = Cli::parse_from(["kafka-lab", "produce", "-b", "h:1", "-X", "linger.ms=5"]);
        assert_eq!(
            a.connection.bootstrap_servers,
            b.connection.bootstrap_servers
        );
        assert_eq!(a.connection.property, vec!["linger.ms=5"]);
        assert_eq!(b.connection.topic, "breweries");
    }
}
