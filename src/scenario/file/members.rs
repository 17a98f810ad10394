//! The steps that act on one member, or on every member the same way: its work per record,
//! its `isolation.level`, and how a step names a member.

use toml::Value;

use super::steps::text_of;
use super::Action;
use crate::lab::settings::{ConsumerChange, Isolation};
use crate::lab::state::forms::parse_work;

/// `work = "20ms"` (every member) or `work = { member = "consumer-2", per_record = "20ms" }`.
pub(super) fn work(v: &Value) -> Result<Action, String> {
    let usage = "write work = \"20ms\" (every member) or work = { member = \"consumer-2\", per_record = \"20ms\" }";
    match v {
        Value::String(s) => Ok(Action::Consumer(ConsumerChange {
            work: Some(parse_work(s).map_err(|e| format!("work = {s:?}: {e}"))?),
            ..ConsumerChange::default()
        })),
        Value::Table(t) => {
            if let Some(k) = t
                .keys()
                .find(|k| !matches!(k.as_str(), "member" | "per_record"))
            {
                return Err(format!("`{k}` is not part of work: {usage}"));
            }
            let (Some(member), Some(per_record)) = (t.get("member"), t.get("per_record")) else {
                return Err(usage.into());
            };
            let per_record = text_of(per_record, "per_record")?;
            Ok(Action::MemberWork {
                member: member_named(member, "member")?,
                per_record: parse_work(per_record)
                    .map_err(|e| format!("per_record = {per_record:?}: {e}"))?,
            })
        }
        _ => Err(usage.into()),
    }
}

/// `isolation = "read_uncommitted"` (every member: the consumers' setting) or
/// `isolation = { member = "consumer-2", level = "read_uncommitted" }` (that member's own).
pub(super) fn isolation(v: &Value) -> Result<Action, String> {
    let usage = "write isolation = \"read_uncommitted\" (every member) or isolation = { member = \"consumer-2\", level = \"read_uncommitted\" }";
    let level = |v: &Value, what: &str| -> Result<Isolation, String> {
        let text = text_of(v, what)?;
        text.trim().parse().map_err(|_| {
            format!(
                "{what} = {:?}: isolation.level is one of {}",
                crate::text::escape(text),
                Isolation::listed()
            )
        })
    };
    match v {
        Value::String(_) => {
            let level = level(v, "isolation")?;
            Ok(Action::Consumer(ConsumerChange {
                properties: [("isolation.level".to_string(), level.to_string())].into(),
                ..ConsumerChange::default()
            }))
        }
        Value::Table(t) => {
            if let Some(k) = t.keys().find(|k| !matches!(k.as_str(), "member" | "level")) {
                return Err(format!("`{k}` is not part of isolation: {usage}"));
            }
            let (Some(member), Some(l)) = (t.get("member"), t.get("level")) else {
                return Err(usage.into());
            };
            Ok(Action::MemberIsolation {
                member: member_named(member, "member")?,
                level: level(l, "level")?,
            })
        }
        _ => Err(usage.into()),
    }
}

/// `"consumer-2"` → 2.
pub(super) fn member_named(v: &Value, what: &str) -> Result<u32, String> {
    let name = text_of(v, what)?.trim();
    name.strip_prefix("consumer-")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| {
            format!(
                "{what} = {:?}: name a member as the panes do, e.g. \"consumer-2\", or a \
                 processor: \"processor-exactly-once\", \"processor-at-least-once\"",
                crate::text::escape(name)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Action, String> {
        isolation(&toml::from_str::<toml::Table>(&format!("v = {text}")).unwrap()["v"])
    }

    #[test]
    fn an_isolation_step_names_a_level_for_every_member_or_one() {
        let Ok(Action::Consumer(all)) = read("\"read_uncommitted\"") else {
            panic!("every member")
        };
        assert_eq!(all.properties["isolation.level"], "read_uncommitted");
        assert_eq!(
            read("{ member = \"consumer-2\", level = \"read_committed\" }"),
            Ok(Action::MemberIsolation {
                member: 2,
                level: Isolation::ReadCommitted
            })
        );
        let bad = read("\"dirty\"").unwrap_err();
        assert!(bad.contains("read_committed or read_uncommitted"), "{bad}");
        let bad = read("{ member = \"consumer-2\" }").unwrap_err();
        assert!(bad.starts_with("write isolation = "), "{bad}");
        let bad = read("{ member = \"2\", level = \"read_committed\" }").unwrap_err();
        assert!(bad.contains("name a member as the panes do"), "{bad}");
        let bad =
            read("{ member = \"consumer-2\", level = \"read_committed\", x = 1 }").unwrap_err();
        assert!(bad.starts_with("`x` is not part of isolation"), "{bad}");
    }
}
