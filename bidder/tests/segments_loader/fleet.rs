//! The loader in a fleet: a Redis Cluster (keys on the node serving their slot,
//! through `MOVED` and `ASK`) and files dropped in S3 (each object loaded once
//! across runs, over moto).

use redis::Value;
use tern_engine::user::UserIdKind;

use super::{DAY_S, config, int, key, load, members, text, ttl_s, write_file};
use crate::support::moto::Moto;
use crate::support::redis_server::{RedisCluster, RedisServer};

/// The node of a [`RedisCluster`] that owns `slot` (its thirds of the slots).
fn owner_of(slot: u16) -> usize {
    match slot {
        0..=5460 => 0,
        5461..=10922 => 1,
        _ => 2,
    }
}

#[test]
fn in_a_cluster_each_key_lands_on_the_node_serving_its_slot_even_mid_migration() {
    // Proves the loader, knowing one node, writes each user's key on the node
    // that owns its slot (MOVED), and a key in a slot being migrated on the
    // importing node (ASK), every user written.
    const USERS: usize = 2_000;
    let cluster = RedisCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &cluster.nodes[0].addr(), "");
    let users: Vec<(String, String)> = (0..USERS)
        .map(|i| {
            let id = format!("c-{i}");
            (key(UserIdKind::Buyeruid, &id), id)
        })
        .collect();
    // Start moving the first user's slot to the next node, as resharding does.
    let migrating = cluster.slot_of(&users[0].0);
    let owner = owner_of(migrating);
    let target = (owner + 1) % 3;
    cluster.start_migrating(migrating, owner, target);

    let lines: Vec<String> = users
        .iter()
        .map(|(_, id)| format!(r#"{{"buyeruid":"{id}","segments":["s1","s2"]}}"#))
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let path = write_file(dir.path(), "users.jsonl", &lines);
    let run = load(&config, &[path.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.summary(path.to_str().unwrap())
            .contains(": 2000 users written, 4000 segments written,"),
        "{}",
        run.stdout
    );

    let mut per_node = [0; 3];
    for (key, _) in &users {
        let slot = cluster.slot_of(key);
        if slot == migrating {
            continue;
        }
        let node = &cluster.nodes[owner_of(slot)];
        assert_eq!(int(node.command(&["EXISTS", key])), 1, "{key} on its owner");
        per_node[owner_of(slot)] += 1;
    }
    assert!(per_node.iter().all(|&n| n > 0), "every node got users");
    let migrated =
        int(cluster.nodes[target].command(&["CLUSTER", "COUNTKEYSINSLOT", &migrating.to_string()]));
    let moved_users = users
        .iter()
        .filter(|(k, _)| cluster.slot_of(k) == migrating)
        .count();
    assert_eq!(
        migrated as usize, moved_users,
        "the migrating slot's keys were created where the slot is going"
    );
    assert!(cluster.nodes[target].calls("asking") > 0);
    let keys: i64 = cluster
        .nodes
        .iter()
        .map(|node| int(node.command(&["DBSIZE"])))
        .sum();
    assert_eq!(keys, USERS as i64, "each user once, nowhere else");
    let sample = &users[USERS - 1].0;
    let node = &cluster.nodes[owner_of(cluster.slot_of(sample))];
    assert_eq!(
        members(node, sample).keys().collect::<Vec<_>>(),
        ["s1", "s2"]
    );
}

/// An S3 client for `moto`, as an operator dropping files would use, and the
/// bucket `tern-segments` the tests drop files in.
fn s3_bucket(moto: &Moto) -> (tokio::runtime::Runtime, aws_sdk_s3::Client) {
    let (runtime, shared) = moto.sdk_config();
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    runtime
        .block_on(client.create_bucket().bucket("tern-segments").send())
        .expect("bucket created");
    (runtime, client)
}

#[test]
fn s3_objects_under_the_prefix_load_once_and_again_when_changed() {
    // Proves every object under the prefix is loaded (gzip too), others are not,
    // a second run loads nothing, an object claimed by another run is skipped,
    // and a changed object (new ETag) is loaded again.
    let moto = Moto::start();
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &redis.addr(),
        "[segments]\ns3_uri = \"s3://tern-segments/drops/\"",
    );
    let (runtime, client) = s3_bucket(&moto);
    let put = |key: &str, lines: &[&str]| {
        let name = key.rsplit('/').next().unwrap();
        let path = write_file(dir.path(), name, lines);
        let body = std::fs::read(path).unwrap();
        let request = client
            .put_object()
            .bucket("tern-segments")
            .key(key)
            .body(body.into());
        runtime.block_on(request.send()).expect("object put");
    };
    put(
        "drops/a.jsonl",
        &[
            r#"{"buyeruid":"s3-a1","segments":["x"]}"#,
            r#"{"buyeruid":"s3-a2","segments":["y"]}"#,
        ],
    );
    put(
        "drops/2026/b.jsonl.gz",
        &[r#"{"ifa":"s3-b","segments":["z"]}"#],
    );
    put("drops/_SUCCESS", &["not a segments file"]);
    put(
        "other/c.jsonl",
        &[r#"{"buyeruid":"s3-c","segments":["x"]}"#],
    );
    let exists = |kind, id| int(redis.command(&["EXISTS", &key(kind, id)])) == 1;

    let first = load(&config, &[], &moto.env());
    assert_eq!(first.code, Some(0), "{}\n{}", first.stdout, first.stderr);
    assert!(
        first
            .summary("s3://tern-segments/drops/a.jsonl")
            .contains(": 2 users written")
    );
    assert!(
        first
            .summary("s3://tern-segments/drops/2026/b.jsonl.gz")
            .contains(": 1 users written")
    );
    assert!(
        first.stdout.contains("total: 2 sources loaded, 0 skipped"),
        "{}",
        first.stdout
    );
    assert!(exists(UserIdKind::Buyeruid, "s3-a1") && exists(UserIdKind::Ifa, "s3-b"));
    assert!(!exists(UserIdKind::Buyeruid, "s3-c"), "outside the prefix");
    let Value::Array(markers) = redis.command(&["KEYS", "sgload:*"]) else {
        panic!("KEYS answers an array");
    };
    assert_eq!(markers.len(), 2);
    for marker in &markers {
        let marker = text(marker);
        assert!(
            marker.starts_with("sgload:{tern-segments/drops/"),
            "{marker}"
        );
        assert_eq!(text(&redis.command(&["GET", &marker])), "done");
        assert!(ttl_s(&redis, &marker) > 29 * DAY_S as i64);
    }

    // A second run (here naming the prefix) loads nothing: a user removed since
    // stays removed.
    redis.command(&["DEL", &key(UserIdKind::Buyeruid, "s3-a1")]);
    let second = load(&config, &["s3://tern-segments/drops/"], &moto.env());
    assert_eq!(second.code, Some(0), "{}\n{}", second.stdout, second.stderr);
    assert!(
        second
            .summary("s3://tern-segments/drops/a.jsonl")
            .contains("skipped, loaded before")
    );
    assert!(
        second.stdout.contains("total: 0 sources loaded, 2 skipped"),
        "{}",
        second.stdout
    );
    assert!(!exists(UserIdKind::Buyeruid, "s3-a1"));

    // A changed object is another ETag: loaded again. One another run has
    // claimed is left to it.
    put(
        "drops/a.jsonl",
        &[r#"{"buyeruid":"s3-a3","segments":["x"]}"#],
    );
    put(
        "drops/d.jsonl",
        &[r#"{"buyeruid":"s3-d","segments":["x"]}"#],
    );
    let etag = runtime
        .block_on(
            client
                .head_object()
                .bucket("tern-segments")
                .key("drops/d.jsonl")
                .send(),
        )
        .unwrap()
        .e_tag
        .unwrap();
    let claimed = format!(
        "sgload:{{tern-segments/drops/d.jsonl}}:{}",
        etag.trim_matches('"')
    );
    redis.command(&["SET", &claimed, "loading", "EX", "3600"]);
    let third = load(&config, &[], &moto.env());
    assert_eq!(third.code, Some(0), "{}\n{}", third.stdout, third.stderr);
    assert!(
        third
            .summary("s3://tern-segments/drops/a.jsonl")
            .contains(": 1 users written")
    );
    assert!(
        third
            .summary("s3://tern-segments/drops/d.jsonl")
            .contains("skipped, being loaded by another run")
    );
    assert!(exists(UserIdKind::Buyeruid, "s3-a3"));
    assert!(!exists(UserIdKind::Buyeruid, "s3-d"));
    assert!(
        !exists(UserIdKind::Buyeruid, "s3-a1"),
        "the old a.jsonl is not loaded again"
    );
}

#[test]
fn a_corrupt_s3_object_fails_once_and_is_tried_again_only_when_replaced() {
    // Proves an object whose bytes cannot be read (not gzip; a gzip cut short
    // near its end) fails its run (exit 1) and is kept failed: later runs skip
    // it without writing its good lines again, and a fixed upload (new ETag)
    // loads.
    let moto = Moto::start();
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &redis.addr(),
        "[segments]\ns3_uri = \"s3://tern-segments/drop/\"",
    );
    let (runtime, client) = s3_bucket(&moto);
    let put = |key: &str, body: Vec<u8>| {
        let request = client
            .put_object()
            .bucket("tern-segments")
            .key(key)
            .body(body.into());
        runtime.block_on(request.send()).expect("object put");
    };
    let gzip = |lines: &[&str]| std::fs::read(write_file(dir.path(), "x.jsonl.gz", lines)).unwrap();
    put(
        "drop/f.jsonl.gz",
        b"{\"ifa\":\"f\",\"segments\":[\"x\"]}\n".to_vec(),
    );
    // Enough users that whole batches are written before the cut shows.
    let users: Vec<String> = (0..6_000)
        .map(|i| format!(r#"{{"buyeruid":"t-{i}","segments":["x"]}}"#))
        .collect();
    let users: Vec<&str> = users.iter().map(String::as_str).collect();
    let whole = gzip(&users);
    put("drop/t.jsonl.gz", whole[..whole.len() - 3].to_vec());
    put(
        "drop/u.jsonl",
        b"{\"buyeruid\":\"u1\",\"segments\":[\"x\"]}\n".to_vec(),
    );
    let exists = |kind, id| int(redis.command(&["EXISTS", &key(kind, id)])) == 1;
    let user_keys = || match redis.command(&["KEYS", "sg:*"]) {
        Value::Array(keys) => keys.iter().map(text).collect::<Vec<_>>(),
        other => panic!("KEYS answers an array, not {other:?}"),
    };
    let marker_of = |key: &str| {
        let Value::Array(markers) =
            redis.command(&["KEYS", &format!("sgload:{{tern-segments/{key}}}:*")])
        else {
            panic!("KEYS answers an array");
        };
        assert_eq!(markers.len(), 1, "one marker for {key}");
        text(&markers[0])
    };

    let first = load(&config, &[], &moto.env());
    assert_eq!(first.code, Some(1), "{}\n{}", first.stdout, first.stderr);
    for name in ["f.jsonl.gz", "t.jsonl.gz"] {
        let summary = first.summary(&format!("s3://tern-segments/drop/{name}"));
        assert!(summary.ends_with(", CORRUPT"), "{}", first.stdout);
        let marker = marker_of(&format!("drop/{name}"));
        let value = text(&redis.command(&["GET", &marker]));
        assert!(value.starts_with("failed: corrupt: "), "{marker} = {value}");
        assert!(ttl_s(&redis, &marker) > 29 * DAY_S as i64);
    }
    assert!(
        first
            .stdout
            .contains("total: 1 sources loaded, 0 skipped, 2 failed"),
        "{}",
        first.stdout
    );
    assert!(exists(UserIdKind::Buyeruid, "u1"));
    assert!(!exists(UserIdKind::Ifa, "f"));
    assert!(
        user_keys().len() > 1,
        "batches of t.jsonl.gz read before the cut are written"
    );

    // The next run skips both: t.jsonl.gz's lines are not written again.
    for key in user_keys() {
        redis.command(&["DEL", &key]);
    }
    let second = load(&config, &[], &moto.env());
    assert_eq!(second.code, Some(0), "{}\n{}", second.stdout, second.stderr);
    for name in ["f.jsonl.gz", "t.jsonl.gz"] {
        let summary = second.summary(&format!("s3://tern-segments/drop/{name}"));
        assert!(
            summary.contains("skipped, failed before"),
            "{}",
            second.stdout
        );
    }
    assert!(
        second
            .stdout
            .contains("total: 0 sources loaded, 3 skipped, 0 failed: 0 users written"),
        "{}",
        second.stdout
    );
    assert_eq!(user_keys(), Vec::<String>::new(), "nothing written again");

    // A fixed upload is a new ETag: loaded.
    put(
        "drop/f.jsonl.gz",
        gzip(&[r#"{"ifa":"f","segments":["x"]}"#]),
    );
    let third = load(&config, &[], &moto.env());
    assert_eq!(third.code, Some(0), "{}\n{}", third.stdout, third.stderr);
    assert!(
        third
            .summary("s3://tern-segments/drop/f.jsonl.gz")
            .contains(": 1 users written"),
        "{}",
        third.stdout
    );
    assert!(exists(UserIdKind::Ifa, "f"));
}
