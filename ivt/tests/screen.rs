//! The whole screen through the public API: lists compiled from files, requests
//! parsed as the bidder parses them, the findings, features and score checked.

use serde_json::{Value, json};
use tern_engine::openrtb::BidRequest;
use tern_engine::screen::Findings;
use tern_ivt::{FEATURES, ListFile, Lists, Screened, Screener};

fn file(path: &str, text: &str) -> ListFile {
    ListFile::new(path, text)
}

/// A publisher (news.example) selling directly through ssp.example as `pub-1`,
/// and reselling through reseller.example; both ad systems publish sellers.json.
fn lists() -> Lists {
    Lists::compile(&[
        file(
            "ads.txt/news.example.txt",
            "ssp.example, pub-1, DIRECT\nreseller.example, r-9, RESELLER\n",
        ),
        file(
            "app-ads.txt/com.example.game.txt",
            "ssp.example, app-7, DIRECT\n",
        ),
        file(
            "sellers.json/ssp.example.json",
            r#"{"sellers": [{"seller_id": "pub-1", "seller_type": "PUBLISHER"},
                {"seller_id": "app-7", "seller_type": "PUBLISHER"},
                {"seller_id": "mid-3", "seller_type": "INTERMEDIARY"}]}"#,
        ),
        file(
            "sellers.json/reseller.example.json",
            r#"{"sellers": [{"seller_id": "r-9", "seller_type": "INTERMEDIARY"}]}"#,
        ),
        file(
            "ip/datacenter/dc.txt",
            "198.51.100.0/24\n2001:db8:dc00::/40\n",
        ),
        file("bots/list.json", r#"[{"pattern": "Googlebot\\/"}]"#),
        file(
            "model.json",
            r#"{"format": "tern-ivt-logistic/1", "features": ["ip_datacenter"],
                "bias": -1.0, "weights": [2.0], "threshold": 0.6}"#,
        ),
    ])
    .expect("lists compile")
}

/// A site request from news.example, sold by ssp.example as pub-1, with a
/// one-node complete chain.
fn site() -> Value {
    json!({
        "id": "r", "imp": [{"id": "1", "banner": {"w": 300, "h": 250}}], "tmax": 120,
        "site": {"domain": "news.example", "publisher": {"id": "pub-1"}},
        "device": {"ua": "Mozilla/5.0 (Windows NT 10.0)", "ip": "203.0.113.7"},
        "user": {"id": "u"},
        "source": {"schain": {"ver": "1.0", "complete": 1,
            "nodes": [{"asi": "ssp.example", "sid": "pub-1", "hp": 1}]}}
    })
}

fn screen(request: &Value, exchange: Option<&str>) -> Screened {
    let body = serde_json::to_vec(request).unwrap();
    let parsed = BidRequest::parse(&body).expect("request parses");
    Screener::default().screen(&lists(), &parsed, exchange)
}

fn findings(request: &Value) -> Findings {
    screen(request, Some("ssp.example")).verdict.findings
}

fn set(mut request: Value, pointer: &str, value: Value) -> Value {
    *request.pointer_mut(pointer).expect("field exists") = value;
    request
}

#[test]
fn a_clean_request_has_no_findings() {
    assert_eq!(findings(&site()), Findings::NONE);
}

#[test]
fn supply_chain_rules() {
    let resold = set(
        site(),
        "/source/schain/nodes",
        json!([{"asi": "ssp.example", "sid": "pub-1", "hp": 1},
               {"asi": "reseller.example", "sid": "r-9", "hp": 1}]),
    );
    assert_eq!(
        screen(&resold, Some("reseller.example")).verdict.findings,
        Findings::NONE
    );
    assert_eq!(
        findings(&resold),
        Findings::SCHAIN_INCOMPLETE,
        "last node is not the sender"
    );
    assert_eq!(
        screen(&resold, None).verdict.findings,
        Findings::NONE,
        "sender unknown"
    );
    let cases = [
        (
            "/source/schain/complete",
            json!(0),
            Findings::SCHAIN_INCOMPLETE.with(Findings::SELLER_UNAUTHORIZED),
        ),
        (
            "/source/schain/nodes",
            json!([]),
            Findings::SCHAIN_INCOMPLETE.with(Findings::SELLER_UNAUTHORIZED),
        ),
        (
            "/source/schain/nodes/0/sid",
            json!("x".repeat(65)),
            Findings::SCHAIN_INCOMPLETE.with(Findings::SELLER_UNAUTHORIZED),
        ),
        (
            "/source/schain/nodes/0/sid",
            json!("unknown"),
            Findings::SELLER_UNAUTHORIZED,
        ),
        (
            "/source/schain/nodes/0/sid",
            json!("mid-3"),
            Findings::SELLER_UNAUTHORIZED,
        ),
        ("/site/domain", json!("www.news.example"), Findings::NONE),
        ("/site/domain", json!("other.example"), Findings::NONE),
    ];
    for (pointer, value, expected) in cases {
        let request = set(site(), pointer, value.clone());
        assert_eq!(findings(&request), expected, "{pointer} = {value}");
    }
    // Listed only as RESELLER: not the DIRECT first node ads.txt must show.
    let reseller_first = set(
        site(),
        "/source/schain/nodes/0",
        json!({"asi": "reseller.example", "sid": "r-9", "hp": 1}),
    );
    assert!(
        screen(&reseller_first, None)
            .verdict
            .findings
            .any(Findings::SELLER_UNAUTHORIZED)
    );
}

#[test]
fn the_site_domain_is_read_as_a_host_however_it_is_written() {
    // A seller ssp.example knows, but news.example does not list.
    let unlisted = set(site(), "/source/schain/nodes/0/sid", json!("app-7"));
    assert_eq!(findings(&unlisted), Findings::SELLER_UNAUTHORIZED);
    for written in [
        "news.example.",
        " NEWS.Example ",
        "https://news.example:443/path?q",
        "http://www.news.example/",
    ] {
        let request = set(unlisted.clone(), "/site/domain", json!(written));
        assert_eq!(
            findings(&request),
            Findings::SELLER_UNAUTHORIZED,
            "{written:?}"
        );
    }
}

#[test]
fn without_a_chain_the_exchange_itself_must_be_listed() {
    let mut chainless = site();
    chainless["source"]
        .as_object_mut()
        .unwrap()
        .remove("schain");
    assert_eq!(findings(&chainless), Findings::SCHAIN_MISSING);
    let unlisted = set(chainless.clone(), "/site/publisher/id", json!("pub-2"));
    assert_eq!(
        findings(&unlisted),
        Findings::SCHAIN_MISSING.with(Findings::SELLER_UNAUTHORIZED)
    );
    let unknown_sender = screen(&chainless, None).verdict.findings;
    assert_eq!(
        unknown_sender,
        Findings::SCHAIN_MISSING.with(Findings::SELLER_UNAUTHORIZED)
    );
    let app = json!({
        "id": "r", "imp": [{"id": "1"}],
        "app": {"bundle": "com.example.game", "publisher": {"id": "app-7"}},
    });
    assert_eq!(findings(&app), Findings::SCHAIN_MISSING);
    let other_app = set(app, "/app/publisher/id", json!("app-8"));
    assert!(findings(&other_app).any(Findings::SELLER_UNAUTHORIZED));
}

#[test]
fn addresses_user_agents_features_and_score() {
    let dc = set(site(), "/device/ip", json!("198.51.100.20"));
    let screened = screen(&dc, Some("ssp.example"));
    assert_eq!(screened.verdict.findings, Findings::DATACENTER);
    // sigmoid(-1 + 2) = 0.731 ≥ 0.6.
    assert_eq!(screened.verdict.score_per_mille, 731);
    assert_eq!(screened.verdict.threshold_per_mille, 600);
    let feature = |name: &str| FEATURES.iter().position(|f| *f == name).unwrap();
    assert_eq!(screened.features[feature("ip_datacenter")], 1.0);
    assert_eq!(screened.features[feature("schain_nodes")], 1.0);
    assert_eq!(screened.features[feature("imp_count")], 1.0);
    assert_eq!(screened.features[feature("tmax_s")], 0.12);
    assert_eq!(screened.features[feature("ua_missing")], 0.0);
    let mut v6 = site();
    v6["device"] = json!({"ipv6": "2001:db8:dc00::9", "ua": "Googlebot/2.1"});
    let screened = screen(&v6, Some("ssp.example"));
    assert_eq!(
        screened.verdict.findings,
        Findings::DATACENTER.with(Findings::BOT)
    );
    assert_eq!(screened.features[feature("ua_bot")], 1.0);
    assert_eq!(screened.features[feature("ip_missing")], 0.0);
    let mut bare = site();
    bare.as_object_mut().unwrap().remove("device");
    bare.as_object_mut().unwrap().remove("user");
    let screened = screen(&bare, Some("ssp.example"));
    assert_eq!(screened.verdict.findings, Findings::NONE);
    for name in ["ua_missing", "ip_missing", "user_id_missing"] {
        assert_eq!(screened.features[feature(name)], 1.0, "{name}");
    }
}
