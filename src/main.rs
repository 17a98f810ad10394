use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use kafka_lab::cli::{Cli, ColorWhen, Command};
use kafka_lab::{commands, dashboard, scenario};

fn main() -> ExitCode {
    kafka_lab::runtime::few_malloc_arenas();
    // `--version` also names the client library and what it was built with.
    let long_version = format!(
        "{}\n{}",
        env!("CARGO_PKG_VERSION"),
        kafka_lab::kafka::library()
    );
    let long_version: &'static str = Box::leak(long_version.into_boxed_str());
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let color = ColorWhen::from_args(&args);
    let matches = match Cli::command()
        .long_version(long_version)
        .color(color.clap())
        .try_get_matches_from(args)
    {
        Ok(m) => m,
        Err(e) => return clap_error(&e, color),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return clap_error(&e, color),
    };
    let misplaced = kafka_lab::cli::dashboard_options_before(&matches);
    if let Some((name, _)) = matches.subcommand() {
        if !misplaced.is_empty() {
            kafka_lab::errln!(
                "error: {} before `{name}` {} the dashboard's; `{name}` would ignore {}. Put \
                 the subcommand's own options after it (kafka-lab {name} --help lists them).",
                misplaced.join(", "),
                if misplaced.len() == 1 { "is" } else { "are" },
                if misplaced.len() == 1 { "it" } else { "them" }
            );
            return ExitCode::from(2);
        }
    }
    kafka_lab::ui::theme::set_color(cli.color.enabled());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            kafka_lab::errln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let c = &cli.connection;
    let result = runtime.block_on(async {
        match &cli.command {
            None => dashboard::run(c, &cli.dashboard).await,
            Some(Command::Produce(args)) => commands::produce::produce(c, args).await,
            Some(Command::Consume(args)) => commands::consume::consume(c, args).await,
            Some(Command::Bench(args)) => commands::bench::bench(c, args).await,
            Some(Command::Process(args)) => commands::process::process(c, args).await,
            Some(Command::Cluster) => commands::cluster::cluster(c).await,
            Some(Command::Worker(args)) => commands::worker::worker(c, args).await,
            Some(Command::Completions { shell }) => {
                print_completions(*shell);
                Ok(ExitCode::SUCCESS)
            }
            Some(Command::Man) => print_man_page(),
            Some(Command::Scenario { command }) => scenario::command(c, command).await,
        }
    });
    // Background tasks (signal watchers) must not keep the process alive.
    runtime.shutdown_background();
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            kafka_lab::errln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    // What could not be written is a failure, even when the work itself went well.
    if let Some(e) = kafka_lab::runtime::out::stdout_failed() {
        kafka_lab::errln!(
            "error: writing to the standard output failed: {e}; the output is incomplete"
        );
        return ExitCode::FAILURE;
    }
    code
}

/// A command line clap refused (or `--help`, `--version`): help and version as clap prints
/// them; an error as plain text, its arguments escaped (they may hold terminal escapes).
fn clap_error(e: &clap::Error, color: ColorWhen) -> ExitCode {
    use clap::error::ErrorKind;
    let code = ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let styled = e.render();
            // As clap would: styles only for a terminal (or when asked for).
            let in_colour =
                color.enabled() && (color == ColorWhen::Always || std::io::stdout().is_terminal());
            let text = if in_colour {
                styled.ansi().to_string()
            } else {
                styled.to_string()
            };
            kafka_lab::runtime::out::stdout_raw(text.as_bytes());
            if let Some(failed) = kafka_lab::runtime::out::stdout_failed() {
                kafka_lab::errln!("error: writing to the standard output failed: {failed}");
                return ExitCode::FAILURE;
            }
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
        }
        _ => kafka_lab::errln!("{}", e.render().to_string().trim_end()),
    }
    code
}

/// The completion script for `shell`, from the same definitions as `--help`.
fn print_completions(shell: clap_complete::Shell) {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kafka-lab", &mut script);
    kafka_lab::runtime::out::stdout_raw(&script);
}

/// The manual page: the top-level page, then one section per subcommand.
fn print_man_page() -> anyhow::Result<ExitCode> {
    // Rendered whole, then written: a reader that goes (`| head`) is no error.
    let mut out = Vec::new();
    let mut command = Cli::command();
    // Built, so that each subcommand carries the global options.
    command.build();
    clap_mangen::Man::new(command.clone()).render(&mut out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name: &'static str =
            Box::leak(format!("kafka-lab-{}", sub.get_name()).into_boxed_str());
        clap_mangen::Man::new(sub.clone().name(name))
            .title(name)
            .render(&mut out)?;
    }
    kafka_lab::runtime::out::stdout_raw(&out);
    Ok(ExitCode::SUCCESS)
}
