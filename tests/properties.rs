//! Property tests: whatever the text of a config file or a settings field, parsing never
//! panics and no error or listing shows a secret's value.

use std::path::Path;

use kafka_lab::config::{ConfigFile, Layers, Role};
use kafka_lab::lab::state::forms::{Field, FIELDS};
use proptest::prelude::*;

/// Every secret value below carries this mark; nothing shown may carry it.
const MARK: &str = "Zq9Secret";

fn line() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "bootstrap.servers",
        "acks",
        "linger.ms",
        "batch.size",
        "group.id",
        "client.id",
        "auto.offset.reset",
        "no.such.key",
    ]);
    let secret_key = prop::sample::select(vec![
        "sasl.password",
        "sasl.username",
        "sasl.pasword",
        "ssl.key.password",
        "sasl.jaas.config",
    ]);
    let value = "[ -~]{0,12}";
    let section = prop::sample::select(vec![
        "[default]",
        "[producer]",
        "[consumer]",
        "[other]",
        "[producer",
        "[]",
    ]);
    prop_oneof![
        section.prop_map(str::to_string),
        (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        (secret_key.clone(), value).prop_map(|(k, v)| format!("{k}={MARK}{v}")),
        (secret_key, value).prop_map(|(k, v)| format!("{k} {MARK}{v}")),
        value.prop_map(|v| format!("{MARK}{v}")),
        "[ -~]{0,20}".prop_map(|v| v.replace(MARK, "")),
        Just("${".to_string()),
        Just("# comment".to_string()),
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn config_files_never_panic_or_show_secrets(lines in prop::collection::vec(line(), 0..12), bom in any::<bool>()) {
        let mut text = lines.join("\n");
        if bom {
            text.insert(0, '\u{feff}');
        }
        let env = |name: &str| (name == "SET").then(|| format!("{MARK}env"));
        match ConfigFile::parse(Path::new("lab.ini"), &text, env) {
            Err(e) => prop_assert!(!e.to_string().contains(MARK), "{}", e),
            Ok(file) => {
                for w in &file.warnings {
                    prop_assert!(!w.contains(MARK), "{}", w);
                }
                let layers = Layers { file: Some(file), ..Layers::default() };
                for role in [Role::Producer, Role::Consumer] {
                    match layers.resolve(role) {
                        Err(e) => prop_assert!(!e.to_string().contains(MARK), "{}", e),
                        Ok(settings) => {
                            prop_assert!(!settings.describe().contains(MARK));
                            for w in &settings.warnings {
                                prop_assert!(!w.contains(MARK), "{}", w);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn settings_fields_take_any_text(text in "\\PC{0,40}") {
        for field in FIELDS {
            let _ = field.validate(&text);
        }
        let _ = Field::Rate.validate(&text);
        let _ = kafka_lab::cli::parse_rate(&text);
        let _ = kafka_lab::kafka::settings::topic_name(&text);
    }

    #[test]
    fn command_line_pairs_never_show_secret_values(key in prop::sample::select(vec!["sasl.password", "sasl.pasword", "ssl.key.password", "x"]), sep in prop::sample::select(vec!["=", ":", " ", ""]), value in "[ -~]{0,10}") {
        let arg = format!("{key}{sep}{MARK}{value}");
        match kafka_lab::config::parse_pair(&arg, "-X") {
            Err(e) => prop_assert!(!e.to_string().contains(MARK), "{}", e),
            Ok(s) => {
                if key != "x" {
                    prop_assert!(!s.origin.to_string().contains(MARK), "{}", s.origin);
                }
            }
        }
    }
}
