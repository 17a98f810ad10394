//! Opening a lab: the cluster checked, the topic made, the records loaded, the producer, the
//! topic watcher and the first members started.

use std::sync::Arc;

use anyhow::Result;
use tokio::sync::mpsc;

use super::actors;
use super::session::Session;
use super::settings::{ConsumerSettings, ProducerSettings};
use super::state::{App, ClusterInfo};
use super::Channels;
use crate::cli::{Connection, DashboardArgs, Rate, SourceArgs};
use crate::config::{Layers, Role};
use crate::data::source::Source;
use crate::kafka::consumer::FAST_FETCH;
use crate::kafka::local::LocalCluster;
use crate::runtime::load_dataset;
use crate::target::Target;

/// librdkafka queues up to 1 GB and 100,000 records a producer by default; the lab runs for
/// hours: a tenth of a second of records at full speed keeps batches full.
const QUEUE_BOUNDS: [(&str, &str); 2] = [
    ("queue.buffering.max.kbytes", "32768"),
    ("queue.buffering.max.messages", "50000"),
];
/// A consumer prefetches up to 64 MB by default, each member its own.
const PREFETCH_BOUNDS: [(&str, &str); 2] = [
    ("queued.max.messages.kbytes", "16384"),
    ("queued.min.messages", "20000"),
];

/// The producer's layers, and the consumers' (the group and new records only; the panel's
/// group settings come later).
pub fn client_layers(target: &Target, args: &DashboardArgs) -> (Layers, Layers) {
    let mut producer_layers = target.layers.clone();
    producer_layers.builtin("client.id", "kafka-lab-producer", "dashboard");
    for (key, value) in QUEUE_BOUNDS {
        producer_layers.builtin(key, value, "dashboard (bounded memory)");
    }
    let mut base_layers = target.layers.clone();
    for (key, value) in PREFETCH_BOUNDS {
        base_layers.builtin(key, value, "dashboard (bounded memory)");
    }
    base_layers.builtin("auto.offset.reset", "latest", "dashboard");
    base_layers.builtin("group.id", args.group.clone(), "dashboard (-g)");
    base_layers.builtin(
        FAST_FETCH.0,
        FAST_FETCH.1,
        "dashboard (read as fast as possible)",
    );
    (producer_layers, base_layers)
}

/// The dashboard's arguments a scenario starts from: paused, no consumers, 1,000 records/s.
pub fn scenario_args(source: &SourceArgs, group: &str) -> DashboardArgs {
    DashboardArgs {
        rate: Rate::PerSecond(1000.0),
        group: group.to_string(),
        paused: true,
        consumers: 0,
        source: source.clone(),
        scenario: None,
        speed: 1.0,
        control_topic: crate::kafka::control::CONTROL_TOPIC.to_string(),
    }
}

/// Checks the cluster and the topic, loads the records, and starts the producer and the
/// topic watcher. The first members are the caller's to ask for (a step).
pub(super) async fn open(
    c: &Connection,
    args: &DashboardArgs,
    target: &Target,
) -> Result<(App, Session, Channels)> {
    let (producer_layers, base_layers) = client_layers(target, args);
    let producer_settings = producer_layers.resolve(Role::Producer)?;
    for warning in &producer_settings.warnings {
        crate::errln!("warning: {warning}");
    }
    let dataset = Arc::new(load_dataset(&args.source).await?);
    let data = dataset.describe();
    let topic = target.ensure_topic(&producer_settings).await?;

    // The panel's consumer settings go on top (with quick group changes on the mock);
    // librdkafka must take them before anything starts.
    let consumer_settings = base_layers.resolve(Role::Consumer)?;
    let (consumer, origins) = ConsumerSettings::starting(&base_layers, topic.is_mock);
    consumer.check().map_err(anyhow::Error::msg)?;
    consumer
        .layers(&base_layers, topic.is_mock, 0)
        .resolve(Role::Consumer)?;
    let servers = producer_settings
        .get("bootstrap.servers")
        .unwrap_or_default();
    // A cluster scripts/kafka-local started on this machine: `b` can fail its nodes.
    let local = if target.is_embedded() || topic.is_mock {
        None
    } else {
        LocalCluster::find(servers).map(Arc::new)
    };
    let cluster = ClusterInfo {
        label: if target.is_embedded() {
            format!("embedded cluster {servers}")
        } else {
            servers.to_string()
        },
        embedded: topic.is_mock,
        owned: target.is_embedded(),
        local_nodes: local.as_ref().map(|l| l.nodes.len()),
        topic: target.topic.clone(),
        partitions: topic.partitions.len(),
        group: consumer_settings
            .get("group.id")
            .unwrap_or_default()
            .to_string(),
    };
    let mut initial =
        ProducerSettings::effective(&producer_settings, args.rate.per_second(), args.source.key);
    if target.is_embedded() {
        initial.rtt_ms = Some(c.rtt_ms);
    }
    // A scenario played faster has a shorter warm-up, as its waits are.
    let warmup = crate::lab::snapshots::WARMUP.div_f64(args.speed.clamp(0.1, 100.0));
    let mut app = App::new(cluster, initial.clone(), consumer.clone(), origins);
    app.set_warmup(warmup);
    app.model.data = data;

    let (kafka_tx, kafka) = mpsc::channel(256);
    let (outcome_tx, outcomes) = mpsc::channel(16);
    let marks = crate::kafka::verify::AbortedMarks::default();
    let producer = actors::producer::spawn(
        producer_layers,
        target.topic.clone(),
        dataset,
        initial.clone(),
        kafka_tx.clone(),
        actors::producer::Begin {
            running: !args.paused,
            warmup,
            marks: marks.clone(),
        },
    );
    let watcher = actors::watcher::spawn(&consumer_settings, &target.topic, kafka_tx.clone());
    let workers = actors::workers::spawn(&consumer_settings, &args.control_topic, kafka_tx.clone());
    let mut session = Session::new(
        super::session::Clients {
            producer,
            watcher,
            workers,
            producer_settings,
            consumer_settings,
            base_layers,
            consumer,
            marks,
            data: super::session::DataSets {
                current: Source::parse(&args.source.source, &args.source.api_url),
                home: Source::parse(&args.source.source, &args.source.api_url),
                api_url: args.source.api_url.clone(),
                loading: false,
            },
        },
        super::session::Cluster {
            topic: target.topic.clone(),
            embedded: target
                .embedded
                .as_ref()
                .map(crate::kafka::embedded::EmbeddedCluster::control),
            mock: topic.is_mock,
            rtt: initial.rtt_ms,
            local,
        },
        kafka_tx,
        outcome_tx,
    );
    // Transactions from the start (a transactional.id given): the members hear it too.
    session.set_transactions(initial.txn_plan().is_some());
    Ok((app, session, Channels { kafka, outcomes }))
}
