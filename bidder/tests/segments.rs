//! Audience segments over HTTP against a real bidder: rules on first-party
//! segments in a real redis-server (read in the cap check's round trip) and on
//! the exchange's `user.data`, membership expiry, Redis down, Redis Cluster
//! redirects, the privacy rule, and the embedded default's file store.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::caps::{redis_config, winner_of};
use support::redis_server::{RedisCluster, RedisServer};
use support::{Bidder, Options};
use tern_engine::user::{UserIdKind, UserKey};

/// Four 300x250 campaigns, dearest first: one for first-party `auto` users
/// (capped, so its lookup shares the cap check's round trip), one for users in
/// the exchange's `dataco.example` `sports` segment and our `fans`, one for anyone
/// but our `customers`, and one without rules.
const CAMPAIGNS: &str = r#"
[[campaigns]]
id = "auto-buyers"
advertiser_domain = "auto.example"
bidding = { max_cpm = 5.0, base_bid = 4.0 }
frequency_cap = { max_impressions = 100, window_secs = 3600 }
segments = { include_any = ["auto"] }
[[campaigns.creatives]]
id = "auto-300x250"
banner = { w = 300, h = 250 }
adm = "<b>auto</b>"

[[campaigns]]
id = "sports-fans"
advertiser_domain = "sports.example"
bidding = { max_cpm = 4.0, base_bid = 3.0 }
segments = { include_all = [{ provider = "dataco.example", segtax = 4, id = "sports" }, "fans"] }
[[campaigns.creatives]]
id = "sports-300x250"
banner = { w = 300, h = 250 }
adm = "<b>sports</b>"

[[campaigns]]
id = "prospects"
advertiser_domain = "prospects.example"
bidding = { max_cpm = 3.0, base_bid = 2.0 }
segments = { exclude = ["customers"] }
[[campaigns.creatives]]
id = "prospects-300x250"
banner = { w = 300, h = 250 }
adm = "<b>prospects</b>"

[[campaigns]]
id = "contextual"
advertiser_domain = "contextual.example"
bidding = { max_cpm = 2.0, base_bid = 1.0 }
[[campaigns.creatives]]
id = "contextual-300x250"
banner = { w = 300, h = 250 }
adm = "<b>contextual</b>"
"#;

/// The exchange says the user is in DataCo's `sports` (IAB Audience Taxonomy).
const SPORTS: &str =
    r#"[{"id":"9","name":"dataco.example","segment":[{"id":"sports"}],"ext":{"segtax":4}}]"#;

/// Our GDPR vendor id in the tests' config.
const VENDOR: u16 = 755;

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn start(dir: &tempfile::TempDir, config: &str) -> Bidder {
    let campaigns = dir.path().join("campaigns.toml");
    std::fs::write(&campaigns, CAMPAIGNS).unwrap();
    Bidder::start_with(Options {
        campaigns: Some(campaigns),
        config: format!("{config}\n[segments]\ngvl_vendor_id = {VENDOR}\n"),
        ..Options::default()
    })
}

/// A 300x250 request from `user` with `data` as `user.data` and `extra` members.
fn request(user: &str, data: &str, extra: &str) -> Vec<u8> {
    request_with(user, data, "", extra)
}

/// [`request`] with `user_extra` members in `user` (e.g. `,"consent":"..."`).
fn request_with(user: &str, data: &str, user_extra: &str, extra: &str) -> Vec<u8> {
    static SENT: AtomicU32 = AtomicU32::new(0);
    let n = SENT.fetch_add(1, Ordering::Relaxed);
    format!(
        r#"{{"id":"req-{n}","tmax":1000,"imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}],"user":{{"buyeruid":"{user}","data":{data}{user_extra}}}{extra}}}"#
    )
    .into_bytes()
}

fn winner(bidder: &Bidder, user: &str, data: &str, extra: &str) -> Option<String> {
    winner_of(&bidder.bid(&request(user, data, extra)))
}

/// The Redis key of `user`'s segments (`docs/segments.md`).
fn key_of(user: &str) -> String {
    format!("sg:{{{}}}", UserKey::of(UserIdKind::Buyeruid, user))
}

/// Gives `user` the segments `ids`, each ending `ttl_s` from now, on `node`.
fn give(node: &RedisServer, user: &str, ids: &[&str], ttl_s: u64) {
    let end = (now_s() + ttl_s).to_string();
    let key = key_of(user);
    let mut args = vec!["ZADD", key.as_str()];
    for id in ids {
        args.extend([end.as_str(), *id]);
    }
    let reply = node.command(&args);
    assert!(matches!(reply, redis::Value::Int(_)), "{reply:?}");
}

#[test]
fn rules_on_first_party_and_exchange_segments_in_one_round_trip() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, &redis_config(&redis, ""));
    give(&redis, "alice", &["auto", "travel"], 3600);
    give(&redis, "bob", &["fans"], 3600);
    give(&redis, "carol", &["customers"], 3600);

    let (lookups, mgets) = (redis.calls("zrangebyscore"), redis.calls("mget"));
    let round_trips = bidder.metric("tern_redis_duration_seconds_count");
    assert_eq!(
        winner(&bidder, "alice", "[]", "").as_deref(),
        Some("auto-buyers")
    );
    assert_eq!(redis.calls("zrangebyscore"), lookups + 1);
    assert_eq!(
        redis.calls("mget"),
        mgets + 1,
        "the cap is read in the same pipeline"
    );
    assert_eq!(
        bidder.metric("tern_redis_duration_seconds_count"),
        round_trips + 1.0,
        "caps and segments in one round trip"
    );

    assert_eq!(
        winner(&bidder, "bob", SPORTS, "").as_deref(),
        Some("sports-fans")
    );
    assert_eq!(
        winner(&bidder, "bob", "[]", "").as_deref(),
        Some("prospects"),
        "include_all needs the exchange's segment too"
    );
    assert_eq!(
        winner(&bidder, "dave", SPORTS, "").as_deref(),
        Some("prospects"),
        "include_all needs our segment too"
    );
    assert_eq!(
        winner(&bidder, "carol", SPORTS, "").as_deref(),
        Some("contextual"),
        "customers are excluded"
    );
    assert_eq!(
        bidder.metric("tern_segment_lookups_total{result=\"ok\"}"),
        5.0
    );
    assert_eq!(
        bidder.metric("tern_segment_lookups_total{result=\"unavailable\"}"),
        0.0
    );

    // Bid events report the segments that matched, never the user.
    let bids = |e: &serde_json::Value| e["type"] == "bid";
    assert!(
        support::eventually(Duration::from_secs(10), || {
            bidder.event_lines().iter().filter(|e| bids(e)).count() == 5
        }),
        "five bid events written"
    );
    let events = bidder.event_lines();
    let bid = events
        .iter()
        .find(|e| e["type"] == "bid" && e["campaign_id"] == "sports-fans")
        .expect("a bid event for sports-fans");
    assert_eq!(
        bid["segments"],
        serde_json::json!(["dataco.example/sports", "fans"])
    );
    let contextual = events
        .iter()
        .find(|e| e["type"] == "bid" && e["campaign_id"] == "contextual")
        .unwrap();
    assert!(
        contextual.get("segments").is_none(),
        "no rules, no segments"
    );
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("alice") && !text.contains(&key_of("alice")[4..36]));
}

#[test]
fn a_segment_membership_ends_with_its_ttl() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, &redis_config(&redis, ""));
    give(&redis, "erin", &["auto"], 2);
    assert_eq!(
        winner(&bidder, "erin", "[]", "").as_deref(),
        Some("auto-buyers")
    );
    std::thread::sleep(Duration::from_millis(2_100));
    assert_eq!(
        winner(&bidder, "erin", "[]", "").as_deref(),
        Some("prospects"),
        "the membership has ended (its score is in the past)"
    );
}

#[test]
fn without_an_answer_from_redis_segment_campaigns_sit_out_whatever_the_cap_policy() {
    for policy in ["skip_capped", "ignore_caps"] {
        let mut redis = RedisServer::start();
        let dir = tempfile::tempdir().unwrap();
        let extra = format!("on_unavailable = \"{policy}\"");
        let bidder = start(&dir, &redis_config(&redis, &extra));
        give(&redis, "frank", &["auto"], 3600);
        assert_eq!(
            winner(&bidder, "frank", "[]", "").as_deref(),
            Some("auto-buyers")
        );
        redis.stop();
        assert_eq!(
            winner(&bidder, "frank", "[]", "").as_deref(),
            Some("contextual"),
            "{policy}: first-party rules (include or exclude) cannot be judged"
        );
        assert!(bidder.metric("tern_segment_lookups_total{result=\"unavailable\"}") >= 1.0);
        redis.restart();
        give(&redis, "frank", &["auto"], 3600);
        assert!(
            support::eventually(Duration::from_secs(5), || {
                winner(&bidder, "frank", "[]", "").as_deref() == Some("auto-buyers")
            }),
            "{policy}: targeting resumes when Redis is back"
        );
    }
}

/// The cluster node that serves `key`'s slot.
fn owner_of(cluster: &RedisCluster, key: &str) -> usize {
    (0..cluster.nodes.len())
        .find(|&i| {
            !matches!(
                cluster.nodes[i].command(&["EXISTS", key]),
                redis::Value::ServerError(_)
            )
        })
        .expect("one node serves the slot")
}

#[test]
fn segments_follow_a_redis_cluster_and_a_migrating_slot() {
    let cluster = RedisCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, &redis_config(&cluster.nodes[0], ""));
    // Users on every node; the bidder knows node 0 and follows MOVED.
    let mut owners = [0; 3];
    for n in 0..24 {
        let user = format!("cluster-user-{n}");
        let owner = owner_of(&cluster, &key_of(&user));
        owners[owner] += 1;
        give(&cluster.nodes[owner], &user, &["auto"], 3600);
        assert_eq!(
            winner(&bidder, &user, "[]", "").as_deref(),
            Some("auto-buyers"),
            "{user}"
        );
    }
    assert!(
        owners.iter().all(|&n| n > 0),
        "users on every node: {owners:?}"
    );
    for (i, node) in cluster.nodes.iter().enumerate() {
        assert!(
            node.calls("zrangebyscore") > 0,
            "node {i} answered segment lookups"
        );
    }

    // Move one user's slot to the next node with the key already moved: the owner
    // answers ASK, the importing node serves the lookup after ASKING.
    let user = "migrant";
    let key = key_of(user);
    let owner = owner_of(&cluster, &key);
    let target = (owner + 1) % 3;
    give(&cluster.nodes[owner], user, &["auto"], 3600);
    cluster.start_migrating(cluster.slot_of(&key), owner, target);
    let port = cluster.nodes[target].port.to_string();
    let migrated =
        cluster.nodes[owner].command(&["MIGRATE", "127.0.0.1", &port, &key, "0", "5000"]);
    assert_eq!(migrated, redis::Value::Okay);
    let lookups = cluster.nodes[target].calls("zrangebyscore");
    assert_eq!(
        winner(&bidder, user, "[]", "").as_deref(),
        Some("auto-buyers")
    );
    assert!(
        cluster.nodes[target].calls("zrangebyscore") > lookups,
        "asked the importing node"
    );
    assert_eq!(
        bidder.metric("tern_segment_lookups_total{result=\"unavailable\"}"),
        0.0
    );
}

/// A TCF v2 consent string (core segment only, bit-field vendors) giving
/// `vendors` consent for `purposes`.
fn tc_string(purposes: &[u8], vendors: &[u16]) -> String {
    use base64::Engine as _;
    let mut bits: Vec<bool> = Vec::new();
    let mut put = |value: u64, width: u32| {
        for i in (0..width).rev() {
            bits.push(value >> i & 1 == 1);
        }
    };
    let max_vendor = vendors.iter().copied().max().unwrap_or(0);
    put(2, 6); // Version
    put(16_000_000_000, 36); // Created, deciseconds
    put(16_000_000_000, 36); // LastUpdated
    put(7, 12); // CmpId
    put(1, 12); // CmpVersion
    put(1, 6); // ConsentScreen
    put(4 * 64 + 13, 12); // ConsentLanguage "EN"
    put(100, 12); // VendorListVersion
    put(4, 6); // TcfPolicyVersion
    put(1, 1); // IsServiceSpecific
    put(0, 1); // UseNonStandardTexts
    put(0, 12); // SpecialFeatureOptIns
    let consents = purposes.iter().fold(0u64, |all, p| all | 1 << (24 - p));
    put(consents, 24); // PurposesConsent
    put(0, 24); // PurposesLITransparency
    put(0, 1); // PurposeOneTreatment
    put(3 * 64 + 4, 12); // PublisherCC "DE"
    put(u64::from(max_vendor), 16); // MaxVendorId
    put(0, 1); // IsRangeEncoding: a bit field
    for vendor in 1..=max_vendor {
        put(u64::from(vendors.contains(&vendor)), 1);
    }
    put(0, 16); // Vendor legitimate interest: MaxVendorId 0
    put(0, 1);
    put(0, 12); // NumPubRestrictions
    let bytes: Vec<u8> = bits
        .chunks(8)
        .map(|byte| {
            byte.iter()
                .enumerate()
                .fold(0, |b, (i, bit)| b | u8::from(*bit) << (7 - i))
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn users_who_may_not_be_tracked_are_not_looked_up_and_get_no_segment_campaign() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, &redis_config(&redis, ""));
    give(&redis, "gina", &["auto", "fans"], 3600);
    let gdpr = r#","regs":{"gdpr":1}"#;
    let consent = |purposes: &[u8], vendors: &[u16]| {
        format!(r#","consent":"{}""#, tc_string(purposes, vendors))
    };
    let lookups = redis.calls("zrangebyscore");
    let untracked = [
        ("", r#","regs":{"coppa":1}"#.to_owned()),
        ("", r#","device":{"lmt":1}"#.to_owned()),
        ("", gdpr.to_owned()),
        (
            r#","ext":{"consent":"garbage"}"#,
            r#","regs":{"ext":{"gdpr":1}}"#.to_owned(),
        ),
        (
            &*consent(&[1, 4], &[VENDOR - 1, VENDOR + 1]),
            gdpr.to_owned(),
        ),
        (&*consent(&[1, 3], &[VENDOR]), gdpr.to_owned()),
    ];
    for (user_extra, extra) in &untracked {
        let reply = bidder.bid(&request_with("gina", SPORTS, user_extra, extra));
        assert_eq!(
            winner_of(&reply).as_deref(),
            Some("contextual"),
            "{user_extra} {extra}"
        );
    }
    assert_eq!(redis.calls("zrangebyscore"), lookups, "no lookup was made");
    assert_eq!(
        bidder.metric("tern_segments_withheld_total"),
        untracked.len() as f64
    );
    let consented = request_with("gina", SPORTS, &consent(&[1, 2, 3, 4], &[1, VENDOR]), gdpr);
    assert_eq!(
        winner_of(&bidder.bid(&consented)).as_deref(),
        Some("auto-buyers"),
        "GDPR with our vendor's consent for purposes 1 and 4"
    );
    assert_eq!(
        winner(&bidder, "gina", SPORTS, r#","regs":{"gdpr":0}"#).as_deref(),
        Some("auto-buyers")
    );
    assert_eq!(
        bidder.metric("tern_segments_withheld_total"),
        untracked.len() as f64
    );
}

#[test]
fn the_embedded_default_reads_segments_from_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("segments.jsonl");
    std::fs::write(
        &file,
        "# exported for the test\n\
         {\"buyeruid\":\"hank\",\"segments\":[\"auto\"]}\n\
         {\"buyeruid\":\"ida\",\"segments\":[\"customers\",{\"id\":\"fans\",\"ttl_s\":3600}]}\n",
    )
    .unwrap();
    let config = format!("[segments]\nfile = \"{}\"", file.display());
    let campaigns = dir.path().join("campaigns.toml");
    std::fs::write(&campaigns, CAMPAIGNS).unwrap();
    let bidder = Bidder::start_with(Options {
        campaigns: Some(campaigns.clone()),
        config,
        ..Options::default()
    });
    assert_eq!(
        winner(&bidder, "hank", "[]", "").as_deref(),
        Some("auto-buyers")
    );
    assert_eq!(
        winner(&bidder, "ida", SPORTS, "").as_deref(),
        Some("sports-fans")
    );
    assert_eq!(
        winner(&bidder, "ida", "[]", "").as_deref(),
        Some("contextual")
    );
    assert_eq!(
        winner(&bidder, "nobody", "[]", "").as_deref(),
        Some("prospects")
    );
    assert_eq!(
        winner(&bidder, "hank", "[]", r#","device":{"lmt":1}"#).as_deref(),
        Some("contextual")
    );
    // A user with no id cannot be looked up: first-party rules sit out.
    let anonymous = br#"{"id":"anon","imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#;
    assert_eq!(
        winner_of(&bidder.bid(anonymous)).as_deref(),
        Some("contextual")
    );
    assert_eq!(
        bidder.metric("tern_segment_lookups_total{result=\"no_user\"}"),
        1.0
    );

    // A line it cannot read stops the start, naming the file and the line.
    std::fs::write(&file, "{\"buyeruid\":\"hank\",\"segments\":[\"a b\"]}\n").unwrap();
    let error = Bidder::try_start(Options {
        campaigns: Some(campaigns),
        config: format!("[segments]\nfile = \"{}\"", file.display()),
        ..Options::default()
    })
    .err()
    .expect("a bad segments file stops the start");
    assert!(
        error.contains("segments.file") && error.contains("line 1"),
        "{error}"
    );
    // `bidder --check` finds it too, without serving.
    let config = dir.path().join("check.toml");
    std::fs::write(
        &config,
        format!("[segments]\nfile = \"{}\"\n", file.display()),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bidder"))
        .arg("--config")
        .arg(&config)
        .arg("--check")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "--check passed a bad segments file"
    );
    assert!(
        stderr.contains("segments.file") && stderr.contains("line 1"),
        "{stderr}"
    );
}

#[test]
fn a_user_in_more_segments_than_are_read_is_never_taken_as_outside_an_exclusion() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(&dir, &redis_config(&redis, ""));
    // 300 memberships ending soon, and `customers` ending last: the 256 the bid
    // path reads (those ending first) leave it out.
    let noise: Vec<String> = (0..300).map(|i| format!("aud-{i}")).collect();
    let noise: Vec<&str> = noise.iter().map(String::as_str).collect();
    give(&redis, "many", &noise, 3600);
    give(&redis, "many", &["customers"], 365 * 86_400);
    assert_eq!(
        winner(&bidder, "many", "[]", "").as_deref(),
        Some("contextual"),
        "`prospects` excludes customers: a partial answer cannot show the user is not one"
    );
    give(&redis, "many", &["auto"], 3600);
    // `auto` ends with the noise; whether it is among the 256 read decides
    // auto-buyers, never prospects.
    let answer = winner(&bidder, "many", "[]", "");
    assert_ne!(answer.as_deref(), Some("prospects"));
}
