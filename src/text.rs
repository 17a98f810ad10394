//! Turning bytes, values and times into text for a terminal or a log line.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// A value as a logfmt field: quoted when it holds spaces, quotes or `=`.
pub fn logfmt(value: &str) -> String {
    if value.is_empty() || value.contains([' ', '"', '=', '\t', '\n']) {
        serde_json::to_string(value).unwrap_or_default()
    } else {
        value.to_string()
    }
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
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        out
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
                    .any(|c| c.is_control() || matches!(c, ' ' | '"' | '=')) =>
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
    if !s.chars().any(char::is_control) {
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

/// `5 s`, `2.5 s`: a length of time as the screen and reports say it.
pub fn seconds(d: std::time::Duration) -> String {
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
