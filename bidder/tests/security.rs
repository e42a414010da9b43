//! The security checks of docs/security.md, each against the real bidder: forged
//! notices cost one MAC check and are counted, request ids and exchange names
//! echoed into responses, URLs and events are escaped, and framing conflicts that
//! enable request smuggling are refused. (The admin listener's loopback rule is
//! tested in `state_and_config.rs`; Content-Length with Transfer-Encoding in
//! `http_protocol.rs`.)

mod support;

use serde_json::Value;
use support::redis_server::RedisServer;
use support::{Bidder, Options, read_response, sample, send};

/// Request ids an exchange could send that break naive echoing: JSON quotes and
/// backslashes, control characters, markup, URL delimiters, the line separators
/// JavaScript treats as newlines, and non-ASCII text.
const HOSTILE_IDS: [&str; 6] = [
    "a\"b\\c",
    "line\nbreak\ttab\u{1}\u{1f}",
    "</script><img src=x onerror=alert(1)>",
    "a&b=c?d#e f%20g+h",
    "sep\u{2028}\u{2029}",
    "ünï©ødé-🦀",
];

fn banner_with_id(id: &str) -> Vec<u8> {
    let mut request: Value = serde_json::from_slice(&sample("banner")).unwrap();
    request["id"] = Value::String(id.to_owned());
    serde_json::to_vec(&request).unwrap()
}

/// Characters a notice URL may hold besides the bidder's base URL: the path, the
/// URL-safe base64 token and the exchange's price macros.
fn url_safe(url: &str) -> bool {
    url.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.~:/?&=${}".contains(&b))
}

#[test]
fn echoed_request_ids_and_exchange_names_are_escaped_in_responses_urls_and_events() {
    let mut bidder = Bidder::start_with(Options {
        config: "[events]\nbatch_linger_ms = 20\n".into(),
        ..Options::default()
    });
    for id in HOSTILE_IDS {
        let reply = bidder.post_json("/openrtb2/bid/adx-1.eu_west", &banner_with_id(id));
        assert_eq!(reply.status, 200, "{id:?}: {}", reply.text());
        let response = reply.json();
        assert_eq!(
            response["id"].as_str(),
            Some(id),
            "the id is echoed exactly"
        );
        let bid = &response["seatbid"][0]["bid"][0];
        for field in ["nurl", "burl", "lurl"] {
            let url = bid[field].as_str().unwrap_or_default();
            assert!(url_safe(url), "{field} carries raw request text: {url}");
            assert!(
                !url.contains(&id.replace('"', "")),
                "{field} echoes the id raw"
            );
        }
        let burl = bid["burl"]
            .as_str()
            .unwrap()
            .replace("${AUCTION_PRICE}", "1.5");
        assert_eq!(bidder.get(&burl).status, 200);
    }
    // Exchange names are part of the path: anything but a plain name is not an
    // endpoint, so nothing else reaches a URL or an event.
    for path in [
        "/openrtb2/bid/a%22b",
        "/openrtb2/bid/a\"b",
        "/openrtb2/bid/a/b",
        "/openrtb2/bid/%0a",
    ] {
        let mut conn = bidder.connect();
        let body = sample("banner");
        let head = format!(
            "POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        send(&mut conn, &[head.as_bytes(), &body].concat());
        let status = read_response(&mut conn).map(|r| r.status);
        assert!(matches!(status, Some(400 | 404)), "{path}: {status:?}");
    }

    bidder.signal(libc::SIGTERM);
    assert!(
        bidder
            .wait_exit(std::time::Duration::from_secs(15))
            .success()
    );
    let events = bidder.event_lines();
    for id in HOSTILE_IDS {
        let of_id: Vec<&Value> = events
            .iter()
            .filter(|e| e["request_id"].as_str() == Some(id))
            .collect();
        let types: Vec<&str> = of_id.iter().filter_map(|e| e["type"].as_str()).collect();
        assert!(
            types.contains(&"bid") && types.contains(&"imp"),
            "{id:?}: the bid and its impression are logged with the id intact: {types:?}"
        );
        assert!(
            of_id.iter().all(|e| e["exchange"] == "adx-1.eu_west"),
            "{id:?}: exchange carried exactly"
        );
    }
}

#[test]
fn forged_notices_cost_one_mac_check_touch_nothing_and_are_counted() {
    let redis = RedisServer::start();
    let bidder = Bidder::start_with(Options {
        config: format!(
            "[frequency_cap]\nstore = \"redis\"\n[frequency_cap.redis]\naddr = \"{}\"\n",
            redis.addr()
        ),
        ..Options::default()
    });
    let reply = bidder.bid(&sample("banner"));
    assert_eq!(reply.status, 200);
    let burl = reply.json()["seatbid"][0]["bid"][0]["burl"]
        .as_str()
        .unwrap()
        .replace("${AUCTION_PRICE}", "1.5");
    let token_at = burl.find("t=").unwrap() + 2;
    let token_end = burl[token_at..]
        .find('&')
        .map_or(burl.len(), |e| token_at + e);
    let genuine = &burl[token_at..token_end];

    let sets_before = redis.calls("set");
    let spend_before = bidder.metric("tern_spend_micros_total");
    const FORGERIES: usize = 50;
    for i in 0..FORGERIES {
        // Same length and alphabet as a genuine token, one character changed: it
        // decodes and is refused by the MAC alone.
        let mut forged = genuine.as_bytes().to_vec();
        let at = 10 + i % (forged.len() - 20);
        forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        for path in [
            "/notice/imp",
            "/notice/win",
            "/notice/click",
            "/notice/loss",
        ] {
            let url = bidder.url(&format!("{path}?t={forged}&p=1.5"));
            let answer = bidder.get(&url);
            assert_eq!(answer.status, 403, "{url}");
            assert_eq!(answer.text(), "notice signature does not match\n");
        }
    }
    // A token longer than any the bidder signs is refused before any MAC is computed.
    let long = "A".repeat(4000);
    let answer = bidder.get(&bidder.url(&format!("/notice/imp?t={long}&p=1.5")));
    assert_eq!(answer.status, 400);
    assert_eq!(answer.text(), "malformed notice token\n");

    for kind in ["imp", "win", "click", "loss"] {
        assert_eq!(
            bidder.metric(&format!(
                "tern_notices_total{{kind=\"{kind}\",outcome=\"forged\"}}"
            )),
            FORGERIES as f64,
            "{kind}: every forgery counted"
        );
    }
    assert_eq!(
        bidder.metric("tern_notices_total{kind=\"imp\",outcome=\"malformed\"}"),
        1.0
    );
    assert_eq!(
        redis.calls("set"),
        sets_before,
        "no claim in Redis for a forgery"
    );
    assert_eq!(
        redis.calls("incr"),
        0,
        "no impression counted against a cap"
    );
    assert_eq!(bidder.metric("tern_spend_micros_total"), spend_before);
    // The genuine notice still counts once afterwards.
    assert_eq!(bidder.get(&burl).status, 200);
    assert_eq!(redis.calls("set"), sets_before + 1);
}

#[test]
fn transfer_encoding_in_http_1_0_is_faulty_framing() {
    let bidder = Bidder::start();
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing
    // (1.0 has no chunked coding; a proxy in front may frame it differently).
    let body = sample("banner");
    let mut chunked = format!(
        "POST /openrtb2/bid HTTP/1.0\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        body.len()
    )
    .into_bytes();
    chunked.extend_from_slice(&body);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut conn = bidder.connect();
    send(&mut conn, &chunked);
    let reply = read_response(&mut conn).expect("an answer");
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.text(), "transfer-encoding in an HTTP/1.0 request\n");
    assert_eq!(reply.header("connection"), Some("close"));
}
