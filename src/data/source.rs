//! Brewery records, the payload: the bundled sample, a file, or the Open Brewery DB API.

use std::path::{Path, PathBuf};
use std::time::Duration;

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
        match arg {
            "bundled" => Source::Bundled,
            "openbrewerydb" => Source::OpenBreweryDb {
                base_url: {
                    crate::text::secrets::keep_url_userinfo(api_url);
                    api_url.trim_end_matches('/').to_string()
                },
            },
            path => Source::File(PathBuf::from(path)),
        }
    }
}

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
    #[error("cannot fetch breweries from {url}: {detail}\n  Check the network (or --api-url), or use --source bundled.")]
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

/// How the API client behaves; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub timeout: Duration,
    pub retries: u32,
    pub first_backoff: Duration,
    /// Stop after this many pages (each of up to 200 records).
    pub max_pages: usize,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(10),
            retries: 4,
            first_backoff: Duration::from_millis(500),
            max_pages: 100,
        }
    }
}

/// What a fetch has to say while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The API says it holds `records` (its `/v1/breweries/meta`), before the first page.
    Expected { records: usize },
    /// Page `page` arrived; `total` records so far.
    Page { page: usize, total: usize },
    /// Page `page` has been asked for `waited` ago without an answer yet.
    Waiting { page: usize, waited: Duration },
}

/// How often a slow answer is mentioned.
const WAITING_EVERY: Duration = Duration::from_secs(3);
/// The count is only for the progress bar: a server slow to give it is not waited for long.
const META_TIMEOUT: Duration = Duration::from_secs(3);
/// Redirects followed before a fetch is refused as a loop.
const MAX_REDIRECTS: usize = 5;

/// Pages through `GET {base}/v1/breweries?page=N&per_page=200` until a short or empty page.
/// `progress` hears of each page, and of an answer that is slow to come.
pub async fn fetch_api(
    base_url: &str,
    options: &FetchOptions,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<Brewery>, SourceError> {
    if let Err(e) = reqwest::Url::parse(base_url) {
        return Err(SourceError::Fetch {
            url: base_url.to_string(),
            detail: format!("it is not a URL ({e}); give --api-url as http(s)://HOST"),
        });
    }
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .user_agent(concat!("kafka-lab/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SourceError::Fetch {
            url: base_url.to_string(),
            detail: e.to_string(),
        })?;
    if let Some(records) = expected_records(&client, base_url, options).await {
        progress(Progress::Expected { records });
    }
    let mut all = Vec::new();
    for page in 1..=options.max_pages {
        let url = format!("{base_url}/v1/breweries?page={page}&per_page={PER_PAGE}");
        let started = std::time::Instant::now();
        let fetch = fetch_page(&client, &url, options);
        tokio::pin!(fetch);
        let mut waiting =
            tokio::time::interval_at(tokio::time::Instant::now() + WAITING_EVERY, WAITING_EVERY);
        let batch = loop {
            tokio::select! {
                batch = &mut fetch => break batch?,
                _ = waiting.tick() => progress(Progress::Waiting { page, waited: started.elapsed() }),
            }
        };
        let len = batch.len();
        all.extend(batch);
        progress(Progress::Page {
            page,
            total: all.len(),
        });
        if len < PER_PAGE {
            break;
        }
    }
    if all.is_empty() {
        return Err(SourceError::Empty {
            origin: base_url.to_string(),
        });
    }
    Ok(all)
}

/// How many records the API holds, from `/v1/breweries/meta` (`{"total": "11822", ...}`, a
/// string or a number): None from a server that does not say, which is no error.
async fn expected_records(
    client: &reqwest::Client,
    base_url: &str,
    options: &FetchOptions,
) -> Option<usize> {
    let response = client
        .get(format!("{base_url}/v1/breweries/meta"))
        .timeout(options.timeout.min(META_TIMEOUT))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body = response.bytes().await.ok()?;
    let meta: serde_json::Value = serde_json::from_slice(&body).ok()?;
    match &meta["total"] {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .and_then(|n| usize::try_from(n).ok())
    .filter(|n| *n > 0)
}

async fn fetch_page(
    client: &reqwest::Client,
    url: &str,
    options: &FetchOptions,
) -> Result<Vec<Brewery>, SourceError> {
    let started = std::time::Instant::now();
    let fail = |detail: String| SourceError::Fetch {
        url: url.to_string(),
        detail,
    };
    let tried = |attempt: u32| {
        format!(
            "after {attempt} attempt(s) in {:.1} s",
            started.elapsed().as_secs_f64()
        )
    };
    let mut backoff = options.first_backoff;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let last = attempt > options.retries;
        match client.get(url).send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    let body = read_capped(response, MAX_PAGE_BYTES, options, &fail).await?;
                    return page_of(&body).map_err(fail);
                }
                let retryable = status.as_u16() == 429 || status.is_server_error();
                if !retryable || last {
                    return Err(fail(format!("HTTP {status} {}", tried(attempt))));
                }
            }
            Err(e) if e.is_redirect() => {
                return Err(fail(format!(
                    "more than {MAX_REDIRECTS} redirects (a redirect loop?): {}",
                    error_chain(&e)
                )))
            }
            // Only a connection that failed or timed out is worth another try.
            Err(e) if last || !(e.is_connect() || e.is_timeout()) => {
                return Err(fail(format!("{} {}", error_chain(&e), tried(attempt))))
            }
            Err(_) => {}
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}

/// A page's body as breweries, or why it is not the API's answer.
fn page_of(body: &[u8]) -> Result<Vec<Brewery>, String> {
    let start = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if start == Some(b'<') {
        return Err(
            "the answer is HTML, not the API's JSON: give --api-url as the API's base \
                    address (e.g. https://api.openbrewerydb.org), not a web page"
                .into(),
        );
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Err(e) => Err(format!("the answer is not JSON: {e}")),
        Ok(serde_json::Value::Array(_)) => serde_json::from_slice(body)
            .map_err(|e| format!("the answer is not a list of breweries: {e}")),
        Ok(other) => Err(format!(
            "the answer is a JSON {}, not a list of breweries{}",
            json_kind(&other),
            other
                .get("message")
                .and_then(serde_json::Value::as_str)
                .map(|m| format!(
                    " (it says: {})",
                    crate::text::shorten(&crate::text::escape(m), 120)
                ))
                .unwrap_or_default()
        )),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Object(_) => "object",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Null => "null",
    }
}

/// A page's body, refused once it grows past `limit` (a server streaming without end).
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    options: &FetchOptions,
    fail: &impl Fn(String) -> SourceError,
) -> Result<Vec<u8>, SourceError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(fail(format!(
                        "the page is larger than {} MB (a page of 200 breweries is about 100 KB): \
                         this is not the Open Brewery DB API",
                        limit >> 20
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(fail(if e.is_timeout() {
                    format!(
                        "the answer stopped coming (the whole page took over {} s)",
                        options.timeout.as_secs()
                    )
                } else {
                    error_chain(&e)
                }))
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cur = inner.source();
    }
    text
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
