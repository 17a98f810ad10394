//! The settings the lab edits, typed: the producer's here, the consumers' in [`consumer`].

use std::collections::BTreeMap;

use crate::config::ClientSettings;
use crate::data::source::KeyField;
use crate::kafka::producer::LabProducer;
use crate::kafka::settings::{parse_bool, Acks, Compression, Partitioner};

/// The producer settings the dashboard edits.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerSettings {
    pub acks: Acks,
    /// `batch.size` and `linger.ms` as librdkafka takes them (checked by librdkafka).
    pub batch_size: String,
    pub linger_ms: String,
    pub compression: Compression,
    pub idempotence: bool,
    pub partitioner: Partitioner,
    /// Records per second; None for as fast as possible.
    pub rate: Option<f64>,
    pub key: KeyField,
    /// Simulated round trip of the embedded brokers; None on a cluster kafka-lab does not own.
    pub rtt_ms: Option<u64>,
    /// Records per transaction; 0: no transactions.
    pub txn_records: u64,
    /// Every this-many-th transaction is aborted (0: none).
    pub abort_every: u64,
    /// Other librdkafka properties a scenario set (the panel does not edit them).
    pub extra: BTreeMap<String, String>,
}

/// The longest a transaction of the dashboard's producer stays open.
pub const TXN_LONGEST: std::time::Duration = std::time::Duration::from_secs(1);

/// What the embedded cluster does not do with transactions.
pub const EMBEDDED_ABORTED: &str =
    "embedded cluster: read_committed readers see records of aborted \
     transactions too (librdkafka's mock broker keeps no index of them); a real broker hides them";

/// `off`, or the records per transaction.
pub fn txn_text(records: u64) -> String {
    if records == 0 {
        "off".to_string()
    } else {
        records.to_string()
    }
}

/// `50/s`, or `max`.
pub fn rate_text(rate: Option<f64>) -> String {
    rate.map_or("max".to_string(), |r| format!("{r}"))
}

impl ProducerSettings {
    /// The values in force for `settings` (librdkafka's defaults where unset or unreadable).
    pub fn effective(settings: &ClientSettings, rate: Option<f64>, key: KeyField) -> Self {
        let e = LabProducer::effective_settings(settings);
        let get = |k: &str| e.get(k).map(String::as_str).unwrap_or_default();
        ProducerSettings {
            acks: get("acks").parse().unwrap_or(Acks::All),
            batch_size: get("batch.size").to_string(),
            linger_ms: get("linger.ms").to_string(),
            compression: get("compression.type").parse().unwrap_or(Compression::None),
            // A transactional producer is idempotent whatever its settings say.
            idempotence: parse_bool(get("enable.idempotence")).unwrap_or(false)
                || settings.get("transactional.id").is_some(),
            partitioner: get("partitioner")
                .parse()
                .unwrap_or(Partitioner::ConsistentRandom),
            rate,
            key,
            rtt_ms: None,
            // A transactional.id given (config.ini, -X) means transactions from the start.
            txn_records: settings
                .get("transactional.id")
                .map_or(0, |_| crate::kafka::producer::GIVEN_ID_TXN_RECORDS),
            abort_every: 0,
            extra: BTreeMap::new(),
        }
    }

    /// Sets one librdkafka property: a typed field when the panel has it, else `extra`.
    /// The value was checked by librdkafka's rules already; one these fields cannot hold
    /// goes to `extra` as written.
    pub fn set(&mut self, key: &str, value: &str) {
        let typed = match key {
            "acks" | "request.required.acks" => value.parse().map(|v| self.acks = v).is_ok(),
            "batch.size" => {
                self.batch_size = value.to_string();
                true
            }
            "linger.ms" | "queue.buffering.max.ms" => {
                self.linger_ms = value.to_string();
                true
            }
            "compression.type" | "compression.codec" => {
                value.parse().map(|v| self.compression = v).is_ok()
            }
            "enable.idempotence" => parse_bool(value).map(|v| self.idempotence = v).is_ok(),
            "partitioner" => value.parse().map(|v| self.partitioner = v).is_ok(),
            // kafka-lab's own, checked by the step that set them.
            "transactions" => {
                self.txn_records = if value == "off" {
                    0
                } else {
                    value.parse().unwrap_or(0)
                };
                true
            }
            "abort_every" => value.parse().map(|v| self.abort_every = v).is_ok(),
            _ => false,
        };
        if typed {
            self.extra.remove(key);
        } else {
            self.extra.insert(key.to_string(), value.to_string());
        }
    }

    /// How the producer cuts its transactions, when it sends in them: a transaction open
    /// [`TXN_LONGEST`] ends with the records it has (at a low rate).
    pub fn txn_plan(&self) -> Option<crate::kafka::producer::TxnPlan> {
        (self.txn_records > 0).then_some(crate::kafka::producer::TxnPlan {
            records: self.txn_records,
            abort_every: self.abort_every,
            longest: Some(TXN_LONGEST),
        })
    }

    /// Idempotence in force: a transactional producer is always idempotent.
    pub fn idempotent(&self) -> bool {
        self.idempotence || self.txn_records > 0
    }

    /// The settings as a run report shows them.
    pub fn report_settings(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self.properties().into_iter().collect();
        out.insert("rate".into(), rate_text(self.rate));
        out.insert("key".into(), self.key.to_string());
        if let Some(rtt) = self.rtt_ms {
            out.insert("rtt.ms".into(), rtt.to_string());
        }
        if self.txn_records > 0 {
            out.insert("transactions".into(), self.txn_records.to_string());
            out.insert("abort_every".into(), self.abort_every.to_string());
        }
        out
    }

    /// The librdkafka properties these settings set.
    pub fn properties(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = [
            ("acks", self.acks.to_string()),
            ("batch.size", self.batch_size.clone()),
            ("linger.ms", self.linger_ms.clone()),
            ("compression.type", self.compression.to_string()),
            ("enable.idempotence", self.idempotent().to_string()),
            ("partitioner", self.partitioner.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        out.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }

    /// `acks=all linger.ms=5 ...` for the log and the producer pane.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "acks={} linger.ms={} batch.size={} compression={} idempotence={} rate={} key={} partitioner={}",
            self.acks,
            self.linger_ms,
            self.batch_size,
            self.compression,
            self.idempotent(),
            self.rate.map_or("max".to_string(), |r| format!("{r}/s")),
            self.key,
            self.partitioner
        );
        if self.txn_records > 0 {
            text.push_str(&[" transactions=", &self.txn_records.to_string()].concat());
            text.push_str(&[" abort_every=", &self.abort_every.to_string()].concat());
        }
        for (k, v) in &self.extra {
            text.push_str(&[" ", k, "=", v].concat());
        }
        text
    }
}

mod consumer;
pub use crate::kafka::rewind::{Rewind, RewindTo, REWIND_FORMS};
pub use consumer::{
    Commit, ConsumerChange, ConsumerSettings, Isolation, OffsetReset, BROKER_SESSION_FLOOR_MS,
    LONGEST_WORK, SHORTEST_SESSION_MS, STEP_PROPERTIES,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Layers, Role};

    #[test]
    fn effective_producer_settings_read_librdkafkas_defaults() {
        let mut layers = Layers::default();
        layers.flag("bootstrap.servers", "h:1", "test");
        layers.flag("compression.type", "lz4", "test");
        let s = layers.resolve(Role::Producer).unwrap();
        let p = ProducerSettings::effective(&s, Some(50.0), KeyField::Id);
        assert_eq!(p.acks, Acks::All, "librdkafka's default is -1, all");
        assert_eq!(p.compression, Compression::Lz4);
        assert_eq!(p.partitioner, Partitioner::ConsistentRandom);
        assert!(!p.idempotence);
        assert_eq!(p.report_settings()["acks"], "all");
        assert_eq!(p.report_settings()["key"], "id");
    }
}
