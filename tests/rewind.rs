//! A rewind resets the group's committed offsets as `kafka-consumer-groups --reset-offsets`
//! does: checked against the broker's own committed offsets and watermarks, and refused (after
//! its deadline, with a clear reason) while the group has an active member.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use kafka_lab::config::Role;
use kafka_lab::kafka::rewind::{reset_offsets, CommitAs};
use kafka_lab::lab::settings::Rewind;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

const RECORDS: i64 = 600;

fn group_client(cluster: &Cluster, group: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", &cluster.bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap()
}

fn committed(cluster: &Cluster, group: &str) -> BTreeMap<i32, Option<i64>> {
    committed_offsets(cluster, group)
}

fn commit_all(cluster: &Cluster, group: &str, offset: i64) {
    let mut list = TopicPartitionList::new();
    for p in 0..cluster.partitions {
        list.add_partition_offset(&cluster.topic, p, Offset::Offset(offset))
            .unwrap();
    }
    group_client(cluster, group)
        .commit(&list, CommitMode::Sync)
        .unwrap();
}

fn rewind(cluster: &Cluster, group: &str, text: &str) -> Result<Vec<(i32, i64)>, String> {
    let settings = client_settings(&cluster.bootstrap, Role::Consumer, &[("group.id", group)]);
    let rewind = Rewind::parse(text).unwrap();
    reset_offsets(
        &settings,
        group,
        &cluster.topic,
        &rewind,
        CommitAs::Outsider,
        Duration::from_secs(3),
        &|_| {},
    )
    .map(|r| r.offsets)
}

cluster_test!(
    rewinds_set_the_offsets_the_broker_then_has,
    |cluster: &Cluster| {
        let out = cluster.run(&["produce", "--count", &RECORDS.to_string(), "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let high: BTreeMap<i32, i64> = (0..).zip(high_watermarks(cluster)).collect();
        let group = unique_topic("rewind");
        commit_all(cluster, &group, 40);
        let all = |v: i64| -> BTreeMap<i32, Option<i64>> {
            (0..cluster.partitions).map(|p| (p, Some(v))).collect()
        };
        assert_eq!(committed(cluster, &group), all(40));

        let set = rewind(cluster, &group, "earliest").unwrap();
        assert_eq!(set.len(), cluster.partitions as usize);
        assert_eq!(committed(cluster, &group), all(0));

        rewind(cluster, &group, "latest").unwrap();
        let latest: BTreeMap<i32, Option<i64>> = high.iter().map(|(p, h)| (*p, Some(*h))).collect();
        assert_eq!(committed(cluster, &group), latest);

        let e = rewind(cluster, &group, "earliest p99").unwrap_err();
        assert!(e.contains("has no partition 99"), "{e}");
        // One partition only; the others keep theirs.
        assert_eq!(rewind(cluster, &group, "25 p2").unwrap(), [(2, 25)]);
        let mut expected = latest.clone();
        expected.insert(2, Some(25));
        assert_eq!(committed(cluster, &group), expected);

        // Past the end: the end.
        assert_eq!(
            rewind(cluster, &group, "1000000 p1").unwrap(),
            [(1, high[&1])]
        );

        // By time: every record is younger than an hour, and none is from the future. (The
        // embedded cluster cannot look offsets up by time: the lab refuses such a rewind there.)
        if !cluster.is_real() {
            return;
        }
        rewind(cluster, &group, "-1h").unwrap();
        assert_eq!(committed(cluster, &group), all(0));
        let tomorrow = humantime::format_rfc3339_seconds(
            std::time::SystemTime::now() + Duration::from_secs(86_400),
        )
        .to_string();
        rewind(cluster, &group, &tomorrow).unwrap();
        assert_eq!(committed(cluster, &group), latest);
    }
);

cluster_test!(
    a_group_with_an_active_member_is_not_reset,
    |cluster: &Cluster| {
        let out = cluster.run(&["produce", "--count", "60", "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let group = unique_topic("rewind-busy");
        let member = joined_member(cluster, &group, &[("session.timeout.ms", "6000")]);
        let before = committed(cluster, &group);
        // Served while the reset tries: the member stays in the group.
        let stop = std::sync::atomic::AtomicBool::new(false);
        let keep_polling = std::thread::scope(|s| {
            let polling = s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = member.poll(Duration::from_millis(50));
                }
            });
            let result = rewind(cluster, &group, "earliest");
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            polling.join().unwrap();
            result
        });
        let e = keep_polling.unwrap_err();
        assert!(e.contains("active members"), "{e}");
        assert_eq!(committed(cluster, &group), before, "nothing changed");
    }
);

cluster_test!(
    a_group_that_had_members_is_reset_by_joining_it,
    |cluster: &Cluster| {
        // The embedded cluster's coordinator takes no commit from outside a group it has seen:
        // the reset joins it alone to commit (the lab does so there).
        let out = cluster.run(&["produce", "--count", &RECORDS.to_string(), "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let group = unique_topic("rewind-joined");
        {
            // As the lab's members: the embedded cluster holds a rebalance after a leave for
            // the group's session timeout.
            let session = if cluster.is_real() { "6000" } else { "2000" };
            let member = joined_member(
                cluster,
                &group,
                &[
                    ("session.timeout.ms", session),
                    ("heartbeat.interval.ms", "400"),
                ],
            );
            let mut list = TopicPartitionList::new();
            for p in 0..cluster.partitions {
                list.add_partition_offset(&cluster.topic, p, Offset::Offset(40))
                    .unwrap();
            }
            member.commit(&list, CommitMode::Sync).unwrap();
        }
        let settings = client_settings(&cluster.bootstrap, Role::Consumer, &[("group.id", &group)]);
        let reset = reset_offsets(
            &settings,
            &group,
            &cluster.topic,
            &Rewind::parse("7").unwrap(),
            CommitAs::Member("classic"),
            Duration::from_secs(30),
            &|_| {},
        )
        .unwrap();
        assert_eq!(reset.offsets.len(), cluster.partitions as usize);
        let all: BTreeMap<i32, Option<i64>> =
            (0..cluster.partitions).map(|p| (p, Some(7))).collect();
        assert_eq!(committed(cluster, &group), all);
    }
);
