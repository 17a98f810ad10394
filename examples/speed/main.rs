//! How fast kafka-lab is next to what it measures: kafka-lab's producer against a bare
//! rdkafka loop written here, its consumer against kcat, the dashboard's producer against
//! headless `bench`, and the dashboard's frame time. Rounds interleave on the same cluster,
//! with the same properties and the same record shape; each figure is printed, then the median
//! ratio. Run it with `scripts/speed` (which builds first), or:
//!
//!   cargo build --release && cargo run --release --example speed -- [OPTIONS]
//!
//! Options: `-b HOST:PORT` (a broker; default: a `kafka-lab cluster` started here),
//! `--rounds N` (5), `--records N` (3000000 per producer run: shorter runs swing more),
//! `--consume-records N` (1000000), `--dashboard-records N` (3000000),
//! `--only produce,consume,dashboard,render` (the default), `--only scale` (how the frame
//! time grows with partitions and members; no cluster needed), or `--only live` (the running
//! dashboard's CPU and memory by partitions and members, against headless bench; minutes),
//! `--only readback` (the read-back of 1 M and 10 M records), `--only soak` (memory over
//! `--soak-minutes N`, 10, at 5,000 records/s), `--only topics` (a cluster of thousands of
//! topics; -b).

#[path = "../../tests/common/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

mod common;
mod consume;
mod dashboard;
mod histories;
mod live;
mod produce;
mod render;
mod scale;

use std::process::ExitCode;

fn main() -> ExitCode {
    // The bare loop runs in a process of its own, as kafka-lab does: both pay the same start.
    if std::env::args().nth(1).as_deref() == Some(produce::BARE_LOOP) {
        return match produce::bare_loop_process(&std::env::args().skip(2).collect::<Vec<_>>()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if std::env::args().nth(1).as_deref() == Some(dashboard::DASHBOARD_RUN) {
        return match dashboard::dashboard_run(&std::env::args().skip(2).collect::<Vec<_>>()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if std::env::args().nth(1).as_deref() == Some(live::STEADY_RUN) {
        return match live::steady_run(&std::env::args().skip(2).collect::<Vec<_>>()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let run = || -> anyhow::Result<()> {
        let options = common::Options::parse(std::env::args().skip(1))?;
        if options.only_scale() {
            scale::run();
            histories::run();
            return Ok(());
        }
        if options.asked("live") {
            live::run(&options)?;
        }
        if options.asked("readback") {
            live::run_read_back(&options)?;
        }
        if options.asked("soak") {
            live::run_soak(&options)?;
        }
        if options.asked("topics") {
            live::run_topics(&options)?;
        }
        if ["live", "readback", "soak", "topics"]
            .iter()
            .any(|p| options.asked(p))
        {
            return Ok(());
        }
        let cluster = common::Lab::start(&options)?;
        println!("{}\n", cluster.describe());
        if options.wants("produce") {
            produce::run(&options, &cluster)?;
        }
        if options.wants("consume") {
            consume::run(&options, &cluster)?;
        }
        if options.wants("dashboard") {
            dashboard::run(&options, &cluster)?;
        }
        if options.wants("render") {
            render::run();
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
