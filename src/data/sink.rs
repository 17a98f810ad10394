//! A JSON-lines file that consumed records go to: flushed at least once a second, so a crash
//! loses at most the last second of records.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::kafka::consumer::ConsumedRecord;
use crate::text::printable;

const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// A sink the dashboard's consumers share; `None` while it is off.
pub type SharedSink = Arc<Mutex<Option<Sink>>>;

/// A record with its metadata as one JSON object: what `consume --output json` prints and a
/// sink stores. Text that is not UTF-8 is escaped.
pub fn record_line(r: &ConsumedRecord) -> serde_json::Value {
    let text = |b: &Option<Vec<u8>>| {
        b.as_deref()
            .map(|b| String::from_utf8(b.to_vec()).unwrap_or_else(|_| printable(b)))
    };
    let headers: serde_json::Map<String, serde_json::Value> = r
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), text(v).into()))
        .collect();
    serde_json::json!({
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "timestamp_ms": r.timestamp_ms,
        "timestamp_type": r.timestamp_type,
        "key": text(&r.key),
        "value": text(&r.value),
        "headers": headers,
    })
}

pub struct Sink {
    path: PathBuf,
    writer: BufWriter<File>,
    last_flush: Instant,
    pub written: u64,
}

impl Sink {
    /// Opens `path` for appending (creating it).
    pub fn open(path: &Path) -> std::io::Result<Sink> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
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

    pub fn write(&mut self, line: &serde_json::Value) -> std::io::Result<()> {
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
}
