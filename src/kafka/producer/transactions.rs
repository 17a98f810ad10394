//! A producer's transactions as kafka-lab drives them: one is begun before a record is sent
//! and ended after a number of records (or once it has been open long enough); every Nth is
//! aborted instead of committed, to show what readers make of that. Each one is timed.

use std::time::{Duration, Instant};

use rdkafka::error::KafkaError;

use super::LabProducer;
use crate::config::{ClientSettings, Origin, Setting};
use crate::stats::TxnFigures;

/// Records per transaction when a `transactional.id` was given and nothing says how many.
pub const GIVEN_ID_TXN_RECORDS: u64 = 100;

/// `settings` with a `transactional.id`: the one the user gave (config.ini, -X), or one of
/// kafka-lab's own making (`why` names what set it).
pub fn with_transactional_id(
    settings: &ClientSettings,
    id: String,
    why: &'static str,
) -> ClientSettings {
    if settings.get("transactional.id").is_some() {
        return settings.clone();
    }
    let mut s = settings.clone();
    s.settings.push(Setting {
        key: "transactional.id".into(),
        value: id,
        origin: Origin::Builtin(why),
    });
    s
}

/// `settings` without a `transactional.id`, for a producer kafka-lab does not drive in
/// transactions (one with an id but never initialised fails every send).
pub fn without_transactional_id(settings: &ClientSettings) -> ClientSettings {
    let mut s = settings.clone();
    s.settings.retain(|x| x.key != "transactional.id");
    s
}

/// The `transactional.id` in force and where it comes from, for a line that says so.
pub fn transactional_id_said(settings: &ClientSettings) -> Option<String> {
    let setting = settings
        .settings
        .iter()
        .rev()
        .find(|x| x.key == "transactional.id")?;
    Some(format!(
        "transactional.id {} ({})",
        setting.value, setting.origin
    ))
}

/// Why a producer made with `settings` may be refused, when a `transactional.id` is in force:
/// it makes the producer idempotent, which takes acks=all.
pub fn refused_because(settings: &ClientSettings) -> String {
    transactional_id_said(settings).map_or_else(
        || "cannot create the producer".to_string(),
        |id| {
            format!(
                "cannot create the producer: {id} makes it transactional, so idempotent, which \
                 needs acks=all and enable.idempotence not false"
            )
        },
    )
}

/// How long a transaction's calls may take.
pub const TXN_TIMEOUT: Duration = Duration::from_secs(30);

/// How the transactions are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnPlan {
    /// Records per transaction (at least 1).
    pub records: u64,
    /// Every this-many-th transaction is aborted (0: none).
    pub abort_every: u64,
    /// A transaction open this long is ended with fewer records (a slow rate would otherwise
    /// hold it past the broker's `transaction.timeout.ms`).
    pub longest: Option<Duration>,
}

#[derive(Debug)]
pub struct Transactions {
    plan: TxnPlan,
    in_txn: u64,
    opened: Option<Instant>,
    /// The open transaction is to be aborted.
    aborting: bool,
    begun: u64,
    aborted: u64,
    /// Transactions whose commit (or abort) failed: aborted, their records withdrawn.
    failed: u64,
    /// The last record sent in the open transaction.
    last_seq: u64,
    /// Each commit call's time, and each committed transaction's time open.
    commits: Vec<Duration>,
    open: Vec<Duration>,
    /// The producer's `transactional.id`, for the figures.
    id: Option<String>,
}

impl Transactions {
    /// Registers `producer` (made with a `transactional.id`) with the cluster, fencing an
    /// earlier producer with the same id.
    pub fn start(producer: &LabProducer, plan: TxnPlan) -> Result<Transactions, KafkaError> {
        producer.init_transactions(TXN_TIMEOUT)?;
        Ok(Transactions {
            plan: TxnPlan {
                records: plan.records.max(1),
                ..plan
            },
            in_txn: 0,
            opened: None,
            aborting: false,
            begun: 0,
            aborted: 0,
            failed: 0,
            last_seq: 0,
            commits: Vec::new(),
            open: Vec::new(),
            id: None,
        })
    }

    /// Before record `seq` is sent: a transaction is open for it (the ledger learns when
    /// the record's transaction is to be aborted).
    pub fn before_send(&mut self, producer: &LabProducer, seq: u64) -> Result<(), KafkaError> {
        if self.opened.is_none() {
            producer.begin_transaction()?;
            producer.transaction(Some(seq));
            self.begun += 1;
            self.aborting = self.plan.abort_every > 0 && self.begun % self.plan.abort_every == 0;
            self.opened = Some(Instant::now());
        }
        if self.aborting {
            producer.aborting(seq);
        }
        self.last_seq = seq;
        Ok(())
    }

    /// After a record was sent: the transaction ends once it holds its records.
    pub fn after_send(&mut self, producer: &LabProducer) -> Result<(), KafkaError> {
        self.in_txn += 1;
        if self.in_txn >= self.plan.records {
            self.end(producer)?;
        }
        Ok(())
    }

    /// Ends the open transaction when it has been open its longest.
    pub fn end_if_due(&mut self, producer: &LabProducer) -> Result<(), KafkaError> {
        match (self.opened, self.plan.longest) {
            (Some(opened), Some(longest)) if opened.elapsed() >= longest => self.end(producer),
            _ => Ok(()),
        }
    }

    /// Commits (or aborts, when it is its turn) the open transaction, if any.
    pub fn end(&mut self, producer: &LabProducer) -> Result<(), KafkaError> {
        let Some(opened) = self.opened.take() else {
            return Ok(());
        };
        self.in_txn = 0;
        let ended = if self.aborting {
            producer
                .abort_transaction(TXN_TIMEOUT)
                .map(|()| self.aborted += 1)
        } else {
            producer.commit_transaction(TXN_TIMEOUT).map(|took| {
                self.commits.push(took);
                self.open.push(opened.elapsed());
            })
        };
        match ended {
            Ok(()) => producer.transaction(None),
            Err(e) => {
                // Aborted, so that read_committed readers are not held up by it until the
                // broker's timeout (a fenced or fatal producer cannot: the broker aborts it);
                // either way none of its records is to be expected.
                let _ = producer.abort_transaction(TXN_TIMEOUT);
                producer.transaction_failed(self.last_seq);
                self.failed += 1;
                return Err(e);
            }
        }
        Ok(())
    }

    /// [`Transactions::start`] for a producer made with `settings`, whose `transactional.id`
    /// the figures name.
    pub fn start_named(
        producer: &LabProducer,
        settings: &ClientSettings,
        plan: TxnPlan,
    ) -> Result<Transactions, KafkaError> {
        let mut t = Transactions::start(producer, plan)?;
        t.id = settings.get("transactional.id").map(str::to_string);
        Ok(t)
    }

    pub fn figures(&self) -> TxnFigures {
        let mut f = TxnFigures::of(self.plan.records, &self.commits, &self.open);
        f.begun = self.begun;
        f.aborted = self.aborted;
        f.failed = self.failed;
        f.abort_every = self.plan.abort_every;
        f.transactional_id.clone_from(&self.id);
        f
    }
}
