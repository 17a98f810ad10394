//! Assertions of a scenario: `missing == 0`, `p99 < 2 x previous.p99`, `idle >= 1`.
//! A side is a number, a figure, or a number times a figure. Run figures name the run that
//! ended last (`run.` may be written), the one before it (`previous.`) or the first (`first.`);
//! group figures describe the group now.

use std::fmt;
use std::str::FromStr;

use crate::stats::figures::FIGURES;
use crate::stats::{Figure, RunReport};

/// Figures of the group, now.
pub const GROUP_FIGURES: [(&str, &str); 21] = [
    ("members", "consumers in the group"),
    ("idle", "members with no partition"),
    ("rebalances", "rebalances so far"),
    (
        "moved",
        "partitions that changed hands in the last rebalance",
    ),
    (
        "unowned_ms",
        "longest time a partition was without owner in the last rebalance, ms",
    ),
    ("lag", "records the group has not read yet"),
    (
        "reprocessed",
        "records the group worked on a second time, since the last mark",
    ),
    (
        "skipped",
        "records committed that no member worked on, since the last mark",
    ),
    (
        "reread",
        "records a rewind made the group read again, since the last mark",
    ),
    (
        "aborted_seen_committed",
        "records of aborted transactions handed to read_committed members",
    ),
    (
        "aborted_seen_uncommitted",
        "records of aborted transactions handed to read_uncommitted members",
    ),
    (
        "kicked",
        "times a member was taken out for max.poll.interval.ms",
    ),
    ("crashed", "members crashed and not restarted"),
    (
        "e2e_p50",
        "end-to-end latency p50 of the slowest member now, ms",
    ),
    (
        "e2e_p99",
        "end-to-end latency p99 of the slowest member now, ms",
    ),
    (
        "fetch_requests_per_sec",
        "the group's fetch requests per second in the consumer run going on",
    ),
    (
        "exactly_once_missing",
        "input records with no copy in the exactly-once processor's output (read_committed)",
    ),
    (
        "exactly_once_duplicated",
        "copies beyond the first in the exactly-once processor's output (read_committed)",
    ),
    (
        "at_least_once_missing",
        "input records with no copy in the at-least-once processor's output",
    ),
    (
        "at_least_once_duplicated",
        "copies beyond the first in the at-least-once processor's output",
    ),
    ("processor_crashes", "crashes of the processors so far"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Run,
    Previous,
    First,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Number(f64),
    /// `factor x figure` of a run.
    Run {
        factor: f64,
        which: Which,
        figure: Figure,
    },
    /// `factor x figure` of the group.
    Group {
        factor: f64,
        name: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    const ALL: [(&'static str, Op); 6] = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    /// Whether `a op b`; never for an unknown value (NaN), whatever the operator.
    fn holds(self, a: f64, b: f64) -> bool {
        if a.is_nan() || b.is_nan() {
            return false;
        }
        match self {
            Op::Eq => (a - b).abs() < 1e-9,
            Op::Ne => (a - b).abs() >= 1e-9,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }

    fn as_str(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("?", |(s, _)| s)
    }
}

/// A condition on figures, kept with the text it was written as.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub text: String,
    pub left: Term,
    pub op: Op,
    pub right: Term,
}

impl fmt::Display for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::text::escape(&self.text))
    }
}

/// What an assertion reads its figures from.
pub trait Figures {
    /// A run's figure; Err says why it is not known (no such run, no read-back).
    fn run(&self, which: Which, figure: Figure) -> Result<f64, String>;
    fn group(&self, name: &str) -> f64;
    /// The topic's partitions (a partition that got nothing still counts for `skew`).
    fn partitions(&self) -> usize;
}

/// An assertion's outcome: the values compared, and whether it held.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub text: String,
    /// `left = 12.0, right = 30.5`, or why it could not be checked.
    pub values: String,
    pub passed: bool,
}

impl Assertion {
    /// Whether the run figures it reads (if any) name a run.
    pub fn reads_runs(&self) -> bool {
        [&self.left, &self.right]
            .iter()
            .any(|t| matches!(t, Term::Run { .. }))
    }

    pub fn check(&self, figures: &dyn Figures) -> Checked {
        let value = |t: &Term| -> Result<(f64, Option<String>), String> {
            match t {
                Term::Number(n) => Ok((*n, None)),
                Term::Group { factor, name } => {
                    let v = figures.group(name);
                    Ok((factor * v, Some(format!("{name} = {}", shown(v)))))
                }
                Term::Run {
                    factor,
                    which,
                    figure,
                } => {
                    let v = figures.run(*which, *figure)?;
                    let name = figure.name();
                    let label = match which {
                        Which::Run => name.to_string(),
                        Which::Previous => format!("previous.{name}"),
                        Which::First => format!("first.{name}"),
                    };
                    Ok((factor * v, Some(format!("{label} = {}", shown(v)))))
                }
            }
        };
        match (value(&self.left), value(&self.right)) {
            (Ok((a, la)), Ok((b, lb))) => Checked {
                text: self.text.clone(),
                values: [la, lb]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
                passed: self.op.holds(a, b),
            },
            (Err(e), _) | (_, Err(e)) => Checked {
                text: self.text.clone(),
                values: e,
                passed: false,
            },
        }
    }
}

/// A figure as a report shows it: whole numbers without decimals.
pub fn shown(v: f64) -> String {
    if v.is_nan() {
        "unknown".to_string()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

impl FromStr for Assertion {
    type Err = String;

    fn from_str(text: &str) -> Result<Assertion, String> {
        let text = text.trim();
        let Some((at, op_text, op)) = Op::ALL
            .iter()
            .filter_map(|(s, op)| text.find(s).map(|at| (at, *s, *op)))
            .min_by_key(|(at, s, _)| (*at, std::cmp::Reverse(s.len())))
        else {
            return Err(format!(
                "assert \"{text}\" compares nothing: write e.g. \"missing == 0\" or \"p99 < 2 x previous.p99\" (==, !=, <, <=, >, >=)"
            ));
        };
        let left = term(&text[..at])?;
        let right = term(&text[at + op_text.len()..])?;
        Ok(Assertion {
            text: format!(
                "{} {} {}",
                text[..at].trim(),
                op.as_str(),
                text[at + op_text.len()..].trim()
            ),
            left,
            op,
            right,
        })
    }
}

fn term(s: &str) -> Result<Term, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("an assertion needs a figure or a number on each side".into());
    }
    if let Ok(n) = s.parse::<f64>() {
        return if n.is_finite() {
            Ok(Term::Number(n))
        } else {
            Err(format!("`{s}` is not a number"))
        };
    }
    // `2 x p99`, `2*p99`, `p99 x 2`: a number and a figure with one `x` or `*` between them
    // (or none), nothing more.
    let spaced = s.replace('*', " * ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let usage =
        || format!("`{s}`: a side is a number, a figure, or a number times a figure (2 x p99)");
    let pair = match words.as_slice() {
        [figure] => return figure_term(1.0, figure),
        [a, b] | [a, "x" | "*", b] => (*a, *b),
        _ => return Err(usage()),
    };
    match (pair.0.parse::<f64>(), pair.1.parse::<f64>()) {
        (Ok(f), Err(_)) if f.is_finite() => figure_term(f, pair.1),
        (Err(_), Ok(f)) if f.is_finite() => figure_term(f, pair.0),
        _ => Err(usage()),
    }
}

fn figure_term(factor: f64, name: &str) -> Result<Term, String> {
    let (which, bare) = match name.split_once('.') {
        Some(("run", n)) => (Which::Run, n),
        Some(("previous", n)) => (Which::Previous, n),
        Some(("first", n)) => (Which::First, n),
        Some((other, _)) => {
            return Err(format!(
                "`{other}.`: a run is named run., previous. or first. (or nothing: the last run)"
            ))
        }
        None => (Which::Run, name),
    };
    if let Some(figure) = Figure::named(bare) {
        return Ok(Term::Run {
            factor,
            which,
            figure,
        });
    }
    if let Some((n, _)) = GROUP_FIGURES.iter().find(|(n, _)| *n == bare) {
        if which != Which::Run || name.contains('.') {
            return Err(format!("`{bare}` is a figure of the group, not of a run"));
        }
        return Ok(Term::Group { factor, name: n });
    }
    let all: Vec<&str> = FIGURES
        .iter()
        .map(|e| e.names[0])
        .chain(GROUP_FIGURES.iter().map(|(n, _)| *n))
        .collect();
    Err(format!(
        "`{bare}` is not a figure; figures: {}",
        all.join(", ")
    ))
}

/// A run's figure, on a topic of `partitions`; Err says why the run lacks it (no read-back,
/// acks=0 has no missing).
pub fn run_figure(r: &RunReport, figure: Figure, partitions: usize) -> Result<f64, String> {
    figure
        .value(r, partitions)
        .map_err(|why| why.describe(r.run))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Figures for Fixed {
        fn run(&self, which: Which, figure: Figure) -> Result<f64, String> {
            match (which, figure) {
                (Which::Run, Figure::P99) => Ok(12.0),
                (Which::Previous, Figure::P99) => Ok(5.0),
                (Which::Run, Figure::Missing) => Ok(0.0),
                (Which::First, _) => Err("there is no run yet".into()),
                _ => Ok(1.0),
            }
        }
        fn partitions(&self) -> usize {
            6
        }
        fn group(&self, name: &str) -> f64 {
            match name {
                "idle" => 1.0,
                "e2e_p99" => f64::NAN,
                _ => 0.0,
            }
        }
    }

    #[test]
    fn assertions_read_and_check_figures() {
        let a: Assertion = "missing==0".parse().unwrap();
        assert_eq!(a.text, "missing == 0");
        assert!(a.check(&Fixed).passed);
        let a: Assertion = "p99 < 2 x previous.p99".parse().unwrap();
        let c = a.check(&Fixed);
        assert!(!c.passed, "12 < 10 is false");
        assert_eq!(c.values, "p99 = 12, previous.p99 = 5");
        assert!(
            "run.p99 <= 3*previous.p99"
                .parse::<Assertion>()
                .unwrap()
                .check(&Fixed)
                .passed
        );
        assert!(
            "idle >= 1"
                .parse::<Assertion>()
                .unwrap()
                .check(&Fixed)
                .passed
        );
        let c = "first.p99 > 0".parse::<Assertion>().unwrap().check(&Fixed);
        assert!(!c.passed);
        assert_eq!(c.values, "there is no run yet");
        // An unknown figure passes no comparison, not even `!=`.
        for text in ["e2e_p99 != 5", "e2e_p99 < 5", "e2e_p99 >= 0"] {
            let c = text.parse::<Assertion>().unwrap().check(&Fixed);
            assert!(!c.passed, "{text}");
            assert_eq!(c.values, "e2e_p99 = unknown");
        }
    }

    #[test]
    fn bad_assertions_say_what_is_wrong() {
        let err = |s: &str| s.parse::<Assertion>().unwrap_err();
        assert!(err("p99").contains("compares nothing"), "{}", err("p99"));
        assert!(err("p100 < 3").contains("`p100` is not a figure"));
        assert!(err("p100 < 3").contains("p99"), "lists the figures");
        assert!(err("last.p99 < 3").contains("run., previous. or first."));
        assert!(err("previous.idle < 3").contains("figure of the group"));
        assert!(err(" < 3").contains("on each side"));
        assert!(err("p99 < 2 x 3").contains("a number times a figure"));
        // One `x` between a number and a figure; nothing else on a side.
        for bad in [
            "p99 x x x < 5",
            "p99 x < 5",
            "x p99 < 5",
            "2 x x p99 < 5",
            "2 3 p99 < 1",
            "p99 p95 < 1",
        ] {
            assert!(
                err(bad).contains("a number times a figure")
                    || err(bad).contains("is not a figure"),
                "{bad}: {}",
                err(bad)
            );
        }
        for good in [
            "2 x p99 > 1",
            "2*p99 > 1",
            "p99 * 2 > 1",
            "2 p99 > 1",
            "p99 x 2 > 1",
        ] {
            assert!(good.parse::<Assertion>().is_ok(), "{good}");
        }
    }
}
