//! Where keys land, checked against the broker: records written by librdkafka producers with
//! each key partitioner, and by Java's own producer (murmur2), read back with their partitions
//! and compared with what kafka-lab computes for each key.

mod common;

use common::*;
use kafka_lab::kafka::partitioners::KeyHash;

/// Every record of the topic as (partition, key), through `kafka-lab consume`.
fn written(cluster: &Cluster, count: usize) -> Vec<(i32, String)> {
    let out = cluster.run(&[
        "consume",
        "--count",
        &count.to_string(),
        "--from-beginning",
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                i32::try_from(r["partition"].as_i64().unwrap()).unwrap(),
                r["key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn check(cluster: &Cluster, hash: KeyHash, records: &[(i32, String)]) {
    assert!(!records.is_empty());
    for (partition, key) in records {
        assert_eq!(
            hash.partition(key.as_bytes(), cluster.partitions),
            Some(*partition),
            "{hash:?}: key {key:?}"
        );
    }
}

/// Produces 60 records keyed by `key` with `partitioner`, reads them back, checks `hash`.
fn produced_with(cluster: &Cluster, partitioner: &str, key: &str, hash: KeyHash) {
    let out = cluster.run(&[
        "produce",
        "--count",
        "60",
        "--rate",
        "max",
        "--key",
        key,
        "-X",
        &format!("partitioner={partitioner}"),
    ]);
    assert!(out.status.success(), "{partitioner}: {}", stderr(&out));
    let records = written(cluster, 60);
    assert_eq!(records.len(), 60);
    check(cluster, hash, &records);
}

cluster_test!(
    crc32_is_where_consistent_random_wrote,
    |cluster: &Cluster| {
        produced_with(cluster, "consistent_random", "state", KeyHash::Crc32);
    }
);

cluster_test!(
    murmur2_is_where_murmur2_random_wrote,
    |cluster: &Cluster| {
        produced_with(cluster, "murmur2_random", "city", KeyHash::Murmur2);
    }
);

cluster_test!(fnv1a_is_where_fnv1a_random_wrote, |cluster: &Cluster| {
    produced_with(cluster, "fnv1a_random", "id", KeyHash::Fnv1a);
});

/// Java's producer (from the jars scripts/kafka-local fetched) partitions keys with murmur2:
/// kafka-lab's murmur2 column says where a Java client's records go.
#[test]
fn java_producers_put_keys_where_murmur2_says() {
    let Some(cluster) = Cluster::real("java-murmur2", 6) else {
        return;
    };
    let keys: Vec<String> = [
        "Oregon",
        "California",
        "Bayern",
        "Köln",
        "brewery-1",
        "x",
        "21",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let input = keys.iter().fold(String::new(), |mut all, k| {
        all.push_str(k);
        all.push_str("\t{}\n");
        all
    });
    let script = kafka_lab::runtime::in_repo("scripts/kafka-local");
    let mut child = std::process::Command::new(script)
        .args(["tool", "console-producer", "--bootstrap-server"])
        .arg(&cluster.bootstrap)
        .args(["--topic", &cluster.topic])
        .args(["--property", "parse.key=true"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run Kafka's console producer");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = written(&cluster, keys.len());
    assert_eq!(records.len(), keys.len());
    check(&cluster, KeyHash::Murmur2, &records);
}
