//! Secrets never leave the process: every secret value in force is kept here when the settings
//! are read, and every text that can carry a library's words (an error, a log line, an event, a
//! report) is scrubbed of them before anyone sees it. librdkafka echoes a value in its errors,
//! whole or from some word of it on (`Unrecognized sasl.oauthbearer.config beginning at:
//! ...`), so those tails are scrubbed too; so is the user information of any URL.

use std::borrow::Cow;
use std::sync::RwLock;

/// What a secret becomes.
pub const HIDDEN: &str = "***";

/// A tail of a secret shorter than this is left alone: a word like `=1` would mangle every
/// text it appears in, and says nothing of the secret.
const SHORTEST_TAIL: usize = 4;

/// The texts to hide, longest first: each secret value, and its tails from each word on.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Keeps `value` (a password, a key, a token, a JAAS line) to be scrubbed from every text
/// from now on.
pub fn keep(value: &str) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    let mut hidden: Vec<String> = vec![value.to_string()];
    let starts = value
        .char_indices()
        .zip(value.chars().skip(1))
        .filter(|((_, c), next)| is_separator(*c) && !is_separator(*next))
        .map(|((i, c), _)| i + c.len_utf8());
    hidden.extend(
        starts
            .map(|i| value[i..].to_string())
            .filter(|tail| tail.chars().count() >= SHORTEST_TAIL),
    );
    let Ok(mut secrets) = SECRETS.write() else {
        return;
    };
    for h in hidden {
        if !secrets.contains(&h) {
            secrets.push(h);
        }
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '=' | ',' | ';' | ':' | '"' | '\'' | '&' | '?' | '/')
}

/// `text` without any secret kept, nor the user information of a URL (`http://***@host`).
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Ok(secrets) = SECRETS.read() {
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(hide(&out, secret));
            }
        }
    }
    match redact_urls(&out) {
        Some(redacted) => Cow::Owned(redacted),
        None => out,
    }
}

/// `text` with `secret` hidden: everywhere when it is long enough to be no common word, else
/// only where it stands as a word of its own.
fn hide(text: &str, secret: &str) -> String {
    if secret.chars().count() >= SHORTEST_TAIL {
        return text.replace(secret, HIDDEN);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(secret) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + secret.len()..].chars().next();
        let alone =
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..at]);
        out.push_str(if alone { HIDDEN } else { secret });
        rest = &rest[at + secret.len()..];
    }
    out.push_str(rest);
    out
}

/// Hides the user information of every URL in `text` (`scheme://user:password@host` becomes
/// `scheme://***@host`); None when there is none.
pub fn redact_urls(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find("://") {
        let authority_start = at + 3;
        let authority_end = rest[authority_start..]
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .map_or(rest.len(), |e| authority_start + e);
        let authority = &rest[authority_start..authority_end];
        out.push_str(&rest[..authority_start]);
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str(HIDDEN);
                out.push_str(&authority[userinfo_end..]);
                changed = true;
            }
            None => out.push_str(authority),
        }
        rest = &rest[authority_end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The user information of each URL in `value`, to keep as a secret (a password in a URL is
/// one). A URL runs from its `://` (or the value's start) to the next URL; its user information
/// ends at its last `@` when what comes before holds a `user:password` (whatever else it holds:
/// a password may have `/`, `?`, `#` or spaces no URL parser takes) or no `/` (a token). So
/// `alice@corp` (no password) and `http://h/p@x` (an `@` in a path) keep nothing.
pub fn keep_url_userinfo(value: &str) {
    let starts: Vec<usize> = value.match_indices("://").map(|(at, _)| at + 3).collect();
    let segments: Vec<(usize, usize)> = if starts.is_empty() {
        vec![(0, value.len())]
    } else {
        starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let end = starts.get(i + 1).map_or(value.len(), |next| {
                    // The next URL's scheme is not part of this one.
                    value[..next - 3]
                        .rfind(|c: char| c.is_whitespace() || c == ',')
                        .filter(|&at| at >= start)
                        .unwrap_or(next - 3)
                });
                (start, end)
            })
            .collect()
    };
    for (start, end) in segments {
        let segment = &value[start..end];
        let Some(at) = segment.rfind('@') else {
            continue;
        };
        let userinfo = segment[..at].trim();
        let with_password = userinfo.contains(':');
        let token = !starts.is_empty() && !userinfo.contains('/');
        if userinfo.is_empty() || !(with_password || token) {
            continue;
        }
        keep(userinfo);
        if let Some((_, password)) = userinfo.split_once(':') {
            keep(password);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_their_tails_are_hidden_wherever_they_appear() {
        keep("principal=bob SECRETxyz123=1 scope=SECRETxyz124");
        let echoed = "Failed to acquire SASL OAUTHBEARER token: Unrecognized \
                      sasl.oauthbearer.config beginning at: SECRETxyz123=1 scope=SECRETxyz124";
        let s = scrub(echoed);
        assert!(!s.contains("SECRETxyz123"), "{s}");
        assert!(!s.contains("SECRETxyz124"), "{s}");
        assert!(
            s.starts_with("Failed to acquire SASL OAUTHBEARER token"),
            "{s}"
        );
        // A short secret only where it is a word: other text stays readable.
        keep("q9");
        assert_eq!(
            scrub("password q9 is wrong; q9b stays"),
            "password *** is wrong; q9b stays"
        );
        // A text without secrets is not copied.
        assert!(matches!(scrub("nothing to hide"), Cow::Borrowed(_)));
    }

    #[test]
    fn urls_lose_their_user_information() {
        for (url, shown) in [
            ("http://user:SECRET@host:8080/v1", "http://***@host:8080/v1"),
            (
                "fetching https://t0ken@api.example.com?x=1",
                "fetching https://***@api.example.com?x=1",
            ),
            ("a://u:p@h b://h2/x", "a://***@h b://h2/x"),
        ] {
            assert_eq!(redact_urls(url).as_deref(), Some(shown), "{url}");
        }
        assert_eq!(redact_urls("https://api.openbrewerydb.org/v1"), None);
        keep_url_userinfo("http://usr:PassWord9@h/");
        assert_eq!(scrub("auth PassWord9 refused"), "auth *** refused");
        // What is no user information stays readable.
        for value in ["orders@corp", "http://h/path@x", "alice@corp.example"] {
            keep_url_userinfo(value);
        }
        assert_eq!(
            scrub("orders corp alice h path"),
            "orders corp alice h path"
        );
        // Every URL of a value.
        keep_url_userinfo("http://u1:PWfirst1@a, http://u2:PWsecond2@b");
        let said = scrub("PWfirst1 PWsecond2 u1 a b");
        assert!(
            !said.contains("PWfirst1") && !said.contains("PWsecond2"),
            "{said}"
        );
        // Passwords no URL parser takes are secrets all the same.
        for (url, password) in [
            ("http://bob:SEC/RET1@h", "SEC/RET1"),
            ("http://bob:S3C R3T@h/v1", "S3C R3T"),
            ("bob:N0SLASHES@h", "N0SLASHES"),
        ] {
            keep_url_userinfo(url);
            let text = format!("could not reach {url}: refused");
            let said = scrub(&text);
            assert!(!said.contains(password), "{said}");
        }
    }
}
