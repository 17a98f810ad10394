//! The real binary's dashboard in tmux, driven by keys, read back with capture-pane: as a user
//! would see it.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::*;

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(command: &str, width: u16, height: u16) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(std::env::var("CI").is_err(), "tmux is required in CI");
            skipped!("SKIPPED: tmux is not installed");
            return None;
        }
        let session = unique_topic("lab");
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(command)
            .status()
            .unwrap();
        assert!(status.success());
        Some(Tmux { session })
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let status = Command::new("tmux")
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .unwrap();
            assert!(status.success());
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its escape sequences (colours, bold, reverse).
    fn screen_with_escapes(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-e", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until `ok` holds for the screen; panics with the screen when it does not.
    fn wait<T>(&self, what: &str, timeout: Duration, mut ok: impl FnMut(&str) -> Option<T>) -> T {
        let mut last = String::new();
        wait_for(timeout, || {
            last = self.screen();
            ok(&last)
        })
        .unwrap_or_else(|| panic!("timed out waiting for {what}; the screen:\n{last}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

/// The partitions listed in each consumer pane, by pane title.
fn panes(screen: &str) -> Vec<(String, Vec<i32>)> {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let mut out = Vec::new();
    for (row, line) in lines.iter().enumerate() {
        let text: String = line.iter().collect();
        if !text.contains(" consumer-") || !(text.starts_with('┌') || text.starts_with('┏')) {
            continue;
        }
        // Each pane starts at a top-left corner on this line.
        let starts: Vec<usize> = line
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == '┌' || **c == '┏')
            .map(|(i, _)| i)
            .collect();
        for (k, &start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(line.len());
            let title: String = line[start..end].iter().collect();
            let name = title
                .split_whitespace()
                .find(|w| w.starts_with("consumer-"))
                .unwrap_or("?")
                .to_string();
            let mut partitions = Vec::new();
            let mut in_table = false;
            for below in &lines[row + 1..] {
                let cell: String = below
                    .get(start..end.min(below.len()))
                    .unwrap_or(&[])
                    .iter()
                    .collect();
                if cell.starts_with('└') || cell.starts_with('┗') {
                    break;
                }
                let words: Vec<&str> = cell
                    .trim_matches(|c| c == '│' || c == '┃')
                    .split_whitespace()
                    .collect();
                if words.first() == Some(&"part") {
                    in_table = true;
                } else if in_table && words.len() == 4 {
                    match words[0].parse() {
                        Ok(p) => partitions.push(p),
                        Err(_) => in_table = false,
                    }
                } else {
                    in_table = false;
                }
            }
            out.push((name, partitions));
        }
        break;
    }
    out
}

#[test]
fn dashboard_end_to_end_in_tmux() {
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "cd {} && {BIN}; echo EXITED:$?; stty -a | grep icanon; sleep 120",
        dir.path().display()
    );
    let Some(tmux) = Tmux::start(&command, 140, 45) else {
        return;
    };
    tmux.wait(
        "the first consumer to get all partitions",
        Duration::from_secs(40),
        |s| {
            let p = panes(s);
            (p.len() == 1 && p[0].1.len() == 6 && s.contains("● running")).then_some(())
        },
    );
    assert!(tmux.screen().contains("acks=1 and acks=all behave alike"));

    tmux.keys(&["c"]);
    let split = tmux.wait(
        "two members sharing the partitions",
        Duration::from_secs(40),
        |s| {
            let p = panes(s);
            let all: BTreeSet<i32> = p.iter().flat_map(|(_, parts)| parts.clone()).collect();
            let total: usize = p.iter().map(|(_, parts)| parts.len()).sum();
            (p.len() == 2
                && p.iter().all(|(_, parts)| !parts.is_empty())
                && total == 6
                && all.len() == 6)
                .then_some(p)
        },
    );
    let names: Vec<&str> = split.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["consumer-1", "consumer-2"]);
    copies_a_record_to_the_clipboard(&tmux, &split[0].1);

    tmux.keys(&["p"]);
    tmux.wait("the producer to stop", Duration::from_secs(20), |s| {
        s.contains("● stopped").then_some(())
    });

    // linger.ms is the third field: select it, replace 5 with 20, apply.
    tmux.keys(&["s", "Down", "Down", "BSpace", "2", "0", "Enter"]);
    tmux.wait("run 2 with linger.ms=20", Duration::from_secs(30), |s| {
        (s.contains("● running · run 2")
            && s.contains("── run 2 started: acks=all linger.ms=20")
            && s.lines().any(|l| l.contains("linger.ms          20")))
        .then_some(())
    });
    tmux.keys(&["Escape", "q"]);
    let after = tmux.wait("a clean exit", Duration::from_secs(40), |s| {
        // Wait for stty's line too: it prints after the exit code and err.txt.
        (s.contains("EXITED:") && s.contains("icanon")).then(|| s.to_string())
    });
    assert!(after.contains("EXITED:0"), "{after}");
    // The terminal is back in cooked mode with echo, and the dashboard is gone from it.
    assert!(
        after.contains(" icanon") && !after.contains("-icanon"),
        "{after}"
    );
    assert!(
        after.contains(" echo ") && !after.contains("-echo "),
        "{after}"
    );
    // Quitting flushed the producer: its last run ended with nothing left undelivered.
    let summary = after
        .lines()
        .find(|l| l.starts_with("kafka-lab: run 2 ended"))
        .expect(&after);
    assert!(summary.ends_with(", 0 undelivered"), "{summary}");
    assert!(!after.contains("● running"), "{after}");
}

/// `2` selects consumer-1's pane and `y` copies its latest record: the terminal (tmux here,
/// told to take OSC 52) gets it as JSON, a record of one of that member's partitions.
fn copies_a_record_to_the_clipboard(tmux: &Tmux, partitions: &[i32]) {
    let status = Command::new("tmux")
        .args(["set-option", "-s", "set-clipboard", "on"])
        .status()
        .unwrap();
    assert!(status.success());
    tmux.keys(&["2", "y"]);
    tmux.wait("the copy's flash", Duration::from_secs(10), |s| {
        s.contains("copied the record at partition").then_some(())
    });
    let out = Command::new("tmux").arg("show-buffer").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let record: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let partition = record["partition"].as_i64().unwrap() as i32;
    assert!(
        partitions.contains(&partition),
        "{partition} not in {partitions:?}"
    );
    assert!(record["offset"].as_i64().is_some(), "{text}");
    assert!(
        record["value"]["name"].is_string(),
        "a brewery, as JSON: {text}"
    );
}

impl Tmux {
    /// The dashboard's process: the child of the pane's shell.
    fn dashboard_pid(&self) -> Option<String> {
        let out = Command::new("tmux")
            .args(["display", "-p", "-t", &self.session, "#{pane_pid}"])
            .output()
            .ok()?;
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        // The shell may have become the dashboard (exec of the last command).
        let comm = std::fs::read_to_string(format!("/proc/{shell}/comm")).unwrap_or_default();
        if comm.trim() == "kafka-lab" {
            return Some(shell);
        }
        let out = Command::new("pgrep")
            .args(["-P", &shell, "kafka-lab"])
            .output()
            .ok()?;
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (!pid.is_empty()).then_some(pid)
    }

    fn alternate_screen(&self) -> bool {
        let out = Command::new("tmux")
            .args(["display", "-p", "-t", &self.session, "#{alternate_on}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }
}

/// Starts the dashboard, waits until it runs (unless `failpoint` makes it crash), stops it
/// with `stop`, and returns what the terminal shows afterwards, once the terminal is checked.
fn stopped_by(stop: impl FnOnce(&Tmux), failpoint: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "cd {} && KAFKA_LAB_FAILPOINT={failpoint} {BIN} 2>err.txt; echo EXITED:$?; cat err.txt; \
         stty -a | grep icanon; sleep 120",
        dir.path().display()
    );
    let tmux = Tmux::start(&command, 120, 40)?;
    if failpoint.is_empty() {
        tmux.wait("the dashboard to run", Duration::from_secs(40), |s| {
            s.contains("● running").then_some(())
        });
    }
    stop(&tmux);
    let after = tmux.wait("the dashboard to exit", Duration::from_secs(40), |s| {
        // Wait for stty's line too: it prints after the exit code and err.txt.
        (s.contains("EXITED:") && s.contains("icanon")).then(|| s.to_string())
    });
    assert!(
        !tmux.alternate_screen(),
        "still on the alternate screen:\n{after}"
    );
    assert!(
        after.contains(" icanon") && !after.contains("-icanon"),
        "not back in cooked mode:\n{after}"
    );
    assert!(
        after.contains(" echo ") && !after.contains("-echo "),
        "echo is off:\n{after}"
    );
    assert!(
        !after.contains("● running"),
        "the dashboard drew on the normal screen:\n{after}"
    );
    Some(after)
}

fn signal(tmux: &Tmux, name: &str) {
    let pid = tmux.dashboard_pid().expect("the dashboard's pid");
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sigterm_sighup_and_ctrl_c_restore_the_terminal() {
    for (name, code) in [("TERM", 143), ("HUP", 129)] {
        let Some(after) = stopped_by(|t| signal(t, name), "") else {
            return;
        };
        assert!(after.contains(&format!("EXITED:{code}")), "{name}: {after}");
        assert!(after.contains("stopped by"), "{name}: {after}");
        assert!(
            after.contains("kafka-lab: run 1 ended"),
            "{name}: flushed: {after}"
        );
    }
    let after = stopped_by(|t| t.keys(&["C-c"]), "").unwrap();
    assert!(after.contains("EXITED:0"), "{after}");
}

#[test]
fn a_panic_in_a_task_ends_the_dashboard_cleanly() {
    for task in ["producer", "member"] {
        let failpoint = format!("{task}-panic");
        let Some(after) = stopped_by(|_| {}, &failpoint) else {
            return;
        };
        assert!(!after.contains("EXITED:0"), "{after}");
        assert!(after.contains("a task of the dashboard failed"), "{after}");
        assert!(after.contains(&format!("failpoint {failpoint}")), "{after}");
    }
}

#[test]
fn closing_the_terminal_ends_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let command = format!("cd {} && {BIN}", dir.path().display());
    let Some(tmux) = Tmux::start(&command, 120, 40) else {
        return;
    };
    tmux.wait("the dashboard to run", Duration::from_secs(40), |s| {
        s.contains("● running").then_some(())
    });
    let pid = tmux.dashboard_pid().expect("the dashboard's pid");
    drop(tmux);
    // The window is gone (SIGHUP, and a terminal that reads nothing): the process must end,
    // not linger.
    let gone = wait_for(Duration::from_secs(40), || {
        (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then_some(())
    });
    if gone.is_none() {
        let _ = Command::new("kill").args(["-9", &pid]).status();
        panic!("the dashboard (pid {pid}) was still running after its terminal closed");
    }
}

#[test]
fn bench_draws_a_progress_bar_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "cd {} && {BIN} bench --messages 400000 --rate 100000 --no-verify; sleep 120",
        dir.path().display()
    );
    let Some(tmux) = Tmux::start(&command, 120, 30) else {
        return;
    };
    let bar = tmux.wait("the progress bar", Duration::from_secs(60), |s| {
        s.lines()
            .find(|l| l.starts_with("run [") && l.contains("records ·") && l.contains("s left"))
            .map(str::to_string)
    });
    assert!(bar.contains("/400,000"), "{bar}");
    // Once done, the bar is gone and the summary stands.
    let done = tmux.wait("the summary", Duration::from_secs(60), |s| {
        s.contains("records sent").then(|| s.to_string())
    });
    assert!(!done.contains("run ["), "{done}");
    drop(tmux);

    // Without a terminal: no bar, no redraws; the figures as before.
    let out = std::process::Command::new(BIN)
        .args(["bench", "--messages", "20000", "--no-verify"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        !err.contains('\r') && !err.contains('\u{1b}') && !err.contains("run ["),
        "{err}"
    );
    assert!(stdout(&out).contains("records sent"), "{}", stdout(&out));
}

/// Escape sequences on `screen` that set a foreground or background colour.
fn colour_codes(screen: &str) -> usize {
    screen
        .split("\u{1b}[")
        .skip(1)
        .filter_map(|rest| rest.split_once('m').map(|(codes, _)| codes))
        .filter(|codes| {
            let first = codes.split(';').next().unwrap_or("");
            matches!(first, "38" | "48")
                || first.len() == 2
                    && matches!(&first[..1], "3" | "4" | "9")
                    && !matches!(&first[1..], "8" | "9")
        })
        .count()
}

#[test]
fn no_color_and_color_never_draw_without_colours() {
    for (setting, coloured) in [
        ("-u NO_COLOR", true),
        ("NO_COLOR=1", false),
        ("--color never", false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let command = if setting.starts_with("--") {
            format!("cd {} && {BIN} {setting}", dir.path().display())
        } else {
            format!("cd {} && env {setting} {BIN}", dir.path().display())
        };
        let Some(tmux) = Tmux::start(&command, 120, 40) else {
            return;
        };
        tmux.wait("the dashboard to run", Duration::from_secs(40), |s| {
            s.contains("● running").then_some(())
        });
        let codes = colour_codes(&tmux.screen_with_escapes());
        assert_eq!(codes > 0, coloured, "{setting:?}: {codes} colour codes");
        tmux.keys(&["q"]);
    }
}

/// `--scenario`: the strip shows the steps and the one under way; Space pauses the scenario
/// (its next step waits, the clients go on) and resumes it; at the end the strip says where
/// the report is, and the report is there.
#[test]
fn the_dashboard_plays_a_scenario_with_a_strip_and_space_pauses_it() {
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "cd {} && {BIN} --scenario partitions-and-keys --speed 4; echo EXITED:$?; sleep 120",
        dir.path().display()
    );
    let Some(tmux) = Tmux::start(&command, 200, 50) else {
        return;
    };
    tmux.wait("the scenario strip", Duration::from_secs(40), |s| {
        s.contains("scenario Partitions and keys").then_some(())
    });
    tmux.wait("the first wait", Duration::from_secs(20), |s| {
        (s.contains("5 wait 20s") && s.contains("next in")).then_some(())
    });
    tmux.keys(&["Space"]);
    let paused = tmux.wait("the scenario to pause", Duration::from_secs(5), |s| {
        s.contains("scenario paused (Space resumes)")
            .then(|| s.to_string())
    });
    // Paused for longer than the wait's 5 s (20 s at speed 4): the step after it has not run.
    std::thread::sleep(Duration::from_secs(7));
    let still = tmux.screen();
    assert!(still.contains("scenario paused (Space resumes)"), "{still}");
    assert!(
        !still.contains("run 2"),
        "no new run while paused:\n{paused}\n{still}"
    );
    assert!(still.contains("● running"), "the producer goes on: {still}");
    tmux.keys(&["Space"]);
    let done = tmux.wait("the scenario to end", Duration::from_secs(90), |s| {
        s.contains("passed: report in").then(|| s.to_string())
    });
    assert!(done.contains("asserts 4 ok 0 failed"), "{done}");
    tmux.keys(&["q"]);
    tmux.wait("the dashboard to exit", Duration::from_secs(30), |s| {
        s.contains("EXITED:0").then_some(())
    });
    let reports: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("kafka-lab-report-")
        })
        .collect();
    assert_eq!(reports.len(), 1, "one report folder");
    let md = std::fs::read_to_string(reports[0].path().join("report.md")).unwrap();
    assert!(md.contains("| result | passed (4 assertions) |"), "{md}");
}

/// An interactive shell in tmux, with job control, for Ctrl-Z and fg.
fn shell(dir: &std::path::Path) -> Option<Tmux> {
    let tmux = Tmux::start("bash --norc --noprofile -i", 120, 40)?;
    tmux.keys(&[&format!("cd {} && PS1='PROMPT$ '", dir.display()), "Enter"]);
    Some(tmux)
}

/// Ctrl-Z gives the terminal back to the shell (no alternate screen, no raw mode while
/// stopped); `fg` takes it again, draws it whole, and keys work as before.
#[test]
fn ctrl_z_suspends_and_fg_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tmux) = shell(dir.path()) else {
        return;
    };
    tmux.keys(&[BIN, "Enter"]);
    tmux.wait("the dashboard to run", Duration::from_secs(40), |s| {
        s.contains("● running").then_some(())
    });
    tmux.keys(&["C-z"]);
    let stopped = tmux.wait("the job to stop", Duration::from_secs(20), |s| {
        s.contains("Stopped").then(|| s.to_string())
    });
    assert!(!tmux.alternate_screen(), "{stopped}");
    assert!(
        stopped.contains("PROMPT$"),
        "the shell has the terminal: {stopped}"
    );
    tmux.keys(&["fg", "Enter"]);
    tmux.wait("the dashboard again", Duration::from_secs(20), |s| {
        s.contains("● running").then_some(())
    });
    assert!(tmux.alternate_screen());
    // Raw mode again: one key, no Enter, opens the runs table.
    tmux.keys(&["r"]);
    tmux.wait("the runs table", Duration::from_secs(10), |s| {
        s.contains(" Runs ·").then_some(())
    });
    tmux.keys(&["q"]);
    tmux.wait("a clean exit", Duration::from_secs(40), |s| {
        s.contains("kafka-lab: run 1 ended").then_some(())
    });
    tmux.keys(&["echo EXITED:$?", "Enter"]);
    let after = tmux.wait("the exit code", Duration::from_secs(10), |s| {
        s.contains("EXITED:").then(|| s.to_string())
    });
    assert!(after.contains("EXITED:0"), "{after}");
}

/// Quitting says what it waits for; a second `q` stops at once and says what was left.
#[test]
fn a_second_quit_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // Every round trip takes 3 s: flushing and leaving the group take seconds.
    let command = format!(
        "cd {} && {BIN} --rtt-ms 3000 2>err.txt; echo EXITED:$?; cat err.txt; sleep 120",
        dir.path().display()
    );
    let Some(tmux) = Tmux::start(&command, 120, 40) else {
        return;
    };
    tmux.wait("the dashboard to run", Duration::from_secs(60), |s| {
        (s.contains("● running") && s.contains("delivered")).then_some(())
    });
    tmux.keys(&["q"]);
    let stopping = tmux.wait("the wait to be said", Duration::from_secs(20), |s| {
        s.contains("stopping:").then(|| s.to_string())
    });
    assert!(stopping.contains("q again: stop at once"), "{stopping}");
    tmux.keys(&["q"]);
    let after = tmux.wait("the exit", Duration::from_secs(20), |s| {
        s.contains("EXITED:").then(|| s.to_string())
    });
    assert!(after.contains("stopped at once"), "{after}");
    assert!(
        after.contains("records were still without a delivery report"),
        "{after}"
    );
}

/// `d` switches the producer's records while it runs: the Open Brewery DB is fetched in the
/// background (its pages said on the status line), kept, and sent from a new run on; `d`
/// again goes back to the bundled sample, and the next switch reads the kept set.
#[test]
fn d_switches_the_data_set_while_the_producer_runs() {
    let records: Vec<serde_json::Value> = kafka_lab::data::source::bundled()
        .iter()
        .take(250)
        .enumerate()
        .map(|(i, b)| {
            let mut v = serde_json::to_value(b).unwrap();
            v["id"] = format!("api-{i}").into();
            v
        })
        .collect();
    let served = common::api::serve(records, vec![]);
    let cache = tempfile::tempdir().unwrap();
    let command = format!(
        "XDG_CACHE_HOME={} {BIN} --api-url {}; echo EXITED:$?; sleep 60",
        cache.path().display(),
        served.base
    );
    let Some(tmux) = Tmux::start(&command, 200, 50) else {
        return;
    };
    let bundled = format!(
        "bundled sample, {} records",
        kafka_lab::text::thousands(kafka_lab::data::source::bundled().len() as u64)
    );
    tmux.wait("the bundled sample", Duration::from_secs(40), |s| {
        (s.contains(&bundled) && s.contains("● running")).then_some(())
    });
    tmux.keys(&["d"]);
    tmux.wait("the API's records sent", Duration::from_secs(40), |s| {
        (s.contains("Open Brewery DB, fetched")
            && s.contains("250 records")
            && s.contains("\"api-"))
        .then_some(())
    });
    assert_eq!(served.pages(), 2, "fetched once: 200 and 50");
    tmux.keys(&["d"]);
    tmux.wait("the bundled sample again", Duration::from_secs(30), |s| {
        s.contains(&bundled).then_some(())
    });
    // The kept set: no request.
    tmux.keys(&["d"]);
    tmux.wait("the kept set", Duration::from_secs(30), |s| {
        s.contains("Open Brewery DB, fetched").then_some(())
    });
    assert_eq!(served.pages(), 2, "read from where it was kept");
    tmux.keys(&["q"]);
    tmux.wait("the dashboard to exit", Duration::from_secs(30), |s| {
        s.contains("EXITED:0").then_some(())
    });
}
