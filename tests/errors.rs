//! Bad input gets one clear message and a non-zero exit, through the real binary.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("CC_SECRET")
        .output()
        .unwrap()
}

fn with_config(text: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lab.ini"), text).unwrap();
    let mut all = vec!["--config", "lab.ini"];
    all.extend_from_slice(args);
    run_in(dir.path(), &all)
}

#[test]
fn missing_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["--config", "nope.ini", "produce"]);
    assert_clean_failure(&out, &["cannot read config file nope.ini"]);
}

#[test]
fn malformed_line_names_the_line() {
    let out = with_config(
        "[default]\nbootstrap.servers=h:1\n[producer\n",
        &["produce"],
    );
    assert_clean_failure(&out, &["lab.ini:"]);
}

#[test]
fn unknown_key_names_file_line_section_and_key() {
    let out = with_config(
        "[default]\nbootstrap.servers = h:1\n[producer]\nlinger.msx = 5\n",
        &["produce"],
    );
    assert_clean_failure(&out, &["lab.ini:4 [producer]", "`linger.msx`", "linger.ms"]);
}

#[test]
fn invalid_values_in_the_file_and_on_the_command_line() {
    for (line, reason) in [
        ("acks=maybe", "acks"),
        ("linger.ms=-5", "range"),
        ("batch.size=abc", "batch.size"),
    ] {
        let out = with_config(
            &format!("[default]\nbootstrap.servers=h:1\n[producer]\n{line}\n"),
            &["produce"],
        );
        assert_clean_failure(&out, &["lab.ini:4 [producer]", reason]);
        let dir = tempfile::tempdir().unwrap();
        let out = run_in(dir.path(), &["-b", "h:1", "produce", "-X", line]);
        assert_clean_failure(&out, &["-X", reason]);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["bench", "--acks", "2x"]);
    assert_clean_failure(&out, &["--acks", "acks"]);
}

#[test]
fn missing_environment_variable_is_named() {
    let out = with_config(
        "[default]\nbootstrap.servers=h:1\nsasl.password = ${CC_SECRET}\n",
        &["produce"],
    );
    assert_clean_failure(&out, &["lab.ini:3 [default]", "CC_SECRET"]);
}

#[test]
fn config_without_bootstrap_servers() {
    let out = with_config("[producer]\nlinger.ms=5\n", &["produce"]);
    assert_clean_failure(&out, &["sets no bootstrap.servers"]);
}

#[test]
fn unreachable_bootstrap_server_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = run_in(
        dir.path(),
        &[
            "-b",
            "127.0.0.1:1",
            "--connect-timeout",
            "5",
            "produce",
            "--count",
            "1",
        ],
    );
    assert_clean_failure(
        &out,
        &[
            "cannot reach the Kafka cluster at 127.0.0.1:1",
            "Connection refused",
        ],
    );
    // A guard against a hang, not a speed goal: three times the connect timeout.
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn bad_command_line_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["produce", "--rate", "fast"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a rate"), "{}", stderr(&out));
    let out = run_in(dir.path(), &["produce", "-X", "linger.ms"]);
    assert_clean_failure(&out, &["key=value"]);
    let out = run_in(
        dir.path(),
        &["produce", "--source", "no-such-file.json", "--count", "1"],
    );
    assert_clean_failure(&out, &["cannot read brewery file no-such-file.json"]);
}

#[test]
fn misplaced_property_is_a_warning_and_dropped() {
    let out = with_config(
        "[default]\nbootstrap.servers=h:1\n[producer]\nauto.offset.reset = earliest\nlinger.ms=7\n",
        &["produce", "--print-config"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("warning: lab.ini:4 [producer]"), "{err}");
    assert!(err.contains("auto.offset.reset"), "{err}");
    let shown = stdout(&out);
    assert!(!shown.contains("auto.offset.reset"), "{shown}");
    assert!(shown.contains("linger.ms"), "{shown}");
}

#[test]
fn print_config_masks_secrets_and_shows_origins() {
    let out = with_config(
        "[default]\nbootstrap.servers=h:1\nsecurity.protocol=SASL_SSL\nsasl.mechanisms=PLAIN\n\
         sasl.username=APIKEY42\nsasl.password=s3cr3t-value\n[consumer]\ngroup.id=g\n",
        &[
            "consume",
            "--print-config",
            "-X",
            "ssl.key.password=pw-on-cli",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    for secret in ["APIKEY42", "s3cr3t-value", "pw-on-cli"] {
        assert!(!all.contains(secret), "{secret} shown: {all}");
    }
    let shown = stdout(&out);
    assert!(shown.contains("sasl.password"), "{shown}");
    assert!(shown.contains("********"), "{shown}");
    assert!(shown.contains("lab.ini:2 [default]"), "{shown}");
    assert!(shown.contains("group.id"), "{shown}");
}

#[test]
fn config_ini_in_the_current_folder_is_used() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.ini"),
        "[default]\nbootstrap.servers = here:9092\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["produce", "--print-config"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("using ./config.ini"));
    assert!(stdout(&out).contains("here:9092"));
    // -b wins over the file.
    let out = run_in(dir.path(), &["-b", "flag:1", "produce", "--print-config"]);
    assert!(stdout(&out).contains("flag:1") && !stdout(&out).contains("here:9092"));
}

#[test]
fn help_answers() {
    for sub in ["produce", "consume", "bench", "cluster"] {
        let out = Command::new(BIN).args([sub, "--help"]).output().unwrap();
        assert!(out.status.success());
        assert!(stdout(&out).contains("--bootstrap-servers"), "{sub}");
    }
}

#[test]
fn dashboard_print_config_shows_both_clients_without_starting() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &["-b", "127.0.0.1:1", "-g", "lab-group", "--print-config"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("[producer]") && shown.contains("[consumer]"),
        "{shown}"
    );
    assert!(shown.contains("group.id          = lab-group"), "{shown}");
    assert!(shown.contains("127.0.0.1:1"), "{shown}");
}
