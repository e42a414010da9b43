//! Win and billing notices whose price arrives in every form exchanges send it:
//! a genuine token is a served impression, so it is counted once, debited and
//! counted against frequency caps even when the price cannot be read (at our bid),
//! counted by outcome, and marked in its event.

mod support;

use std::time::Duration;

use support::redis_server::RedisServer;
use support::{Bidder, Options, eventually, read_response, send};

/// One capped campaign bidding 3.00 USD on 300x250.
const CAMPAIGNS: &str = r#"
[[campaigns]]
id = "capped"
advertiser_domain = "capped.example"
bidding = { max_cpm = 5.0, base_bid = 3.0 }
frequency_cap = { max_impressions = 100, window_secs = 3600 }
[[campaigns.creatives]]
id = "capped-300x250"
banner = { w = 300, h = 250 }
adm = "<b>capped</b>"
"#;

/// Our bid, CPM micros.
const BID_MICROS: f64 = 3_000_000.0;

/// How a notice's `p` arrives, what it should settle at, and the outcome.
struct Form {
    name: &'static str,
    /// The `p` value as sent; `None` sends no `p` at all.
    p: Option<&'static str>,
    settled_micros: f64,
    source: &'static str,
    outcome: &'static str,
}

const FORMS: [Form; 10] = [
    Form {
        name: "a number",
        p: Some("2.5"),
        settled_micros: 2_500_000.0,
        source: "exchange",
        outcome: "accepted",
    },
    Form {
        name: "a percent-encoded number",
        p: Some("2%2E5"),
        settled_micros: 2_500_000.0,
        source: "exchange",
        outcome: "accepted",
    },
    Form {
        name: "above our bid",
        p: Some("9.99"),
        settled_micros: BID_MICROS,
        source: "capped",
        outcome: "price_capped",
    },
    Form {
        name: "the macro unsubstituted",
        p: Some("${AUCTION_PRICE}"),
        settled_micros: BID_MICROS,
        source: "bid",
        outcome: "price_unreadable",
    },
    Form {
        name: "the macro with braces encoded",
        p: Some("$%7BAUCTION_PRICE%7D"),
        settled_micros: BID_MICROS,
        source: "bid",
        outcome: "price_unreadable",
    },
    Form {
        name: "the macro encoded, upper-case hex",
        p: Some("%24%7BAUCTION_PRICE%7D"),
        settled_micros: BID_MICROS,
        source: "bid",
        outcome: "price_unreadable",
    },
    Form {
        name: "the macro encoded, lower-case hex",
        p: Some("%24%7bAUCTION_PRICE%7d"),
        settled_micros: BID_MICROS,
        source: "bid",
        outcome: "price_unreadable",
    },
    Form {
        name: "empty",
        p: Some(""),
        settled_micros: BID_MICROS,
        source: "bid",
        outcome: "price_unreadable",
    },
    Form {
        name: "an encrypted price",
        p: Some("WEp8wQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        settled_micros: BID_MICROS,
        source: "bid",
        outcome: "price_unreadable",
    },
    Form {
        name: "absent",
        p: None,
        settled_micros: BID_MICROS,
        source: "bid",
        outcome: "price_unreadable",
    },
];

/// GETs `url` with its target sent byte for byte (an HTTP client would re-encode it).
fn get_raw(bidder: &Bidder, url: &str) -> support::Reply {
    let target = url.strip_prefix(&bidder.url("")).expect("a bidder URL");
    let mut stream = bidder.connect();
    send(
        &mut stream,
        format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
    );
    read_response(&mut stream).expect("an answer")
}

/// The bid's notice URL with `p` as the form sends it.
fn with_price(url: &str, p: Option<&str>) -> String {
    match p {
        Some(p) => url.replace("${AUCTION_PRICE}", p),
        None => url.replace("&p=${AUCTION_PRICE}", ""),
    }
}

#[test]
fn a_genuine_notice_is_counted_debited_and_capped_whatever_its_price_looks_like() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let campaigns = dir.path().join("campaigns.toml");
    std::fs::write(&campaigns, CAMPAIGNS).unwrap();
    let bidder = Bidder::start_with(Options {
        campaigns: Some(campaigns),
        config: format!(
            "[frequency_cap]\nstore = \"redis\"\n[frequency_cap.redis]\naddr = \"{}\"\n",
            redis.addr()
        ),
        ..Options::default()
    });
    let metric = |kind: &str, outcome: &str| {
        bidder.metric(&format!(
            "tern_notices_total{{kind=\"{kind}\",outcome=\"{outcome}\"}}"
        ))
    };
    for (n, form) in FORMS.iter().enumerate() {
        let user = format!("user-{n}");
        let request = format!(
            r#"{{"id":"r-{n}","imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}],"user":{{"buyeruid":"{user}"}}}}"#
        );
        let reply = bidder.bid(request.as_bytes());
        assert_eq!(reply.status, 200, "{}", reply.text());
        let bid = &reply.json()["seatbid"][0]["bid"][0];
        let url = |field: &str| with_price(bid[field].as_str().unwrap(), form.p);
        let spent = bidder.metric("tern_spend_micros_total");
        let (wins, imps) = (metric("win", form.outcome), metric("imp", form.outcome));
        let counters = redis.cap_counter_keys("capped").len();

        let win = get_raw(&bidder, &url("nurl"));
        assert_eq!(win.status, 200, "{}: {}", form.name, win.text());
        let billed = get_raw(&bidder, &url("burl"));
        assert_eq!(billed.status, 200, "{}: {}", form.name, billed.text());

        assert_eq!(
            bidder.metric("tern_spend_micros_total") - spent,
            form.settled_micros / 1000.0,
            "{}: one impression debited at the settled CPM",
            form.name
        );
        assert_eq!(metric("win", form.outcome) - wins, 1.0, "{}", form.name);
        assert_eq!(metric("imp", form.outcome) - imps, 1.0, "{}", form.name);
        assert!(
            eventually(Duration::from_secs(5), || redis
                .cap_counter_keys("capped")
                .len()
                == counters + 1),
            "{}: counted against the cap",
            form.name
        );
        // Billed once: a second notice with a readable price changes nothing.
        let again = get_raw(
            &bidder,
            &with_price(bid["burl"].as_str().unwrap(), Some("1")),
        );
        assert_eq!(again.text().trim(), "already counted", "{}", form.name);
    }
    // Every user's counter holds exactly one impression.
    for key in redis.cap_counter_keys("capped") {
        assert_eq!(
            redis.command(&["GET", &key]),
            redis::Value::BulkString(b"1".to_vec()),
            "{key}"
        );
    }
    // Each notice's event says where its price came from.
    assert!(eventually(Duration::from_secs(5), || {
        bidder
            .event_lines()
            .iter()
            .filter(|e| e["type"] == "imp")
            .count()
            == FORMS.len()
    }));
    let events = bidder.event_lines();
    for (n, form) in FORMS.iter().enumerate() {
        for kind in ["win", "imp"] {
            let event = events
                .iter()
                .find(|e| e["type"] == kind && e["request_id"] == format!("r-{n}"))
                .unwrap_or_else(|| panic!("{}: no {kind} event", form.name));
            assert_eq!(
                event["win_price_source"], form.source,
                "{}: {event}",
                form.name
            );
            assert_eq!(
                event["win_price_micros"].as_f64(),
                Some(form.settled_micros),
                "{}",
                form.name
            );
        }
    }
    assert_eq!(bidder.metric("tern_panics_total"), 0.0);
}

/// The banner sample with `id` as its auction id, bid through `path`; its `burl`.
fn billing_url(bidder: &Bidder, path: &str, id: &str) -> String {
    let mut request: serde_json::Value =
        serde_json::from_slice(&support::sample("banner")).unwrap();
    request["id"] = serde_json::Value::String(id.to_owned());
    let reply = bidder.post_json(path, request.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["seatbid"][0]["bid"][0]["burl"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn two_exchanges_reusing_an_auction_id_are_each_billed() {
    let bidder = Bidder::start();
    let a = billing_url(&bidder, "/openrtb2/bid/exchange-a", "auction-42");
    let b = billing_url(&bidder, "/openrtb2/bid/exchange-b", "auction-42");
    for url in [&a, &b] {
        let reply = get_raw(&bidder, &with_price(url, Some("2")));
        assert_eq!((reply.status, reply.text().trim()), (200, "ok"));
    }
    assert_eq!(bidder.metric("tern_spend_micros_total"), 4_000.0);
    let again = get_raw(&bidder, &with_price(&b, Some("2")));
    assert_eq!(again.text().trim(), "already counted");
}

#[test]
fn a_token_the_exchange_percent_encoded_is_still_genuine() {
    let bidder = Bidder::start();
    let burl = billing_url(&bidder, "/openrtb2/bid", "auction-1");
    let (base, query) = burl.split_once('?').unwrap();
    let token = query
        .strip_prefix("t=")
        .and_then(|q| q.split('&').next())
        .unwrap();
    // Every byte of the token percent-encoded, then the whole query encoded.
    let encoded: String = token.bytes().map(|b| format!("%{b:02X}")).collect();
    let reply = get_raw(&bidder, &format!("{base}?t={encoded}&p=1.5"));
    assert_eq!((reply.status, reply.text().trim()), (200, "ok"));
    assert_eq!(bidder.metric("tern_spend_micros_total"), 1_500.0);

    let burl = billing_url(&bidder, "/openrtb2/bid", "auction-2");
    let (base, query) = burl.split_once('?').unwrap();
    let query = query.replace("${AUCTION_PRICE}", "1.5");
    let whole: String = query
        .bytes()
        .map(|b| match b {
            b'=' => "%3D".to_owned(),
            b'&' => "%26".to_owned(),
            _ => (b as char).to_string(),
        })
        .collect();
    let reply = get_raw(&bidder, &format!("{base}?{whole}"));
    assert_eq!((reply.status, reply.text().trim()), (200, "ok"));
    assert_eq!(bidder.metric("tern_spend_micros_total"), 3_000.0);
}

#[path = "notices/loss.rs"]
mod loss;
