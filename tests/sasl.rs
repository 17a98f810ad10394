//! The Confluent Cloud path for real: a config.ini in Confluent's format against the local
//! broker's `SASL_SSL` listener (PLAIN, self-signed certificate), from scripts/kafka-local.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;

struct Sasl {
    bootstrap: String,
    username: String,
    password: String,
    ca: PathBuf,
}

fn sasl(test: &str) -> Option<Sasl> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(bootstrap), Some(username), Some(password_file), Some(ca)) = (
        var("KAFKA_LAB_SASL_BOOTSTRAP"),
        var("KAFKA_LAB_SASL_USERNAME"),
        var("KAFKA_LAB_SASL_PASSWORD_FILE"),
        var("KAFKA_LAB_SASL_CA"),
    ) else {
        skipped!(
            "SKIPPED {test}: KAFKA_LAB_SASL_* are not set (eval \"$(scripts/kafka-local env)\")"
        );
        return None;
    };
    Some(Sasl {
        bootstrap,
        username,
        password: std::fs::read_to_string(password_file)
            .unwrap()
            .trim()
            .to_string(),
        ca: PathBuf::from(ca),
    })
}

fn write_config(dir: &Path, s: &Sasl, password: &str) {
    let text = format!(
        "# Confluent Cloud style\n[default]\nbootstrap.servers = {}\nsecurity.protocol = SASL_SSL\n\
         sasl.mechanisms = PLAIN\nsasl.username = {}\nsasl.password = {password}\n\
         ssl.ca.location = {}\n\n[producer]\nacks = all\n\n[consumer]\ngroup.id = sasl-test\n\
         auto.offset.reset = earliest\n",
        s.bootstrap,
        s.username,
        s.ca.display()
    );
    std::fs::write(dir.join("config.ini"), text).unwrap();
}

fn run(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn assert_not_shown(out: &Output, secret: &str) {
    assert!(!stdout(out).contains(secret), "secret on stdout");
    assert!(!stderr(out).contains(secret), "secret on stderr");
}

#[test]
fn sasl_ssl_plain_produce_and_consume_with_a_confluent_config() {
    let Some(s) = sasl("sasl_ssl_plain_produce_and_consume_with_a_confluent_config") else {
        return;
    };
    let topic = unique_topic("sasl");
    create_topic(&real_bootstrap().expect("KAFKA_LAB_BOOTSTRAP"), &topic, 3);
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &s, &s.password);

    let out = run(
        dir.path(),
        &["-t", &topic, "produce", "--count", "25", "--rate", "max"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("using ./config.ini"));
    assert_eq!(deliveries(&stdout(&out)).len(), 25);
    assert_not_shown(&out, &s.password);

    let out = run(
        dir.path(),
        &["-t", &topic, "consume", "--count", "25", "--output", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 25);
    assert!(stderr(&out).contains("group sasl-test"), "{}", stderr(&out));
    assert_not_shown(&out, &s.password);

    for sub in ["produce", "consume"] {
        let out = run(dir.path(), &[sub, "--print-config"]);
        assert!(out.status.success());
        assert!(stdout(&out).contains("sasl.password"));
        assert_not_shown(&out, &s.password);
        assert_not_shown(&out, &s.username);
    }
}

#[test]
fn sasl_ssl_wrong_password_is_a_clear_error() {
    let Some(s) = sasl("sasl_ssl_wrong_password_is_a_clear_error") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wrong = "not-the-password-123";
    write_config(dir.path(), &s, wrong);
    // With librdkafka's debug log on too: it is shown, and the reason stays the same.
    for debug in [&[][..], &["-X", "debug=security,broker"][..]] {
        let started = Instant::now();
        let args: Vec<&str> = ["produce", "--count", "1"]
            .iter()
            .chain(debug)
            .copied()
            .collect();
        let out = run(dir.path(), &args);
        assert_clean_failure(&out, &["authentication", &s.bootstrap]);
        // A guard against a hang (twice the connect timeout), not a speed goal.
        assert!(started.elapsed() < Duration::from_secs(20), "no hang");
        assert_not_shown(&out, wrong);
        assert_not_shown(&out, &s.password);
        if !debug.is_empty() {
            assert!(
                stderr(&out).contains("DEBUG librdkafka"),
                "{}",
                stderr(&out)
            );
        }
    }
}
