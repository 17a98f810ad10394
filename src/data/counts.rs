//! Consumed breweries counted by a field of the record, like a ksqlDB table
//! (`SELECT brewery_type, COUNT(*) ... GROUP BY brewery_type`).

use std::borrow::Cow;
use std::collections::BTreeMap;

/// Breweries counted by type, state and country.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub by_type: BTreeMap<String, u64>,
    pub by_state: BTreeMap<String, u64>,
    pub by_country: BTreeMap<String, u64>,
}

/// Distinct values kept per field; the rest are counted as "(other)".
const MAX_GROUPS: usize = 500;
/// Where values past [`MAX_GROUPS`] are counted (looked up, not made, per record).
const OTHER: &str = "(other)";

impl Counts {
    /// Counts one record's value; values that are not brewery JSON count as "(not a brewery)".
    pub fn add(&mut self, value: Option<&[u8]>) {
        let fields = value.and_then(|v| Fields::scan(v).or_else(|| Fields::parse(v)));
        let Some(f) = fields else {
            for map in [&mut self.by_type, &mut self.by_state, &mut self.by_country] {
                bump(map, "(not a brewery)");
            }
            return;
        };
        bump(
            &mut self.by_type,
            f.brewery_type.as_deref().unwrap_or("(none)"),
        );
        bump(
            &mut self.by_state,
            f.state.or(f.state_province).as_deref().unwrap_or("(none)"),
        );
        bump(
            &mut self.by_country,
            f.country.as_deref().unwrap_or("(none)"),
        );
    }

    pub fn merge(&mut self, other: &Counts) {
        for (mine, theirs) in [
            (&mut self.by_type, &other.by_type),
            (&mut self.by_state, &other.by_state),
            (&mut self.by_country, &other.by_country),
        ] {
            for (k, v) in theirs {
                *mine.entry(k.clone()).or_insert(0) += v;
            }
        }
    }
}

/// The fields a record is counted by; borrowed where the JSON has no escapes.
#[derive(Debug, Default, PartialEq, serde::Deserialize)]
struct Fields<'a> {
    #[serde(borrow)]
    brewery_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    state: Option<Cow<'a, str>>,
    #[serde(borrow)]
    state_province: Option<Cow<'a, str>>,
    #[serde(borrow)]
    country: Option<Cow<'a, str>>,
}

impl<'a> Fields<'a> {
    /// The full parse, for what the scan cannot read.
    fn parse(json: &'a [u8]) -> Option<Fields<'a>> {
        serde_json::from_slice(json).ok()
    }

    /// Finds the four fields in a flat JSON object without parsing the rest: a consumer
    /// counts every record, at full speed. None when in doubt (escapes, nesting, not JSON).
    fn scan(json: &'a [u8]) -> Option<Fields<'a>> {
        use std::sync::LazyLock;

        use memchr::memmem::Finder;
        static KEYS: LazyLock<[Finder<'static>; 4]> = LazyLock::new(|| {
            [
                Finder::new(b"\"brewery_type\":"),
                Finder::new(b"\"state\":"),
                Finder::new(b"\"state_province\":"),
                Finder::new(b"\"country\":"),
            ]
        });
        if json.first() != Some(&b'{') || memchr::memchr2(b'\\', b'{', &json[1..]).is_some() {
            return None;
        }
        let get = |key: &Finder<'_>| -> Option<Option<Cow<'a, str>>> {
            let Some(at) = key.find(json) else {
                return Some(None);
            };
            let rest = &json[at + key.needle().len()..];
            let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
            if rest.starts_with(b"null") {
                return Some(None);
            }
            let rest = rest.strip_prefix(b"\"")?;
            let end = memchr::memchr(b'"', rest)?;
            Some(Some(Cow::Borrowed(std::str::from_utf8(&rest[..end]).ok()?)))
        };
        let [t, s, p, c] = &*KEYS;
        Some(Fields {
            brewery_type: get(t)?,
            state: get(s)?,
            state_province: get(p)?,
            country: get(c)?,
        })
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else if map.len() < MAX_GROUPS {
        map.insert(key.to_string(), 1);
    } else if let Some(n) = map.get_mut(OTHER) {
        *n += 1;
    } else {
        map.insert(OTHER.to_string(), 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_breweries_by_field() {
        let mut c = Counts::default();
        c.add(Some(
            br#"{"id":"1","brewery_type":"micro","state":"Ohio","country":"United States"}"#,
        ));
        c.add(Some(
            br#"{"id":"2","brewery_type":"micro","state_province":"Bayern","country":"Germany"}"#,
        ));
        c.add(Some(br#"{"id":"3","brewery_type":null}"#));
        c.add(Some(b"\xff\xfe"));
        c.add(None);
        assert_eq!(c.by_type["micro"], 2);
        assert_eq!(c.by_type["(none)"], 1);
        assert_eq!(c.by_type["(not a brewery)"], 2);
        assert_eq!(c.by_state["Bayern"], 1);
        assert_eq!(c.by_country["Germany"], 1);
        // The scan reads what the full parse reads.
        for json in [
            &br#"{"id":"1","brewery_type":"micro","state":"Ohio","country":"United States"}"#[..],
            br#"{"brewery_type": null, "state_province":"Bayern", "country":"Germany"}"#,
            br#"{"name":"A \"quoted\" name","state":"Ohio"}"#,
        ] {
            let scanned = Fields::scan(json);
            assert!(
                scanned.is_none() || scanned == Fields::parse(json),
                "{scanned:?}"
            );
        }
        assert!(Fields::scan(br#"{"name":"x\"state\":\"y"}"#).is_none());
        let mut total = Counts::default();
        total.merge(&c);
        total.merge(&c);
        assert_eq!(total.by_type["micro"], 4);
        for i in 0..(MAX_GROUPS + 10) {
            bump(&mut total.by_state, &format!("s{i}"));
        }
        assert!(total.by_state.len() <= MAX_GROUPS + 1);
        assert!(total.by_state["(other)"] >= 10);
    }
}
