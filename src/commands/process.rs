//! `kafka-lab process`: consume, transform, produce (the processor is in
//! `kafka::processor`), exactly once or at least once, until Ctrl-C, `--count` or idle.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::cli::{Connection, ProcessArgs};
use crate::config::Role;
use crate::kafka::embedded::MOCK_GROUP_SETTINGS;
use crate::kafka::processor::{derived_id, Guarantee, Job, Live};
use crate::runtime::{self, StopFlag};
use crate::target::Target;

pub async fn process(c: &Connection, args: &ProcessArgs) -> Result<ExitCode> {
    let mut layers = Target::layers(c)?;
    // -X properties go to the producer or the consumer, whichever takes them.
    layers.both_roles = true;
    let mut target = Target::with_layers(c, layers, Role::Consumer)?;
    let from = args.from.clone().unwrap_or_else(|| target.topic.clone());
    if from == args.to {
        bail!(
            "--from and --to are both `{from}`: the processor would read its own output forever; \
             write to another topic"
        );
    }
    if target.is_embedded() {
        bail!(
            "kafka-lab process reads what others write and writes a topic of its own: it needs a \
             cluster that outlives it (-b HOST:PORT or --config FILE), not the embedded one this \
             command would start"
        );
    }
    let derived = derived_id(&from, &args.to);
    let group = args.group.clone().unwrap_or_else(|| derived.clone());
    let given = target
        .layers
        .resolve(Role::Producer)?
        .settings
        .into_iter()
        .find(|s| s.key == "transactional.id");
    let ignored = given.is_some() && !args.exactly_once;
    // As with every setting: -X, then --transactional-id, then config.ini.
    let txn_id = match given {
        Some(s) if s.origin.is_flag() => s.value,
        given => args
            .transactional_id
            .clone()
            .or(given.map(|s| s.value))
            .unwrap_or(derived),
    };
    target
        .layers
        .builtin("group.id", &group, "kafka-lab process");
    target
        .layers
        .builtin("client.id", "kafka-lab-process", "built-in default");
    target
        .layers
        .builtin("auto.offset.reset", "earliest", "kafka-lab process");
    if c.print_config {
        return runtime::print_config(&target, &[Role::Consumer, Role::Producer]);
    }
    let producer_settings = target.settings(Role::Producer)?;
    // The output topic first (made on the embedded cluster), then the input.
    target.topic.clone_from(&args.to);
    target.ensure_topic(&producer_settings).await?;
    target.topic.clone_from(&from);
    let mut consumer_settings = target.settings(Role::Consumer)?;
    if target.ensure_topic(&consumer_settings).await?.is_mock {
        for (key, value) in MOCK_GROUP_SETTINGS {
            target.layers.builtin(key, value, "embedded cluster");
        }
        consumer_settings = target.layers.resolve(Role::Consumer)?;
    }
    let stop = StopFlag::on_signals();
    let job = Job {
        from,
        to: args.to.clone(),
        guarantee: if args.exactly_once {
            Guarantee::ExactlyOnce
        } else {
            Guarantee::AtLeastOnce
        },
        batch: args.txn_records,
        count: args.count,
        idle_exit: args.idle_exit,
        live: Live::new(Some(Box::new(|text: &str| crate::errln!("{text}")))),
    };
    stop_on(stop.clone(), job.live.clone());
    let (consumer, producer) = job
        .clients(&consumer_settings, &producer_settings, &txn_id)
        .context("cannot create the processor's clients")?;
    crate::errln!(
        "processing {} → {} {} (group {group}{})",
        job.from,
        job.to,
        job.guarantee.how(),
        if args.exactly_once {
            format!(", transactional.id {txn_id}")
        } else if ignored {
            "; the transactional.id given is not used: at least once writes outside transactions"
                .to_string()
        } else {
            String::new()
        }
    );
    let live = job.live.clone();
    tokio::task::spawn_blocking(move || job.run(&consumer, &producer)).await??;
    crate::errln!("{}", live.done());
    Ok(runtime::exit_code(&stop, ExitCode::SUCCESS))
}

/// Ctrl-C (or SIGTERM) ends the processor after its batch.
fn stop_on(flag: StopFlag, live: Live) {
    tokio::spawn(async move {
        while !flag.raised() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        live.stop();
    });
}
