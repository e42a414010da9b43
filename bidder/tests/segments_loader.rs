//! `bidder segments load` end to end: the real binary writes user→segments files
//! (and S3 objects, over moto) into a real redis-server or Redis Cluster, and
//! the tests look at the keys with a plain client.

mod support;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use redis::Value;
use support::redis_server::RedisServer;
use tern_engine::user::{UserIdKind, UserKey};

const DAY_S: u64 = 86_400;

/// What one run of the command did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The run's summary line for `source`.
    fn summary(&self, source: &str) -> &str {
        let prefix = format!("{source}: ");
        self.stdout
            .lines()
            .find(|line| line.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no summary for {source} in\n{}", self.stdout))
    }
}

/// Runs `bidder --config <config> segments load <args>` with `env`.
fn load(config: &Path, args: &[&str], env: &[(String, String)]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_bidder"))
        .arg("--config")
        .arg(config)
        .args(["segments", "load"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run bidder segments load");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A config file in `dir` for the Redis at `addr`, with `extra` TOML after it.
fn config(dir: &Path, addr: &str, extra: &str) -> PathBuf {
    let path = dir.join("bidder.toml");
    let text = format!(
        "[frequency_cap]\nstore = \"redis\"\n[frequency_cap.redis]\naddr = \"{addr}\"\n{extra}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn unix_now_s() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The segments key of identifier `id` of `kind`.
fn key(kind: UserIdKind, id: &str) -> String {
    format!("sg:{{{}}}", UserKey::of(kind, id))
}

fn text(value: &Value) -> String {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).unwrap(),
        Value::SimpleString(text) => text.clone(),
        other => panic!("not text: {other:?}"),
    }
}

fn int(value: Value) -> i64 {
    match value {
        Value::Int(n) => n,
        other => panic!("not a number: {other:?}"),
    }
}

/// The members of sorted set `key` with their scores (membership ends, Unix s).
fn members(redis: &RedisServer, key: &str) -> BTreeMap<String, u64> {
    let Value::Array(items) = redis.command(&["ZRANGE", key, "0", "-1", "WITHSCORES"]) else {
        panic!("ZRANGE answers an array");
    };
    items
        .chunks(2)
        .map(|pair| {
            (
                text(&pair[0]),
                text(&pair[1]).parse::<f64>().unwrap() as u64,
            )
        })
        .collect()
}

/// Seconds `key` has left to live (-2: no such key, -1: no expiry).
fn ttl_s(redis: &RedisServer, key: &str) -> i64 {
    int(redis.command(&["TTL", key]))
}

/// A file of `lines` in `dir`, gzipped when `name` ends in `.gz`.
fn write_file(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let text = lines.join("\n") + "\n";
    if name.ends_with(".gz") {
        let mut zipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        zipped.write_all(text.as_bytes()).unwrap();
        std::fs::write(&path, zipped.finish().unwrap()).unwrap();
    } else {
        std::fs::write(&path, text).unwrap();
    }
    path
}

/// Checks that `ends` (membership ends) are `ttls` after a write between
/// `before_s` and `after_s`, and that the key lives until the latest of them.
#[track_caller]
fn assert_written(
    redis: &RedisServer,
    key: &str,
    ttls: &BTreeMap<String, u64>,
    (before_s, after_s): (u64, u64),
) {
    let ends = members(redis, key);
    assert_eq!(
        ends.keys().collect::<Vec<_>>(),
        ttls.keys().collect::<Vec<_>>(),
        "{key}"
    );
    for (id, end_s) in &ends {
        let ttl = ttls[id];
        assert!(
            (before_s + ttl..=after_s + ttl).contains(end_s),
            "{key} {id}: ends at {end_s}, written between {before_s} and {after_s} for {ttl} s"
        );
    }
    let latest_s = *ends.values().max().unwrap() as i64;
    let left_s = ttl_s(redis, key);
    let want_s = latest_s - unix_now_s() as i64;
    assert!(
        (left_s - want_s).abs() <= 2,
        "{key} lives {left_s} s, its longest membership {want_s} s"
    );
}

#[test]
fn a_million_users_load_and_sampled_users_hold_their_segments() {
    // Proves the loader writes every user of a large file with the right members,
    // ends and key lifetimes, and reports the count; prints its timings.
    const USERS: usize = 1_000_000;
    const DEFAULT_TTL_S: u64 = 7 * DAY_S;
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &redis.addr(),
        &format!("[segments]\ndefault_ttl_s = {DEFAULT_TTL_S}"),
    );

    let generating = Instant::now();
    let mut rng = fastrand::Rng::with_seed(20_261_201);
    let mut sampled = vec![false; USERS];
    for _ in 0..1_000 {
        sampled[rng.usize(0..USERS)] = true;
    }
    let mut expected: Vec<(String, BTreeMap<String, u64>)> = Vec::new();
    let path = dir.path().join("users.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut segments = Vec::with_capacity(5);
    for (i, &sample) in sampled.iter().enumerate() {
        let (member, kind, id) = if i % 2 == 0 {
            ("buyeruid", UserIdKind::Buyeruid, format!("b-{i}"))
        } else {
            let id = format!("{i:08x}-0000-4000-8000-{:012x}", i * 7919);
            ("ifa", UserIdKind::Ifa, id)
        };
        segments.clear();
        let mut ttls = BTreeMap::new();
        for _ in 0..rng.usize(1..=5) {
            let segment = format!("seg-{}", rng.u32(0..40));
            if rng.u8(0..3) == 0 {
                let ttl_s = rng.u64(3_600..=30 * DAY_S);
                segments.push(format!(r#"{{"id":"{segment}","ttl_s":{ttl_s}}}"#));
                ttls.insert(segment, ttl_s);
            } else {
                segments.push(format!("\"{segment}\""));
                ttls.insert(segment, DEFAULT_TTL_S);
            }
        }
        writeln!(
            file,
            r#"{{"{member}":"{id}","segments":[{}]}}"#,
            segments.join(",")
        )
        .unwrap();
        if sample {
            expected.push((key(kind, &id), ttls));
        }
    }
    file.into_inner().unwrap().sync_all().unwrap();
    let generated = generating.elapsed();

    let before_s = unix_now_s();
    let loading = Instant::now();
    let run = load(&config, &[path.to_str().unwrap()], &[]);
    let loaded = loading.elapsed();
    let after_s = unix_now_s();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let summary = run.summary(path.to_str().unwrap());
    assert!(
        summary.contains(": 1000000 users written,") && summary.contains(" 0 lines refused,"),
        "{summary}"
    );
    assert_eq!(int(redis.command(&["DBSIZE"])), USERS as i64);

    let checking = Instant::now();
    for (key, ttls) in &expected {
        assert_written(&redis, key, ttls, (before_s, after_s));
    }
    eprintln!(
        "generated {USERS} users in {generated:?}, loaded in {loaded:?}, checked {} in {:?}\n{}",
        expected.len(),
        checking.elapsed(),
        run.stdout
    );
}

#[test]
fn bad_lines_are_refused_by_number_and_the_good_ones_still_load() {
    // Proves each kind of bad line is refused with its line number and reason,
    // the good lines around them are written, and the exit status is 1.
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &redis.addr(), "");
    let long_id = "s".repeat(65);
    let long_line = format!(r#"{{"buyeruid":"long","segments":["{long_id}"]}}"#);
    let path = write_file(
        dir.path(),
        "users.jsonl",
        &[
            r#"{"buyeruid":"good-1","segments":["a"]}"#,
            r#"{"buyeruid":"broken","segments":["#,
            r#"{"buyeruid":"b","ifa":"i","segments":["a"]}"#,
            r#"{"user_id":"","segments":["a"]}"#,
            &long_line,
            r#"{"buyeruid":"w","segments":["a"],"segment_ttl":5}"#,
            "# a comment",
            "",
            r#"{"ifa":"good-2","segments":[{"id":"b","ttl_s":60}]}"#,
        ],
    );
    let run = load(&config, &[path.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let summary = run.summary(path.to_str().unwrap());
    assert!(
        summary.contains(": 2 users written, 2 segments written, 5 lines refused,"),
        "{summary}"
    );
    for (line, reason) in [
        (2, "not JSON"),
        (3, "two identifiers (buyeruid and ifa)"),
        (4, "user_id is empty"),
        (5, "is not a segment id"),
        (6, "unknown field `segment_ttl`"),
    ] {
        let shown = format!("  line {line}: refused: ");
        let text = run
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(&shown))
            .unwrap_or_else(|| panic!("line {line} not listed in\n{}", run.stdout));
        assert!(text.contains(reason), "line {line}: {text}");
    }
    assert!(run.stderr.contains("5 lines refused"), "{}", run.stderr);
    assert_eq!(int(redis.command(&["DBSIZE"])), 2, "only the good lines");
    assert_eq!(
        members(&redis, &key(UserIdKind::Buyeruid, "good-1"))
            .keys()
            .collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(
        members(&redis, &key(UserIdKind::Ifa, "good-2"))
            .keys()
            .collect::<Vec<_>>(),
        ["b"]
    );
}

#[test]
fn a_user_redis_refuses_is_reported_by_line_and_the_others_still_load() {
    // Proves a server error for one user (its key holds another type) is
    // reported with the line, does not stop the load, and fails the run.
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &redis.addr(), "");
    let taken = key(UserIdKind::Buyeruid, "taken");
    redis.command(&["SET", &taken, "not a sorted set"]);
    let lines: Vec<String> = (0..1_200)
        .map(|i| match i {
            700 => r#"{"buyeruid":"taken","segments":["a"]}"#.to_owned(),
            i => format!(r#"{{"buyeruid":"ok-{i}","segments":["a"]}}"#),
        })
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let path = write_file(dir.path(), "users.jsonl", &lines);
    let run = load(&config, &[path.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let summary = run.summary(path.to_str().unwrap());
    assert!(
        summary.contains(
            ": 1199 users written, 1199 segments written, 0 lines refused, 1 users failed,"
        ),
        "{summary}"
    );
    assert!(
        run.stdout
            .contains("  line 701: not written: server error: WRONGTYPE"),
        "{}",
        run.stdout
    );
    assert_eq!(text(&redis.command(&["GET", &taken])), "not a sorted set");
    assert_eq!(int(redis.command(&["DBSIZE"])), 1_200);
}

#[test]
fn a_users_later_lines_apply_after_earlier_ones_across_batches() {
    // Proves lines of one user spread over a file (in different batches, with
    // batches written concurrently) are applied in file order: the user whose
    // segments are set and removed on every seventh line ends removed, the one
    // whose TTL grows ends with the last TTL.
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &redis.addr(), "");
    let mut lines = Vec::new();
    for i in 0..20_000_u64 {
        lines.push(match i % 7 {
            0 if i % 2 == 0 => r#"{"buyeruid":"flip","segments":["on"]}"#.to_owned(),
            0 => r#"{"buyeruid":"flip","segments":[]}"#.to_owned(),
            3 => format!(
                r#"{{"buyeruid":"grow","segments":[{{"id":"g","ttl_s":{}}}]}}"#,
                1_000 + i
            ),
            _ => format!(r#"{{"ifa":"f-{i}","segments":["f"]}}"#),
        });
    }
    let last_ttl_s = (0..20_000_u64).rev().find(|i| i % 7 == 3).unwrap() + 1_000;
    lines.push(r#"{"buyeruid":"flip","segments":[]}"#.to_owned());
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let path = write_file(dir.path(), "users.jsonl", &lines);
    let before_s = unix_now_s();
    let run = load(&config, &[path.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(ttl_s(&redis, &key(UserIdKind::Buyeruid, "flip")), -2);
    let grown = members(&redis, &key(UserIdKind::Buyeruid, "grow"));
    assert!(
        (before_s + last_ttl_s..=unix_now_s() + last_ttl_s).contains(&grown["g"]),
        "the last line's TTL ({last_ttl_s} s): {grown:?}"
    );
}

#[test]
fn a_reload_refreshes_ends_an_empty_list_removes_and_ended_memberships_go() {
    // Proves a second file refreshes the ends it names (longer or shorter),
    // keeps the others, prunes ended ones, deletes a user listed with no
    // segments, never shortens the key's life, and reads gzip.
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &redis.addr(), "");
    let (alice, bob) = (
        key(UserIdKind::Buyeruid, "alice"),
        key(UserIdKind::User, "bob"),
    );
    let first = write_file(
        dir.path(),
        "first.jsonl",
        &[
            r#"{"buyeruid":"alice","segments":["a",{"id":"b","ttl_s":100}]}"#,
            r#"{"user_id":"bob","segments":["c"]}"#,
        ],
    );
    let before_s = unix_now_s();
    let run = load(&config, &[first.to_str().unwrap(), "--ttl-s", "1000"], &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let window = (before_s, unix_now_s());
    let ttls = |pairs: &[(&str, u64)]| {
        pairs
            .iter()
            .map(|(id, t)| ((*id).to_owned(), *t))
            .collect::<BTreeMap<_, _>>()
    };
    assert_written(&redis, &alice, &ttls(&[("a", 1000), ("b", 100)]), window);
    assert_written(&redis, &bob, &ttls(&[("c", 1000)]), window);
    let a_end_s = members(&redis, &alice)["a"];

    // A membership that has ended (as one does when its end passes).
    let past_s = (unix_now_s() - 10).to_string();
    redis.command(&["ZADD", &alice, &past_s, "stale"]);
    let second = write_file(
        dir.path(),
        "second.jsonl.gz",
        &[
            r#"{"buyeruid":"alice","segments":[{"id":"b","ttl_s":5000}]}"#,
            r#"{"user_id":"bob","segments":[]}"#,
        ],
    );
    let before_s = unix_now_s();
    let run = load(&config, &[second.to_str().unwrap(), "--ttl-s", "50"], &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let after_s = unix_now_s();
    let ends = members(&redis, &alice);
    assert_eq!(ends.keys().collect::<Vec<_>>(), ["a", "b"], "stale is gone");
    assert_eq!(ends["a"], a_end_s, "a line not naming a segment leaves it");
    assert!((before_s + 5000..=after_s + 5000).contains(&ends["b"]));
    assert!(
        (ttl_s(&redis, &alice) - 5000).abs() <= 2,
        "the key lives as long as b now"
    );
    assert_eq!(ttl_s(&redis, &bob), -2, "bob's segments are removed");

    // A shorter TTL shortens the membership but never the key.
    let third = write_file(
        dir.path(),
        "third.jsonl",
        &[r#"{"buyeruid":"alice","segments":[{"id":"b","ttl_s":10}]}"#],
    );
    let before_s = unix_now_s();
    let run = load(&config, &[third.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!((before_s + 10..=unix_now_s() + 10).contains(&members(&redis, &alice)["b"]));
    assert!(
        ttl_s(&redis, &alice) > 4000,
        "the key keeps its longer life"
    );
}

#[test]
fn a_load_without_redis_or_a_source_says_why() {
    // Proves the command refuses the in-process store, a missing source, and an
    // unreachable Redis with a clear message and a failing status.
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "u.jsonl", &[r#"{"ifa":"d","segments":["a"]}"#]);
    let file = path.to_str().unwrap();
    let local = dir.path().join("local.toml");
    std::fs::write(&local, "[frequency_cap]\nstore = \"local\"\n").unwrap();
    let run = load(&local, &[file], &[]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("segments.file"), "{}", run.stderr);

    let closed = format!("127.0.0.1:{}", support::free_port());
    let config = config(dir.path(), &closed, "");
    let run = load(&config, &[], &[]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("no source"), "{}", run.stderr);
    let run = load(&config, &[file], &[]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("Redis: connect"), "{}", run.stderr);
}

#[test]
fn check_refuses_a_segments_file_line_the_loader_would_refuse() {
    // Proves the in-process store reads segments.file as the loader does: a
    // line over 64 KiB (otherwise valid) stops `bidder --check`, naming the
    // setting, the file and the line.
    let dir = tempfile::tempdir().unwrap();
    let long = format!(
        r#"{{"buyeruid":"{}","segments":["a"]}}"#,
        "u".repeat(70_000)
    );
    let path = write_file(
        dir.path(),
        "users.jsonl",
        &[r#"{"ifa":"d","segments":["a"]}"#, &long],
    );
    let config = dir.path().join("local.toml");
    let toml = format!("[segments]\nfile = {:?}\n", path.to_str().unwrap());
    std::fs::write(&config, toml).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_bidder"))
        .arg("--config")
        .arg(&config)
        .arg("--check")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run bidder --check");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("segments.file"), "{stderr}");
    assert!(
        stderr.contains("line 2: longer than 65536 bytes"),
        "{stderr}"
    );
}

#[path = "segments_loader/fleet.rs"]
mod fleet;
