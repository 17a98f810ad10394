//! Consumer groups and topic administration, through kafka-lab's own consumer and admin code,
//! checked against what the members and the broker say.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use kafka_lab::config::Role;
use kafka_lab::kafka::cluster;
use kafka_lab::kafka::consumer::LabConsumer;
use kafka_lab::kafka::embedded::MOCK_GROUP_SETTINGS;
use kafka_lab::lab::snapshots::MemberState;
use kafka_lab::lab::state::views::MemberView;

/// A group member that keeps polling (as members must, to take part in rebalances).
struct Member {
    client_id: String,
    consumer: Arc<LabConsumer>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Member {
    fn join(cluster: &Cluster, group: &str, n: usize) -> Member {
        Member::join_with(cluster, group, n, &[])
    }

    /// [`Member::join`] with more properties (on a real broker; the embedded cluster's
    /// session settings are kafka-lab's own there).
    fn join_with(cluster: &Cluster, group: &str, n: usize, more: &[(&str, &str)]) -> Member {
        let client_id = format!("member-{n}");
        let mut extra = vec![
            ("group.id", group),
            ("client.id", client_id.as_str()),
            ("auto.offset.reset", "earliest"),
        ];
        if cluster.is_real() {
            extra.extend_from_slice(more);
        } else {
            extra.extend(MOCK_GROUP_SETTINGS);
        }
        let settings = client_settings(&cluster.bootstrap, Role::Consumer, &extra);
        let (consumer, _events) = LabConsumer::subscribe(&settings, &cluster.topic).unwrap();
        let consumer = Arc::new(consumer);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (polling, stopped) = (consumer.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(Ok(r)) = polling.poll(Duration::from_millis(50)) {
                    let _ = polling.done(&r);
                }
            }
        });
        Member {
            client_id,
            consumer,
            stop,
            thread,
        }
    }

    fn leave(self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // The thread lets go of its handle; then close (LeaveGroup).
        self.thread.join().unwrap();
        Arc::into_inner(self.consumer).unwrap().close().unwrap();
    }

    /// Stops as a killed process: no `LeaveGroup`, no commit.
    fn crash(self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().unwrap();
        Arc::into_inner(self.consumer).unwrap().crash();
    }
}

/// Waits until the members' own assignments have the wanted sizes (in any order) and
/// together cover every partition exactly once.
fn settled(members: &[Member], partitions: i32, sizes: &[usize]) -> Vec<Vec<i32>> {
    let found = wait_for(Duration::from_secs(60), || {
        let sets: Vec<Vec<i32>> = members
            .iter()
            .map(|m| m.consumer.assignment().unwrap())
            .collect();
        let mut got: Vec<usize> = sets.iter().map(Vec::len).collect();
        got.sort_unstable();
        let mut want = sizes.to_vec();
        want.sort_unstable();
        let all: BTreeSet<i32> = sets.iter().flatten().copied().collect();
        let total: usize = got.iter().sum();
        (got == want && total == partitions as usize && all.len() == total).then_some(sets)
    });
    found.unwrap_or_else(|| {
        let now: Vec<Vec<i32>> = members
            .iter()
            .map(|m| m.consumer.assignment().unwrap())
            .collect();
        panic!("group did not settle to sizes {sizes:?}; assignments now {now:?}")
    })
}

/// On a real broker, the group as Kafka's own tool describes it (`kafka-consumer-groups
/// --describe --members --verbose`, from the jars scripts/kafka-local fetched): each member's
/// client.id with its partitions. None on the embedded cluster.
fn described_by_kafka(cluster: &Cluster, group: &str) -> Option<BTreeSet<(String, Vec<i32>)>> {
    if !cluster.is_real() {
        return None;
    }
    let text = raw_description(cluster, group);
    // Kafka 4: GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS CURRENT-EPOCH CURRENT-ASSIGNMENT
    // ..., the assignment as `topic:0,1` (older tools: ASSIGNMENT, `topic(0,1)`); `-` for none.
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next()?.split_whitespace().collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let client = column("CLIENT-ID")?;
    let assignment = column("CURRENT-ASSIGNMENT").or_else(|| column("ASSIGNMENT"))?;
    Some(
        lines
            .map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                let mut partitions: Vec<i32> = cols[assignment]
                    .split([':', '('])
                    .nth(1)
                    .unwrap_or("")
                    .trim_end_matches(')')
                    .split(',')
                    .filter_map(|p| p.trim().parse().ok())
                    .collect();
                partitions.sort_unstable();
                (cols[client].to_string(), partitions)
            })
            .collect(),
    )
}

fn raw_description(cluster: &Cluster, group: &str) -> String {
    let script = kafka_lab::runtime::in_repo("scripts/kafka-local");
    let out = std::process::Command::new(script)
        .args(["tool", "consumer-groups", "--bootstrap-server"])
        .arg(&cluster.bootstrap)
        .args(["--describe", "--members", "--verbose", "--group", group])
        .output()
        .expect("run kafka-consumer-groups");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the members say of themselves matches what the broker's own tool says.
fn same_as_kafka(cluster: &Cluster, group: &str, members: &[Member], sets: &[Vec<i32>]) {
    let ours: BTreeSet<(String, Vec<i32>)> = members
        .iter()
        .zip(sets)
        .map(|(m, s)| {
            let mut s = s.clone();
            s.sort_unstable();
            (m.client_id.clone(), s)
        })
        .collect();
    // The broker may still report the previous generation for a moment.
    let theirs = wait_for(Duration::from_secs(30), || {
        described_by_kafka(cluster, group)
            .map_or(Some(BTreeSet::new()), |t| (t == ours).then_some(t))
    });
    if cluster.is_real() {
        assert_eq!(
            theirs.as_ref(),
            Some(&ours),
            "kafka-consumer-groups says {:?}",
            raw_description(cluster, group)
        );
    }
}

cluster_test!(
    group_shares_partitions_and_rebalances,
    |cluster: &Cluster| {
        let out = cluster.run(&["produce", "--count", "60", "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let group = unique_topic("group");
        let mut members: Vec<Member> = vec![Member::join(cluster, &group, 0)];
        let sets = settled(&members, 6, &[6]);
        same_as_kafka(cluster, &group, &members, &sets);
        for i in 1..3 {
            members.push(Member::join(cluster, &group, i));
        }
        let sets = settled(&members, 6, &[2, 2, 2]);
        same_as_kafka(cluster, &group, &members, &sets);
        for i in 3..7 {
            members.push(Member::join(cluster, &group, i));
        }
        let sets = settled(&members, 6, &[1, 1, 1, 1, 1, 1, 0]);
        same_as_kafka(cluster, &group, &members, &sets);
        assert_eq!(
            sets.iter().filter(|s| s.is_empty()).count(),
            1,
            "the 7th member is idle"
        );
        // A busy member leaves: the idle one takes over, and every partition still has one owner.
        let busy = sets.iter().position(|s| !s.is_empty()).unwrap();
        members.remove(busy).leave();
        let sets = settled(&members, 6, &[1, 1, 1, 1, 1, 1]);
        same_as_kafka(cluster, &group, &members, &sets);
        // Down to two members: three partitions each.
        while members.len() > 2 {
            members.pop().unwrap().leave();
        }
        settled(&members, 6, &[3, 3]);
        for m in members {
            m.leave();
        }
    }
);

cluster_test!(
    a_crashed_members_partitions_move_when_its_session_ends,
    |cluster: &Cluster| {
        let out = cluster.run(&["produce", "--count", "60", "--rate", "max"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let group = unique_topic("crash");
        let session = [
            ("session.timeout.ms", "10000"),
            ("heartbeat.interval.ms", "1000"),
        ];
        let mut members: Vec<Member> = (0..3)
            .map(|i| Member::join_with(cluster, &group, i, &session))
            .collect();
        let sets = settled(&members, 6, &[2, 2, 2]);
        same_as_kafka(cluster, &group, &members, &sets);
        let crashed = members.remove(0);
        let (name, mut held) = (crashed.client_id.clone(), sets[0].clone());
        held.sort_unstable();
        let at = std::time::Instant::now();
        crashed.crash();
        // No LeaveGroup: the broker still counts it, with its partitions, until its session
        // ends (Kafka's own tool says so).
        if let Some(described) = described_by_kafka(cluster, &group) {
            assert!(
                at.elapsed() < Duration::from_secs(10),
                "asked within the session"
            );
            assert!(
                described.contains(&(name.clone(), held.clone())),
                "{name} still holds {held:?}: {described:?}"
            );
            assert_eq!(described.len(), 3);
        }
        // Then the survivors share its partitions.
        let sets = settled(&members, 6, &[3, 3]);
        eprintln!(
            "the group noticed the crash {:.1} s later",
            at.elapsed().as_secs_f64()
        );
        same_as_kafka(cluster, &group, &members, &sets);
        for m in members {
            m.leave();
        }
    }
);

#[test]
fn real_broker_topic_admin_and_acks_all() {
    let Some(bootstrap) = real_bootstrap() else {
        skipped!("SKIPPED real_broker_topic_admin_and_acks_all: {BOOTSTRAP_VAR} is not set");
        return;
    };
    let topic = unique_topic("admin");
    let settings = producer_settings(&bootstrap);
    create_topic(&bootstrap, &topic, 3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Creating it again is a clear error.
    let err = rt
        .block_on(cluster::create_topic(
            &settings,
            &topic,
            3,
            1,
            Duration::from_secs(30),
        ))
        .unwrap_err()
        .to_string();
    assert!(err.contains("already exists"), "{err}");
    rt.block_on(cluster::add_partitions(&settings, &topic, 5))
        .unwrap();
    let info = wait_for(Duration::from_secs(15), || {
        cluster::probe(&settings, &topic, Duration::from_secs(5))
            .ok()
            .filter(|t| t.partitions.len() == 5)
    })
    .expect("5 partitions after adding 2");
    assert_eq!(info.partitions, vec![0, 1, 2, 3, 4]);
    assert!(!info.is_mock);
    // Fewer partitions than now is refused.
    let err = rt
        .block_on(cluster::add_partitions(&settings, &topic, 2))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot add partitions"), "{err}");

    // A missing topic is created by produce when --partitions is given.
    let fresh = unique_topic("created-by-produce");
    let out = std::process::Command::new(BIN)
        .args([
            "-b",
            &bootstrap,
            "-t",
            &fresh,
            "--partitions",
            "4",
            "produce",
        ])
        .args(["--count", "40", "--rate", "max", "-X", "acks=all"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("created topic"), "{}", stderr(&out));
    let sent = deliveries(&stdout(&out));
    assert_eq!(sent.len(), 40);
    assert!(sent.iter().all(|d| (0..4).contains(&d.partition)));
    let info = cluster::probe(&settings, &fresh, Duration::from_secs(5)).unwrap();
    assert_eq!(info.partitions.len(), 4);

    // acks=all with idempotence: every record acknowledged by the (single) in-sync replica.
    let out = std::process::Command::new(BIN)
        .args([
            "-b",
            &bootstrap,
            "-t",
            &fresh,
            "bench",
            "--messages",
            "3000",
            "--acks",
            "all",
        ])
        .args(["-X", "enable.idempotence=true", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(r["delivered"], 3000);
    assert_eq!(r["settings"]["acks"], "all");
    assert_eq!(r["settings"]["enable.idempotence"], "true");
}

#[test]
fn embedded_cluster_creates_topics_without_an_admin_api() {
    let cluster = kafka_lab::kafka::embedded::EmbeddedCluster::start(
        &kafka_lab::kafka::embedded::EmbeddedOptions::default(),
    )
    .unwrap();
    let settings = producer_settings(cluster.bootstrap_servers());
    cluster.create_topic("beers", 3).unwrap();
    let info = cluster::probe(&settings, "beers", Duration::from_secs(5)).unwrap();
    assert_eq!(info.partitions, vec![0, 1, 2]);
    assert!(info.is_mock);
    let err = cluster.create_topic("beers", 3).unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
}

cluster_test!(
    dashboard_members_show_a_disjoint_covering_assignment,
    |cluster: &Cluster| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let _guard = rt.enter();
        let mut base = kafka_lab::config::Layers::default();
        base.flag("bootstrap.servers", &cluster.bootstrap, "test");
        base.flag("group.id", unique_topic("dash-group"), "test");
        let mock = !cluster.is_real();
        let consumer = kafka_lab::lab::settings::ConsumerSettings {
            strategies: "range".parse().unwrap(),
            ..kafka_lab::lab::settings::ConsumerSettings::starting(&base, mock).0
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        let members: Vec<_> = (1..=4)
            .map(|id| {
                kafka_lab::lab::actors::member::spawn(kafka_lab::lab::actors::member::Start::new(
                    id,
                    consumer.layers(&base, mock, id),
                    &cluster.topic,
                    tx.clone(),
                ))
            })
            .collect();
        // What the panes would show: each member's latest snapshot, until they settle.
        let shown = rt.block_on(async {
            let mut latest: std::collections::BTreeMap<u32, Vec<i32>> =
                std::collections::BTreeMap::new();
            tokio::time::timeout(Duration::from_secs(60), async {
                loop {
                    if let Some(kafka_lab::lab::protocol::KafkaEvent::Member(m)) = rx.recv().await {
                        if m.state == kafka_lab::lab::snapshots::MemberState::Assigned {
                            latest.insert(m.id, m.partitions.iter().map(|p| p.partition).collect());
                        }
                        let all: BTreeSet<i32> = latest.values().flatten().copied().collect();
                        let total: usize = latest.values().map(Vec::len).sum();
                        if latest.len() == 4 && all.len() == 6 && total == 6 {
                            return latest.clone();
                        }
                    }
                }
            })
            .await
            .expect("four members settle on a disjoint, covering assignment")
        });
        let mut sizes: Vec<usize> = shown.values().map(Vec::len).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, [1, 1, 2, 2], "{shown:?}");
        rt.block_on(async {
            for m in members {
                m.leave_and_wait(Duration::from_secs(10)).await;
            }
        });
    }
);

/// The next snapshot of a member that satisfies `done`, within `timeout`.
fn member_snapshot_where(
    rt: &tokio::runtime::Runtime,
    rx: &mut tokio::sync::mpsc::Receiver<kafka_lab::lab::protocol::KafkaEvent>,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&MemberView) -> bool,
) -> MemberView {
    let mut last = None;
    let found = rt.block_on(async {
        tokio::time::timeout(timeout, async {
            loop {
                let event = rx.recv().await?;
                if let kafka_lab::lab::protocol::KafkaEvent::Member(m) = event {
                    let view = MemberView {
                        snapshot: *m,
                        error: None,
                        e2e_history: std::collections::VecDeque::new(),
                        lag_history: std::collections::VecDeque::new(),
                    };
                    if done(&view) {
                        return Some(view);
                    }
                    last = Some(view);
                }
            }
        })
        .await
    });
    found.ok().flatten().unwrap_or_else(|| {
        let last = last.map(|v| {
            let s = &v.snapshot;
            format!(
                "{:?}, received {}, lag {:?}, {:?}",
                s.state,
                s.received,
                v.lag(),
                s.partitions
            )
        });
        panic!("no member snapshot with {what} within {timeout:?}; the last: {last:?}")
    })
}

/// Reading along a producer of 200 records/s: a few records behind at most, less than a second
/// old (the lag is sampled while records stream in, so it is rarely exactly zero).
fn reading_along(v: &MemberView) -> bool {
    v.lag().is_some_and(|lag| lag <= 50)
        && v.time_lag(v.snapshot.at)
            .is_some_and(|t| t < Duration::from_secs(1))
}

cluster_test!(
    a_held_member_is_behind_by_the_time_it_was_held,
    |cluster: &Cluster| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let _guard = rt.enter();
        let mut layers = kafka_lab::config::Layers::default();
        layers.flag("bootstrap.servers", &cluster.bootstrap, "test");
        layers.flag("group.id", unique_topic("held"), "test");
        if !cluster.is_real() {
            for (k, v) in MOCK_GROUP_SETTINGS {
                layers.flag(k, v, "test");
            }
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        let member = kafka_lab::lab::actors::member::spawn(
            kafka_lab::lab::actors::member::Start::new(1, layers, &cluster.topic, tx),
        );
        let producer = KillOnDrop(
            cluster
                .command(&["produce", "--rate", "200"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let minute = Duration::from_secs(60);
        member_snapshot_where(&rt, &mut rx, minute, "reading along", |v| {
            v.snapshot.received >= 200 && reading_along(v)
        });

        // Held for three seconds by this test's clock.
        let held_at = std::time::SystemTime::now();
        member.hold(true);
        let held = member_snapshot_where(&rt, &mut rx, minute, "3 s held", |v| {
            v.snapshot.state == MemberState::Held
                && v.snapshot.at.duration_since(held_at).unwrap_or_default()
                    >= Duration::from_secs(3)
        });
        let held_for = held.snapshot.at.duration_since(held_at).unwrap();
        let behind = held.time_lag(held.snapshot.at).expect("a time lag");
        // The newest record read was made about when the hold began: the member is behind by
        // the time it was held (give or take the hold reaching its thread, a tick, the
        // producer's batching).
        assert!(
            behind + Duration::from_millis(500) >= held_for
                && behind <= held_for + Duration::from_secs(2),
            "held for {held_for:?}, shown {behind:?} behind"
        );
        // Its lag is what was produced meanwhile, about 200 records a second.
        let lag = held.lag().expect("lag while held");
        assert!(
            lag >= 300,
            "lag {lag} after {held_for:?} held at 200 records/s"
        );

        // Resumed, it catches up.
        member.hold(false);
        let caught_up = member_snapshot_where(&rt, &mut rx, minute, "caught up", |v| {
            v.snapshot.state == MemberState::Assigned
                && v.snapshot.received > held.snapshot.received + lag
                && reading_along(v)
        });
        assert!(caught_up.lag().unwrap() < lag);
        drop(producer);
        rt.block_on(member.leave_and_wait(Duration::from_secs(10)));
    }
);
