//! Where a rewind moves the group's committed offsets, as `kafka-consumer-groups
//! --reset-offsets` does: to the log's start or end, to a time, or to an offset; in every
//! partition or one. The dashboard's prompt and a scenario's step write it the same way:
//! `earliest`, `latest`, `-30s`, `2026-12-07T04:00:00Z`, `1200`, each optionally followed by
//! `p3` (partition 3 only).

use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewindTo {
    Earliest,
    Latest,
    /// This offset (brought within the log's start and end).
    Offset(i64),
    /// The first record written this long before the rewind, or later.
    Ago(Duration),
    /// The first record written at this time, or later.
    At(SystemTime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewind {
    pub to: RewindTo,
    /// One partition; None: every partition of the topic.
    pub partition: Option<i32>,
}

/// What the forms look like, for errors and prompts.
pub const REWIND_FORMS: &str = "earliest, latest, -30s (a time ago), 2026-12-07T04:00:00Z (a UTC \
                                time) or an offset (1200); then p3 for partition 3 only";

impl RewindTo {
    pub fn parse(text: &str) -> Result<RewindTo, String> {
        let t = text.trim();
        let wrong = || format!("`{t}` is not a place to rewind to: {REWIND_FORMS}");
        match t {
            "earliest" | "beginning" | "start" => return Ok(RewindTo::Earliest),
            "latest" | "end" => return Ok(RewindTo::Latest),
            _ => {}
        }
        if let Some(ago) = t.strip_prefix('-') {
            let d = humantime::parse_duration(ago.trim()).map_err(|_| wrong())?;
            if d.is_zero() {
                return Err(format!(
                    "`{t}`: a time ago must be more than 0 ({REWIND_FORMS})"
                ));
            }
            return Ok(RewindTo::Ago(d));
        }
        if t.contains(':') || t.contains('T') {
            return humantime::parse_rfc3339_weak(t)
                .map(RewindTo::At)
                .map_err(|_| wrong());
        }
        t.parse::<i64>()
            .ok()
            .filter(|o| *o >= 0)
            .map(RewindTo::Offset)
            .ok_or_else(wrong)
    }

    /// The time to look records up by, `now` being when the rewind happens.
    pub fn time(self, now: SystemTime) -> Option<SystemTime> {
        match self {
            RewindTo::Ago(d) => Some(now.checked_sub(d).unwrap_or(SystemTime::UNIX_EPOCH)),
            RewindTo::At(t) => Some(t),
            _ => None,
        }
    }
}

impl Rewind {
    /// `earliest`, `-30s p3`, `1200 partition 3`.
    pub fn parse(text: &str) -> Result<Rewind, String> {
        let mut words = text.split_whitespace();
        let Some(first) = words.next() else {
            return Err(format!("say where to rewind to: {REWIND_FORMS}"));
        };
        let to = RewindTo::parse(first)?;
        let rest: Vec<&str> = words.collect();
        let partition = match rest.as_slice() {
            [] => None,
            [p] => Some(partition_number(p, p.strip_prefix('p').unwrap_or(p), text)?),
            ["p" | "partition", n] => Some(partition_number(n, n, text)?),
            _ => return Err(format!("`{}`: {REWIND_FORMS}", text.trim())),
        };
        Ok(Rewind { to, partition })
    }

    /// The same rewind on a scenario's clock: a time ago is divided by its speed, as a wait is.
    pub fn on_clock(self, speed: f64) -> Rewind {
        let to = match self.to {
            RewindTo::Ago(d) => RewindTo::Ago(
                Duration::try_from_secs_f64(d.as_secs_f64() / speed).unwrap_or(Duration::MAX),
            ),
            to => to,
        };
        Rewind { to, ..self }
    }

    /// `to the log's start, every partition`: what the screen and the timeline say.
    pub fn describe(&self) -> String {
        let to = match self.to {
            RewindTo::Earliest => "the log's start (earliest)".to_string(),
            RewindTo::Latest => "the log's end (latest)".to_string(),
            RewindTo::Offset(o) => format!("offset {o}"),
            RewindTo::Ago(d) => format!("{} ago", humantime::format_duration(d)),
            RewindTo::At(t) => format!("{} UTC", humantime::format_rfc3339_seconds(t)),
        };
        match self.partition {
            Some(p) => format!("{to}, partition {p}"),
            None => format!("{to}, every partition"),
        }
    }
}

/// The partition `number` (of the `word` written, in `whole`).
fn partition_number(word: &str, number: &str, whole: &str) -> Result<i32, String> {
    number
        .parse::<i32>()
        .ok()
        .filter(|p| *p >= 0)
        .ok_or_else(|| {
            format!(
                "`{}`: `{word}` is not a partition number (p3 names partition 3)",
                whole.trim()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_a_rewind_takes() {
        let r = |t: &str| Rewind::parse(t).unwrap();
        assert_eq!(r("earliest").to, RewindTo::Earliest);
        assert_eq!(r(" latest ").partition, None);
        assert_eq!(r("-30s").to, RewindTo::Ago(Duration::from_secs(30)));
        assert_eq!(r("-2m p3").partition, Some(3));
        assert_eq!(
            r("1200 partition 4"),
            Rewind {
                to: RewindTo::Offset(1200),
                partition: Some(4)
            }
        );
        assert_eq!(r("0 p 0").partition, Some(0));
        let at = r("2026-12-07T04:00:00Z").to;
        assert_eq!(
            at.time(SystemTime::now()),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_616_000))
        );
        assert_eq!(
            RewindTo::Ago(Duration::from_secs(30))
                .time(SystemTime::UNIX_EPOCH + Duration::from_secs(100)),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(70))
        );
        assert_eq!(
            r("earliest").describe(),
            "the log's start (earliest), every partition"
        );
        assert_eq!(r("-30s p2").describe(), "30s ago, partition 2");
    }

    #[test]
    fn wrong_forms_say_what_is_right() {
        for (text, says) in [
            ("", "say where to rewind to"),
            ("sometimes", "`sometimes` is not a place to rewind to"),
            ("-5", "`-5` is not a place"),
            ("-0s", "more than 0"),
            ("earliest px", "`px` is not a partition number"),
            ("earliest p-1", "is not a partition number"),
            ("earliest p1 p2", "then p3 for partition 3 only"),
            ("2026-13-45T99:00:00Z", "is not a place"),
        ] {
            let e = Rewind::parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
