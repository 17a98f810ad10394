//! Which cluster a command talks to, and the layered settings for its clients.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::cli::Connection;
use crate::config::{self, ClientSettings, ConfigFile, Layers, Origin, Role, Setting};
use crate::kafka::cluster::{self, ClusterError, TopicInfo};
use crate::kafka::embedded::{EmbeddedCluster, EmbeddedOptions, DEFAULT_PARTITIONS};
use crate::kafka::verify::{self, Ledger};
use crate::progress::Progress;
use crate::stats::Accounting;

/// The cluster of this run and everything needed to configure a client for it.
pub struct Target {
    /// Set when kafka-lab serves the cluster itself; dropping it stops the brokers.
    pub embedded: Option<EmbeddedCluster>,
    pub layers: Layers,
    pub topic: String,
    partitions: Option<i32>,
    replication: Option<i32>,
    connect_timeout: Duration,
    /// The embedded cluster's simulated round trip, restored after a read-back.
    rtt: Duration,
}

/// The embedded cluster's options as the command line gives them.
pub fn embedded_options(c: &Connection) -> EmbeddedOptions {
    EmbeddedOptions {
        brokers: c.brokers,
        topic: c.topic.clone(),
        partitions: c.partitions.unwrap_or(DEFAULT_PARTITIONS),
        rtt: Duration::from_millis(c.rtt_ms),
        ..EmbeddedOptions::default()
    }
}

impl Target {
    /// Reads the config file, applies -b and -X, and starts the embedded cluster when no
    /// broker was given. Notes for the user go to stderr.
    pub fn connect(c: &Connection, role: Role) -> Result<Target> {
        Target::with_layers(c, Target::layers(c)?, role)
    }

    /// The settings given by the config file, `-b` and `-X`, read and parsed (the cluster is
    /// not touched).
    pub fn layers(c: &Connection) -> Result<Layers> {
        let file = match &c.config {
            Some(path) => Some(ConfigFile::load(path)?),
            None if Path::new("config.ini").exists() => {
                crate::errln!("using ./config.ini");
                Some(ConfigFile::load(Path::new("config.ini"))?)
            }
            None => None,
        };
        for warning in file.iter().flat_map(|f| &f.warnings) {
            crate::errln!("warning: {warning}");
        }
        let mut layers = Layers {
            file,
            ..Layers::default()
        };
        layers.bootstrap = c.bootstrap_servers.as_ref().map(|b| Setting {
            key: "bootstrap.servers".to_string(),
            value: b.clone(),
            origin: Origin::Flag("command line -b".to_string()),
        });
        for arg in &c.property {
            layers.overrides.push(config::parse_pair(arg, "-X")?);
        }
        Ok(layers)
    }

    /// The cluster `layers` name, or the embedded cluster started here when they name none.
    pub fn with_layers(c: &Connection, mut layers: Layers, role: Role) -> Result<Target> {
        let embedded = if layers.user_bootstrap(role).is_some() {
            if c.rtt_ms > 0 {
                crate::errln!("warning: --rtt-ms only applies to the embedded cluster; ignored");
            }
            None
        } else if let Some(file) = &layers.file {
            bail!(
                "{} sets no bootstrap.servers in [default] or [{}]\n  Add the cluster's address there, or pass -b HOST:PORT.",
                file.path.display(),
                if role == Role::Producer { "producer" } else { "consumer" }
            );
        } else {
            let options = embedded_options(c);
            // The simulated round trip starts once the topic is found (`ensure_topic`): the
            // first requests must not wait for it.
            let cluster = EmbeddedCluster::start(&EmbeddedOptions {
                rtt: Duration::ZERO,
                ..options.clone()
            })?;
            crate::errln!(
                "embedded cluster: {}, at {}. It does not replicate, so acks=1 and acks=all \
                 behave alike here.",
                options.describe(),
                cluster.bootstrap_servers(),
            );
            layers.builtin(
                "bootstrap.servers",
                cluster.bootstrap_servers(),
                "embedded cluster",
            );
            Some(cluster)
        };
        Ok(Target {
            embedded,
            layers,
            topic: c.topic.clone(),
            partitions: c.partitions,
            replication: c.replication_factor,
            connect_timeout: Duration::from_secs(c.connect_timeout),
            rtt: Duration::from_millis(c.rtt_ms),
        })
    }

    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// The embedded cluster's simulated round trip (zero for any other cluster).
    pub fn simulated_rtt(&self) -> Duration {
        if self.is_embedded() {
            self.rtt
        } else {
            Duration::ZERO
        }
    }

    /// Merges and checks the settings for `role`, printing warnings.
    pub fn settings(&self, role: Role) -> Result<ClientSettings> {
        let settings = self.layers.resolve(role)?;
        for warning in &settings.warnings {
            crate::errln!("warning: {warning}");
        }
        Ok(settings)
    }

    /// Makes sure the topic exists: creates it on an external cluster when --partitions was
    /// given and it is missing. Then the embedded cluster's simulated round trip begins.
    pub async fn ensure_topic(&self, settings: &ClientSettings) -> Result<TopicInfo> {
        let info = self.find_or_create_topic(settings).await?;
        if let Some(cluster) = &self.embedded {
            cluster.set_rtt(self.rtt);
        }
        Ok(info)
    }

    async fn find_or_create_topic(&self, settings: &ClientSettings) -> Result<TopicInfo> {
        match cluster::probe(settings, &self.topic, self.connect_timeout) {
            Err(ClusterError::MissingTopic { mock: true, .. }) if self.partitions.is_some() => {
                bail!(
                    "{} is kafka-lab's embedded cluster, served by `kafka-lab cluster`: it has no \
                     admin API, so topic `{}` cannot be created from here.\n  Start `kafka-lab \
                     cluster -t {} --partitions N` with that topic, or use a topic it has.",
                    settings.get("bootstrap.servers").unwrap_or_default(),
                    self.topic,
                    self.topic
                )
            }
            Err(missing @ ClusterError::MissingTopic { .. }) if !self.is_embedded() => {
                let Some(partitions) = self.partitions else {
                    return Err(missing.into());
                };
                let replication = self.replication.unwrap_or(-1);
                cluster::create_topic(
                    settings,
                    &self.topic,
                    partitions,
                    replication,
                    self.connect_timeout,
                )
                .await?;
                crate::errln!(
                    "created topic `{}` with {partitions} partitions",
                    self.topic
                );
                // The new topic's metadata takes a moment to reach every broker.
                let deadline = std::time::Instant::now() + self.connect_timeout;
                loop {
                    match cluster::probe(settings, &self.topic, self.connect_timeout) {
                        Err(ClusterError::MissingTopic { .. })
                            if std::time::Instant::now() < deadline =>
                        {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        other => return Ok(other?),
                    }
                }
            }
            other => Ok(other?),
        }
    }

    /// Reads a run back and counts its records (see `verify`). The embedded cluster's
    /// simulated round trip is lifted meanwhile: it is for the producer under test, and
    /// reading back at its pace takes long, as the embedded cluster answers each fetch with a
    /// single batch.
    pub async fn read_back(
        &self,
        consumer: &ClientSettings,
        run_tag: String,
        ledger: Ledger,
    ) -> Result<Accounting, String> {
        if let Some(cluster) = &self.embedded {
            cluster.set_rtt(Duration::ZERO);
        }
        let (consumer, topic) = (consumer.clone(), self.topic.clone());
        let began = std::time::Instant::now();
        let result = tokio::task::spawn_blocking(move || {
            let timeout = verify::timeout_for(ledger.acknowledged_total());
            let mut bar: Option<Progress> = None;
            verify::read_back_showing(
                &consumer,
                &topic,
                &run_tag,
                &ledger,
                timeout,
                |read, all| {
                    bar.get_or_insert_with(|| Progress::new("read-back", all, "records", false))
                        .set(read, |short| {
                            if short {
                                String::new()
                            } else {
                                format!("reading back: {read} of {all} records")
                            }
                        });
                },
            )
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
        .map(|mut accounting| {
            accounting.read_back_s = began.elapsed().as_secs_f64();
            accounting
        });
        if let Some(cluster) = &self.embedded {
            cluster.set_rtt(self.rtt);
        }
        result
    }
}
