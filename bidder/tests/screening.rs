//! Invalid-traffic and supply-chain screening over real HTTP: each check passes a
//! clean request and refuses a dirty one with its reason (in `/metrics` and in
//! no-bid events), per-campaign policy, the scoring model, list reloads from a
//! directory (atomic; a bad list keeps the old one) and from S3 over moto.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Bidder, Options, eventually, sample};

/// The exchange the tests post as, and its ad system domain (the example
/// sellers.json and news.example's ads.txt in ivt/examples/lists name it).
const EXCHANGE: &str = "x";
const EXCHANGE_CONFIG: &str = "[screening.exchange_domains]\nx = \"exchange.example\"\n";

/// The example ads.txt (news.example) and sellers.json (exchange.example).
fn examples() -> String {
    let dir = support::crate_file("../ivt/examples/lists");
    format!("[screening]\nlists_dir = \"{}\"\n", dir.display())
}

fn bidder_with(config: &str) -> Bidder {
    Bidder::start_with(Options {
        config: format!("{EXCHANGE_CONFIG}{config}"),
        ..Options::default()
    })
}

/// The bundled banner sample: news.example sold directly by exchange.example
/// as pub-1001, a browser user agent, an ordinary address.
fn banner() -> Value {
    serde_json::from_slice(&sample("banner")).unwrap()
}

fn post(bidder: &Bidder, request: &Value) -> u16 {
    let body = serde_json::to_vec(request).unwrap();
    bidder
        .post_json(&format!("/openrtb2/bid/{EXCHANGE}"), &body)
        .status
}

fn nobids(bidder: &Bidder, reason: &str) -> f64 {
    bidder.metric(&format!("tern_nobids_total{{reason=\"{reason}\"}}"))
}

/// Posts `request` and checks it got no bid for `reason` (and only that).
fn assert_refused(bidder: &Bidder, request: &Value, reason: &str, case: &str) {
    let before = nobids(bidder, reason);
    assert_eq!(post(bidder, request), 204, "{case}: no bid");
    assert_eq!(
        nobids(bidder, reason),
        before + 1.0,
        "{case}: counted as {reason}"
    );
}

fn with(mut request: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    request.pointer_mut(parent).expect("parent exists")[key] = value;
    request
}

#[test]
fn each_check_passes_a_clean_request_and_refuses_a_dirty_one_with_its_reason() {
    let bidder = bidder_with(&examples());
    assert_eq!(post(&bidder, &banner()), 200, "the clean sample bids");

    // Known bots (the bundled crawler-user-agents list).
    let bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    assert_refused(
        &bidder,
        &with(banner(), "/device/ua", json!(bot)),
        "bot",
        "Googlebot",
    );
    let headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                    HeadlessChrome/120.0.0.0 Safari/537.36";
    assert_refused(
        &bidder,
        &with(banner(), "/device/ua", json!(headless)),
        "bot",
        "headless",
    );

    // Data-centre ranges (the bundled sample), IPv4, IPv6 and IPv4-mapped IPv6.
    for (field, address) in [
        ("ip", "198.51.100.9"),
        ("ipv6", "2001:db8:dc00::1"),
        ("ipv6", "::ffff:198.51.100.9"),
        ("ip", "::ffff:198.51.100.9"),
    ] {
        let mut request = banner();
        request["device"].as_object_mut().unwrap().remove("ip");
        request["device"][field] = json!(address);
        assert_refused(&bidder, &request, "datacenter", address);
    }
    let near = with(banner(), "/device/ip", json!("198.51.101.9"));
    assert_eq!(
        post(&bidder, &near),
        200,
        "an address outside the range bids"
    );
    // Blocked ranges refuse whatever the campaign says.
    let blocked = with(banner(), "/device/ip", json!("192.0.2.66"));
    assert_refused(&bidder, &blocked, "blocked_ip", "blocked address");

    // The supply chain, in the 2.6 and the 2.5 location.
    let incomplete = with(banner(), "/source/schain/complete", json!(0));
    assert_refused(&bidder, &incomplete, "schain", "complete = 0");
    let mut old = banner();
    let chain = old["source"]
        .as_object_mut()
        .unwrap()
        .remove("schain")
        .unwrap();
    old["source"]["ext"] = json!({ "schain": chain });
    assert_eq!(
        post(&bidder, &old),
        200,
        "a whole chain in source.ext.schain bids"
    );
    let old_incomplete = with(old, "/source/ext/schain/complete", json!(0));
    assert_refused(
        &bidder,
        &old_incomplete,
        "schain",
        "2.5 location, complete = 0",
    );
    let foreign = with(
        banner(),
        "/source/schain/nodes/0/asi",
        json!("other.example"),
    );
    assert_refused(
        &bidder,
        &foreign,
        "schain",
        "the chain does not end at the sender",
    );
    let no_sid = with(banner(), "/source/schain/nodes/0/sid", json!(""));
    assert_refused(&bidder, &no_sid, "schain", "a node without sid");

    // sellers.json and ads.txt (the bundled examples).
    let unknown = with(banner(), "/source/schain/nodes/0/sid", json!("pub-9999"));
    assert_refused(
        &bidder,
        &unknown,
        "unauthorized_seller",
        "sid not in sellers.json",
    );
    let reseller_first = with(banner(), "/source/schain/nodes/0/sid", json!("7788"));
    assert_refused(
        &bidder,
        &reseller_first,
        "unauthorized_seller",
        "an intermediary first",
    );
    let mut chainless = banner();
    chainless["source"]
        .as_object_mut()
        .unwrap()
        .remove("schain");
    assert_eq!(
        post(&bidder, &chainless),
        200,
        "the exchange itself, listed in ads.txt"
    );
    let unlisted = with(chainless.clone(), "/site/publisher/id", json!("pub-2"));
    assert_refused(
        &bidder,
        &unlisted,
        "unauthorized_seller",
        "account not in ads.txt",
    );
    let subdomain = with(unlisted, "/site/domain", json!("www.news.example"));
    assert_refused(
        &bidder,
        &subdomain,
        "unauthorized_seller",
        "ads.txt of the parent domain",
    );
    let unknown_site = with(chainless, "/site/domain", json!("elsewhere.example"));
    assert_eq!(
        post(&bidder, &unknown_site),
        200,
        "a site without ads.txt is not judged"
    );
}

#[test]
fn campaigns_choose_what_they_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let campaigns = dir.path().join("campaigns.toml");
    let creative = "[[campaigns.creatives]]\nid = \"cr\"\nadm = \"<a/>\"\n\
                    banner = { w = 300, h = 250 }\n";
    let campaign = |id: &str, base: f64, screening: &str| {
        format!(
            "[[campaigns]]\nid = \"{id}\"\nadvertiser_domain = \"{id}.example\"\n\
             bidding = {{ max_cpm = 9.0, base_bid = {base} }}\nscreening = {{ {screening} }}\n\
             {creative}"
        )
    };
    let text = [
        campaign("strict", 3.0, "require_schain = true"),
        campaign("lax", 1.0, "block_datacenter = false, block_bots = false"),
    ]
    .concat();
    std::fs::write(&campaigns, text).unwrap();
    let bidder = Bidder::start_with(Options {
        campaigns: Some(campaigns),
        config: format!("{EXCHANGE_CONFIG}{}", examples()),
        ..Options::default()
    });
    let winner = |request: &Value| -> Option<String> {
        let body = serde_json::to_vec(request).unwrap();
        let reply = bidder.post_json(&format!("/openrtb2/bid/{EXCHANGE}"), &body);
        (reply.status == 200).then(|| {
            let response: Value = serde_json::from_slice(&reply.body).unwrap();
            response["seatbid"][0]["bid"][0]["cid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    };
    assert_eq!(
        winner(&banner()).as_deref(),
        Some("strict"),
        "the higher bid wins"
    );
    let datacenter = with(banner(), "/device/ip", json!("198.51.100.9"));
    assert_eq!(
        winner(&datacenter).as_deref(),
        Some("lax"),
        "only lax takes data centres"
    );
    let bot = with(banner(), "/device/ua", json!("curl/8.4.0"));
    assert_eq!(winner(&bot).as_deref(), Some("lax"));
    let mut chainless = banner();
    chainless["source"]
        .as_object_mut()
        .unwrap()
        .remove("schain");
    assert_eq!(
        winner(&chainless).as_deref(),
        Some("lax"),
        "strict requires a chain"
    );
    // Blocked addresses stay blocked for every campaign.
    let blocked = with(banner(), "/device/ip", json!("192.0.2.66"));
    assert_eq!(winner(&blocked), None);
}

/// A lists directory holding `files` (path, text).
fn lists_dir(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let at = root.join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(at, text).unwrap();
    }
}

/// A model that scores a request without a user id 0.5 and one without a
/// user agent too at 0.88 (threshold 0.8).
const MODEL: &str = r#"{"format": "tern-ivt-logistic/1", "features": ["user_id_missing", "ua_missing"],
    "bias": -2.0, "weights": [2.0, 2.0], "threshold": 0.8}"#;

#[test]
fn the_model_score_refuses_or_lowers_the_price_per_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let lists = dir.path().join("lists");
    lists_dir(&lists, &[("model.json", MODEL)]);
    let campaigns = dir.path().join("campaigns.toml");
    std::fs::write(
        &campaigns,
        "[[campaigns]]\nid = \"c\"\nadvertiser_domain = \"c.example\"\n\
         bidding = { max_cpm = 4.0, base_bid = 2.0 }\n\
         screening = { lower_price_from_ivt_score = 0.3 }\n\
         [[campaigns.creatives]]\nid = \"cr\"\nadm = \"<a/>\"\nbanner = { w = 300, h = 250 }\n",
    )
    .unwrap();
    let bidder = Bidder::start_with(Options {
        campaigns: Some(campaigns),
        config: format!(
            "{EXCHANGE_CONFIG}[screening]\nlists_dir = \"{}\"\n[events]\nnobid_sample_rate = 1.0\n",
            lists.display()
        ),
        ..Options::default()
    });
    let price = |request: &Value| -> Option<f64> {
        let body = serde_json::to_vec(request).unwrap();
        let reply = bidder.post_json(&format!("/openrtb2/bid/{EXCHANGE}"), &body);
        (reply.status == 200).then(|| {
            let response: Value = serde_json::from_slice(&reply.body).unwrap();
            response["seatbid"][0]["bid"][0]["price"].as_f64().unwrap()
        })
    };
    let mut known = banner();
    known["user"] = json!({ "id": "u-1" });
    known["imp"][0]["bidfloor"] = json!(0.5);
    // sigmoid(-2) = 0.119: under 0.3, the full base bid.
    assert_eq!(price(&known), Some(2.0));
    // sigmoid(0) = 0.5: the price lowered by half, and the floor still met.
    let mut anonymous = known.clone();
    anonymous.as_object_mut().unwrap().remove("user");
    assert_eq!(price(&anonymous), Some(1.0));
    let high_floor = with(anonymous.clone(), "/imp/0/bidfloor", json!(1.5));
    assert_eq!(
        price(&high_floor),
        Some(1.5),
        "raised to the floor, under the lowered maximum"
    );
    let too_high = with(anonymous.clone(), "/imp/0/bidfloor", json!(2.5));
    assert_eq!(
        price(&too_high),
        None,
        "the lowered maximum (2.0) cannot meet it"
    );
    // sigmoid(2) = 0.88: at the model's threshold (0.8), refused.
    let mut faceless = anonymous;
    faceless["device"].as_object_mut().unwrap().remove("ua");
    assert_refused(&bidder, &faceless, "ivt_score", "score 0.88");
    assert!(eventually(Duration::from_secs(5), || {
        bidder.event_lines().iter().any(|e| {
            e["type"] == "nobid"
                && e["nobid_reason"] == "ivt_score"
                && e["ivt_score"] == 880
                && e["ivt_features"][0] == 1.0
                && e["ivt_features"][5] == 1.0
        })
    }));
}

#[test]
fn a_list_reload_swaps_atomically_and_a_bad_list_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    lists_dir(dir.path(), &[("ip/blocked/mine.txt", "203.0.113.0/24\n")]);
    let bidder = bidder_with(&format!(
        "[screening]\nlists_dir = \"{}\"\npoll_interval_ms = 50\n",
        dir.path().display()
    ));
    assert_refused(
        &bidder,
        &banner(),
        "blocked_ip",
        "the sample's address, listed",
    );
    assert_eq!(bidder.state()["screening"]["generation"], 1);

    // A bad file: refused whole (the good change beside it too), the old lists serve.
    lists_dir(
        dir.path(),
        &[
            ("ip/datacenter/broken.txt", "198.51.100.0/24\n10.0.0.0/33\n"),
            ("ip/blocked/mine.txt", "# emptied\n"),
        ],
    );
    assert!(eventually(Duration::from_secs(5), || {
        bidder.metric("tern_ivt_list_rejects_total") >= 1.0
    }));
    let state = bidder.state();
    let error = state["screening"]["last_error"].as_str().unwrap();
    assert!(
        error.contains("ip/datacenter/broken.txt") && error.contains('2'),
        "{error}"
    );
    assert_refused(&bidder, &banner(), "blocked_ip", "still the old lists");

    // Fixed: the new lists apply as one.
    std::fs::remove_file(dir.path().join("ip/datacenter/broken.txt")).unwrap();
    assert!(eventually(Duration::from_secs(5), || post(
        &bidder,
        &banner()
    ) == 200));
    assert_eq!(bidder.state()["screening"]["generation"], 2);
    assert_eq!(bidder.metric("tern_ivt_lists_generation"), 2.0);
}

#[test]
fn a_bad_list_at_start_stops_the_bidder_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    lists_dir(
        dir.path(),
        &[("sellers.json/exchange.example.json", "{\"sellers\": 7}")],
    );
    let output = Bidder::try_start(Options {
        config: format!("[screening]\nlists_dir = \"{}\"\n", dir.path().display()),
        ..Options::default()
    })
    .err()
    .expect("refused");
    assert!(
        output.contains("sellers.json/exchange.example.json"),
        "{output}"
    );
}

#[test]
fn lists_are_read_from_an_s3_prefix() {
    let moto = support::moto::Moto::start();
    // An operator uploading with the AWS SDK, as `aws s3 cp` would.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let credentials = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{}", moto.port))
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let put = |key: &str, body: &str| {
        let request = client
            .put_object()
            .bucket("tern-lists")
            .key(key)
            .body(body.as_bytes().to_vec().into());
        runtime.block_on(request.send()).expect("object put");
    };
    // Started before the prefix exists: the bundled lists serve, but the
    // bidder is not ready until the fleet's lists are in force.
    let bidder = Bidder::start_with(Options {
        config: format!(
            "{EXCHANGE_CONFIG}[screening]\ns3_uri = \"s3://tern-lists/ivt/\"\npoll_interval_ms = 100\n"
        ),
        env: moto.env(),
        ..Options::default()
    });
    assert!(eventually(Duration::from_secs(5), || {
        bidder.metric("tern_ivt_list_rejects_total") >= 1.0
    }));
    assert_eq!(
        bidder.admin("/ready").status,
        503,
        "the S3 lists are not read yet"
    );
    assert_eq!(bidder.state()["screening"]["ready"], false);
    assert_eq!(
        post(&bidder, &banner()),
        200,
        "the bundled lists serve meanwhile"
    );

    runtime
        .block_on(client.create_bucket().bucket("tern-lists").send())
        .expect("bucket created");
    put("ivt/ip/blocked/fleet.txt", "203.0.113.0/24\n");
    put("ivt/README.md", "skipped: not a list\n");
    put("other/ip/blocked/x.txt", "not a list: outside the prefix\n");
    assert!(
        eventually(Duration::from_secs(10), || post(&bidder, &banner()) == 204),
        "the S3 list applies"
    );
    assert_eq!(bidder.admin("/ready").status, 200);
    let rejects = bidder.state()["screening"]["rejects"].clone();
    assert_refused(&bidder, &banner(), "blocked_ip", "listed in S3");
    put("ivt/ip/blocked/fleet.txt", "192.0.2.0/24\n");
    assert!(
        eventually(Duration::from_secs(10), || post(&bidder, &banner()) == 200),
        "a changed object applies"
    );
    assert_eq!(
        bidder.state()["screening"]["rejects"],
        rejects,
        "no reject since"
    );
}
