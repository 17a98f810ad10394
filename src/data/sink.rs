//! A JSON-lines file that consumed records go to: flushed at least once a second, so a crash
//! loses at most the last second of records.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::Message;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::kafka::consumer::{timestamp, ConsumedRecord};
use crate::text::printable;

const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// A sink the dashboard's consumers share; `None` while it is off.
pub type SharedSink = Arc<Mutex<Option<Sink>>>;

/// A record with its metadata as one JSON object: what `consume --output json` prints and a
/// sink stores. Borrowed, so printing a record copies nothing; fields come in name order and
/// headers by name (the last of a repeated name), text that is not UTF-8 is escaped.
pub struct RecordJson<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub timestamp_type: &'static str,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
}

impl<'a> RecordJson<'a> {
    pub fn of_record(r: &'a ConsumedRecord) -> RecordJson<'a> {
        RecordJson {
            topic: &r.topic,
            partition: r.partition,
            offset: r.offset,
            timestamp_ms: r.timestamp_ms,
            timestamp_type: r.timestamp_type,
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref()))
                .collect(),
        }
    }

    pub fn of_message(m: &'a BorrowedMessage<'a>) -> RecordJson<'a> {
        let (timestamp_ms, timestamp_type) = timestamp(m);
        RecordJson {
            topic: m.topic(),
            partition: m.partition(),
            offset: m.offset(),
            timestamp_ms,
            timestamp_type,
            key: m.key(),
            value: m.payload(),
            headers: m
                .headers()
                .map(|h| h.iter().map(|h| (h.key, h.value)).collect())
                .unwrap_or_default(),
        }
    }
}

/// Bytes as a JSON string: as they are when UTF-8, escaped otherwise.
struct Text<'a>(&'a [u8]);

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.serialize_str(&printable(self.0)),
        }
    }
}

struct HeaderMap<'a>(&'a [(&'a str, Option<&'a [u8]>)]);

impl Serialize for HeaderMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut sorted: Vec<(&str, Option<&[u8]>)> = self.0.to_vec();
        // Stable: of a repeated name, the last one stays last and wins.
        sorted.sort_by_key(|(k, _)| *k);
        sorted.reverse();
        sorted.dedup_by_key(|(k, _)| *k);
        sorted.reverse();
        let mut map = s.serialize_map(Some(sorted.len()))?;
        for (k, v) in sorted {
            map.serialize_entry(k, &v.map(Text))?;
        }
        map.end()
    }
}

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(8))?;
        map.serialize_entry("headers", &HeaderMap(&self.headers))?;
        map.serialize_entry("key", &self.key.map(Text))?;
        map.serialize_entry("offset", &self.offset)?;
        map.serialize_entry("partition", &self.partition)?;
        map.serialize_entry("timestamp_ms", &self.timestamp_ms)?;
        map.serialize_entry("timestamp_type", self.timestamp_type)?;
        map.serialize_entry("topic", self.topic)?;
        map.serialize_entry("value", &self.value.map(Text))?;
        map.end()
    }
}

pub struct Sink {
    path: PathBuf,
    writer: BufWriter<File>,
    last_flush: Instant,
    pub written: u64,
}

impl Sink {
    /// Opens `path` for appending (creating it). A last line left half-written (a crash) is
    /// ended first, so that every later line parses.
    pub fn open(path: &Path) -> std::io::Result<Sink> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let len = file.metadata()?.len();
        if len > 0 {
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
        Ok(Sink {
            path: path.to_path_buf(),
            writer: BufWriter::new(file),
            last_flush: Instant::now(),
            written: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write(&mut self, line: &impl Serialize) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.writer, line)?;
        self.writer.write_all(b"\n")?;
        self.written += 1;
        self.flush_if_due()
    }

    /// Flushes when the last flush is a second old; call it also when idle.
    pub fn flush_if_due(&mut self) -> std::io::Result<()> {
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.last_flush = Instant::now();
        self.writer.flush()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.writer.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_reach_the_file_within_a_second_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut sink = Sink::open(&path).unwrap();
        sink.write(&serde_json::json!({"offset": 1})).unwrap();
        // Buffered until a second has passed since the last flush.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        sink.last_flush -= FLUSH_EVERY;
        sink.flush_if_due().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"offset\":1}\n");
        drop(sink);
        let mut again = Sink::open(&path).unwrap();
        again.write(&serde_json::json!({"offset": 2})).unwrap();
        drop(again);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    }

    #[test]
    fn a_half_written_line_is_ended_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crashed.jsonl");
        std::fs::write(&path, "{\"offset\":1}\n{\"offs").unwrap();
        let mut sink = Sink::open(&path).unwrap();
        sink.write(&serde_json::json!({"offset": 3})).unwrap();
        drop(sink);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, ["{\"offset\":1}", "{\"offs", "{\"offset\":3}"]);
    }

    #[test]
    fn json_lines_sort_fields_and_escape_binary() {
        let r = ConsumedRecord {
            topic: "t".into(),
            partition: 2,
            offset: 7,
            timestamp_ms: Some(5),
            timestamp_type: "create",
            key: Some(b"k\xff".to_vec()),
            value: Some(b"{\"a\":1}".to_vec()),
            headers: vec![
                ("z".into(), Some(b"1".to_vec())),
                ("a".into(), None),
                ("z".into(), Some(b"2".to_vec())),
            ],
        };
        let line = serde_json::to_string(&RecordJson::of_record(&r)).unwrap();
        assert_eq!(
            line,
            r#"{"headers":{"a":null,"z":"2"},"key":"0x6bff","offset":7,"partition":2,"timestamp_ms":5,"timestamp_type":"create","topic":"t","value":"{\"a\":1}"}"#
        );
    }
}
