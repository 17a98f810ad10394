//! What a property's name says of it: whether it holds a secret (never shown), whether it
//! belongs to the connection (config.ini's and -X's, never a step's or a sweep's), and how
//! errors may name it.

use super::properties;

/// Properties that hold credentials or private keys.
const SECRET_KEYS: [&str; 9] = [
    "sasl.username",
    "sasl.password",
    "sasl.jaas.config",
    "sasl.oauthbearer.config",
    "sasl.oauthbearer.client.secret",
    "ssl.key.password",
    "ssl.key.pem",
    "ssl.keystore.password",
    "ssl_key",
];

/// Families of properties that hold credentials, keys or where to find them: every one is a
/// secret (`sasl.oauthbearer.scope` and `ssl.key.location` too).
const SECRET_PREFIXES: [&str; 4] = ["sasl.oauthbearer.", "ssl.key.", "ssl.keystore.", "ssl_key"];

/// Words that make any key (a known one, or a misspelt one) a secret.
const SECRET_WORDS: [&str; 7] = [
    "pass",
    "pwd",
    "secret",
    "token",
    "jaas",
    "credential",
    "private",
];

/// Properties of the connection, not of a client's behaviour: what config.ini and -X set,
/// never a scenario's step or a sweep (they are shared, printed and reported).
pub fn belongs_to_connection(key: &str) -> bool {
    is_secret(key)
        || key.starts_with("sasl.")
        || key.starts_with("ssl.")
        || matches!(
            key,
            "security.protocol" | "bootstrap.servers" | "transactional.id" | "client.id"
        )
}

/// Keys whose values are never printed: credentials and private keys, and any key that
/// resembles one (a misspelt `sasl.pasword` holds a password all the same).
pub fn is_secret(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    SECRET_PREFIXES.iter().any(|p| key.starts_with(p))
        || SECRET_WORDS.iter().any(|w| key.contains(w))
        || SECRET_KEYS
            .iter()
            .any(|s| key == *s || properties::edit_distance(s, &key) <= 2)
}

/// The value as it may be shown: secrets become `********`.
pub fn shown_value<'a>(key: &str, value: &'a str) -> &'a str {
    if is_secret(key) {
        "********"
    } else {
        value
    }
}

/// A key as an error may name it: an unknown key that looks like a secret and is no mere
/// typo of a property may hold the secret itself (`sasl.passwordHunter2`), so it is not shown.
pub fn shown_key(key: &str) -> String {
    let typo = properties::nearest(key).is_some_and(|(d, _)| d <= 3);
    if properties::lookup(key).is_none() && is_secret(key) && !typo {
        "(not shown: it looks like a secret)".to_string()
    } else {
        format!("`{key}`")
    }
}
