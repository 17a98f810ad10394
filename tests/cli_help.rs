//! The command line's own documentation: `--help` of each subcommand (snapshots), shell
//! completions and the man page, all generated from the same definitions.

mod common;

use std::process::Command;

use common::*;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("KAFKA_LAB_API_URL")
        // Help is wrapped to COLUMNS when there is no terminal.
        .env_remove("COLUMNS")
        .output()
        .unwrap()
}

#[test]
fn help_of_each_subcommand() {
    for sub in [
        "",
        "produce",
        "consume",
        "bench",
        "process",
        "cluster",
        "completions",
        "man",
        "scenario",
        "scenario run",
    ] {
        let mut args: Vec<&str> = sub.split_whitespace().collect();
        args.push("--help");
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let name = if sub.is_empty() {
            "kafka-lab".to_string()
        } else {
            sub.replace(' ', "_")
        };
        insta::assert_snapshot!(format!("help_{name}"), stdout(&out));
    }
}

#[test]
fn cluster_options_have_their_own_heading() {
    let help = stdout(&run(&["bench", "--help"]));
    let cluster = help.find("\nCluster:\n").expect("a Cluster heading");
    for option in [
        "--config",
        "--bootstrap-servers",
        "--rtt-ms",
        "--partitions",
    ] {
        let at = help
            .find(option)
            .unwrap_or_else(|| panic!("{option} in {help}"));
        assert!(at > cluster, "{option} is listed under Cluster");
    }
    let messages = help.find("--messages").unwrap();
    assert!(messages < cluster, "bench's own options come first");
}

#[test]
fn completions_for_three_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for word in [
            "kafka-lab",
            "bench",
            "consume",
            "rtt-ms",
            "bootstrap-servers",
        ] {
            assert!(script.contains(word), "{shell} completions name {word}");
        }
    }
    // The bash script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kafka-lab.bash");
    std::fs::write(&path, stdout(&run(&["completions", "bash"]))).unwrap();
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    let bad = run(&["completions", "tcsh"]);
    assert_clean_failure(&bad, &["tcsh", "possible values"]);
}

#[test]
fn the_man_page_covers_every_subcommand() {
    let out = run(&["man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{}",
        &page[..80]
    );
    for title in [
        "kafka-lab-produce",
        "kafka-lab-consume",
        "kafka-lab-bench",
        "kafka-lab-cluster",
    ] {
        assert!(page.contains(title), "the page has {title}");
    }
    assert!(page.contains("rtt\\-ms"), "options are listed");
}
