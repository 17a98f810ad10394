//! The source keeps its shape: which module may use which (as `src/lib.rs` says), every key
//! named on screen comes from the keymap, and no file grows past 500 lines of code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's top modules, and those each may use (besides itself), as `src/lib.rs` says.
fn allowed() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let base = [
        "text", "stats", "config", "kafka", "data", "cli", "target", "runtime", "progress",
    ];
    let with = |extra: &[&'static str]| -> BTreeSet<&'static str> {
        base.iter().chain(extra).copied().collect()
    };
    BTreeMap::from([
        ("text", BTreeSet::from(["stats"])),
        ("stats", BTreeSet::from(["text"])),
        ("config", BTreeSet::from(["text"])),
        ("kafka", BTreeSet::from(["config", "stats", "text"])),
        ("data", BTreeSet::from(["config", "kafka", "stats", "text"])),
        ("cli", with(&[])),
        ("target", with(&[])),
        ("runtime", with(&[])),
        ("progress", with(&[])),
        ("commands", with(&[])),
        ("lab", with(&[])),
        ("ui", BTreeSet::from(["lab", "stats", "text"])),
        ("scenario", with(&["lab"])),
        ("dashboard", with(&["lab", "ui", "scenario"])),
    ])
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = Some(dir.to_path_buf())
        .filter(|d| d.is_dir())
        .into_iter()
        .collect();
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The files of a top module: `src/m.rs` and everything under `src/m/`.
fn module_files(module: &str) -> Vec<PathBuf> {
    let mut out = files(&src().join(module));
    let single = src().join(format!("{module}.rs"));
    if single.exists() {
        out.push(single);
    }
    out
}

/// A file's code before its tests (a `#[cfg(test)]` module at the end, or a file of tests),
/// without comments.
fn code(path: &Path) -> Vec<(usize, String)> {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return Vec::new();
    }
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .take_while(|(_, l)| !l.starts_with("#[cfg(test)]"))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

#[test]
fn modules_use_only_what_lib_rs_allows() {
    let allowed = allowed();
    let mut broken = Vec::new();
    for (module, may) in &allowed {
        for path in module_files(module) {
            for (n, line) in code(&path) {
                for (at, _) in line.match_indices("crate::") {
                    let mut used: String = line[at + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    // `crate::errln!`: the macros of `runtime::out`, exported at the root.
                    if line[at + 7 + used.len()..].starts_with('!') {
                        used = "runtime".to_string();
                    }
                    if used != *module && !may.contains(used.as_str()) {
                        broken.push(format!("{}:{n}: {module} uses {used}", path.display()));
                    }
                }
            }
        }
    }
    // Every top module is in the table.
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if !["lib", "main"].contains(&name.as_str()) {
            assert!(
                allowed.contains_key(name.as_str()),
                "{name} has no rule in tests/layout.rs"
            );
        }
    }
    assert!(
        broken.is_empty(),
        "imports across a forbidden edge:\n{}",
        broken.join("\n")
    );
}

/// The string literals of a file's code, with the line each starts on (enough of Rust's
/// syntax for this source).
fn literals(code: &[(usize, String)]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in code {
        let mut chars = line.chars();
        let mut previous = ' ';
        while let Some(c) = chars.next() {
            match (&mut current, c) {
                (None, '"') if previous != '\'' => current = Some((*n, String::new())),
                (None, _) => {}
                (Some((_, s)), '\\') => {
                    // A line's end escaped: the string goes on without it.
                    if let Some(next) = chars.next() {
                        s.push('\\');
                        s.push(next);
                    }
                }
                (Some(_), '"') => out.extend(current.take()),
                (Some((_, s)), c) => s.push(c),
            }
            previous = c;
        }
        if let Some((_, s)) = &mut current {
            s.push(' ');
        }
    }
    out
}

/// The keys the keymap names, split: named keys (`Esc`, `Shift-Tab`) and one-character keys
/// (`q`, `?`), as the labels write them.
fn keymap_keys() -> (Vec<String>, Vec<char>) {
    let mut named = Vec::new();
    let mut single = Vec::new();
    for b in kafka_lab::lab::state::keymap::KEYMAP {
        for key in b.label.split(", ") {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_graphic() => single.push(c),
                // Arrows alone also point at things (`↑ 3 above`, `1 → all`): pairs below.
                (Some(c), None) if "↑↓←→".contains(c) => {}
                _ if key.contains(' ') => {} // "typing", "any other key"
                _ => named.push(key.to_string()),
            }
        }
    }
    named.sort();
    named.dedup();
    single.sort_unstable();
    single.dedup();
    (named, single)
}

/// A key written by hand in `text`, if any.
fn hand_written_key(text: &str) -> Option<String> {
    let (named, single) = keymap_keys();
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    if let Some(named) = named.iter().find(|k| words.iter().any(|w| w == *k)) {
        return Some(named.clone());
    }
    for arrows in ["↑↓", "← →", "←→", "j/k"] {
        if text.contains(arrows) {
            return Some(arrows.to_string());
        }
    }
    // A main-screen key by itself: `s edits`, `(l shows it)`, `Settings (s)`, `(q quits)`.
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        // A unit after a number (`5 s)`) is no key.
        let after_number =
            i >= 2 && chars[i - 1] == ' ' && (chars[i - 2].is_ascii_digit() || chars[i - 2] == '}');
        let alone_before = (i == 0 || matches!(chars[i - 1], ' ' | '(' | '·')) && !after_number;
        if !alone_before || !single.contains(c) {
            continue;
        }
        let rest: String = chars[i + 1..].iter().collect();
        let verb = rest
            .strip_prefix(' ')
            .and_then(|r| r.split(|ch: char| !ch.is_ascii_lowercase()).next())
            .is_some_and(|w| w.len() > 2 && w.ends_with('s'));
        if rest.starts_with(')') || rest.starts_with(", then") || verb {
            return Some(format!("{c}{}", rest.chars().take(12).collect::<String>()));
        }
    }
    None
}

#[test]
fn every_key_on_screen_comes_from_the_keymap() {
    let mut found = Vec::new();
    for dir in ["ui", "lab"] {
        for path in files(&src().join(dir)) {
            if path.components().any(|c| c.as_os_str() == "keymap") {
                continue;
            }
            for (n, text) in literals(&code(&path)) {
                {
                    if let Some(key) = hand_written_key(&text) {
                        found.push(format!("{}:{n}: `{key}` in \"{text}\"", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "keys written by hand (name them with keymap::key(mode, action)):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_key_check_finds_what_it_must() {
    for text in [
        "Esc closes",
        "s edits; Enter applies",
        "error: {e} (l shows it in full)",
        " Settings (s) ",
        "↑↓ row",
        "select with Tab, then j/k PgUp PgDn",
        "m marks two to compare",
        "Make the window larger (q quits).",
        "↑, Shift-Tab previous field",
        "created (a, then switch, moves to it)",
    ] {
        assert!(hand_written_key(text).is_some(), "{text}");
    }
    for text in [
        "acks: 1 → all",
        "partitions added (6 → 8)",
        "a run of 5 s",
        "latency ({:.0} s):",
        "{} edits",
        "endless",
        "records/s",
    ] {
        assert_eq!(hand_written_key(text), None, "{text}");
    }
}

/// Pure data tables may be longer: the keymap and the figures.
const TABLES: [&str; 2] = ["keymap/table.rs", "figures/table.rs"];

#[test]
fn no_file_has_more_than_500_lines_of_code() {
    let long: Vec<String> = files(&src())
        .into_iter()
        .filter(|p| !TABLES.iter().any(|t| p.ends_with(t)))
        .map(|p| (code_lines(&p), p))
        .filter(|(n, _)| *n > 500)
        .map(|(n, p)| format!("{}: {n} lines", p.display()))
        .collect();
    assert!(long.is_empty(), "split these:\n{}", long.join("\n"));
}

/// Lines before a file's tests.
fn code_lines(path: &Path) -> usize {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return 0;
    }
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .count()
}

/// Every line for a person goes through `runtime::out` (`outln!`, `errln!`): scrubbed of
/// secrets, escaped, and no panic when the reader is gone. The bare macros would skip all
/// three.
#[test]
fn every_line_goes_through_runtime_out() {
    let mut found = Vec::new();
    for path in files(&src()) {
        if path.ends_with("runtime/out.rs") {
            continue;
        }
        for (n, line) in code(&path) {
            for bare in ["println!", "eprintln!", "print!(", "eprint!("] {
                let at = line
                    .match_indices(bare)
                    .any(|(i, _)| !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                if at {
                    found.push(format!("{}:{n}: {}", path.display(), line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "use outln!/out!/errln!:\n{}",
        found.join("\n")
    );
}
