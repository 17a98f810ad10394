//! The client properties the lab varies, typed: each value shows and parses as the text
//! librdkafka takes, so settings are compared as values, never as strings.

use std::fmt;
use std::str::FromStr;

/// An enum of fixed choices, each written as the text librdkafka (or the command line) takes.
macro_rules! choices {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every choice, in the order they are offered.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The choice after this one (wrapping), for cycling with Left/Right.
            pub fn next(self) -> Self {
                let i = Self::ALL.iter().position(|c| *c == self).unwrap_or(0);
                Self::ALL[(i + 1) % Self::ALL.len()]
            }

            /// The choice before this one (wrapping).
            pub fn prev(self) -> Self {
                let i = Self::ALL.iter().position(|c| *c == self).unwrap_or(0);
                Self::ALL[(i + Self::ALL.len() - 1) % Self::ALL.len()]
            }

            /// `a, b or c`, for error messages.
            pub fn listed() -> String {
                $crate::kafka::settings::listed(Self::ALL.iter().map(|c| c.as_str()))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                let s = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|c| c.as_str() == s)
                    .ok_or_else(|| format!("one of {}", Self::listed()))
            }
        }
    };
}
pub(crate) use choices;

/// `a, b or c`.
pub fn listed<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.to_string(),
        None => String::new(),
    }
}

/// `acks`: how many replicas must have a record before the broker answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acks {
    /// The producer does not wait for an answer: no offsets, no errors from the broker.
    Zero,
    /// The leader has it.
    One,
    /// Every in-sync replica has it.
    All,
}

impl Acks {
    pub const ALL: &'static [Acks] = &[Acks::Zero, Acks::One, Acks::All];

    pub fn as_str(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }

    pub fn next(self) -> Acks {
        match self {
            Acks::Zero => Acks::One,
            Acks::One => Acks::All,
            Acks::All => Acks::Zero,
        }
    }

    pub fn prev(self) -> Acks {
        self.next().next()
    }
}

impl fmt::Display for Acks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Acks {
    type Err = String;

    /// librdkafka's own spellings: 0, 1, all or -1 (all).
    fn from_str(s: &str) -> Result<Acks, String> {
        match s.trim() {
            "0" => Ok(Acks::Zero),
            "1" => Ok(Acks::One),
            "all" | "-1" => Ok(Acks::All),
            _ => Err("one of 0, 1 or all (-1 means all)".to_string()),
        }
    }
}

choices! {
    /// `compression.type`.
    pub enum Compression {
        None = "none",
        Gzip = "gzip",
        Snappy = "snappy",
        Lz4 = "lz4",
        Zstd = "zstd",
    }
}

choices! {
    /// `partitioner`: how a record's key picks its partition.
    pub enum Partitioner {
        ConsistentRandom = "consistent_random",
        Consistent = "consistent",
        Random = "random",
        Murmur2 = "murmur2",
        Murmur2Random = "murmur2_random",
        Fnv1a = "fnv1a",
        Fnv1aRandom = "fnv1a_random",
    }
}

choices! {
    /// One `partition.assignment.strategy` of the classic group protocol.
    pub enum Strategy {
        Range = "range",
        RoundRobin = "roundrobin",
        CooperativeSticky = "cooperative-sticky",
    }
}

choices! {
    /// `group.protocol`: classic (the members assign), or consumer (KIP-848: the broker does).
    pub enum GroupProtocol {
        Classic = "classic",
        Consumer = "consumer",
    }
}

/// `partition.assignment.strategy`: one strategy or a list, in order of preference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Strategies(pub Vec<Strategy>);

impl Strategies {
    /// The choices offered when cycling: each strategy alone, and librdkafka's default list.
    pub fn choices() -> Vec<Strategies> {
        let mut all: Vec<Strategies> = Strategy::ALL.iter().map(|s| Strategies(vec![*s])).collect();
        all.push(Strategies(vec![Strategy::Range, Strategy::RoundRobin]));
        all
    }

    pub fn first(&self) -> Strategy {
        self.0.first().copied().unwrap_or(Strategy::Range)
    }

    fn cycle(&self, step: isize) -> Strategies {
        let choices = Self::choices();
        let n = choices.len() as isize;
        let i = choices
            .iter()
            .position(|c| c == self)
            .map_or(-1, |i| i as isize);
        choices[(i + step).rem_euclid(n) as usize].clone()
    }

    pub fn next(&self) -> Strategies {
        self.cycle(1)
    }

    pub fn prev(&self) -> Strategies {
        self.cycle(-1)
    }
}

impl fmt::Display for Strategies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for Strategies {
    type Err = String;

    fn from_str(s: &str) -> Result<Strategies, String> {
        let list = s
            .split(',')
            .map(str::parse::<Strategy>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("one or more of {}, by commas", Strategy::listed()))?;
        Ok(Strategies(list))
    }
}

/// Checks a topic name as Kafka does: 1 to 249 of a-z A-Z 0-9 . _ -, and not `.` or `..`.
pub fn topic_name(t: &str) -> Result<String, String> {
    let ok = !t.is_empty()
        && t.len() <= 249
        && t != "."
        && t != ".."
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(t.to_string())
    } else {
        Err("a topic name is 1 to 249 of a-z A-Z 0-9 . _ - (and not . or ..)".to_string())
    }
}

/// `true` or `false`, as librdkafka writes booleans.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("true or false".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_show_and_parse_as_librdkafka_writes_them() {
        for c in Compression::ALL {
            assert_eq!(c.to_string().parse::<Compression>(), Ok(*c));
        }
        assert_eq!("murmur2_random".parse(), Ok(Partitioner::Murmur2Random));
        assert_eq!(
            " cooperative-sticky ".parse::<Strategy>(),
            Ok(Strategy::CooperativeSticky)
        );
        let err = "brotli".parse::<Compression>().unwrap_err();
        assert_eq!(err, "one of none, gzip, snappy, lz4 or zstd");
        assert_eq!("-1".parse(), Ok(Acks::All));
        assert_eq!(Acks::All.to_string(), "all");
        assert!("2".parse::<Acks>().unwrap_err().contains("0, 1 or all"));
    }

    #[test]
    fn choices_cycle_both_ways() {
        assert_eq!(GroupProtocol::Classic.next(), GroupProtocol::Consumer);
        assert_eq!(GroupProtocol::Consumer.next(), GroupProtocol::Classic);
        assert_eq!(Compression::None.prev(), Compression::Zstd);
        assert_eq!(Acks::Zero.prev(), Acks::All);
        for a in Acks::ALL {
            assert_eq!(a.next().prev(), *a);
        }
    }

    #[test]
    fn strategy_lists() {
        let s: Strategies = "range,roundrobin".parse().unwrap();
        assert_eq!(s.0, [Strategy::Range, Strategy::RoundRobin]);
        assert_eq!(s.to_string(), "range,roundrobin");
        assert!("range,fair".parse::<Strategies>().is_err());
        assert!("".parse::<Strategies>().is_err());
        // Cycling reaches every choice and comes back.
        let mut c = Strategies(vec![Strategy::Range]);
        for _ in 0..Strategies::choices().len() {
            c = c.next();
        }
        assert_eq!(c, Strategies(vec![Strategy::Range]));
        assert_eq!(s.prev().next(), s);
    }

    #[test]
    fn topic_names_follow_kafkas_rules() {
        for bad in ["", "a b", "..", ".", &"x".repeat(250), "ä"] {
            assert!(topic_name(bad).is_err(), "{bad:?}");
        }
        for good in ["breweries", "a.b_c-1", &"x".repeat(249), "..."] {
            assert!(topic_name(good).is_ok(), "{good:?}");
        }
    }
}
