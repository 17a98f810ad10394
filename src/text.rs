//! Turning bytes, values and times into text for a terminal or a log line.

pub mod secrets;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// A value as a logfmt field: quoted (as a JSON string) when it holds spaces, quotes, `=` or
/// a character a terminal would act on, which is escaped: a terminal never gets a raw escape
/// sequence from a value.
pub fn logfmt(value: &str) -> String {
    if !value.is_empty() && !value.contains([' ', '"', '=']) && !value.chars().any(unsafe_char) {
        return value.to_string();
    }
    let json = serde_json::to_string(value).unwrap_or_default();
    // JSON escapes C0 controls only: DEL, C1 and the bidirectional overrides too.
    if !json.chars().any(unsafe_char) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Text from a file, a record or a server, safe for a terminal or a report: control
/// characters (C0, DEL, C1: escape sequences, bells, carriage returns) and the characters that
/// reorder text (bidirectional overrides) escaped as `\u{1b}`.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape`], keeping line breaks and tabs: for text of many lines (a report, a description).
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    let unsafe_here = |c: char| unsafe_char(c) && !matches!(c, '\n' | '\t');
    if !text.chars().any(unsafe_here) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_here(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Makes JSON text safe for a terminal without changing what it decodes to: the characters
/// JSON leaves raw and a terminal acts on (DEL, C1, bidirectional overrides; C0 is escaped
/// by any JSON writer) become `\uXXXX` escapes, which only occur inside strings.
pub fn json_safe(json: &mut Vec<u8>) {
    // Plain ASCII without DEL: nothing to do (the common case, one pass over the bytes).
    if json.iter().all(|b| *b < 0x7f) {
        return;
    }
    let Ok(text) = std::str::from_utf8(json) else {
        return;
    };
    if !text.chars().any(unsafe_char) {
        return;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) && !matches!(c, '\n' | '\t' | '\r') {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    *json = out.into_bytes();
}

/// A character a terminal acts on (or that reorders what it shows) rather than prints.
pub(crate) fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Reads a text file of at most `limit` bytes: a device, a folder or a pipe (`/dev/zero`)
/// is refused at once, and a larger file is refused without reading it all into memory.
/// A byte-order mark at the start (editors on Windows write one) is dropped.
pub fn read_text_file(path: &std::path::Path, limit: u64) -> std::io::Result<String> {
    use std::io::{Error, Read};
    // Looked at before it is opened: opening a FIFO waits for a writer, for ever.
    if !std::fs::metadata(path)?.is_file() {
        return Err(Error::other("it is not a regular file"));
    }
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::other("it is not a regular file"));
    }
    if meta.len() > limit {
        return Err(Error::other(format!(
            "it is {} bytes, more than the {} this kind of file may have",
            thousands(meta.len()),
            thousands(limit)
        )));
    }
    let mut bytes = Vec::new();
    // A file that grows while it is read still stops at the limit.
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Error::other(format!(
            "it holds more than {} bytes",
            thousands(limit)
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::other(format!(
            "it is not UTF-8 text (at byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Milliseconds since the epoch as RFC 3339 UTC.
pub fn format_timestamp(ms: i64) -> String {
    timestamp_display(ms).to_string()
}

/// Milliseconds since the epoch as RFC 3339 UTC, to write without allocating.
pub fn timestamp_display(ms: i64) -> humantime::Rfc3339Timestamp {
    let t = SystemTime::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t)
}

/// Bytes as text for a terminal: UTF-8 with control characters escaped, or hex.
pub fn printable(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        escape(s).into_owned()
    } else {
        let mut hex = String::with_capacity(2 + 2 * bytes.len());
        hex.push_str("0x");
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }
}

/// Writes bytes as a logfmt field of printable text (quoted when needed); copies nothing when
/// the bytes are plain text.
pub fn write_logfmt_bytes(out: &mut impl std::io::Write, bytes: &[u8]) -> std::io::Result<()> {
    // Plain ASCII needs neither quotes nor escapes: the common case, checked byte by byte.
    let plain = |b: &u8| b.is_ascii_graphic() && !matches!(b, b'"' | b'=');
    if !bytes.is_empty() && bytes.iter().all(plain) {
        return out.write_all(bytes);
    }
    match std::str::from_utf8(bytes) {
        Ok(s)
            if !s.is_empty()
                && !s
                    .chars()
                    .any(|c| unsafe_char(c) || matches!(c, ' ' | '"' | '=')) =>
        {
            out.write_all(bytes)
        }
        _ => out.write_all(logfmt(&printable(bytes)).as_bytes()),
    }
}

/// Writes bytes as printable text cut to `max` characters (with `…`); copies nothing when
/// the bytes are plain text.
pub fn write_printable_cut(
    out: &mut impl std::io::Write,
    bytes: &[u8],
    max: usize,
) -> std::io::Result<()> {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return out.write_all(shorten(&printable(bytes), max).as_bytes());
    };
    // Printable ASCII up to the cut: a character is a byte, and what follows is not shown.
    let head = &bytes[..bytes.len().min(max + 1)];
    if max > 0 && head.iter().all(|b| (0x20..0x7f).contains(b)) {
        if bytes.len() <= max {
            return out.write_all(bytes);
        }
        out.write_all(&bytes[..max - 1])?;
        return out.write_all("…".as_bytes());
    }
    if !s.chars().any(unsafe_char) {
        if s.char_indices().nth(max).is_none() {
            return out.write_all(bytes);
        }
        let end = s.char_indices().nth(max - 1).map_or(0, |(i, _)| i);
        out.write_all(&bytes[..end])?;
        return out.write_all("…".as_bytes());
    }
    out.write_all(shorten(&printable(bytes), max).as_bytes())
}

/// Shortens to at most `max` columns of a terminal (wide characters take two), marking the
/// cut with `…`.
pub fn shorten(text: &str, max: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if text.width() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `5 s`, `2.5 s`, `20 ms`: a length of time as the screen and reports say it (under a tenth
/// of a second in milliseconds, so that 5 ms is not "0.0 s").
pub fn seconds(d: std::time::Duration) -> String {
    if !d.is_zero() && d.as_micros() < 1000 {
        return format!("{} µs", d.as_micros().max(1));
    }
    if !d.is_zero() && d.as_millis() < 100 {
        let ms = d.as_secs_f64() * 1000.0;
        return if ms.fract() == 0.0 {
            format!("{ms:.0} ms")
        } else {
            format!("{ms:.1} ms")
        };
    }
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The time of day in UTC with milliseconds, `19:40:01.123` (screens say UTC where they show
/// it).
pub fn time_of_day(t: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_millis(t).to_string();
    stamp[11..23].to_string()
}

/// `1 row`, `2 rows`, `1,000 records`: a count and its noun, singular for one.
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    format!(
        "{} {}",
        thousands(n),
        if n == 1 { singular } else { plural }
    )
}

/// A count with thousands separators: 1,234,567.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short times are not rounded to nothing: 5 ms is "5 ms", never "0.0 s".
    #[test]
    fn seconds_keep_short_times() {
        use std::time::Duration;
        assert_eq!(seconds(Duration::ZERO), "0 s");
        assert_eq!(seconds(Duration::from_millis(5)), "5 ms");
        assert_eq!(seconds(Duration::from_micros(1500)), "1.5 ms");
        assert_eq!(seconds(Duration::from_micros(40)), "40 µs");
        assert_eq!(seconds(Duration::from_millis(250)), "0.2 s");
        assert_eq!(seconds(Duration::from_secs(45)), "45 s");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
    }

    #[test]
    fn logfmt_quotes_only_when_needed() {
        assert_eq!(logfmt("abc"), "abc");
        assert_eq!(logfmt("New York"), "\"New York\"");
        assert_eq!(logfmt("a\"b"), "\"a\\\"b\"");
        assert_eq!(logfmt(""), "\"\"");
    }

    #[test]
    fn writers_match_the_allocating_forms() {
        let long_ascii = "x".repeat(300);
        let ascii_then_binary = [b"y".repeat(200), vec![0xff, 0x01]].concat();
        let ascii_then_control = [b"z".repeat(200), b"\n".to_vec()].concat();
        let cases: [&[u8]; 10] = [
            long_ascii.as_bytes(),
            &ascii_then_binary,
            &ascii_then_control,
            b"plain",
            b"New York",
            b"a\nb",
            b"",
            &[0xff, 0x00],
            "Köln".as_bytes(),
            b"x=y",
        ];
        for b in cases {
            let mut out = Vec::new();
            write_logfmt_bytes(&mut out, b).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                logfmt(&printable(b)),
                "{b:?}"
            );
            for max in [1, 3, 120] {
                let mut out = Vec::new();
                write_printable_cut(&mut out, b, max).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    shorten(&printable(b), max),
                    "{b:?} {max}"
                );
            }
        }
    }

    #[test]
    fn printable_escapes_controls_and_hex_encodes_binary() {
        assert_eq!(printable(b"K\xc3\xb6ln"), "Köln");
        assert_eq!(printable(b"a\nb\x1b[2J"), "a\\nb\\u{1b}[2J");
        assert_eq!(printable(&[0xff, 0x00, 0x10]), "0xff0010");
    }

    #[test]
    fn json_stays_json_and_safe() {
        let value = "a\u{7f}b\u{9b}2J\u{202e}c";
        let mut json = serde_json::to_vec(&serde_json::json!({ "v": value })).unwrap();
        json_safe(&mut json);
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(!text.contains(['\u{7f}', '\u{9b}', '\u{202e}']), "{text}");
        let back: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(back["v"], value, "decodes to the same value");
    }

    #[test]
    fn shorten_marks_the_cut() {
        // Cut by display width: a CJK character takes two columns.
        assert_eq!(shorten("日本語テキスト", 5), "日本…");
        assert_eq!(shorten("abcdef", 10), "abcdef");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("ääääää", 3), "ää…");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(
            format_timestamp(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
    }

    #[test]
    fn clock_and_counts() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(time_of_day(t), "22:13:20.123");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
