//! The second hostile pass, as tables of cases through the real binary: secrets in library
//! errors and URLs, escape sequences from files and records, closed pipes, output places,
//! unbounded reads, kafka-local's pid checks, second signals, options in the wrong place.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run_with_env(dir, args, env)
}

// --- Secrets ---------------------------------------------------------------------------------

/// A SASL/OAUTHBEARER configuration librdkafka refuses, echoing it from its second word on.
const OAUTH: &str = "principal=bob SECRETxyz123=1 scope=SECRETxyz456";
const OAUTH_SECRETS: [&str; 2] = ["SECRETxyz123", "SECRETxyz456"];

fn oauth_flags() -> Vec<String> {
    [
        "security.protocol=SASL_PLAINTEXT",
        "sasl.mechanisms=OAUTHBEARER",
        "enable.sasl.oauthbearer.unsecure.jwt=true",
    ]
    .iter()
    .flat_map(|p| ["-X".to_string(), p.to_string()])
    .chain(["-X".to_string(), format!("sasl.oauthbearer.config={OAUTH}")])
    .collect()
}

const SCENARIO: &str = "title = \"s\"\n[[step]]\nstart = \"producer\"\n[[step]]\nwait = \"1s\"\n";

/// Library errors that echo a secret property's value, under every subcommand, given on the
/// command line or in config.ini: the value never reaches the output, whole or in part.
#[test]
fn library_errors_never_show_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SCENARIO).unwrap();
    // A config file names a cluster: an embedded one served by another process.
    let cluster = Cluster::embedded("secrets", 3);
    std::fs::write(
        dir.path().join("lab.ini"),
        format!(
            "[default]\nbootstrap.servers = {}\nsecurity.protocol = SASL_PLAINTEXT\n\
             sasl.mechanisms = OAUTHBEARER\nenable.sasl.oauthbearer.unsecure.jwt = true\n\
             sasl.oauthbearer.config = {OAUTH}\n",
            cluster.bootstrap
        ),
    )
    .unwrap();
    let commands: [&[&str]; 5] = [
        &["produce", "--count", "1"],
        &["consume", "--count", "1"],
        &["bench", "--messages", "10"],
        &["scenario", "run", "s.toml", "--speed", "10"],
        &["--print-config"],
    ];
    let flags = oauth_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    for command in commands {
        for given in [&flags[..], &["--config", "lab.ini"][..]] {
            let args: Vec<&str> = command
                .iter()
                .copied()
                .chain(given.iter().copied())
                .chain(["--connect-timeout", "3"])
                .collect();
            let out = run_in(dir.path(), &args, &[]);
            let text = all(&out);
            for secret in OAUTH_SECRETS {
                assert!(!text.contains(secret), "{args:?} shows {secret}:\n{text}");
            }
            assert!(!text.contains("panicked"), "{args:?}:\n{text}");
            // The case is the one meant: librdkafka refused the value and said so (or the
            // settings were printed, masked).
            let refused = text.contains("Unrecognized sasl.oauthbearer.config beginning at: ***");
            let printed = command == ["--print-config"] && text.contains("sasl.oauthbearer.config");
            assert!(
                refused || printed,
                "{args:?} did not meet the error:\n{text}"
            );
        }
    }
}

/// A URL's user and password are never shown: the API URL by flag or environment.
#[test]
fn credentials_in_urls_are_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9: the fetch fails at once, and says so.
    let url = "http://apiuser:SECRETurlpw@127.0.0.1:9";
    for (args, env) in [
        (
            vec![
                "produce",
                "--count",
                "1",
                "--source",
                "openbrewerydb",
                "--api-url",
                url,
            ],
            vec![],
        ),
        (
            vec!["produce", "--count", "1", "--source", "openbrewerydb"],
            vec![("KAFKA_LAB_API_URL", url)],
        ),
    ] {
        let out = run_in(dir.path(), &args, &env);
        let text = all(&out);
        assert!(!out.status.success(), "{text}");
        assert!(text.contains("127.0.0.1:9"), "the URL is named: {text}");
        for secret in ["SECRETurlpw", "apiuser"] {
            assert!(!text.contains(secret), "{args:?} shows {secret}:\n{text}");
        }
    }
}

// --- Escape sequences ------------------------------------------------------------------------

/// What a terminal acts on: erase the screen, set the window title, ring, CSI as one C1 byte,
/// a carriage return, reversed text.
const HOSTILE: [&str; 6] = [
    "\u{1b}[2J",
    "\u{1b}]0;PWN\u{7}",
    "\u{7}",
    "\u{9b}2J",
    "x\ry",
    "\u{202e}txt.exe",
];

fn raw_escape(text: &str) -> Option<char> {
    text.chars()
        .find(|c| matches!(c, '\u{1b}' | '\u{7}' | '\u{9b}' | '\r' | '\u{202e}'))
}

/// A scenario's title, description and marks, and the records' keys, reach a terminal or a
/// report escaped, whatever they hold.
#[test]
fn text_from_files_and_records_never_reaches_a_terminal_raw() {
    for (i, bad) in HOSTILE.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let toml_text = |s: &str| serde_json::to_string(s).unwrap();
        let file = format!(
            "title = {}\ndescription = {}\n[[step]]\nmark = {}\n[[step]]\nstart = \"producer\"\n[[step]]\nwait = \"1s\"\n",
            toml_text(&format!("t{bad}")),
            toml_text(&format!("line one\nline two {bad}")),
            toml_text(&format!("m{bad}")),
        );
        std::fs::write(dir.path().join("s.toml"), file).unwrap();
        for args in [
            vec!["scenario", "check", "s.toml"],
            vec![
                "scenario", "run", "s.toml", "--speed", "10", "--report", "out",
            ],
        ] {
            let out = run_in(dir.path(), &args, &[]);
            let text = all(&out);
            assert!(out.status.success(), "{args:?}: {text}");
            assert_eq!(raw_escape(&text), None, "case {i} {args:?}:\n{text:?}");
        }
        let report = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
        assert_eq!(
            raw_escape(&report),
            None,
            "case {i}: report.md:\n{report:?}"
        );
        assert!(
            report.contains("line two"),
            "the description keeps its lines"
        );

        // A record whose key holds it, sent by `produce`, printed per delivery.
        let record = serde_json::json!({ "id": format!("k{bad}"), "name": "n" });
        std::fs::write(dir.path().join("r.jsonl"), format!("{record}\n")).unwrap();
        let out = run_in(
            dir.path(),
            &[
                "produce", "--count", "1", "--source", "r.jsonl", "--key", "id",
            ],
            &[],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(raw_escape(&all(&out)), None, "case {i}: {:?}", stdout(&out));
        assert!(stdout(&out).contains("key=\"k"), "{}", stdout(&out));
    }
}

// --- Closed pipes and output places ------------------------------------------------------------

/// `kafka-lab ... | head -1`: the command stops (no panic, no exit 101), and what it writes to
/// files is written first.
#[test]
fn a_closed_pipe_is_a_stop_and_files_come_first() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SCENARIO).unwrap();
    for command in [
        format!("{BIN} produce --rate max"),
        format!("{BIN} scenario list"),
        format!("{BIN} scenario check s.toml"),
        format!("{BIN} scenario run s.toml --speed 10 --report rep"),
        format!("{BIN} bench --messages 2000 --json --csv runs.csv"),
    ] {
        // Bounded: a command that never stops fails the test instead of hanging it.
        let out = Command::new("timeout")
            .args(["120", "bash", "-c"])
            .arg(format!(
                "{command} | head -c 1 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\""
            ))
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = all(&out);
        assert!(
            out.status.success(),
            "{command} did not stop within 120 s: {text}"
        );
        assert!(!text.contains("panicked"), "{command}: {text}");
        assert!(!text.contains("status=101"), "{command}: {text}");
    }
    for file in ["rep/report.md", "rep/runs.csv", "rep/runs.json", "runs.csv"] {
        assert!(dir.path().join(file).exists(), "{file} was written");
    }
}

/// Where a command will write is checked before it connects: a run never ends unwritten.
#[test]
fn output_places_are_checked_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SCENARIO).unwrap();
    std::fs::write(dir.path().join("old.csv"), "x").unwrap();
    for (args, says) in [
        (
            vec!["bench", "--messages", "10", "--csv", "/nonexistent/x.csv"],
            "/nonexistent",
        ),
        (
            vec!["bench", "--messages", "10", "--csv", "old.csv"],
            "--force",
        ),
        (
            vec!["bench", "--messages", "10", "--csv", "."],
            "not a regular file",
        ),
        (
            vec!["scenario", "run", "s.toml", "--report", "/proc/x"],
            "--report /proc/x",
        ),
        (
            vec!["scenario", "run", "s.toml", "--report", "old.csv"],
            "not a folder",
        ),
    ] {
        let out = run_in(dir.path(), &args, &[]);
        assert_clean_failure(&out, &[says]);
        assert!(
            !stderr(&out).contains("embedded cluster:"),
            "{args:?} connected first: {}",
            stderr(&out)
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("old.csv")).unwrap(),
        "x"
    );
    let out = run_in(
        dir.path(),
        &[
            "bench",
            "--messages",
            "10",
            "--csv",
            "old.csv",
            "--force",
            "--no-verify",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(dir.path().join("old.csv"))
        .unwrap()
        .starts_with("run,topic"));
}

// --- Unbounded reads -------------------------------------------------------------------------

/// A file where a small one is expected: a device, a folder, or one too large, is refused at
/// once with its limit, never read until memory runs out.
#[test]
fn reads_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.ini");
    let mut f = std::fs::File::create(&big).unwrap();
    f.write_all(&vec![b'#'; 2 << 20]).unwrap();
    drop(f);
    for (args, says) in [
        (
            vec!["--config", "/dev/zero", "produce"],
            "not a regular file",
        ),
        (vec!["--config", "big.ini", "produce"], "more than"),
        (
            vec!["produce", "--source", "/dev/zero"],
            "not a regular file",
        ),
        (vec!["produce", "--source", "."], "not a regular file"),
        (vec!["scenario", "check", "/dev/zero"], "not a regular file"),
        (vec!["scenario", "check", "big.ini"], "more than"),
    ] {
        let out = run_in(dir.path(), &args, &[]);
        assert_clean_failure(&out, &[says]);
    }
}

/// An API server that streams one endless page: the fetch stops at the page limit.
#[test]
fn an_endless_api_page_is_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = stream;
                // The request first, as a server reads it.
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n")
                    && std::io::Read::read(&mut s, &mut byte).is_ok_and(|n| n == 1)
                {
                    request.push(byte[0]);
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                );
                let chunk = format!("{:x}\r\n{}\r\n", 65536, "[".repeat(65536));
                while s.write_all(chunk.as_bytes()).is_ok() {}
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let out = run_in(
        dir.path(),
        &[
            "produce",
            "--count",
            "1",
            "--source",
            "openbrewerydb",
            "--api-url",
            &url,
        ],
        &[],
    );
    assert_clean_failure(&out, &["larger than 8 MB"]);
}

// --- kafka-local signals only its own nodes ----------------------------------------------------

/// A decoy: a process whose command line looks like a broker's.
fn decoy(config: &str) -> KillOnDrop {
    KillOnDrop(
        Command::new("python3")
            .args(["-c", "import time; time.sleep(120)", "kafka.Kafka", config])
            .spawn()
            .expect("python3"),
    )
}

fn process_state(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_default()
        .rsplit(") ")
        .next()
        .unwrap_or("")
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default()
}

/// The pid file names a process that is not this node (another cluster's broker, a decoy, a
/// reused pid): `pause`, `kill` and `resume` refuse, and the process is left alone.
#[test]
fn kafka_local_signals_only_its_own_nodes() {
    let state = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let script = kafka_lab::runtime::in_repo("scripts/kafka-local");
    for config in [
        "/some/other/server.properties".to_string(),
        // Another kafka-local cluster's broker.
        other.path().join("server.properties").display().to_string(),
    ] {
        let d = decoy(&config);
        let pid = d.0.id();
        std::fs::write(state.path().join("broker.pid"), format!("{pid}\n")).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        for action in ["pause", "kill", "resume"] {
            let out = Command::new(&script)
                .args([action, "1"])
                .env("KAFKA_LOCAL_DIR", state.path())
                .output()
                .unwrap();
            assert!(!out.status.success(), "{action}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("is not node 1 of this cluster")
                    || stderr(&out).contains("is not paused"),
                "{action}: {}",
                stderr(&out)
            );
            let st = process_state(pid);
            assert!(
                st == "S" || st == "R",
                "{action} touched the decoy: state {st}"
            );
        }
    }
}

// --- Signals ---------------------------------------------------------------------------------

fn send(child: &std::process::Child, signal: &str) {
    Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
}

/// The first Ctrl-C says what it waits for; a second ends the wait at once and says what was
/// left, for every command that waits after a Ctrl-C.
#[test]
fn a_second_ctrl_c_ends_the_wait_at_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("slow.toml"),
        "title = \"slow\"\n[[step]]\nrate = 200\n[[step]]\nconsumers = 1\n[[step]]\nstart = \"producer\"\n[[step]]\nwait = \"60s\"\n",
    )
    .unwrap();
    // Every round trip takes 5 s: a flush, a leave or an end has work to wait for.
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &[
                "--rtt-ms",
                "5000",
                "produce",
                "--rate",
                "200",
                "--flush-timeout",
                "60",
            ],
            "Ctrl-C again stops at once",
            "stopped at once by a second signal",
        ),
        (
            &[
                "--rtt-ms",
                "5000",
                "bench",
                "--messages",
                "100000",
                "--rate",
                "200",
            ],
            "Ctrl-C again stops at once",
            "stopped at once by a second signal",
        ),
        (
            &[
                "--rtt-ms",
                "5000",
                "scenario",
                "run",
                "slow.toml",
                "--report",
                "rep",
            ],
            "Ctrl-C stops at once",
            "stopped at once",
        ),
    ];
    for (args, first, second) in cases {
        let child = Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        std::thread::sleep(Duration::from_secs(6));
        send(&child.0, "INT");
        std::thread::sleep(Duration::from_millis(700));
        send(&child.0, "INT");
        let began = Instant::now();
        while child.0.try_wait().unwrap().is_none() {
            assert!(
                began.elapsed() < Duration::from_secs(30),
                "{args:?}: still waiting 30 s after the second Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut err = String::new();
        std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(err.contains(first), "{args:?}: {err}");
        assert!(err.contains(second), "{args:?}: {err}");
    }
}

/// `consume` after a second Ctrl-C stops without committing (or had already left), and
/// says which.
#[test]
fn a_second_ctrl_c_stops_consume_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(BIN)
        .args(["--rtt-ms", "3000", "consume"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    std::thread::sleep(Duration::from_secs(8));
    send(&child.0, "INT");
    std::thread::sleep(Duration::from_millis(300));
    send(&child.0, "INT");
    child.0.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("stopped at once by a second signal") || err.contains("committed and left"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// Stopped by a signal, `cluster` says which in its exit code, as the other commands do.
#[test]
fn cluster_exits_with_the_signals_code() {
    let mut child = KillOnDrop(
        Command::new(BIN)
            .arg("cluster")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.0.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.starts_with("bootstrap.servers="), "{line}");
    send(&child.0, "TERM");
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(143));
}

// --- Options in the wrong place ----------------------------------------------------------------

#[test]
fn the_dashboards_options_before_a_subcommand_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            "--source",
            "/nonexistent",
            "--key",
            "state",
            "--rate",
            "0.001",
            "produce",
            "--count",
            "2",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    for named in ["--source", "--key", "--rate", "`produce`"] {
        assert!(stderr(&out).contains(named), "{}", stderr(&out));
    }
    // After the subcommand they are its own.
    let out = run_in(
        dir.path(),
        &["produce", "--count", "2", "--key", "state", "--rate", "max"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn the_dashboard_needs_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &[], &[]);
    assert_clean_failure(&out, &["standard output is not one"]);
    assert!(
        !stdout(&out).contains('\u{1b}'),
        "no escape codes in a file"
    );
    assert!(
        !stderr(&out).contains("embedded cluster:"),
        "nothing started"
    );
}

/// A scenario step that does nothing (a member not there, a restart of one that has not
/// crashed) is said on the terminal of a run without a screen, as the dashboard says it.
#[test]
fn a_step_that_does_nothing_is_said_without_a_screen() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        "title = \"s\"\n[[step]]\nconsumers = 1\n[[step]]\nwait = \"2s\"\n\
         [[step]]\ncrash = \"consumer-9\"\n[[step]]\nrestart = \"consumer-1\"\n\
         [[step]]\nwait = \"1s\"\n",
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &["scenario", "run", "s.toml", "--speed", "4"],
        &[],
    );
    let text = all(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("no consumer-9 in the group to crash; the step does nothing"),
        "{text}"
    );
    assert!(
        text.contains("consumer-1 has not crashed; the restart step does nothing"),
        "{text}"
    );
}
