//! `config.ini` in the format of Confluent's getting-started guides, and how it is merged with
//! the command line.
//!
//! `[default]` holds properties shared by every client; `[producer]` and `[consumer]` are added
//! on top for that client. Precedence, lowest first: built-in defaults, `[default]`, the client's
//! own section, `-b`, the subcommand's own flags (`--acks`, `-g`, ...), `-X key=value`.
//! Every property is checked against the linked librdkafka: an unknown name or a refused value is
//! an error naming where it came from; a property of the other client is dropped with a warning.

use std::fmt::{self, Write as _};
use std::path::PathBuf;

use rdkafka::config::ClientConfig;

use properties::Applies;

mod file;
mod keys;
pub mod properties;

pub use keys::{belongs_to_connection, is_secret, shown_key, shown_value};
pub use properties::suggestion;

use file::is_property_name;
pub use file::ConfigFile;

/// Where a setting came from, so that an error can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File {
        path: PathBuf,
        line: usize,
        section: String,
    },
    Flag(String),
    Builtin(&'static str),
}

impl Origin {
    pub fn is_flag(&self) -> bool {
        matches!(self, Origin::Flag(_))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                line,
                section,
            } => write!(f, "{}:{line} [{section}]", path.display()),
            Origin::Flag(flag) => write!(f, "{flag}"),
            Origin::Builtin(why) => write!(f, "{why}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub origin: Origin,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {error}\n  Pass --config with the path of a readable file, or leave --config out to use ./config.ini or the embedded cluster.", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}:{line}: {message}\n  Each line must be `[section]`, `key = value`, or a comment starting with #.", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{origin}: unknown property {key}: librdkafka has no such setting{hint}")]
    Unknown {
        origin: Box<Origin>,
        key: String,
        hint: String,
    },
    #[error("{origin}: invalid value for `{key}` ({value}): {reason}")]
    Invalid {
        origin: Box<Origin>,
        key: String,
        value: String,
        reason: String,
    },
    #[error("{origin}: `{key}` uses ${{{name}}}, but the environment variable {name} is not set")]
    MissingEnv {
        origin: Box<Origin>,
        key: String,
        name: String,
    },
    #[error("{origin}: the value of `{key}` has {what}\n  Write ${{NAME}} to use the environment variable NAME.")]
    BadEnv {
        origin: Box<Origin>,
        key: String,
        what: &'static str,
    },
    #[error("{flag} takes key=value: {shown} {problem}")]
    BadPair {
        flag: String,
        shown: String,
        problem: String,
    },
    #[error("{origin}: `{key}` {reason}")]
    Refused {
        origin: Box<Origin>,
        key: String,
        reason: &'static str,
    },
}

/// The role a set of properties is merged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Producer,
    Consumer,
}

impl Role {
    fn section(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Consumer => "consumer",
        }
    }

    fn accepts(self, applies: Applies) -> bool {
        matches!(
            (self, applies),
            (_, Applies::Both)
                | (Role::Producer, Applies::Producer)
                | (Role::Consumer, Applies::Consumer)
        )
    }
}

/// Parses a `key=value` argument (for -X). A malformed one is shown only as far as it is
/// safe: the name of a known property, never what follows it.
pub fn parse_pair(arg: &str, flag: &str) -> Result<Setting, ConfigError> {
    let origin = Origin::Flag(format!("command line {flag} {}", shown_pair(arg)));
    match arg.split_once('=') {
        Some((key, value)) if is_property_name(key.trim()) => Ok(Setting {
            key: key.trim().to_string(),
            value: value.trim().to_string(),
            origin,
        }),
        Some((key, _)) if key.trim().is_empty() => Err(ConfigError::BadPair {
            flag: flag.to_string(),
            shown: "an argument".to_string(),
            problem: "starts with `=`: it has no key".to_string(),
        }),
        _ => {
            let name_end = arg
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                .unwrap_or(arg.len());
            let name = &arg[..name_end];
            let (shown, problem) = if properties::lookup(name).is_some() {
                let more = if name_end < arg.len() { "…" } else { "" };
                (
                    format!("`{name}{more}`"),
                    format!("has no `=`: write {name}=VALUE"),
                )
            } else {
                (
                    "an argument".to_string(),
                    "has no `=` (it is not shown: it may hold a secret)".to_string(),
                )
            };
            Err(ConfigError::BadPair {
                flag: flag.to_string(),
                shown,
                problem,
            })
        }
    }
}

/// `key=value` with the value masked when the key is (or resembles) a secret.
pub fn shown_pair(arg: &str) -> String {
    match arg.split_once('=') {
        Some((k, v)) => format!(
            "{}={}",
            shown_key(k.trim()).trim_matches('`'),
            shown_value(k.trim(), v)
        ),
        None => "********".to_string(),
    }
}

/// Everything that contributes to a client's properties, lowest precedence first.
#[derive(Debug, Default, Clone)]
pub struct Layers {
    pub builtin: Vec<Setting>,
    pub file: Option<ConfigFile>,
    pub bootstrap: Option<Setting>,
    pub flags: Vec<Setting>,
    pub overrides: Vec<Setting>,
    /// Set at run time: over everything else.
    pub live: Vec<Setting>,
    /// Keys dropped at run time from every layer below `live` (a property the chosen group
    /// protocol refuses, set in config.ini for the other one).
    pub dropped: Vec<String>,
    /// The settings make a producer and a consumer (a processor): a property given on the
    /// command line goes to whichever takes it, unremarked.
    pub both_roles: bool,
}

impl Layers {
    pub fn builtin(&mut self, key: &str, value: impl Into<String>, why: &'static str) {
        self.builtin.push(Setting {
            key: key.to_string(),
            value: value.into(),
            origin: Origin::Builtin(why),
        });
    }

    /// A setting from a command-line flag such as `--acks`.
    pub fn flag(&mut self, key: &str, value: impl Into<String>, flag: &str) {
        self.set_by(key, value, format!("command line {flag}"));
    }

    /// A setting of a command-line flag, by the flag's description.
    fn set_by(&mut self, key: &str, value: impl Into<String>, origin: String) {
        self.flags.push(Setting {
            key: key.to_string(),
            value: value.into(),
            origin: Origin::Flag(origin),
        });
    }

    /// A setting made at run time (the dashboard's settings panel, a scenario's step): it wins
    /// over every other layer, `-X` included, so that what the screen shows is what runs.
    pub fn set_live(&mut self, key: &str, value: impl Into<String>, origin: &str) {
        self.live.retain(|s| s.key != key);
        self.live.push(Setting {
            key: key.to_string(),
            value: value.into(),
            origin: Origin::Flag(origin.to_string()),
        });
    }

    /// Drops `key` from every layer but `live`: librdkafka will not see it unless set live.
    pub fn drop_unless_live(&mut self, key: &str) {
        if !self.dropped.iter().any(|k| k == key) {
            self.dropped.push(key.to_string());
        }
    }

    /// The bootstrap servers the user gave, by any route, for `role`.
    pub fn user_bootstrap(&self, role: Role) -> Option<String> {
        let from_x = self
            .overrides
            .iter()
            .rev()
            .find(|s| s.key == "bootstrap.servers")
            .map(|s| s.value.clone());
        from_x
            .or_else(|| self.bootstrap.as_ref().map(|s| s.value.clone()))
            .or_else(|| {
                self.file
                    .as_ref()
                    .and_then(|f| f.bootstrap_servers(role).map(str::to_string))
            })
    }

    /// Merges and checks the properties of one client.
    pub fn resolve(&self, role: Role) -> Result<ClientSettings, ConfigError> {
        // The last of each key wins, in the order they came; a slot per setting and an index
        // by key keep it linear however often a key repeats.
        let mut merged: Vec<Option<Setting>> = Vec::new();
        let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let mut warnings = Vec::new();
        let file_default = self.file.iter().flat_map(|f| f.section("default"));
        let file_own = self.file.iter().flat_map(|f| f.section(role.section()));
        let layers = self
            .builtin
            .iter()
            .chain(file_default)
            .chain(file_own)
            .chain(self.bootstrap.iter())
            .chain(self.flags.iter())
            .chain(self.overrides.iter())
            .chain(self.live.iter());
        for setting in layers {
            // Whatever happens next, no text shows a secret again (librdkafka echoes values).
            if is_secret(&setting.key) {
                crate::text::secrets::keep(&setting.value);
            }
            crate::text::secrets::keep_url_userinfo(&setting.value);
            let Some(info) = properties::lookup(&setting.key) else {
                return Err(ConfigError::Unknown {
                    origin: Box::new(setting.origin.clone()),
                    key: shown_key(&setting.key),
                    hint: properties::suggestion(&setting.key),
                });
            };
            properties::check_value(&setting.key, &setting.value).map_err(|reason| {
                ConfigError::Invalid {
                    origin: Box::new(setting.origin.clone()),
                    key: setting.key.clone(),
                    value: shown_value(&setting.key, &setting.value).to_string(),
                    // librdkafka's reason may repeat the value.
                    reason: if is_secret(&setting.key) {
                        "refused by librdkafka".to_string()
                    } else {
                        reason
                    },
                }
            })?;
            if let Some(reason) = refusal(setting).filter(|_| role.accepts(info.applies)) {
                return Err(ConfigError::Refused {
                    origin: Box::new(setting.origin.clone()),
                    key: setting.key.clone(),
                    reason,
                });
            }
            if !role.accepts(info.applies) {
                if misplaced_warning_due(setting, role)
                    && !(self.both_roles && setting.origin.is_flag())
                {
                    warnings.push(format!(
                        "{}: `{}` = {} is a {} property; it is not used by the {}",
                        setting.origin,
                        setting.key,
                        shown_value(&setting.key, &setting.value),
                        match info.applies {
                            Applies::Consumer => "consumer",
                            _ => "producer",
                        },
                        role.section(),
                    ));
                }
                continue;
            }
            if let Some(old) = at.insert(&setting.key, merged.len()) {
                merged[old] = None;
            }
            merged.push(Some(setting.clone()));
        }
        let mut merged: Vec<Setting> = merged.into_iter().flatten().collect();
        merged
            .retain(|s| !self.dropped.contains(&s.key) || self.live.iter().any(|l| l.key == s.key));
        Ok(ClientSettings {
            role,
            settings: merged,
            warnings,
        })
    }
}

/// Every `HOST:PORT` of a bootstrap list (`SCHEME://` allowed) has a port librdkafka can use,
/// where one is given.
fn ports_valid(list: &str) -> bool {
    list.split(',').all(|server| {
        let server = server.trim();
        let server = server.split_once("://").map_or(server, |(_, rest)| rest);
        // `[::1]:9092`, `host:9092`, `host`: the port is after the last `:` outside brackets.
        let after_host = server.rsplit_once(']').map_or(server, |(_, rest)| rest);
        match after_host.rsplit_once(':') {
            Some((_, port)) => port.parse::<u16>().is_ok_and(|p| p > 0),
            None => true,
        }
    })
}

/// Why kafka-lab cannot run with a setting that librdkafka itself would take.
fn refusal(setting: &Setting) -> Option<&'static str> {
    match setting.key.as_str() {
        "bootstrap.servers" if setting.value.trim().is_empty() => {
            Some("is empty: give the cluster's HOST:PORT list")
        }
        "bootstrap.servers" if !ports_valid(&setting.value) => Some(
            "names a port that is not a number from 1 to 65535: give the cluster's HOST:PORT list",
        ),
        "group.id" if setting.value.trim().is_empty() => {
            Some("is empty: a consumer group needs a name")
        }
        "transactional.id" if setting.value.trim().is_empty() => {
            Some("is empty: give the producer's id, or remove it")
        }
        _ => None,
    }
}

/// A property of the other client warrants a warning when it was put in this client's place:
/// its own file section, or a flag of a subcommand that only runs this client. In `[default]`
/// it is expected (shared by both clients) and silently kept for the other one.
fn misplaced_warning_due(setting: &Setting, role: Role) -> bool {
    match &setting.origin {
        Origin::File { section, .. } => section == role.section(),
        Origin::Flag(_) => true,
        Origin::Builtin(_) => false,
    }
}

/// The merged, checked properties of one client.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub role: Role,
    pub settings: Vec<Setting>,
    pub warnings: Vec<String>,
}

impl ClientSettings {
    /// Where `key`'s value came from, when it is set.
    pub fn origin(&self, key: &str) -> Option<&Origin> {
        self.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| &s.origin)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.value.as_str())
    }

    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        for s in &self.settings {
            config.set(&s.key, &s.value);
        }
        config
    }

    /// One line per property, secrets masked, with where each came from.
    pub fn describe(&self) -> String {
        let width = self.settings.iter().map(|s| s.key.len()).max().unwrap_or(0);
        let mut out = format!("[{}]\n", self.role.section());
        for s in &self.settings {
            let _ = writeln!(
                out,
                "{:width$} = {}    # {}",
                s.key,
                shown_value(&s.key, &s.value),
                s.origin
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        ConfigFile::parse(Path::new("config.ini"), text, |name| {
            (name == "CC_KEY").then(|| "key-from-env".to_string())
        })
    }

    fn layers(text: &str) -> Layers {
        Layers {
            file: Some(parse(text).unwrap()),
            ..Layers::default()
        }
    }

    #[test]
    fn sections_merge_per_client() {
        let l = layers(
            "# comment\n[default]\nbootstrap.servers = a:9092\nclient.id=shared\n\n\
             [producer]\nlinger.ms = 20\nclient.id = prod\n[consumer]\ngroup.id = g1\n\
             auto.offset.reset=earliest\n",
        );
        let p = l.resolve(Role::Producer).unwrap();
        assert_eq!(p.get("bootstrap.servers"), Some("a:9092"));
        assert_eq!(p.get("client.id"), Some("prod"));
        assert_eq!(p.get("linger.ms"), Some("20"));
        assert_eq!(p.get("group.id"), None);
        let c = l.resolve(Role::Consumer).unwrap();
        assert_eq!(c.get("client.id"), Some("shared"));
        assert_eq!(c.get("group.id"), Some("g1"));
        assert_eq!(c.get("linger.ms"), None);
        assert!(p.warnings.is_empty() && c.warnings.is_empty());
    }

    #[test]
    fn precedence_x_over_b_over_file_over_builtin() {
        let mut l = layers("[default]\nbootstrap.servers=file:1\nlinger.ms=1\n");
        l.builtin("linger.ms", "0", "built-in default");
        l.builtin("acks", "all", "built-in default");
        let p = l.resolve(Role::Producer).unwrap();
        assert_eq!(p.get("linger.ms"), Some("1"));
        assert_eq!(p.get("acks"), Some("all"));
        l.bootstrap = Some(Setting {
            key: "bootstrap.servers".into(),
            value: "flag:2".into(),
            origin: Origin::Flag("-b".into()),
        });
        assert_eq!(
            l.resolve(Role::Producer).unwrap().get("bootstrap.servers"),
            Some("flag:2")
        );
        l.overrides
            .push(parse_pair("bootstrap.servers=x:3", "-X").unwrap());
        l.overrides.push(parse_pair("linger.ms=7", "-X").unwrap());
        let p = l.resolve(Role::Producer).unwrap();
        assert_eq!(p.get("bootstrap.servers"), Some("x:3"));
        assert_eq!(p.get("linger.ms"), Some("7"));
        assert_eq!(l.user_bootstrap(Role::Producer).as_deref(), Some("x:3"));
    }

    /// A processor makes both clients: a -X property goes to the one that takes it, and the
    /// other says nothing of it; a property in the wrong section of the file is still said.
    #[test]
    fn both_roles_take_flags_unremarked_but_not_a_misplaced_section() {
        let mut l = layers("[producer]\nauto.offset.reset=latest\n");
        l.overrides.push(parse_pair("acks=all", "-X").unwrap());
        let c = l.resolve(Role::Consumer).unwrap();
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        l.both_roles = true;
        let c = l.resolve(Role::Consumer).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let p = l.resolve(Role::Producer).unwrap();
        assert_eq!(p.get("acks"), Some("all"));
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("[producer]"), "{:?}", p.warnings);
    }

    /// What the settings panel sets runs, whatever -X said at the start: the screen shows
    /// what runs.
    #[test]
    fn live_settings_win_over_the_command_line() {
        let mut l = Layers::default();
        l.flag("bootstrap.servers", "h:1", "-b");
        l.overrides.push(parse_pair("acks=1", "-X").unwrap());
        assert_eq!(l.resolve(Role::Producer).unwrap().get("acks"), Some("1"));
        l.set_live("acks", "all", "settings panel");
        let s = l.resolve(Role::Producer).unwrap();
        assert_eq!(s.get("acks"), Some("all"));
        assert!(s.describe().contains("settings panel"), "{}", s.describe());
        l.set_live("acks", "0", "settings panel");
        assert_eq!(l.resolve(Role::Producer).unwrap().get("acks"), Some("0"));
    }

    #[test]
    fn env_variables_expand_and_missing_ones_are_named() {
        let f = parse("[default]\nsasl.username = ${CC_KEY}\n").unwrap();
        assert_eq!(f.entries[0].1.value, "key-from-env");
        let err = parse("[default]\nbootstrap.servers=x\nsasl.password = pre${CC_SECRET}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("config.ini:3 [default]"), "{err}");
        assert!(err.contains("CC_SECRET"), "{err}");
        // `$${` writes a literal `${`, even around a variable.
        for (value, expanded) in [
            ("Pa$$w0rd$${X}tail", "Pa$$w0rd${X}tail"),
            ("$${CC_KEY}", "${CC_KEY}"),
            ("a$${b}${CC_KEY}", "a${b}key-from-env"),
            ("$$", "$$"),
        ] {
            let f = parse(&format!("[default]\nsasl.password = {value}\n")).unwrap();
            assert_eq!(f.entries[0].1.value, expanded, "{value}");
        }
    }

    #[test]
    fn unknown_property_names_file_line_and_a_suggestion() {
        let err = layers("[default]\nbootstrap.servers=a\n\n[producer]\nlinger.msx = 5\n")
            .resolve(Role::Producer)
            .unwrap_err()
            .to_string();
        assert!(err.contains("config.ini:5 [producer]"), "{err}");
        assert!(err.contains("linger.msx"), "{err}");
        assert!(err.contains("did you mean `linger.ms`"), "{err}");
    }

    #[test]
    fn invalid_values_are_refused_with_librdkafkas_reason() {
        for (line, needle) in [
            ("acks=maybe", "acks"),
            ("linger.ms=-5", "range"),
            ("batch.size=abc", "batch.size"),
        ] {
            let err = layers(&format!("[producer]\n{line}\n"))
                .resolve(Role::Producer)
                .unwrap_err();
            assert!(matches!(err, ConfigError::Invalid { .. }), "{err}");
            let text = err.to_string();
            assert!(text.contains("config.ini:2 [producer]"), "{text}");
            assert!(text.contains(needle), "{text}");
        }
    }

    #[test]
    fn consumer_property_in_producer_section_is_a_warning_and_dropped() {
        let l = layers("[default]\nauto.offset.reset=earliest\n[producer]\nauto.offset.reset = latest\nlinger.ms=5\n");
        let p = l.resolve(Role::Producer).unwrap();
        assert_eq!(p.get("auto.offset.reset"), None);
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("config.ini:4 [producer]"));
        assert!(p.warnings[0].contains("auto.offset.reset"));
        assert!(p.warnings[0].contains("consumer property"));
        // The consumer still gets the [default] value, and [producer] does not leak into it.
        let c = l.resolve(Role::Consumer).unwrap();
        assert_eq!(c.get("auto.offset.reset"), Some("earliest"));
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn malformed_line_is_a_syntax_error_with_its_line() {
        let err = parse("[default]\nbootstrap.servers=a\n[producer\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config.ini:"), "{err}");
    }

    #[test]
    fn a_line_without_equals_is_its_own_error_and_never_shown() {
        for (text, line) in [
            ("[default]\nsasl.password SuperSecret123\nacks = all\n", 2),
            ("[default]\nbootstrap.servers=a\nSuperSecret123\n", 3),
            ("# c\n\n[producer]\nsasl.username SecretUserABC\n", 4),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with(&format!("config.ini:{line}: ")), "{err}");
            for secret in ["SuperSecret123", "SecretUserABC"] {
                assert!(!err.contains(secret), "{err}");
            }
        }
    }

    #[test]
    fn headers_bom_and_duplicates() {
        let err = parse("[default]\nbootstrap.servers=a\n[producer\nacks=1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config.ini:3: ") && err.contains("closing `]`"),
            "{err}"
        );
        let f = parse("\u{feff}[default]\nbootstrap.servers=a\n").unwrap();
        assert_eq!(f.bootstrap_servers(Role::Producer), Some("a"));
        let f = parse("[producer]\nlinger.ms=1\nacks=1\nlinger.ms=5\n").unwrap();
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(f.warnings[0].contains("config.ini:4") && f.warnings[0].contains("line 2"));
    }

    #[test]
    fn broken_env_references_are_named() {
        let err = parse("[default]\nsasl.password=${}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("names no variable"), "{err}");
        let err = parse("[default]\nsasl.password=x${FOO\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("closing `}`") && !err.contains("FOO"), "{err}");
    }

    #[test]
    fn keys_that_resemble_secrets_are_masked() {
        for key in [
            "sasl.oauthbearer.extensions",
            "sasl.oauthbearer.scope",
            "sasl.oauthbearer.client.id",
            "ssl.key.location",
            "ssl.keystore.location",
        ] {
            assert!(is_secret(key), "{key}");
        }
        for key in [
            "sasl.pasword",
            "ssl.keystore.password",
            "my.token",
            "sasl.usrname",
        ] {
            assert!(is_secret(key), "{key}");
        }
        for key in ["linger.ms", "bootstrap.servers", "ssl.ca.location", "acks"] {
            assert!(!is_secret(key), "{key}");
        }
        let err = parse_pair("sasl.password:Secret", "-X")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sasl.password") && !err.contains("Secret"),
            "{err}"
        );
        let err = parse_pair("SuperSecret123", "-X").unwrap_err().to_string();
        assert!(!err.contains("SuperSecret123"), "{err}");
        let pair = parse_pair("sasl.pasword=hunter2", "-X").unwrap();
        assert!(!pair.origin.to_string().contains("hunter2"));
    }

    #[test]
    fn settings_kafka_lab_cannot_run_with_are_refused() {
        for (line, needle) in [
            ("bootstrap.servers=", "is empty"),
            ("transactional.id= ", "is empty"),
            ("bootstrap.servers=h:99999", "1 to 65535"),
            ("bootstrap.servers=a:9092,b:0", "1 to 65535"),
            ("bootstrap.servers=SASL_SSL://h:x", "1 to 65535"),
        ] {
            let err = layers(&format!("[producer]\n{line}\n"))
                .resolve(Role::Producer)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("config.ini:2 [producer]") && err.contains(needle),
                "{err}"
            );
        }
        let err = layers("[consumer]\ngroup.id=\n")
            .resolve(Role::Consumer)
            .unwrap_err()
            .to_string();
        assert!(err.contains("group.id") && err.contains("empty"), "{err}");
        for fine in [
            "h:9092",
            "a:1,b:65535",
            "[::1]:9092",
            "PLAINTEXT://h:9092",
            "h",
        ] {
            assert!(ports_valid(fine), "{fine}");
        }
    }

    #[test]
    fn values_are_literal() {
        let f = parse("[default]\nsasl.password = a#b\\c\"d'\n").unwrap();
        assert_eq!(f.entries[0].1.value, "a#b\\c\"d'");
    }

    #[test]
    fn secrets_are_masked_everywhere() {
        let l = layers(
            "[default]\nbootstrap.servers=a\nsasl.username=KEY123\nsasl.password=SECRET456\nssl.key.password=P789\n",
        );
        let p = l.resolve(Role::Producer).unwrap();
        let shown = p.describe();
        for secret in ["KEY123", "SECRET456", "P789"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("sasl.username"));
        let err = parse_pair("sasl.password", "-X").unwrap_err().to_string();
        assert!(err.contains("key=value"));
        let pair = parse_pair("sasl.password=hunter2", "-X").unwrap();
        assert!(!pair.origin.to_string().contains("hunter2"));
    }

    #[test]
    fn unused_sections_are_warned_about() {
        let f = parse("[default]\nbootstrap.servers=a\n[admin]\nx=1\n").unwrap();
        assert_eq!(f.warnings.len(), 1);
        assert!(f.warnings[0].contains("[admin]"));
    }

    #[test]
    fn example_file_parses_into_a_confluent_cloud_setup() {
        let path = crate::runtime::in_repo("config.ini.example");
        let f = ConfigFile::load(&path).unwrap();
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        let l = Layers {
            file: Some(f),
            ..Layers::default()
        };
        let p = l.resolve(Role::Producer).unwrap();
        assert_eq!(p.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(p.get("sasl.mechanisms"), Some("PLAIN"));
        assert!(p.get("bootstrap.servers").unwrap().ends_with(":9092"));
        assert!(p.get("sasl.username").is_some() && p.get("sasl.password").is_some());
        assert!(p.get("acks").is_some());
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let c = l.resolve(Role::Consumer).unwrap();
        assert!(c.get("group.id").is_some());
        assert_eq!(c.get("auto.offset.reset"), Some("earliest"));
        assert_eq!(c.get("acks"), None);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }
}
