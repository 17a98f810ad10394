//! A `--source` made into records: the bundled sample, a file, or the Open Brewery DB, kept
//! after its first fetch. What the loading has to say goes to the caller (lines on standard
//! error for a command, the status line for the dashboard).

use super::cache;
use super::source::{self, Dataset, FetchOptions, Progress, Source};

/// What loading has to say.
#[derive(Debug)]
pub enum Said {
    /// The set kept at `path` is used: `records`, fetched when and from where.
    Kept {
        path: String,
        records: usize,
        fetched_at: String,
        from: String,
    },
    /// The file kept at `path` cannot be used (why): fetched again.
    Unusable {
        path: String,
        why: String,
    },
    Fetching {
        url: String,
    },
    Fetch(Progress),
    Fetched {
        records: usize,
    },
    /// The fetched set is kept at `path` for the next runs, or could not be (why).
    KeptIn {
        path: String,
        failed: Option<String>,
    },
}

/// The records of `source`; `refresh` fetches the Open Brewery DB again instead of using
/// the kept set.
pub async fn load(
    source: &Source,
    refresh: bool,
    mut say: impl FnMut(Said),
) -> Result<Dataset, source::SourceError> {
    let (records, origin) = match source {
        Source::Bundled => (source::bundled(), "bundled sample".to_string()),
        Source::File(path) => (
            source::from_file(path)?,
            format!(
                "file {}",
                path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            ),
        ),
        Source::OpenBreweryDb { base_url } => {
            let kept = cache::path_for(base_url);
            if let Some(p) = kept.as_deref().filter(|_| !refresh) {
                let path = p.display().to_string();
                match cache::read(p) {
                    Ok(Some(c)) => {
                        let origin = format!("Open Brewery DB, fetched {}", day(&c.fetched_at));
                        say(Said::Kept {
                            path,
                            records: c.records.len(),
                            fetched_at: c.fetched_at,
                            from: c.from,
                        });
                        return Ok(Dataset::new(c.records).with_origin(origin));
                    }
                    Ok(None) => {}
                    Err(why) => say(Said::Unusable { path, why }),
                }
            }
            say(Said::Fetching {
                url: base_url.clone(),
            });
            let fetched =
                source::fetch_api(base_url, &FetchOptions::default(), |p| say(Said::Fetch(p)))
                    .await;
            let records = match fetched {
                Ok(records) => records,
                Err(source::SourceError::Fetch { url, detail }) if refresh => {
                    // The way out the error's own advice misses: the set kept before.
                    let kept = kept
                        .as_deref()
                        .and_then(|p| cache::read(p).ok().flatten())
                        .map(|c| {
                            format!(
                                "; the set kept on {} is untouched: without --refresh it is used",
                                day(&c.fetched_at)
                            )
                        })
                        .unwrap_or_default();
                    return Err(source::SourceError::Fetch {
                        url,
                        detail: format!("{detail}{kept}"),
                    });
                }
                Err(e) => return Err(e),
            };
            say(Said::Fetched {
                records: records.len(),
            });
            if let Some(path) = kept {
                let failed = cache::write(&path, base_url, &records)
                    .err()
                    .map(|e| e.to_string());
                say(Said::KeptIn {
                    path: path.display().to_string(),
                    failed,
                });
            }
            let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
            (records, format!("Open Brewery DB, fetched {}", day(&now)))
        }
    };
    Ok(Dataset::new(records).with_origin(origin))
}

/// The day of an RFC 3339 time: `2026-12-07`.
fn day(rfc3339: &str) -> &str {
    rfc3339.get(..10).unwrap_or(rfc3339)
}
