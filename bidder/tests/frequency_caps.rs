//! Frequency caps end to end: bids over HTTP, impressions counted from the bids'
//! billing notices, a real redis-server (or the in-process store), and Redis
//! failures that must never make a bid late.

mod support;

use std::time::{Duration, Instant};

use support::caps::{bid, impression, redis_config, start, winner};
use support::redis_server::{RedisCluster, RedisServer};
use support::{Bidder, Options, eventually};

fn capped_then_uncapped_after_the_window(bidder: &Bidder) {
    impression(bidder, "alice", 1);
    impression(bidder, "alice", 2);
    assert_eq!(
        winner(bidder, "alice", 3).as_deref(),
        Some("uncapped"),
        "alice reached her cap"
    );
    assert_eq!(
        winner(bidder, "bob", 1).as_deref(),
        Some("capped"),
        "bob has his own counter"
    );
    assert!(bidder.metric("tern_freq_capped_total") >= 1.0);
    // The window is 2 seconds from the first impression.
    assert!(
        eventually(Duration::from_secs(6), || winner(bidder, "alice", 4)
            .as_deref()
            == Some("capped")),
        "alice never uncapped"
    );
}

#[test]
fn redis_caps_a_user_after_n_impressions_and_uncaps_after_the_window() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, 2, &redis_config(&redis, ""));
    capped_then_uncapped_after_the_window(&bidder);
    assert!(redis.calls("mget") >= 4, "checked in Redis");
    assert_eq!(
        bidder.metric("tern_freq_cap_records_total{result=\"ok\"}"),
        2.0
    );
    assert!(bidder.metric("tern_redis_duration_seconds_count") >= 6.0);
}

/// The bidder's settings for the TLS port of `redis`, trusting `ca`. The check's
/// deadline is generous: a handshake on a busy test machine must not fall back.
fn tls_config(redis: &RedisServer, ca: &std::path::Path) -> String {
    format!(
        "[bidding]\ndefault_tmax_ms = 1000\n\
         [frequency_cap]\nstore = \"redis\"\ntimeout_ms = 500\n\
         [frequency_cap.redis]\naddr = \"{}\"\ntls = true\ntls_ca_file = \"{}\"\n\
         tls_server_name = \"localhost\"\nconnect_timeout_ms = 500\n\
         retry_initial_ms = 50\nretry_max_ms = 200\n",
        redis.tls_addr(),
        ca.display()
    )
}

#[test]
fn caps_work_over_tls_and_an_untrusted_server_is_refused() {
    let redis = RedisServer::start_tls();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, 2, &tls_config(&redis, redis.tls_ca_file()));
    // The TLS port speaks nothing but TLS, so any counted check went through it.
    capped_then_uncapped_after_the_window(&bidder);
    assert!(redis.calls("mget") >= 4, "checked in Redis over TLS");
    assert_eq!(
        bidder.metric("tern_freq_cap_records_total{result=\"ok\"}"),
        2.0
    );
    assert_eq!(
        bidder.metric("tern_freq_cap_fallbacks_total{policy=\"skip_capped\"}"),
        0.0
    );

    // A bidder that trusts another CA must not talk to this server.
    let other_ca = support::redis_server::TlsFiles::generate();
    let other_dir = tempfile::tempdir().unwrap();
    let wary = start(&other_dir, 2, &tls_config(&redis, &other_ca.ca));
    let mgets = redis.calls("mget");
    for n in 0..5 {
        assert_eq!(winner(&wary, "erin", n).as_deref(), Some("uncapped"));
    }
    assert_eq!(
        wary.metric("tern_freq_cap_fallbacks_total{policy=\"skip_capped\"}"),
        5.0
    );
    assert_eq!(
        redis.calls("mget"),
        mgets,
        "no command crossed the refused handshake"
    );
}

#[test]
fn caps_follow_a_redis_cluster_across_its_nodes() {
    let cluster = RedisCluster::start();
    let dir = tempfile::tempdir().unwrap();
    // The bidder knows one node; it finds the others' slots from their redirects.
    let bidder = start(&dir, 60, &redis_config(&cluster.nodes[0], ""));
    // Thirty users land in slots of every node (the slots are fixed by the names).
    for n in 0..30 {
        let user = format!("cluster-user-{n}");
        impression(&bidder, &user, 1);
        impression(&bidder, &user, 2);
        assert_eq!(
            winner(&bidder, &user, 3).as_deref(),
            Some("uncapped"),
            "{user} reached the cap"
        );
    }
    for (i, node) in cluster.nodes.iter().enumerate() {
        assert!(node.calls("mget") > 0, "node {i} answered cap checks");
        assert!(node.calls("incr") > 0, "node {i} counted impressions");
    }
    assert_eq!(
        bidder.metric("tern_freq_cap_fallbacks_total{policy=\"skip_capped\"}"),
        0.0
    );
    assert_eq!(
        bidder.metric("tern_freq_cap_records_total{result=\"ok\"}"),
        60.0
    );
}

#[test]
fn caps_follow_a_slot_while_it_migrates_between_nodes() {
    let cluster = RedisCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, 60, &redis_config(&cluster.nodes[0], ""));
    // Where do the user's counters live? Count one impression and look.
    impression(&bidder, "migrant", 1);
    let (owner, key) = (0..3)
        .find_map(|i| {
            cluster.nodes[i]
                .cap_counter_keys("capped")
                .pop()
                .map(|k| (i, k))
        })
        .expect("the counter exists on one node");
    // Start moving the slot to the next node, the counter not moved yet: the owner
    // sends commands on it to the importing node (ASK), which serves them only after
    // ASKING, and sends them back (MOVED) otherwise.
    let target = (owner + 1) % 3;
    let slot = cluster.slot_of(&key);
    cluster.nodes[owner].command(&["DEL", &key]);
    cluster.start_migrating(slot, owner, target);
    let checks_before = cluster.nodes[target].calls("mget");
    impression(&bidder, "migrant", 2);
    impression(&bidder, "migrant", 3);
    assert_eq!(
        winner(&bidder, "migrant", 4).as_deref(),
        Some("uncapped"),
        "capped through the importing node"
    );
    assert!(cluster.nodes[target].calls("mget") > checks_before);
    assert_eq!(
        cluster.nodes[target].command(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]),
        redis::Value::Int(1),
        "the counter was created where the slot is going"
    );
    assert_eq!(
        bidder.metric("tern_freq_cap_fallbacks_total{policy=\"skip_capped\"}"),
        0.0
    );
}

#[test]
fn the_embedded_default_caps_in_process_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, 2, "");
    capped_then_uncapped_after_the_window(&bidder);
    assert_eq!(bidder.metric("tern_redis_duration_seconds_count"), 0.0);
}

#[test]
fn forged_expired_and_replayed_notices_do_not_count() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(
        &dir,
        60,
        &format!("{}\n[notice]\nmax_age_s = 1\n", redis_config(&redis, "")),
    );

    // Replayed: the same notice twice counts once.
    let (_, burl) = bid(&bidder, "carol", 1).unwrap();
    assert_eq!(bidder.get(&burl).status, 200);
    assert_eq!(bidder.get(&burl).text().trim(), "already counted");
    // Forged: an altered token is refused.
    let at = burl.find("t=").unwrap() + 12;
    let mut forged = burl.clone().into_bytes();
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    assert_eq!(bidder.get(&String::from_utf8(forged).unwrap()).status, 403);
    // Expired: a notice older than notice.max_age_s is refused.
    let (_, late) = bid(&bidder, "carol", 2).unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(bidder.get(&late).status, 410);

    assert_eq!(
        winner(&bidder, "carol", 3).as_deref(),
        Some("capped"),
        "only one impression counted"
    );
    assert_eq!(
        bidder.metric("tern_freq_cap_records_total{result=\"ok\"}"),
        1.0
    );
    assert_eq!(
        redis.command(&["GET", &counter_key(&redis, "capped")]),
        redis::Value::BulkString(b"1".to_vec())
    );
}

/// The one counter key in Redis for `campaign`.
fn counter_key(redis: &RedisServer, campaign: &str) -> String {
    let matching = redis.cap_counter_keys(campaign);
    assert_eq!(matching.len(), 1, "{matching:?}");
    matching[0].clone()
}

#[test]
fn campaigns_without_caps_touch_redis_only_to_count_a_notice_once() {
    let redis = RedisServer::start();
    let bidder = Bidder::start_with(Options {
        config: redis_config(&redis, ""),
        ..Options::default()
    });
    // The banner sample is won by a bundled campaign without a cap.
    let reply = bidder.bid(&support::sample("banner"));
    assert_eq!(reply.status, 200);
    let burl = reply.json()["seatbid"][0]["bid"][0]["burl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(bidder.get(&burl).status, 200);
    // No cap read for the bid, no counter for the impression; one claim of the
    // notice so the fleet counts it once.
    assert_eq!(redis.calls("mget") + redis.calls("incr"), 0);
    assert_eq!(redis.calls("set"), 1);
    assert_eq!(bidder.metric("tern_redis_duration_seconds_count"), 0.0);
}

#[test]
fn redis_down_falls_back_to_the_policy_and_capping_resumes_after_restart() {
    let mut redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, 60, &redis_config(&redis, ""));
    impression(&bidder, "dave", 1);

    redis.stop();
    for n in 0..20 {
        // skip_capped: the capped campaign sits out, the other still bids.
        assert_eq!(winner(&bidder, "dave", 10 + n).as_deref(), Some("uncapped"));
    }
    assert_eq!(
        bidder.metric("tern_freq_cap_fallbacks_total{policy=\"skip_capped\"}"),
        20.0
    );
    assert_eq!(bidder.metric("tern_nobids_total{reason=\"deadline\"}"), 0.0);

    redis.restart();
    assert!(
        eventually(Duration::from_secs(5), || winner(&bidder, "dave", 99)
            .as_deref()
            == Some("capped")),
        "capping did not resume"
    );
    impression(&bidder, "dave", 100);
    impression(&bidder, "dave", 101);
    assert_eq!(
        winner(&bidder, "dave", 102).as_deref(),
        Some("uncapped"),
        "capped again"
    );
}

#[test]
fn the_ignore_caps_policy_bids_as_if_under_the_cap() {
    let mut redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(
        &dir,
        60,
        &redis_config(&redis, "on_unavailable = \"ignore_caps\""),
    );
    redis.stop();
    assert_eq!(winner(&bidder, "erin", 1).as_deref(), Some("capped"));
    assert_eq!(
        bidder.metric("tern_freq_cap_fallbacks_total{policy=\"ignore_caps\"}"),
        1.0
    );
}

#[test]
fn a_slow_redis_never_makes_a_bid_late() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, 60, &redis_config(&redis, ""));
    assert_eq!(
        winner(&bidder, "frank", 0).as_deref(),
        Some("capped"),
        "Redis answers at first"
    );
    // Redis stops answering for 3 seconds; every request has tmax = 1000 ms.
    let sleeper = redis.sleep_in_background(3.0);
    std::thread::sleep(Duration::from_millis(100));
    for n in 1..=10 {
        let started = Instant::now();
        let won = winner(&bidder, "frank", n);
        let took = started.elapsed();
        assert_eq!(
            won.as_deref(),
            Some("uncapped"),
            "policy applied while Redis is stuck"
        );
        assert!(
            took < Duration::from_millis(1000),
            "answer came after tmax: {took:?}"
        );
    }
    assert!(bidder.metric("tern_freq_cap_checks_total{result=\"timeout\"}") >= 1.0);
    assert_eq!(bidder.metric("tern_nobids_total{reason=\"deadline\"}"), 0.0);
    sleeper.join().unwrap();
}
