//! What librdkafka itself says about its configuration properties.
//!
//! The table comes from the linked librdkafka at run time (`rd_kafka_conf_properties_show`), so
//! it always matches the library we talk to: which properties exist, and which belong to the
//! producer only or the consumer only. Values are checked by librdkafka's own setter.

use std::collections::HashMap;
use std::sync::OnceLock;

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;

/// Which kind of client a property applies to (the `C/P` column of librdkafka's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    Both,
    Producer,
    Consumer,
}

#[derive(Debug, Clone)]
pub struct PropertyInfo {
    pub applies: Applies,
    pub range: String,
    pub default: String,
    /// The `*Type: ...*` of the description: integer, float, boolean, string, ...
    pub kind: String,
}

/// The librdkafka property table, read once.
pub fn table() -> &'static HashMap<String, PropertyInfo> {
    static TABLE: OnceLock<HashMap<String, PropertyInfo>> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(&read_table_text()))
}

pub fn lookup(key: &str) -> Option<&'static PropertyInfo> {
    table().get(key)
}

fn read_table_text() -> String {
    // librdkafka only writes the table to a FILE*: hand it one in memory (a temporary file
    // would fail, and every property look unknown, on a full disk).
    let mut buf: *mut libc::c_char = std::ptr::null_mut();
    let mut len: libc::size_t = 0;
    // SAFETY: open_memstream gets valid out-pointers; after fclose, `buf` holds `len` bytes
    // that we copy and free exactly once.
    unsafe {
        let fp = libc::open_memstream(&raw mut buf, &raw mut len);
        if fp.is_null() {
            return String::new();
        }
        rdkafka_sys::rd_kafka_conf_properties_show(fp.cast());
        libc::fclose(fp);
        if buf.is_null() {
            return String::new();
        }
        let bytes = std::slice::from_raw_parts(buf.cast::<u8>(), len);
        let text = String::from_utf8_lossy(bytes).into_owned();
        libc::free(buf.cast());
        text
    }
}

/// Parses the markdown table: `Property | C/P | Range | Default | Importance | Description`.
fn parse_table(text: &str) -> HashMap<String, PropertyInfo> {
    let mut table = HashMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() < 6 {
            continue;
        }
        let applies = match cols[1] {
            "*" => Applies::Both,
            "P" => Applies::Producer,
            "C" => Applies::Consumer,
            _ => continue, // header and separator rows
        };
        let description = cols[5..].join("|");
        let kind = description
            .rsplit_once("*Type: ")
            .map(|(_, t)| t.trim_end_matches('*').trim().to_string())
            .unwrap_or_default();
        let info = PropertyInfo {
            applies,
            range: cols[2].to_string(),
            default: cols[3].to_string(),
            kind,
        };
        // The topic-level table repeats some global names (e.g. `acks` is topic-level only);
        // a name listed twice with different roles applies to both.
        table
            .entry(cols[0].to_string())
            .and_modify(|old: &mut PropertyInfo| {
                if old.applies != info.applies {
                    old.applies = Applies::Both;
                }
            })
            .or_insert(info);
    }
    table
}

/// `a .. b` of librdkafka's table, as numbers.
fn range(info: &PropertyInfo) -> Option<(f64, f64)> {
    let (low, high) = info.range.split_once("..")?;
    Some((low.trim().parse().ok()?, high.trim().parse().ok()?))
}

/// Checks one value with librdkafka's own setter; returns librdkafka's reason when it refuses.
/// Numbers are checked first, as typed: librdkafka itself reads `2x` as 2 and wraps
/// `4294967297` to 1.
pub fn check_value(key: &str, value: &str) -> Result<(), String> {
    let v = value.trim();
    if matches!(key, "acks" | "request.required.acks") {
        return match v {
            "0" | "1" | "-1" | "all" => Ok(()),
            _ => Err(format!(
                "`{v}` is not an acks setting: give 0, 1, all or -1 (all)"
            )),
        };
    }
    if let Some(info) = lookup(key) {
        let number = match info.kind.as_str() {
            "integer" => Some(v.parse::<i128>().map(|n| n as f64).ok()),
            "float" => Some(v.parse::<f64>().ok().filter(|n| n.is_finite())),
            _ => None,
        };
        match (number, range(info)) {
            (Some(None), _) => {
                return Err(format!(
                    "`{v}` is not {}; expected one in {}",
                    if info.kind == "float" {
                        "a number"
                    } else {
                        "a whole number"
                    },
                    info.range
                ))
            }
            (Some(Some(n)), Some((low, high))) if n < low || n > high => {
                return Err(format!("`{v}` is outside the range {}", info.range));
            }
            _ => {}
        }
    }
    let mut config = ClientConfig::new();
    config.set(key, value);
    match config.create_native_config() {
        Ok(_) => Ok(()),
        Err(KafkaError::ClientConfig(_, reason, _, _)) => Err(reason),
        Err(other) => Err(other.to_string()),
    }
}

/// The property closest to `key`, and how far it is.
pub(crate) fn nearest(key: &str) -> Option<(usize, &'static String)> {
    table().keys().map(|k| (edit_distance(k, key), k)).min()
}

/// ` (did you mean ...?)` for an unknown property.
pub fn suggestion(key: &str) -> String {
    match nearest(key) {
        Some((d, k)) if d <= 3 => format!(" (did you mean `{k}`?)"),
        _ => " (see librdkafka's CONFIGURATION.md for the names)".to_string(),
    }
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_knows_roles_of_common_properties() {
        assert_eq!(lookup("bootstrap.servers").unwrap().applies, Applies::Both);
        assert_eq!(lookup("linger.ms").unwrap().applies, Applies::Producer);
        assert_eq!(lookup("acks").unwrap().applies, Applies::Producer);
        assert_eq!(
            lookup("auto.offset.reset").unwrap().applies,
            Applies::Consumer
        );
        assert_eq!(lookup("group.id").unwrap().applies, Applies::Consumer);
        assert!(lookup("linger.ms").unwrap().range.contains("900000"));
        assert!(lookup("no.such.property").is_none());
        assert!(
            table().len() > 150,
            "librdkafka documents over 150 properties"
        );
    }

    #[test]
    fn values_are_checked_by_librdkafka() {
        assert!(check_value("linger.ms", "5").is_ok());
        assert!(check_value("acks", "all").is_ok());
        let err = check_value("linger.ms", "-5").unwrap_err();
        assert!(err.contains("range"), "{err}");
        assert!(check_value("acks", "maybe").is_err());
        assert!(check_value("batch.size", "abc").is_err());
        assert!(check_value("acks", "2x")
            .unwrap_err()
            .contains("0, 1, all or -1"));
        assert!(check_value("acks", "maybe")
            .unwrap_err()
            .contains("0, 1, all or -1"));
        // Out of range as typed, not as librdkafka would wrap it.
        for big in ["4294967297", "99999999999999", "2147483648"] {
            let e = check_value("batch.size", big).unwrap_err();
            assert!(e.contains(big) && e.contains("outside the range"), "{e}");
        }
        assert!(check_value("batch.size", "99999999999999999999999999999999999999999").is_err());
        assert!(check_value("linger.ms", "NaN").is_err());
        assert!(check_value("linger.ms", "1e9")
            .unwrap_err()
            .contains("outside"));
        assert!(check_value("acks", "-1").is_ok());
        assert!(check_value("linger.ms", "0.5").is_ok());
        assert_eq!(lookup("batch.size").unwrap().kind, "integer");
    }
}
