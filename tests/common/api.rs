//! A local server that answers as the Open Brewery DB API does, for the tests of
//! `--source openbrewerydb`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A local server that answers as the Open Brewery DB API does.
pub struct Served {
    pub base: String,
    /// The path of every request, in order.
    pub log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Served {
    /// The requests for pages (not for the count).
    pub fn pages(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|p| !p.contains("/meta"))
            .count()
    }

    /// Gone: connections are refused from now on.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then drops the listener.
        let _ = std::net::TcpStream::connect(self.base.trim_start_matches("http://"));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Serves `GET /v1/breweries?page=N&per_page=M` and `GET /v1/breweries/meta`; the first
/// request for a page listed in `fail_once` gets that status instead.
pub fn serve(records: Vec<serde_json::Value>, fail_once: Vec<(usize, u16)>) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, stopped) = (log.clone(), stop.clone());
    std::thread::spawn(move || {
        let mut failed: HashMap<usize, bool> = HashMap::new();
        for stream in listener.incoming() {
            if stopped.load(Ordering::SeqCst) {
                return;
            }
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap_or(0) > 2 {
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
                _ if path.starts_with("/v1/breweries/meta") => (
                    200,
                    // As the API says it: numbers as strings.
                    format!(
                        "{{\"total\":\"{}\",\"page\":\"1\",\"per_page\":\"50\"}}",
                        records.len()
                    ),
                ),
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
    Served { base, log, stop }
}
