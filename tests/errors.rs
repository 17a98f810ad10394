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
fn a_record_size_too_large_is_refused_before_a_cluster_starts() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &["bench", "--messages", "1", "--record-size", "2000000"],
    );
    assert_clean_failure(&out, &["--record-size 2000000", "message.max.bytes"]);
    assert!(
        !stderr(&out).contains("embedded cluster"),
        "{}",
        stderr(&out)
    );
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
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("group.id ") && l.contains("= lab-group")),
        "{shown}"
    );
    assert!(shown.contains("127.0.0.1:1"), "{shown}");
}

/// One bad input: the arguments, a config file (`lab.ini`, when given), what stderr must
/// say, and a secret that must appear nowhere.
struct Case {
    args: &'static [&'static str],
    config: Option<&'static str>,
    says: &'static [&'static str],
    secret: Option<&'static str>,
}

const fn case(args: &'static [&'static str], says: &'static [&'static str]) -> Case {
    Case {
        args,
        config: None,
        says,
        secret: None,
    }
}

const fn secret(
    args: &'static [&'static str],
    says: &'static [&'static str],
    s: &'static str,
) -> Case {
    Case {
        args,
        config: None,
        says,
        secret: Some(s),
    }
}

const fn file(text: &'static str, says: &'static [&'static str], s: Option<&'static str>) -> Case {
    Case {
        args: &["produce", "--count", "1"],
        config: Some(text),
        says,
        secret: s,
    }
}

const CASES: &[Case] = &[
    // Rates, sizes and numbers that once panicked or wrapped.
    case(
        &["produce", "--rate", "1e-300", "--count", "2"],
        &["not a rate", "0.001"],
    ),
    case(
        &["produce", "--rate", "1e-19", "--count", "2"],
        &["not a rate"],
    ),
    case(&["bench", "--rate", "1e-20"], &["not a rate"]),
    case(
        &[
            "-b",
            "h:1",
            "bench",
            "--messages",
            "1",
            "--record-size",
            "18446744073709551615",
        ],
        &["--record-size", "message.max.bytes"],
    ),
    case(
        &["produce", "--flush-timeout", "18446744073709551615"],
        &["--flush-timeout", "86400"],
    ),
    case(
        &["-b", "h:1", "bench", "--batch-size", "4294967297"],
        &["4294967297", "outside the range"],
    ),
    case(
        &["-b", "h:1", "bench", "--batch-size", "99999999999999"],
        &["99999999999999", "outside the range"],
    ),
    case(
        &["-b", "h:1", "-X", "batch.size=2147483648", "produce"],
        &["2147483648", "outside the range"],
    ),
    case(
        &["-b", "h:1", "-X", "acks=maybe", "produce"],
        &["0, 1, all or -1"],
    ),
    // Sweeps.
    case(
        &[
            "-b", "h:1", "bench", "--sweep", "acks=0,1", "--sweep", "acks=all",
        ],
        &["given twice"],
    ),
    case(
        &["-b", "h:1", "bench", "--sweep", "group.id=a,b"],
        &["consumer property"],
    ),
    // Topic names, ranges of the cluster options.
    case(&["-t", "a b", "produce"], &["topic name"]),
    case(&["-t", "", "produce"], &["topic name"]),
    case(&["-t", "..", "produce"], &["topic name"]),
    case(
        &["--rtt-ms", "99999999999", "produce"],
        &["--rtt-ms", "10000"],
    ),
    case(&["--brokers", "0", "produce"], &["--brokers"]),
    // Settings kafka-lab cannot run with.
    case(&["-b", "h:1", "consume", "-g", ""], &["group.id", "empty"]),
    case(
        &["-X", "bootstrap.servers=", "produce"],
        &["bootstrap.servers", "empty"],
    ),
    // Secrets on the command line.
    secret(
        &["-b", "h:1", "-X", "sasl.password:Secret1x", "produce"],
        &["sasl.password", "no `=`"],
        "Secret1x",
    ),
    secret(
        &["-b", "h:1", "-X", "SuperSecret2x", "produce"],
        &["no `=`"],
        "SuperSecret2x",
    ),
    secret(
        &["-b", "h:1", "-X", "sasl.pasword=Secret3x", "produce"],
        &["sasl.pasword", "did you mean `sasl.password`"],
        "Secret3x",
    ),
    secret(
        &["-b", "h:1", "bench", "--sweep", "sasl.password=Secret4x,B"],
        &["secret"],
        "Secret4x",
    ),
    secret(
        &[
            "-b",
            "127.0.0.1:1",
            "-X",
            "security.protocol=SSL",
            "-X",
            "ssl.key.pem=NotAKey5x",
            "produce",
        ],
        &["cannot make a Kafka client", "ssl.key.pem"],
        "NotAKey5x",
    ),
    // Config files.
    file(
        "[default]\nbootstrap.servers=h:1\nsasl.password SuperSecret6x\nacks = all\n",
        &["lab.ini:3:", "neither"],
        Some("SuperSecret6x"),
    ),
    file(
        "[default]\nbootstrap.servers=h:1\nSuperSecret7x\n",
        &["lab.ini:3:"],
        Some("SuperSecret7x"),
    ),
    file(
        "[default]\nbootstrap.servers=h:1\nsasl.username SecretUser8x\n",
        &["lab.ini:3:"],
        Some("SecretUser8x"),
    ),
    file(
        "[default]\nbootstrap.servers=h:1\n\n[producer\nacks=1\n",
        &["lab.ini:4:", "closing `]`"],
        None,
    ),
    // A value carried on to the next line would have shown the password written there.
    file(
        "[default]\nbootstrap.servers = \\\nsasl.password=Zq9Cont\n",
        &["lab.ini:2", "ends with `\\`"],
        Some("Zq9Cont"),
    ),
    file(
        "[default]\nbootstrap.servers=h:1\nsasl.password=${}\n",
        &["lab.ini:3", "names no variable"],
        None,
    ),
    file(
        "[default]\nbootstrap.servers=h:1\nsasl.password=x${NOT_CLOSED9x\n",
        &["lab.ini:3", "closing `}`"],
        Some("NOT_CLOSED9x"),
    ),
    file(
        "[default]\nbootstrap.servers=h:1\nsasl.password=Pw10x\n[producer]\nbootstrap.servers=h:99999\n",
        &["lab.ini:5", "1 to 65535"],
        Some("Pw10x"),
    ),
    // Sources.
    case(
        &[
            "-b",
            "h:1",
            "produce",
            "--source",
            "openbrewerydb",
            "--api-url",
            "not a url",
        ],
        &["not a URL"],
    ),
];

#[test]
fn bad_inputs_fail_clearly_without_panics_or_secrets() {
    for c in CASES {
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<&str> = Vec::new();
        if let Some(text) = c.config {
            std::fs::write(dir.path().join("lab.ini"), text).unwrap();
            args.extend(["--config", "lab.ini"]);
        }
        args.extend(c.args);
        let out = run_in(dir.path(), &args);
        let shown = format!("{}{}", stdout(&out), stderr(&out));
        assert_clean_failure(&out, c.says);
        if let Some(s) = c.secret {
            assert!(!shown.contains(s), "{args:?} showed {s}: {shown}");
        }
        // The OS's reason or librdkafka's is said once, not repeated by the error chain.
        let first_line = stderr(&out)
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default()
            .to_string();
        assert!(first_line.len() < 400, "{args:?}: {first_line}");
    }
}

#[test]
fn a_config_file_with_a_byte_order_mark_is_read() {
    let out = with_config(
        "\u{feff}[default]\nbootstrap.servers = bom:9092\n",
        &["produce", "--print-config"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("bom:9092"));
}

#[test]
fn a_missing_file_says_the_os_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["--config", "nope.ini", "produce"]);
    assert_eq!(
        stderr(&out).matches("No such file").count(),
        1,
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_dashboards_print_config_warns_about_misplaced_keys_once() {
    let out = with_config(
        "[default]\nbootstrap.servers=h:1\n[producer]\nauto.offset.reset=earliest\n",
        &["--print-config"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("auto.offset.reset").count(),
        1,
        "{}",
        stderr(&out)
    );
}

#[test]
fn version_names_the_client_library_and_its_features() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("kafka-lab {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    // What librdkafka itself reports: the version linked in and its builtin.features.
    let (_, version) = rdkafka::util::get_rdkafka_version();
    assert!(text.contains(&format!("librdkafka {version}")), "{text}");
    for feature in ["ssl", "sasl_plain", "zstd", "lz4"] {
        assert!(text.contains(feature), "{feature} in {text}");
    }
    // -V stays the short form.
    let out = Command::new(BIN).arg("-V").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("kafka-lab {}", env!("CARGO_PKG_VERSION"))
    );
}
