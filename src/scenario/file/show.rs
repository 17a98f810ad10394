//! A step's action as the report and `scenario check` list it.

use std::fmt;

use super::{Action, Members};
use crate::kafka::local::FaultKind;

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Producer(p) => {
                let set: Vec<String> = p
                    .iter()
                    .map(|(k, v)| format!("{k}={}", crate::text::escape(v)))
                    .collect();
                write!(f, "producer {}", set.join(" "))
            }
            Action::Rate(r) => write!(f, "rate {}", crate::lab::settings::rate_text(*r)),
            Action::Key(k) => write!(f, "key {k}"),
            Action::Start => f.write_str("start the producer"),
            Action::Stop => f.write_str("stop the producer"),
            Action::Consumers(Members::To(n)) => write!(f, "consumers: {n}"),
            Action::Consumers(Members::Add(n)) => write!(f, "consumers: add {n}"),
            Action::Consumers(Members::Remove(n)) => write!(f, "consumers: remove {n}"),
            Action::Group {
                strategies,
                protocol,
            } => {
                f.write_str("group")?;
                if let Some(s) = strategies {
                    write!(f, " partition.assignment.strategy={s}")?;
                }
                if let Some(p) = protocol {
                    write!(f, " group.protocol={p}")?;
                }
                Ok(())
            }
            Action::Consumer(change) => {
                f.write_str("consumers:")?;
                for (k, v) in &change.properties {
                    write!(f, " {k}={}", crate::text::escape(v))?;
                }
                if let Some(s) = change.static_membership {
                    write!(f, " static={s}")?;
                }
                if let Some(c) = change.commit {
                    write!(f, " commit={c}")?;
                }
                if let Some(w) = change.work {
                    write!(f, " work={}", crate::lab::state::forms::work_text(w))?;
                }
                Ok(())
            }
            Action::MemberWork { member, per_record } => write!(
                f,
                "consumer-{member}: work {} per record",
                crate::lab::state::forms::work_text(*per_record)
            ),
            Action::MemberIsolation { member, level } => {
                write!(f, "consumer-{member}: isolation.level {level}")
            }
            Action::Crash(m) => write!(f, "consumer-{m} crashes"),
            Action::Restart(m) => write!(f, "consumer-{m} restarts"),
            Action::Processors(true) => f.write_str("start the processors"),
            Action::Processors(false) => f.write_str("stop the processors"),
            Action::ProcessorCrash(g) => write!(f, "processor-{} crashes", g.name()),
            Action::ProcessorRestart(g) => write!(f, "processor-{} restarts", g.name()),
            Action::Rewind(r) => write!(f, "rewind the group to {}", r.describe()),
            Action::Fault {
                kind,
                partition,
                length,
            } => write!(
                f,
                "fault: {} the leader of partition {partition} {}",
                match kind {
                    FaultKind::Kill => "take down",
                    FaultKind::Pause => "pause",
                },
                length.map_or("until a recover step".to_string(), |l| format!(
                    "for {}",
                    humantime::format_duration(l)
                ))
            ),
            Action::Recover => f.write_str("recover: bring back every broker failed"),
            Action::Wait(d) => write!(f, "wait {}", humantime::format_duration(*d)),
            Action::Mark(label) => write!(f, "mark: {}", crate::text::escape(label)),
            Action::Assert(a) => write!(f, "assert {a}"),
        }
    }
}
