//! Where a command will write, checked before it connects: a run of minutes must not end in
//! "cannot write" with its results lost.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// `path` can take a file this command writes: its folder exists and takes files, and nothing
/// is there, or (with `force`) a regular file to replace.
pub fn file(path: &Path, flag: &str, force: bool) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() && force => {}
        Ok(m) if m.is_file() => bail!(
            "{flag} {}: the file exists; add --force to replace it, or give another path",
            path.display()
        ),
        Ok(_) => bail!(
            "{flag} {}: it exists and is not a regular file; give a file's path",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("{flag} {}: {e}", path.display()),
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    takes_files(parent).with_context(|| format!("{flag} {}", path.display()))
}

/// `dir` is (or is made) a folder that takes files.
pub fn folder(dir: &Path, flag: &str) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        bail!(
            "{flag} {}: it exists and is not a folder; give a folder's path",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{flag} {}: cannot make the folder", dir.display()))?;
    takes_files(dir).with_context(|| format!("{flag} {}", dir.display()))
}

/// `dir` is (or is made) a folder for a report of `files`: none of them is there already,
/// unless `force` (a report is not overwritten by accident).
pub fn report_folder(dir: &Path, flag: &str, files: &[&str], force: bool) -> Result<()> {
    folder(dir, flag)?;
    if !force {
        if let Some(there) = files.iter().find(|f| dir.join(f).exists()) {
            bail!(
                "{flag} {}: it holds a report already ({there}); add --force to replace it, or \
                 give another folder",
                dir.display()
            );
        }
    }
    Ok(())
}

/// A file can be made in `dir` (tried with one, then removed).
fn takes_files(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir).with_context(|| format!("the folder {}", dir.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    let probe = dir.join(format!(".kafka-lab-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write in the folder {}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_refused_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("runs.csv");
        std::fs::write(&existing, "x").unwrap();
        let cases: [(&Path, bool, Option<&str>); 6] = [
            (&dir.path().join("new.csv"), false, None),
            (&existing, false, Some("--force")),
            (&existing, true, None),
            (dir.path(), false, Some("not a regular file")),
            (Path::new("/nonexistent/x.csv"), false, Some("/nonexistent")),
            (Path::new("/proc/x.csv"), false, Some("cannot write")),
        ];
        for (path, force, refused) in cases {
            let result = file(path, "--csv", force).map_err(|e| format!("{e:#}"));
            match refused {
                None => assert!(result.is_ok(), "{}: {result:?}", path.display()),
                Some(why) => {
                    let e = result.unwrap_err();
                    assert!(
                        e.contains(why) && e.contains("--csv"),
                        "{}: {e}",
                        path.display()
                    );
                }
            }
        }
        assert!(folder(&dir.path().join("a/b"), "--report").is_ok());
        let e = format!("{:#}", folder(&existing, "--report").unwrap_err());
        assert!(e.contains("not a folder"), "{e}");
        assert!(folder(Path::new("/proc/x"), "--report").is_err());
    }
}
