//! The Open Brewery DB source against a local server that serves the real records page by page.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use kafka_lab::data::source::{fetch_api, Brewery, FetchOptions, Progress};

fn real_records() -> Option<Vec<serde_json::Value>> {
    let path = kafka_lab::runtime::in_repo("../shared/data/openbrewerydb/breweries.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        Some(serde_json::from_str(&text).unwrap())
    } else {
        assert!(
            std::env::var("CI").is_err(),
            "{} is missing",
            path.display()
        );
        skipped!("SKIPPED: {} not found", path.display());
        None
    }
}

/// Serves `GET /v1/breweries?page=N&per_page=M`; the first request for a page listed in
/// `fail_once` gets that status instead. Returns the base URL and the log of requests.
fn serve(
    records: Vec<serde_json::Value>,
    fail_once: Vec<(usize, u16)>,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        let mut failed: HashMap<usize, bool> = HashMap::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap() > 2 {
                header.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            seen.lock().unwrap().push(path.clone());
            let query: HashMap<&str, usize> = path
                .split_once('?')
                .map_or("", |(_, q)| q)
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
                .collect();
            let page = query.get("page").copied().unwrap_or(1);
            let per_page = query.get("per_page").copied().unwrap_or(50).min(200);
            let (status, body) = match fail_once.iter().find(|(p, _)| *p == page) {
                Some((_, status)) if !failed.contains_key(&page) => {
                    failed.insert(page, true);
                    (*status, "{\"message\":\"slow down\"}".to_string())
                }
                _ if !path.starts_with("/v1/breweries") => (404, "{}".to_string()),
                _ => {
                    let start = (page - 1) * per_page;
                    let slice: Vec<_> = records.iter().skip(start).take(per_page).collect();
                    (200, serde_json::to_string(&slice).unwrap())
                }
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, log)
}

fn quick() -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(5),
        retries: 3,
        first_backoff: Duration::from_millis(20),
        max_pages: 100,
    }
}

#[test]
fn pages_through_every_real_record_retrying_429_and_5xx() {
    let Some(records) = real_records() else {
        return;
    };
    let total = records.len();
    let want: Vec<Brewery> = records
        .iter()
        .map(|r| serde_json::from_value(r.clone()).unwrap())
        .collect();
    let (base, log) = serve(records, vec![(2, 429), (5, 503)]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut pages_seen = 0;
    let got = rt
        .block_on(fetch_api(&base, &quick(), |p| {
            if let Progress::Page { page, .. } = p {
                pages_seen = page;
            }
        }))
        .unwrap();
    assert_eq!(got.len(), total);
    assert_eq!(got, want);
    assert_eq!(pages_seen, total.div_ceil(200));
    let log = log.lock().unwrap();
    // Every page once, plus one retry each for pages 2 and 5.
    assert_eq!(log.len(), total.div_ceil(200) + 2);
    assert!(log[0].contains("page=1&per_page=200"), "{}", log[0]);
    // Real data: non-ASCII names, missing coordinates, every brewery type.
    assert!(got
        .iter()
        .any(|b| b.name.as_deref().is_some_and(|n| !n.is_ascii())));
    assert!(got.iter().any(|b| b.longitude.is_none()));
    let types: std::collections::HashSet<_> =
        got.iter().filter_map(|b| b.brewery_type.clone()).collect();
    assert_eq!(types.len(), 14);
}

#[test]
fn stops_at_max_pages_and_gives_up_on_persistent_errors() {
    let Some(records) = real_records() else {
        return;
    };
    let (base, _) = serve(records, vec![]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let options = FetchOptions {
        max_pages: 2,
        ..quick()
    };
    assert_eq!(
        rt.block_on(fetch_api(&base, &options, |_| {}))
            .unwrap()
            .len(),
        400
    );
    let err = rt
        .block_on(fetch_api(&format!("{base}/wrong"), &quick(), |_| {}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP 404"), "{err}");
}

#[test]
fn offline_is_a_clear_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(fetch_api("http://127.0.0.1:1", &quick(), |_| {}))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot fetch breweries from http://127.0.0.1:1"),
        "{err}"
    );
    assert!(err.contains("--source bundled"), "{err}");
}

#[test]
fn produce_sends_the_api_records_in_a_loop() {
    let Some(records) = real_records() else {
        return;
    };
    let ids: Vec<String> = records[..250]
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    // Two pages of 200 and 50: the source then loops back to the first record.
    let (base, _) = serve(records[..250].to_vec(), vec![]);
    let cluster = Cluster::embedded("api-produce", 3);
    let out = cluster.run(&[
        "produce",
        "--source",
        "openbrewerydb",
        "--api-url",
        &base,
        "--count",
        "260",
        "--rate",
        "max",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("fetched 250 breweries"),
        "{}",
        stderr(&out)
    );
    let mut sent = deliveries(&stdout(&out));
    sent.sort_by_key(|d| d.seq);
    for d in &sent {
        assert_eq!(d.key, ids[d.seq as usize % 250], "seq {}", d.seq);
    }
    assert_eq!(sent.len(), 260);
}

#[test]
fn a_stalled_answer_is_reported_while_waiting_and_named_when_it_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            // Headers and the start of a body, then nothing more.
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{\"id\":",
            );
            std::thread::sleep(Duration::from_secs(30));
        }
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut waited = Vec::new();
    let err = rt
        .block_on(fetch_api(&base, &quick(), |p| {
            if let Progress::Waiting { page, waited: w } = p {
                waited.push((page, w));
            }
        }))
        .unwrap_err()
        .to_string();
    assert!(err.contains("stopped coming"), "{err}");
    assert!(
        !waited.is_empty(),
        "a slow page is mentioned while it is awaited"
    );
    assert_eq!(waited[0].0, 1);
}

#[test]
fn a_bad_url_is_refused_at_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(fetch_api("not a url", &quick(), |_| {}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a URL"), "{err}");
    // Refused before any request, so never retried.
    assert!(!err.contains("attempt"), "{err}");
}

/// `--source openbrewerydb` fetches once and keeps the set: the next run uses it with the
/// server gone; a file cut short is said and fetched again; `--refresh` fetches again.
#[test]
fn the_fetched_set_is_kept_and_used_offline() {
    let records: Vec<serde_json::Value> = kafka_lab::data::source::bundled()
        .iter()
        .take(230)
        .map(|b| serde_json::to_value(b).unwrap())
        .collect();
    let (base, log) = serve(records, vec![]);
    let cache = tempfile::tempdir().unwrap();
    let cluster = Cluster::embedded("api-cache", 3);
    let produce = |url: &str, extra: &[&str]| {
        let mut args = vec![
            "produce",
            "--source",
            "openbrewerydb",
            "--api-url",
            url,
            "--count",
            "5",
            "--rate",
            "max",
        ];
        args.extend(extra);
        let out = cluster
            .command(&args)
            .env("XDG_CACHE_HOME", cache.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    let first = produce(&base, &[]);
    assert!(first.contains("fetched 230 breweries"), "{first}");
    assert!(first.contains("kept in "), "{first}");
    let pages = log.lock().unwrap().len();
    assert_eq!(pages, 2, "two pages: 200 and 30");
    // The same address again: from the file, no request.
    let second = produce(&base, &[]);
    assert!(
        second.contains("breweries: 230 records kept in"),
        "{second}"
    );
    assert_eq!(log.lock().unwrap().len(), pages, "no request");
    // Cut short: said, and fetched again.
    let kept = std::fs::read_dir(cache.path().join("kafka-lab"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read(&kept).unwrap();
    std::fs::write(&kept, &text[..100]).unwrap();
    let third = produce(&base, &[]);
    assert!(third.contains("cannot be used"), "{third}");
    assert!(third.contains("fetched 230 breweries"), "{third}");
    let fourth = produce(&base, &["--refresh"]);
    assert!(fourth.contains("fetched 230 breweries"), "{fourth}");
    assert_eq!(log.lock().unwrap().len(), pages * 3);
}
