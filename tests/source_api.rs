//! The Open Brewery DB source against a local server that serves the real records page by page.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::api::serve;
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

/// A server that gives every request the same `head` (status line and headers) and `body`.
fn answer_always(head: &'static str, body: &'static str) -> String {
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
            let _ = write!(
                stream,
                "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
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
    let served = serve(records, vec![(2, 429), (5, 503)]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (mut pages_seen, mut expected) = (0, None);
    let got = rt
        .block_on(fetch_api(&served.base, &quick(), |p| match p {
            Progress::Page { page, .. } => pages_seen = page,
            // Said before any page: the progress bar's length.
            Progress::Expected { records } => {
                assert_eq!(pages_seen, 0);
                expected = Some(records);
            }
            Progress::Waiting { .. } => {}
        }))
        .unwrap();
    assert_eq!(got.len(), total);
    assert_eq!(got, want);
    assert_eq!(expected, Some(total));
    assert_eq!(pages_seen, total.div_ceil(200));
    // Every page once, plus one retry each for pages 2 and 5.
    assert_eq!(served.pages(), total.div_ceil(200) + 2);
    let log = served.log.lock().unwrap();
    assert_eq!(log[0], "/v1/breweries/meta");
    assert!(log[1].contains("page=1&per_page=200"), "{}", log[1]);
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
    let base = serve(records, vec![]).base;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let options = FetchOptions {
        max_pages: 2,
        ..quick()
    };
    // Full pages up to the limit and no end: not the API (a server that pages forever).
    let err = rt
        .block_on(fetch_api(&base, &options, |_| {}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 pages (400 records) and no end"), "{err}");
    assert!(err.contains("11,822"), "the API's own count: {err}");
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
    let base = serve(records[..250].to_vec(), vec![]).base;
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
            // Each request stalls on its own, as on a busy server.
            std::thread::spawn(move || {
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
            });
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
    let served = serve(records, vec![]);
    let base = served.base.clone();
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
    let pages = served.pages();
    assert_eq!(pages, 2, "two pages: 200 and 30");
    // The same address again: from the file, no request.
    let second = produce(&base, &[]);
    assert!(
        second.contains("breweries: 230 records kept in"),
        "{second}"
    );
    assert_eq!(served.pages(), pages, "no request");
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
    assert_eq!(served.pages(), pages * 3);
}

/// The whole real set, fetched page by page, produced and read back: every record arrives, in
/// the API's order, with every field as the API gave it (non-ASCII and nulls intact). With the
/// server gone the next run uses the kept set, and a `--refresh` that cannot fetch fails
/// clearly and leaves it as it was.
#[test]
fn the_whole_real_set_goes_through_kafka_and_is_kept_for_offline_runs() {
    let Some(records) = real_records() else {
        return;
    };
    let n = records.len();
    let served = serve(records.clone(), vec![]);
    let cache = tempfile::tempdir().unwrap();
    let cluster = Cluster::embedded("api-whole", 6);
    let produce = |count: usize, extra: &[&str]| {
        let count = count.to_string();
        let mut args = vec![
            "produce",
            "--source",
            "openbrewerydb",
            "--api-url",
            &served.base,
            "--count",
            &count,
            "--rate",
            "max",
        ];
        args.extend(extra);
        cluster
            .command(&args)
            .env("XDG_CACHE_HOME", cache.path())
            .output()
            .unwrap()
    };
    let first = produce(n, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains(&format!("fetched {n} breweries")),
        "{}",
        stderr(&first)
    );
    let sent = deliveries(&stdout(&first));
    assert_eq!(sent.len(), n);
    let read = consume_json(&cluster, "g-whole", n);
    let by_place: HashMap<(i64, i64), &serde_json::Value> = read
        .iter()
        .map(|r| {
            (
                (
                    r["partition"].as_i64().unwrap(),
                    r["offset"].as_i64().unwrap(),
                ),
                r,
            )
        })
        .collect();
    assert_eq!(by_place.len(), n, "each record read once");
    for d in &sent {
        let r = by_place[&(i64::from(d.partition), d.offset)];
        let value: serde_json::Value = serde_json::from_str(r["value"].as_str().unwrap()).unwrap();
        // Sequence i is the API's i-th record, whole.
        assert_eq!(value, records[d.seq as usize], "seq {}", d.seq);
    }
    // Offline: the kept set, no request.
    let pages = served.pages();
    served.stop();
    let second = produce(10, &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(&format!("breweries: {n} records kept in")),
        "{}",
        stderr(&second)
    );
    assert_eq!(served.pages(), pages);
    let kept = std::fs::read_dir(cache.path().join("kafka-lab"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect::<Vec<_>>();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let before = std::fs::read(&kept[0]).unwrap();
    let started = std::time::Instant::now();
    let refresh = produce(10, &["--refresh"]);
    assert_clean_failure(&refresh, &[&served.base, "--source bundled"]);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "bounded: {:?}",
        started.elapsed()
    );
    assert_eq!(
        std::fs::read(&kept[0]).unwrap(),
        before,
        "the kept set is untouched"
    );
}

/// Answers that are not the API's: each is named, none is retried for long, none is kept.
#[test]
fn answers_that_are_not_the_api_are_named_and_nothing_is_kept() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cases = [
        (
            answer_always(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html",
                "<!doctype html><html><body>Breweries!</body></html>",
            ),
            "HTML",
        ),
        (
            answer_always(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json",
                "{\"message\":\"Couldn't find Brewery\"}",
            ),
            "a JSON object, not a list of breweries (it says: Couldn't find Brewery)",
        ),
        (
            answer_always("HTTP/1.1 200 OK\r\nContent-Type: text/plain", "hello"),
            "not JSON",
        ),
        (
            answer_always(
                "HTTP/1.1 302 Found\r\nLocation: /v1/breweries?page=1&per_page=200",
                "",
            ),
            "redirect loop",
        ),
    ];
    // The same full page whatever `page` asks for.
    let page: Vec<serde_json::Value> = kafka_lab::data::source::bundled()[..200]
        .iter()
        .map(|b| serde_json::to_value(b).unwrap())
        .collect();
    let body: &'static str = Box::leak(serde_json::to_string(&page).unwrap().into_boxed_str());
    let cases = [
        cases.to_vec(),
        vec![(
            answer_always("HTTP/1.1 200 OK\r\nContent-Type: application/json", body),
            "page 2 repeats an earlier page",
        )],
    ]
    .concat();
    for (base, says) in &cases {
        let started = std::time::Instant::now();
        let err = rt
            .block_on(fetch_api(base, &quick(), |_| {}))
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{says}: {err}");
        assert!(err.contains(base.as_str()), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10), "{says}");
    }
    // Addresses that are not a base address: refused before any request, a token unsaid.
    for (url, says) in [
        ("localhost:8820", "http:// or https://"),
        ("http://127.0.0.1:1/?token=T0kenSecret", "?query"),
        ("http://127.0.0.1:1/v1/breweries", "ends with /v1/breweries"),
    ] {
        let err = rt
            .block_on(fetch_api(url, &quick(), |_| {}))
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{url}: {err}");
        assert!(!err.contains("T0kenSecret"), "{err}");
        assert!(!err.contains("attempt"), "no request: {err}");
    }
    // Through the binary: a clean failure, and no file kept.
    let cache = tempfile::tempdir().unwrap();
    let cluster = Cluster::embedded("api-html", 1);
    let out = cluster
        .command(&[
            "produce",
            "--source",
            "openbrewerydb",
            "--api-url",
            &cases[0].0,
            "--count",
            "1",
        ])
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .unwrap();
    assert_clean_failure(&out, &["HTML", "--source bundled"]);
    assert!(
        !cache.path().join("kafka-lab").exists()
            || std::fs::read_dir(cache.path().join("kafka-lab"))
                .unwrap()
                .next()
                .is_none(),
        "nothing kept"
    );
}

/// The partition lesson on the real set: the shipped scenario's assertions hold on it, and
/// keyed by state its skew is real (a handful of states hold most breweries).
#[test]
fn partitions_and_keys_holds_on_the_real_set() {
    let Some(records) = real_records() else {
        return;
    };
    let served = serve(records, vec![]);
    let (out, md, _) = common::play::play(
        "partitions-and-keys",
        "4",
        &["--source", "openbrewerydb", "--api-url", &served.base],
    );
    common::play::passed(&out, &md);
    let skews: Vec<f64> = md
        .lines()
        .filter(|l| l.contains("| assert skew"))
        .filter_map(|l| l.split("(skew = ").nth(1)?.split(')').next()?.parse().ok())
        .collect();
    assert_eq!(skews.len(), 3, "{md}");
    let (id, state, none) = (skews[0], skews[1], skews[2]);
    assert!(id < 1.2 && none < 1.5, "{md}");
    assert!(state > 1.5 && state > id + 0.3, "{md}");
}
