//! The Open Brewery DB, fetched once and kept in the user's cache directory: read from there
//! on every later run (offline too) until `--refresh`. Written whole or not at all.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::source::Brewery;

/// Bumped when the file's shape changes: an older file is fetched again, not misread.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct File {
    format: u32,
    /// The API address the records came from.
    from: String,
    /// When, RFC 3339 in UTC.
    fetched_at: String,
    records: Vec<Brewery>,
}

/// A data set read back from the cache.
#[derive(Debug)]
pub struct Cached {
    pub records: Vec<Brewery>,
    pub from: String,
    pub fetched_at: String,
}

/// Where kafka-lab keeps what it fetched: `$XDG_CACHE_HOME/kafka-lab`, else
/// `~/.cache/kafka-lab`.
pub fn dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("kafka-lab"))
}

/// The file for the API at `base_url`: one per address, so a mirror's set stays apart.
pub fn path_for(base_url: &str) -> Option<PathBuf> {
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let hash = base_url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    Some(dir()?.join(format!("openbrewerydb-{hash:016x}.json")))
}

/// The data set kept at `path`: None when there is none; an error (why) when the file is
/// there but cannot be used (cut short, not this shape, empty).
pub fn read(path: &Path) -> Result<Option<Cached>, String> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let file: File = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
    if file.format != FORMAT {
        return Err(format!(
            "written in format {}, this kafka-lab reads {FORMAT}",
            file.format
        ));
    }
    if file.records.is_empty() {
        return Err("it holds no records".into());
    }
    Ok(Some(Cached {
        records: file.records,
        from: file.from,
        fetched_at: file.fetched_at,
    }))
}

/// Keeps `records` fetched from `from` at `path`: written to a file beside it, synced, then
/// renamed over it, so a run killed meanwhile leaves the old file or none, never half of one.
pub fn write(path: &Path, from: &str, records: &[Brewery]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let file = File {
        format: FORMAT,
        // Never a password of the address on disk.
        from: crate::text::secrets::redact_urls(from).unwrap_or_else(|| from.to_string()),
        fetched_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        records: records.to_vec(),
    };
    let text = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
    let partial = path.with_extension(format!("json.{}.partial", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&partial)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&partial, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_whole_read_back_and_a_cut_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("set.json");
        assert!(read(&path).unwrap().is_none(), "nothing kept yet");
        let records: Vec<Brewery> = crate::data::source::bundled()[..3].to_vec();
        write(&path, "http://mirror", &records).unwrap();
        let back = read(&path).unwrap().unwrap();
        assert_eq!(back.records, records);
        assert_eq!(back.from, "http://mirror");
        assert!(back.fetched_at.ends_with('Z'));
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "no partial file left beside it");
        // Cut short, as a full disk or a kill of an older writer would leave it.
        let text = std::fs::read(&path).unwrap();
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert!(read(&path).is_err());
        std::fs::write(
            &path,
            br#"{"format":9,"from":"x","fetched_at":"x","records":[]}"#,
        )
        .unwrap();
        assert!(read(&path).unwrap_err().contains("format 9"));
        // An address's password never reaches the disk.
        write(&path, "http://user:Pw0rd@mirror:8080", &records).unwrap();
        let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
        assert!(!text.contains("Pw0rd"), "{}", &text[..80]);
    }

    #[test]
    fn each_address_has_its_own_file() {
        let a = path_for("https://api.openbrewerydb.org").unwrap();
        let b = path_for("http://127.0.0.1:8080").unwrap();
        assert_ne!(a, b);
        assert_eq!(a, path_for("https://api.openbrewerydb.org").unwrap());
        assert!(a.to_string_lossy().contains("kafka-lab"));
    }
}
