//! Brewery records, the payload: the bundled sample, a file, or the Open Brewery DB API.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

/// The bundled sample (made by `scripts/gen-breweries.py`, not real breweries).
const BUNDLED: &str = include_str!("../../assets/breweries.json");

pub const DEFAULT_API_URL: &str = "https://api.openbrewerydb.org";
/// Records asked for per page: the most the API gives.
pub const PER_PAGE: usize = 200;

/// One record in the shape of the Open Brewery DB API (`/v1/breweries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brewery {
    pub id: String,
    pub name: Option<String>,
    pub brewery_type: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub address_3: Option<String>,
    pub city: Option<String>,
    pub state_province: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    #[serde(default, deserialize_with = "lenient_number")]
    pub longitude: Option<f64>,
    #[serde(default, deserialize_with = "lenient_number")]
    pub latitude: Option<f64>,
    pub phone: Option<String>,
    pub website_url: Option<String>,
    pub state: Option<String>,
    pub street: Option<String>,
    /// Fields this shape does not name, kept as they came: a record is sent as it was read.
    #[serde(flatten, default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Older API versions sent coordinates as strings; accept both.
fn lenient_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

crate::kafka::settings::choices! {
    /// Which field becomes the record key.
    #[derive(clap::ValueEnum, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum KeyField {
        Id = "id",
        State = "state",
        City = "city",
        None = "none",
    }
}

impl Brewery {
    pub fn key(&self, field: KeyField) -> Option<&str> {
        match field {
            KeyField::Id => Some(self.id.as_str()),
            KeyField::State => self.state.as_deref().or(self.state_province.as_deref()),
            KeyField::City => self.city.as_deref(),
            KeyField::None => None,
        }
    }
}

/// Where records come from, as given by `--source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Bundled,
    OpenBreweryDb { base_url: String },
    File(PathBuf),
}

impl Source {
    pub fn parse(arg: &str, api_url: &str) -> Source {
        match arg.to_ascii_lowercase().as_str() {
            "bundled" => Source::Bundled,
            "openbrewerydb" => Source::OpenBreweryDb {
                base_url: {
                    crate::text::secrets::keep_url_userinfo(api_url);
                    api_url.trim_end_matches('/').to_string()
                },
            },
            _ => Source::File(PathBuf::from(arg)),
        }
    }
}

pub use super::api::{fetch_api, FetchOptions, Progress};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read brewery file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {detail}\n  Expected a JSON array of brewery objects, or one JSON object per line.", path.display())]
    Format { path: PathBuf, detail: String },
    #[error("{origin} holds no brewery records")]
    Empty { origin: String },
    #[error("cannot fetch breweries from {url}: {detail}; check the network, give --api-url for a mirror, or use --source bundled")]
    Fetch { url: String, detail: String },
}

/// The bundled sample.
pub fn bundled() -> Vec<Brewery> {
    serde_json::from_str(BUNDLED).expect("assets/breweries.json is valid (checked by a test)")
}

/// A source file's size limit: the whole Open Brewery DB is about 10 MB.
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// An API page's size limit: a page of 200 records is about 100 KB.
pub const MAX_PAGE_BYTES: usize = 8 << 20;

/// Reads a JSON array, or JSON lines, of breweries.
pub fn from_file(path: &Path) -> Result<Vec<Brewery>, SourceError> {
    let text =
        crate::text::read_text_file(path, MAX_FILE_BYTES).map_err(|error| SourceError::Read {
            path: path.to_path_buf(),
            error,
        })?;
    let records = parse_records(&text).map_err(|detail| SourceError::Format {
        path: path.to_path_buf(),
        detail,
    })?;
    if records.is_empty() {
        return Err(SourceError::Empty {
            origin: path.display().to_string(),
        });
    }
    Ok(records)
}

fn parse_records(text: &str) -> Result<Vec<Brewery>, String> {
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(|e| e.to_string());
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// The records of a run, each serialised once, handed out in an endless loop.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub records: Vec<Brewery>,
    payloads: Vec<Vec<u8>>,
    /// Where the records came from, in words: "bundled sample".
    pub origin: String,
}

impl Dataset {
    pub fn new(records: Vec<Brewery>) -> Dataset {
        assert!(!records.is_empty(), "a dataset needs at least one record");
        let payloads = records
            .iter()
            .map(|r| serde_json::to_vec(r).expect("a Brewery always serialises"))
            .collect();
        Dataset {
            records,
            payloads,
            origin: "records given".into(),
        }
    }

    #[must_use]
    pub fn with_origin(mut self, origin: String) -> Dataset {
        self.origin = origin;
        self
    }

    /// Where the records came from and how many: "bundled sample, 2,500 records".
    pub fn describe(&self) -> String {
        format!(
            "{}, {} records",
            self.origin,
            crate::text::thousands(self.records.len() as u64)
        )
    }

    /// The n-th record of the endless loop and its JSON payload.
    pub fn get(&self, n: u64) -> (&Brewery, &[u8]) {
        let i = (n % self.records.len() as u64) as usize;
        (&self.records[i], &self.payloads[i])
    }

    /// Records before the loop starts again.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn mean_payload_len(&self) -> f64 {
        self.payloads.iter().map(Vec::len).sum::<usize>() as f64 / self.payloads.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A file of JSON lines may start with a byte-order mark, as config.ini may; fields the
    /// shape does not name are kept and sent as they came.
    #[test]
    fn a_bom_is_dropped_and_unknown_fields_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.jsonl");
        std::fs::write(
            &path,
            "\u{feff}{\"id\":\"a\",\"name\":\"A\",\"taproom\":true,\"beers\":[\"ipa\"]}\n",
        )
        .unwrap();
        let records = from_file(&path).unwrap();
        assert_eq!(records[0].id, "a");
        assert_eq!(records[0].extra["taproom"], serde_json::json!(true));
        let sent = serde_json::to_value(&records[0]).unwrap();
        assert_eq!(sent["beers"], serde_json::json!(["ipa"]));
    }

    #[test]
    fn bundled_sample_is_large_varied_and_in_api_shape() {
        let all = bundled();
        assert!(all.len() >= 2000);
        let types: HashSet<_> = all.iter().filter_map(|b| b.brewery_type.clone()).collect();
        assert!(types.len() >= 10, "{types:?}");
        let countries: HashSet<_> = all.iter().filter_map(|b| b.country.clone()).collect();
        assert!(countries.len() >= 8, "{countries:?}");
        let ids: HashSet<_> = all.iter().map(|b| b.id.clone()).collect();
        assert_eq!(ids.len(), all.len(), "ids are unique");
        assert!(all.iter().any(|b| b.phone.is_none()));
        assert!(all.iter().any(|b| b.longitude.is_none()));
        assert!(all
            .iter()
            .any(|b| b.name.as_deref().is_some_and(|n| !n.is_ascii())));
        // Every field of the API is present in the file, null or not.
        let raw: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(BUNDLED).unwrap();
        for field in [
            "id",
            "name",
            "brewery_type",
            "address_1",
            "address_2",
            "address_3",
            "city",
            "state_province",
            "postal_code",
            "country",
            "longitude",
            "latitude",
            "phone",
            "website_url",
            "state",
            "street",
        ] {
            assert!(raw.iter().all(|r| r.contains_key(field)), "{field}");
        }
    }

    #[test]
    fn keys_follow_the_chosen_field() {
        let b = &bundled()[0];
        assert_eq!(b.key(KeyField::Id), Some(b.id.as_str()));
        assert_eq!(b.key(KeyField::City), b.city.as_deref());
        assert_eq!(b.key(KeyField::State), b.state.as_deref());
        assert_eq!(b.key(KeyField::None), None);
    }

    #[test]
    fn files_may_be_arrays_or_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let one = r#"{"id":"a","name":"A","longitude":"1.5","latitude":null}"#;
        let two = r#"{"id":"b","name":"Bräu","city":"Köln"}"#;
        let lines = dir.path().join("b.jsonl");
        std::fs::write(&lines, format!("{one}\n\n{two}\n")).unwrap();
        let recs = from_file(&lines).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].longitude, Some(1.5));
        assert_eq!(recs[1].city.as_deref(), Some("Köln"));
        let array = dir.path().join("b.json");
        std::fs::write(&array, format!("[{one},{two}]")).unwrap();
        assert_eq!(from_file(&array).unwrap(), recs);
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, format!("{one}\nnot json\n")).unwrap();
        let err = from_file(&bad).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, "[]").unwrap();
        assert!(matches!(from_file(&empty), Err(SourceError::Empty { .. })));
        assert!(matches!(
            from_file(&dir.path().join("missing")),
            Err(SourceError::Read { .. })
        ));
    }

    #[test]
    fn dataset_loops_forever() {
        let d = Dataset::new(bundled()[..3].to_vec());
        assert_eq!(d.get(0).0.id, d.get(3).0.id);
        assert_eq!(d.get(4).0.id, d.get(1).0.id);
        let parsed: Brewery = serde_json::from_slice(d.get(2).1).unwrap();
        assert_eq!(&parsed, d.get(2).0);
    }
}
