//! The Open Brewery DB API, paged through: `GET {base}/v1/breweries?page=N&per_page=200`
//! until a short page, with retries, bounded waits, and a clear word for every answer that is
//! not the API's.

use std::time::Duration;

use super::source::{Brewery, SourceError, MAX_PAGE_BYTES, PER_PAGE};

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
/// A count from `/meta` above this is not believed (the bar would be nonsense).
const MOST_RECORDS: usize = 1_000_000;
/// Redirects followed before a fetch is refused as a loop.
const MAX_REDIRECTS: usize = 5;

/// Pages through `GET {base}/v1/breweries?page=N&per_page=200` until a short or empty page.
/// `progress` hears of each page, and of an answer that is slow to come.
pub async fn fetch_api(
    base_url: &str,
    options: &FetchOptions,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<Brewery>, SourceError> {
    if let Err(detail) = check_base(base_url) {
        return Err(SourceError::Fetch {
            url: shown_base(base_url),
            detail,
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
    let expected = expected_records(&client, base_url, options).await;
    if let Some(records) = expected {
        progress(Progress::Expected { records });
    }
    let mut all: Vec<Brewery> = Vec::new();
    // The first id of every page: a server that ignores `page` gives the same one again.
    let mut firsts = std::collections::HashSet::new();
    let mut ended = false;
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
        let not_paged = |detail: String| SourceError::Fetch {
            url: url.clone(),
            detail,
        };
        if let Some(first) = batch.first() {
            if !firsts.insert(first.id.clone()) {
                return Err(not_paged(format!(
                    "page {page} repeats an earlier page (brewery {}): the server ignores \
                     ?page=, so this is not the Open Brewery DB API",
                    crate::text::shorten(&crate::text::escape(&first.id), 40)
                )));
            }
        }
        all.extend(batch);
        progress(Progress::Page {
            page,
            total: all.len(),
        });
        if len < PER_PAGE {
            ended = true;
            break;
        }
    }
    if !ended {
        return Err(SourceError::Fetch {
            url: base_url.to_string(),
            detail: format!(
                "{} pages ({} records) and no end ({}): a server that never ends its pages \
                 is not the API",
                options.max_pages,
                crate::text::thousands(all.len() as u64),
                expected.map_or("the Open Brewery DB holds about 12,000".to_string(), |n| {
                    format!(
                        "the server says it holds {}",
                        crate::text::thousands(n as u64)
                    )
                })
            ),
        });
    }
    if all.is_empty() {
        return Err(SourceError::Empty {
            origin: base_url.to_string(),
        });
    }
    Ok(all)
}

/// `--api-url` as a base address: http or https, no query (it would land in the middle of
/// every page's address, and it may hold a token), not the breweries' own path.
fn check_base(base_url: &str) -> Result<(), String> {
    const FORM: &str = "give --api-url as the API's base address, http(s)://HOST[:PORT][/PATH]";
    let url =
        reqwest::Url::parse(base_url).map_err(|e| format!("it is not a URL ({e}); {FORM}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "it does not begin with http:// or https://; {FORM}"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "it has a ?query or #fragment, which kafka-lab does not send; {FORM}"
        ));
    }
    if url.path().trim_end_matches('/').ends_with("/v1/breweries") {
        return Err(format!(
            "it ends with /v1/breweries, which kafka-lab adds; {FORM}"
        ));
    }
    Ok(())
}

/// `base_url` as an error may show it: no password, no query (which may hold a token).
fn shown_base(base_url: &str) -> String {
    match reqwest::Url::parse(base_url) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => {
            crate::text::secrets::redact_urls(base_url).unwrap_or_else(|| base_url.to_string())
        }
    }
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
    .filter(|n| *n > 0 && *n <= MOST_RECORDS)
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
