//! The third hostile pass, through the real binary: secrets in help and odd URLs, escapes in
//! command-line errors, output that cannot be written, FIFOs, huge repeated configs, reports
//! and sinks that are not kafka-lab's to overwrite, signals' exit codes, sweeps of the
//! connection, ports out of range.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run_with_env(dir, args, env)
}

/// `bash -c script` in `dir`, bounded by `timeout`.
fn shell(dir: &Path, script: &str) -> Output {
    Command::new("timeout")
        .args(["60", "bash", "-c", script])
        .env("BIN", BIN)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn secrets_stay_hidden_in_help_and_in_urls_no_parser_takes() {
    let dir = tempfile::tempdir().unwrap();
    let help = run_in(
        dir.path(),
        &["produce", "--help"],
        &[("KAFKA_LAB_API_URL", "http://u:SECRETenvpw@h")],
    );
    assert!(help.status.success());
    assert!(!all(&help).contains("SECRETenvpw"), "{}", all(&help));
    for url in [
        "http://bob:SEC/RETpw1@127.0.0.1:9",
        "http://bob:SEC RETpw2@127.0.0.1:9",
        "bob:SECRETpw3@127.0.0.1:9",
    ] {
        let out = run_in(
            dir.path(),
            &[
                "produce",
                "--count",
                "1",
                "--source",
                "openbrewerydb",
                "--api-url",
                url,
            ],
            &[],
        );
        let text = all(&out);
        assert!(!out.status.success(), "{text}");
        for part in ["RETpw1", "RETpw2", "SECRETpw3"] {
            assert!(!text.contains(part), "{url} shows {part}:\n{text}");
        }
    }
}

#[test]
fn command_line_errors_escape_what_the_terminal_would_act_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["\u{1b}]0;PWN\u{7}bogus"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    let text = all(&out);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "raw escape in {text:?}"
    );
    assert!(text.contains("bogus"), "{text}");
    // Help and version still print as they are, and succeed.
    for flag in ["--help", "--version"] {
        let out = run_in(dir.path(), &[flag], &[]);
        assert!(out.status.success(), "{flag}");
        assert!(!stdout(&out).is_empty(), "{flag}");
    }
}

#[test]
fn output_that_cannot_be_written_is_a_failure_and_a_closed_pipe_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let full = shell(
        dir.path(),
        "\"$BIN\" scenario list > /dev/full; echo \"status=$?\"",
    );
    let text = all(&full);
    assert!(text.contains("status=1"), "{text}");
    assert!(
        text.contains("writing to the standard output failed"),
        "{text}"
    );
    for command in ["man", "completions bash", "scenario list"] {
        let out = shell(
            dir.path(),
            &format!(
                "\"$BIN\" {command} | head -c 1 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\""
            ),
        );
        let text = all(&out);
        assert!(text.contains("status=0"), "{command}: {text}");
        assert!(
            !text.to_lowercase().contains("broken pipe"),
            "{command}: {text}"
        );
    }
}

#[test]
fn a_fifo_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new("mkfifo")
        .arg(dir.path().join("pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    for args in [
        vec!["--config", "pipe", "produce", "--count", "1"],
        vec!["produce", "--count", "1", "--source", "pipe"],
        vec!["scenario", "check", "pipe"],
    ] {
        let started = Instant::now();
        let out = Command::new("timeout")
            .arg("20")
            .arg(BIN)
            .args(&args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = all(&out);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{args:?} waited on the FIFO"
        );
        assert!(!out.status.success(), "{args:?}: {text}");
        assert!(text.contains("not a regular file"), "{args:?}: {text}");
    }
}

#[test]
fn a_config_repeating_a_key_thousands_of_times_reads_fast_and_says_it_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let mut ini = String::from("[default]\nbootstrap.servers=127.0.0.1:1\n[producer]\n");
    for i in 0..20_000 {
        writeln!(ini, "linger.ms={}", i % 100).unwrap();
    }
    std::fs::write(dir.path().join("big.ini"), ini).unwrap();
    let started = Instant::now();
    let out = run_in(
        dir.path(),
        &["--config", "big.ini", "produce", "--print-config"],
        &[],
    );
    let text = all(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let repeats = text.lines().filter(|l| l.contains("is set again")).count();
    assert_eq!(repeats, 10, "{text}");
    assert!(text.contains("19989 more lines set a key again"), "{text}");
    assert!(
        text.contains("linger.ms         = 99    # big.ini:20003"),
        "the last counts: {text}"
    );
}

#[test]
fn reports_and_files_not_kafka_labs_are_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rep")).unwrap();
    std::fs::write(dir.path().join("rep/report.md"), "my notes\n").unwrap();
    let out = run_in(
        dir.path(),
        &["scenario", "run", "batching", "--report", "rep"],
        &[],
    );
    let text = all(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("--force"), "{text}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("rep/report.md")).unwrap(),
        "my notes\n"
    );
    // A file of the user's as a sink: refused before connecting (nothing listens on port 1).
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "line one\nline two, not ended").unwrap();
    let started = Instant::now();
    let out = run_in(
        dir.path(),
        &[
            "consume",
            "-b",
            "127.0.0.1:1",
            "--count",
            "1",
            "--sink",
            "notes.txt",
        ],
        &[],
    );
    let text = all(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("not a sink's file"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(10), "{text}");
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "line one\nline two, not ended"
    );
}

#[test]
fn the_connection_is_not_swept_and_ports_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["bench", "--sweep", "bootstrap.servers=a:1,b:1"],
            "belongs to the connection",
        ),
        (
            vec!["bench", "--sweep", "security.protocol=PLAINTEXT,SSL"],
            "belongs to the connection",
        ),
        (
            vec!["-b", "127.0.0.1:99999", "produce", "--count", "1"],
            "1 to 65535",
        ),
    ] {
        let out = run_in(dir.path(), &args, &[]);
        let text = all(&out);
        assert!(!out.status.success(), "{args:?}: {text}");
        assert!(text.contains(needle), "{args:?}: {text}");
    }
}

#[test]
fn a_signal_gives_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["produce", "--rate", "50"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The embedded cluster starts and the producer runs a moment first.
    std::thread::sleep(Duration::from_secs(3));
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "produce did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(128 + 15));
}
