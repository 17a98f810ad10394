//! A JSON-lines file that consumed records go to: flushed at least once a second, so a crash
//! loses at most the last second of records.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::Message;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::kafka::consumer::{timestamp, ConsumedRecord};
use crate::kafka::verify::{RUN_HEADER, SEQ_HEADER};
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
    /// Each line is made here, then written whole: a crash leaves no half line on disk.
    line: Vec<u8>,
    pub written: u64,
    /// Records (by run and sequence number) in the file, to count those written again.
    seen: Option<HashSet<u64>>,
    /// Of those written, records already in the file (delivered again after a crash).
    pub repeated: u64,
    /// What opening found: a fragment cut off, records already there and repeated.
    pub opened: Opened,
}

/// What opening a sink found in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// Bytes of a last line left half-written (a crash) and cut off.
    pub fragment_cut: u64,
    /// Lines in the file.
    pub lines: u64,
    /// Of those, records that were in it already (by their run and sequence headers).
    pub repeated: u64,
    /// The file was too large to remember every record: repeats are not counted.
    pub uncounted: bool,
    /// Its first line is a whole record line, as a sink writes it.
    pub records_first: bool,
}

impl Opened {
    /// What to say about it, if anything: `cut a half-written last line (57 bytes) ...`.
    pub fn said(&self, path: &Path) -> Option<String> {
        let mut parts = Vec::new();
        if self.fragment_cut > 0 {
            parts.push(format!(
                "cut off a half-written last line ({} bytes, a crash)",
                self.fragment_cut
            ));
        }
        if self.repeated > 0 {
            parts.push(format!(
                "{} of its {} records are repeats (written again after a crash: the sink is at least once)",
                self.repeated, self.lines
            ));
        }
        (!parts.is_empty()).then(|| format!("sink {}: {}", path.display(), parts.join("; ")))
    }
}

/// Records remembered to count repeats (8 bytes each, about 16 MB at most): beyond this
/// repeats are not counted, and the summary says so.
const REMEMBERED: u64 = 1_000_000;
/// Lines read when reopening: a line longer than this is no record of kafka-lab's.
const LONGEST_LINE: usize = 16 << 20;

impl Sink {
    /// Opens `path` for appending (creating it). A last line left half-written (a crash) is cut
    /// off, so that every line parses; the records already there are remembered, so that those
    /// written again (after a crash) are counted.
    pub fn open(path: &Path) -> std::io::Result<Sink> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::other("it is not a regular file"));
        }
        let mut opened = Opened::default();
        let mut seen = HashSet::new();
        let whole = read_lines(&mut file, &mut opened, &mut seen)?;
        let len = file.metadata()?.len();
        // Only a sink's own file is appended to (and its half-written line cut): another
        // file given by mistake is left as it is.
        if len > 0 && !opened.records_first {
            return Err(std::io::Error::other(
                "it is not a sink's file (its first line is not a record as a sink writes it, \
                 with topic, partition and offset): give a new file, or one kafka-lab wrote",
            ));
        }
        if whole < len {
            opened.fragment_cut = len - whole;
            file.set_len(whole)?;
        }
        Ok(Sink {
            path: path.to_path_buf(),
            writer: BufWriter::new(file),
            last_flush: Instant::now(),
            line: Vec::with_capacity(1024),
            written: 0,
            seen: (!opened.uncounted).then_some(seen),
            repeated: 0,
            opened,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one record as a line.
    pub fn write(&mut self, record: &RecordJson<'_>) -> std::io::Result<()> {
        if let (Some(seen), Some(id)) = (self.seen.as_mut(), record_id(&record.headers)) {
            if !seen.insert(id) {
                self.repeated += 1;
            }
            if seen.len() as u64 > REMEMBERED {
                self.seen = None;
            }
        }
        self.write_line(record)
    }

    /// Writes any value as a line, whole.
    pub fn write_line(&mut self, line: &impl Serialize) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, line)?;
        self.line.push(b'\n');
        // A line that does not fit what is buffered goes after a flush of whole lines.
        if self.writer.buffer().len() + self.line.len() > self.writer.capacity() {
            self.writer.flush()?;
        }
        self.writer.write_all(&self.line)?;
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

    /// `wrote N records to PATH`, and how many were repeats.
    pub fn summary(&self) -> String {
        let repeats = match (&self.seen, self.repeated) {
            (None, _) => " (too many to count repeats)".to_string(),
            (Some(_), 0) => String::new(),
            (Some(_), n) => format!(
                " ({n} of them were in it already: delivered again after a crash, as an at-least-once sink allows)"
            ),
        };
        format!(
            "wrote {} records to {}{repeats}",
            self.written,
            self.path.display()
        )
    }
}

/// A record's run tag and sequence number (kafka-lab's headers), hashed: its identity.
fn record_id(headers: &[(&str, Option<&[u8]>)]) -> Option<u64> {
    let value = |name: &str| {
        headers
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| *v)
    };
    let run = value(RUN_HEADER)?;
    let seq: u64 = std::str::from_utf8(value(SEQ_HEADER)?).ok()?.parse().ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (run, seq).hash(&mut h);
    Some(h.finish())
}

/// Reads the file's lines, counting records already seen; returns the length of its whole
/// lines (what follows the last newline is a fragment).
fn read_lines(
    file: &mut File,
    opened: &mut Opened,
    seen: &mut HashSet<u64>,
) -> std::io::Result<u64> {
    use std::io::{BufRead, BufReader, Seek, SeekFrom};
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::new(&*file);
    let mut whole = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(LONGEST_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if whole == 0 {
            // A record's line as a sink writes it: a file without one whole line of it is not
            // a sink's (a crash before the first line ended leaves a file too short to matter,
            // but it is not cut either).
            opened.records_first =
                line.last() == Some(&b'\n') && serde_json::from_slice::<SinkLine>(&line).is_ok();
        }
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        whole += n as u64;
        opened.lines += 1;
        if opened.uncounted {
            continue;
        }
        if let Ok(record) = serde_json::from_slice::<StoredRecord>(&line) {
            let headers: Vec<(&str, Option<&[u8]>)> = record
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref().map(str::as_bytes)))
                .collect();
            if let Some(id) = record_id(&headers) {
                if !seen.insert(id) {
                    opened.repeated += 1;
                }
            }
        }
        if seen.len() as u64 > REMEMBERED {
            opened.uncounted = true;
            seen.clear();
        }
    }
    Ok(whole)
}

/// What every line a sink writes has: a record's place (`topic`, `partition`, `offset`).
#[derive(serde::Deserialize)]
struct SinkLine {
    #[allow(dead_code)]
    topic: String,
    #[allow(dead_code)]
    partition: i32,
    #[allow(dead_code)]
    offset: i64,
}

/// The part of a stored line that names its record.
#[derive(serde::Deserialize)]
struct StoredRecord {
    #[serde(default)]
    headers: std::collections::BTreeMap<String, Option<String>>,
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
        let line =
            |offset: i64| serde_json::json!({"topic": "t", "partition": 0, "offset": offset});
        sink.write_line(&line(1)).unwrap();
        // Buffered until a second has passed since the last flush.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        sink.last_flush -= FLUSH_EVERY;
        sink.flush_if_due().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"topic\":\"t\",\"partition\":0,\"offset\":1}\n"
        );
        drop(sink);
        let mut again = Sink::open(&path).unwrap();
        again.write_line(&line(2)).unwrap();
        drop(again);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    }

    fn record(run: &str, seq: u64) -> ConsumedRecord {
        ConsumedRecord {
            topic: "t".into(),
            partition: 0,
            offset: seq as i64,
            timestamp_ms: None,
            timestamp_type: "create",
            key: None,
            value: Some(b"v".to_vec()),
            headers: vec![
                (RUN_HEADER.into(), Some(run.as_bytes().to_vec())),
                (SEQ_HEADER.into(), Some(seq.to_string().into_bytes())),
            ],
        }
    }

    /// After a kill -9: the half line is cut off (not kept as a broken line), the records
    /// already there are known, and those written again are counted.
    #[test]
    fn a_crash_leaves_whole_lines_and_repeats_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crashed.jsonl");
        let mut sink = Sink::open(&path).unwrap();
        for seq in 0..3 {
            sink.write(&RecordJson::of_record(&record("r1", seq)))
                .unwrap();
        }
        drop(sink);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"headers\":{\"kafka-lab-r");
        std::fs::write(&path, &text).unwrap();
        let mut sink = Sink::open(&path).unwrap();
        assert_eq!(
            sink.opened.fragment_cut, 24,
            "the bytes after the last newline"
        );
        assert_eq!(sink.opened.lines, 3);
        assert!(sink.opened.said(&path).unwrap().contains("half-written"));
        // The consumer starts again from its last commit: records 1 and 2 come again.
        for seq in 1..5 {
            sink.write(&RecordJson::of_record(&record("r1", seq)))
                .unwrap();
        }
        assert_eq!(sink.repeated, 2);
        assert!(
            sink.summary().contains("2 of them were in it already"),
            "{}",
            sink.summary()
        );
        drop(sink);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 7);
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("every line parses");
        }
        let reopened = Sink::open(&path).unwrap();
        assert_eq!((reopened.opened.lines, reopened.opened.repeated), (7, 2));
        assert!(reopened
            .opened
            .said(&path)
            .unwrap()
            .contains("at least once"));
    }

    /// Lines go to disk whole, whatever the buffer's size: a kill between two flushes
    /// leaves whole lines only.
    #[test]
    fn flushes_carry_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        let mut sink = Sink::open(&path).unwrap();
        let big = "x".repeat(3000);
        for _ in 0..10 {
            sink.write_line(&serde_json::json!({ "v": big })).unwrap();
            // What the file holds now ends with a newline (or is empty).
            let on_disk = std::fs::read(&path).unwrap();
            assert!(on_disk.is_empty() || on_disk.ends_with(b"\n"));
        }
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
