//! `bench --sweep`: the settings each run takes, and the table of their results.

use crate::config::properties;
use crate::stats::{LatencySummary, RunReport};

/// One `--sweep key=v1,v2,...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub key: String,
    pub values: Vec<String>,
}

impl Sweep {
    pub fn parse(arg: &str) -> Result<Sweep, String> {
        let Some((key, values)) = arg.split_once('=') else {
            return Err("--sweep takes key=value1,value2,... (an argument has no `=`)".to_string());
        };
        let key = key.trim().to_string();
        if crate::config::is_secret(&key) {
            return Err(format!(
                "--sweep `{key}`: it holds a secret, and secrets are neither swept nor shown"
            ));
        }
        if crate::config::belongs_to_connection(&key) {
            return Err(format!(
                "--sweep `{key}`: it belongs to the connection (config.ini, -b, -X); bench \
                 sweeps the producer's settings on one cluster"
            ));
        }
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let Some(info) = properties::lookup(&key) else {
            return Err(format!(
                "--sweep `{arg}`: librdkafka has no property `{key}`"
            ));
        };
        if info.applies == properties::Applies::Consumer {
            return Err(format!(
                "--sweep `{key}`: a consumer property; bench sweeps the producer's settings"
            ));
        }
        if values.is_empty() {
            return Err(format!("--sweep `{arg}`: no values"));
        }
        for v in &values {
            properties::check_value(&key, v)
                .map_err(|e| format!("--sweep `{arg}`: {key}={v}: {e}"))?;
        }
        Ok(Sweep { key, values })
    }

    /// Parses every `--sweep`; the same key twice is an error.
    pub fn parse_all(args: &[String]) -> Result<Vec<Sweep>, String> {
        let mut sweeps: Vec<Sweep> = Vec::new();
        for arg in args {
            let sweep = Sweep::parse(arg)?;
            if sweeps.iter().any(|s| s.key == sweep.key) {
                return Err(format!(
                    "--sweep `{}` is given twice: list all its values in one --sweep, e.g. --sweep {}=a,b,c",
                    sweep.key, sweep.key
                ));
            }
            sweeps.push(sweep);
        }
        Ok(sweeps)
    }
}

/// Every combination of the sweeps' values, the first sweep varying slowest.
pub fn combinations(sweeps: &[Sweep]) -> Vec<Vec<(String, String)>> {
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for sweep in sweeps {
        combos = combos
            .into_iter()
            .flat_map(|prefix| {
                sweep.values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push((sweep.key.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    combos
}

/// The sweep's results as an aligned text table, one row per combination.
pub fn sweep_table(keys: &[&str], reports: &[RunReport]) -> String {
    let mut header: Vec<String> = keys.iter().map(ToString::to_string).collect();
    header.extend(["records/s", "MB/s"].map(String::from));
    header.extend(LatencySummary::COLUMNS.map(|c| format!("{c} ms")));
    header.extend(["batch", "req/s", "missing", "dup"].map(String::from));
    let opt =
        |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let mut row: Vec<String> = keys
                .iter()
                .map(|k| r.settings.get(*k).cloned().unwrap_or_default())
                .collect();
            row.extend([
                format!("{:.0}", r.records_per_sec),
                format!("{:.2}", r.mb_per_sec),
            ]);
            row.extend(r.latency_ms.cells());
            row.extend([
                opt(r.avg_batch_records, 1),
                opt(r.requests_per_sec, 0),
                r.accounting
                    .as_ref()
                    .map_or("-".into(), |a| a.missing.to_string()),
                r.accounting
                    .as_ref()
                    .map_or("-".into(), |a| a.duplicated.to_string()),
            ]);
            row
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        format!("{}\n", parts.join("  "))
    };
    let mut out = line(&header);
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_parse_and_check_their_values() {
        let s = Sweep::parse("acks=0, 1,all").unwrap();
        assert_eq!(s.key, "acks");
        assert_eq!(s.values, ["0", "1", "all"]);
        assert!(Sweep::parse("acks").unwrap_err().contains("key=value1"));
        let secret = Sweep::parse("sasl.password=A,B").unwrap_err();
        assert!(
            secret.contains("secret") && !secret.contains("A,B"),
            "{secret}"
        );
        assert!(Sweep::parse("group.id=a,b")
            .unwrap_err()
            .contains("consumer property"));
        let twice = Sweep::parse_all(&["acks=0,1".into(), "acks=all".into()]).unwrap_err();
        assert!(twice.contains("given twice"), "{twice}");
        assert!(Sweep::parse("linger.msx=1")
            .unwrap_err()
            .contains("no property"));
        assert!(Sweep::parse("linger.ms=5,-1")
            .unwrap_err()
            .contains("linger.ms=-1"));
        assert!(Sweep::parse("acks=").unwrap_err().contains("no values"));
    }

    #[test]
    fn combinations_are_the_cartesian_product_in_order() {
        let sweeps = [
            Sweep::parse("acks=0,all").unwrap(),
            Sweep::parse("linger.ms=0,5,50").unwrap(),
        ];
        let combos = combinations(&sweeps);
        assert_eq!(combos.len(), 6);
        assert_eq!(
            combos[0],
            [
                ("acks".into(), "0".into()),
                ("linger.ms".into(), "0".into())
            ]
        );
        assert_eq!(
            combos[5],
            [
                ("acks".into(), "all".into()),
                ("linger.ms".into(), "50".into())
            ]
        );
        assert_eq!(combinations(&[]), vec![Vec::<(String, String)>::new()]);
    }

    #[test]
    fn the_table_aligns_columns() {
        let mut r = RunReport::default();
        r.settings.insert("acks".into(), "all".into());
        r.records_per_sec = 1234.4;
        let t = sweep_table(&["acks"], &[r]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), lines[1].len());
        assert!(lines[1].contains("1234"));
    }
}
