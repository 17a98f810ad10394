//! Reading `config.ini`: sections, `${ENV}` values, and lines that are not `key = value` (each
//! named by its line, its value never shown).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ini::{Ini, ParseOption};

use super::{ConfigError, Origin, Role, Setting};

/// Keys set again that are named one by one; the rest are counted.
const MOST_REPEAT_WARNINGS: usize = 10;

/// A parsed `config.ini`.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// (section, setting) in file order; values have `${NAME}` expanded.
    pub(super) entries: Vec<(String, Setting)>,
    pub warnings: Vec<String>,
}

/// A config file is a few dozen lines; anything past this is no config file.
pub const MAX_BYTES: u64 = 1 << 20;

impl ConfigFile {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            crate::text::read_text_file(path, MAX_BYTES).map_err(|error| ConfigError::Read {
                path: path.to_path_buf(),
                error,
            })?;
        Self::parse(path, &text, |name| std::env::var(name).ok())
    }

    /// Parses `text` (read from `path`), expanding `${NAME}` with `env`.
    pub fn parse(
        path: &Path,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        // Editors on Windows start files with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        check_lines(path, text)?;
        let options = ParseOption {
            // Passwords may hold quotes and backslashes: take values literally.
            enabled_quote: false,
            enabled_escape: false,
            ..ParseOption::default()
        };
        // Every line was checked above; this catches what rust-ini refuses besides.
        let ini = Ini::load_from_str_opt(text, options).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            line: (e.line + 1).min(text.lines().count().max(1)),
            message: "rust-ini cannot read this line".to_string(),
        })?;
        let lines = key_lines(text);
        // The lines each (section, key) is set on, in order: looked up, not searched (a file
        // may repeat a key many times).
        let mut lines_of: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (s, k, line) in &lines {
            lines_of
                .entry((s.as_str(), k.as_str()))
                .or_default()
                .push(*line);
        }
        let mut entries = Vec::new();
        let mut warnings = Vec::new();
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        let mut repeats = 0usize;
        for (section, props) in &ini {
            let section = section.unwrap_or("default").to_string();
            if !matches!(section.as_str(), "default" | "producer" | "consumer") {
                let line = lines
                    .iter()
                    .find(|(s, _, _)| *s == section)
                    .map_or(0, |l| l.2);
                warnings.push(format!(
                    "{}:{line}: section [{section}] is not used (kafka-lab reads [default], [producer] and [consumer])",
                    path.display()
                ));
                continue;
            }
            for (key, raw) in props {
                // The n-th occurrence of (section, key) in the text is the n-th one rust-ini gives.
                let count = seen.entry((section.clone(), key.to_string())).or_insert(0);
                let nth = *count;
                *count += 1;
                let same = lines_of.get(&(section.as_str(), key)).map(Vec::as_slice);
                let first = same.and_then(|l| l.first()).copied().unwrap_or(0);
                let line = same.and_then(|l| l.get(nth)).copied().unwrap_or(0);
                if nth > 0 {
                    repeats += 1;
                    if repeats <= MOST_REPEAT_WARNINGS {
                        warnings.push(format!(
                            "{}:{line}: `{key}` is set again in [{section}] (first at line {first}); the last one counts",
                            path.display()
                        ));
                    }
                }
                let origin = Origin::File {
                    path: path.to_path_buf(),
                    line,
                    section: section.clone(),
                };
                let value = expand_env(raw.trim(), &env).map_err(|e| match e {
                    EnvError::Missing(name) => ConfigError::MissingEnv {
                        origin: Box::new(origin.clone()),
                        key: key.to_string(),
                        name,
                    },
                    EnvError::Empty => ConfigError::BadEnv {
                        origin: Box::new(origin.clone()),
                        key: key.to_string(),
                        what: "`${}`, which names no variable",
                    },
                    EnvError::Unclosed => ConfigError::BadEnv {
                        origin: Box::new(origin.clone()),
                        key: key.to_string(),
                        what: "a `${` without its closing `}` (write `$${` for a literal `${`)",
                    },
                })?;
                entries.push((
                    section.clone(),
                    Setting {
                        key: key.to_string(),
                        value,
                        origin,
                    },
                ));
            }
        }
        if repeats > MOST_REPEAT_WARNINGS {
            warnings.push(format!(
                "{}: {} more lines set a key again (the last of each counts)",
                path.display(),
                repeats - MOST_REPEAT_WARNINGS
            ));
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            entries,
            warnings,
        })
    }

    pub(super) fn section<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Setting> + 'a {
        self.entries
            .iter()
            .filter(move |(s, _)| s == name)
            .map(|(_, setting)| setting)
    }

    /// `bootstrap.servers` as the file sets it for `role`, if it does.
    pub fn bootstrap_servers(&self, role: Role) -> Option<&str> {
        self.section("default")
            .chain(self.section(role.section()))
            .filter(|s| s.key == "bootstrap.servers")
            .last()
            .map(|s| s.value.as_str())
    }
}

/// Each line is a `[section]`, a `key = value`, a comment or blank; the first that is not is
/// an error naming its line, never its text (it may hold a secret).
fn check_lines(path: &Path, text: &str) -> Result<(), ConfigError> {
    let error = |line: usize, message: &str| ConfigError::Syntax {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            match rest.strip_suffix(']') {
                None => return Err(error(i + 1, "a section header needs its closing `]`")),
                Some(name) if name.trim().is_empty() => {
                    return Err(error(
                        i + 1,
                        "a section header needs a name, e.g. [producer]",
                    ))
                }
                Some(_) => {}
            }
        } else {
            match line.find(['=', ':']) {
                None => {
                    return Err(error(
                        i + 1,
                        "this line is neither [section] nor key = value (its text is not shown: it may hold a secret)",
                    ))
                }
                Some(0) => return Err(error(i + 1, "this line has a value but no key")),
                // rust-ini carries a value ending with `\` on to the next line: that line (a
                // password, say) would become part of this value, and be shown with it.
                Some(_) if line.ends_with('\\') => {
                    return Err(error(
                        i + 1,
                        "this value ends with `\\`, which carries it on to the next line in this \
                         format: write the whole value on one line (the line is not shown: it may \
                         hold a secret)",
                    ))
                }
                Some(end) if !is_property_name(line[..end].trim()) => {
                    return Err(error(
                        i + 1,
                        "what stands before `=` is not a property name (the line is not shown: it may hold a secret)",
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Letters, digits, `.`, `_` and `-`: what librdkafka's property names are made of.
pub(super) fn is_property_name(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// (section, key, 1-based line) of every `key = value` line, for error messages.
fn key_lines(text: &str) -> Vec<(String, String, usize)> {
    let mut section = "default".to_string();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            section = rest.trim_end_matches(']').trim().to_string();
            out.push((section.clone(), String::new(), i + 1));
        } else if let Some(pos) = line.find(['=', ':']) {
            out.push((section.clone(), line[..pos].trim().to_string(), i + 1));
        }
    }
    out
}

#[derive(Debug, PartialEq)]
enum EnvError {
    Missing(String),
    Empty,
    Unclosed,
}

/// Replaces each `${NAME}` with the variable's value.
fn expand_env(value: &str, env: impl Fn(&str) -> Option<String>) -> Result<String, EnvError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        // `$${` is a literal `${` (a password may hold one).
        if rest[..start].ends_with('$') {
            out.push_str(&rest[..start - 1]);
            out.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        let Some(len) = rest[start + 2..].find('}') else {
            return Err(EnvError::Unclosed);
        };
        let name = &rest[start + 2..start + 2 + len];
        if name.trim().is_empty() {
            return Err(EnvError::Empty);
        }
        out.push_str(&rest[..start]);
        out.push_str(&env(name).ok_or_else(|| EnvError::Missing(name.to_string()))?);
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    Ok(out)
}
