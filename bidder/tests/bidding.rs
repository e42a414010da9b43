//! Bid requests over real HTTP against the bundled example campaigns: who wins,
//! at what price, and what the response carries.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Bidder, Options, eventually, example_campaigns, sample};
use tern_engine::campaign::Campaign;

fn campaign(id: &str) -> Campaign {
    example_campaigns()
        .into_iter()
        .find(|c| c.id == id)
        .expect("campaign in example file")
}

/// Checks what every bid must satisfy, against the request it answers.
fn check_bids(request: &Value, response: &Value) -> Vec<Value> {
    support::openrtb_schema::check_bid_response(response);
    assert_eq!(
        response["id"], request["id"],
        "response echoes the request id"
    );
    let bids = response["seatbid"][0]["bid"]
        .as_array()
        .expect("bids")
        .clone();
    assert!(!bids.is_empty());
    assert_eq!(response["seatbid"][0]["seat"], "tern");
    for bid in &bids {
        let imp = request["imp"]
            .as_array()
            .unwrap()
            .iter()
            .find(|imp| imp["id"] == bid["impid"])
            .expect("bid names an impression of the request");
        let campaign = campaign(bid["cid"].as_str().unwrap());
        let price = bid["price"].as_f64().unwrap();
        let floor = imp["bidfloor"].as_f64().unwrap_or(0.0);
        let same_currency = imp["bidfloorcur"].as_str().unwrap_or("USD") == response["cur"];
        if same_currency && imp.get("pmp").is_none() {
            assert!(price >= floor, "price {price} below floor {floor}");
        }
        if campaign.bidding.currency == response["cur"] {
            assert!(
                price <= campaign.bidding.max_cpm,
                "price {price} above max CPM"
            );
        }
        assert_eq!(
            bid["adomain"],
            serde_json::json!([campaign.advertiser_domain])
        );
        let crid = bid["crid"].as_str().unwrap();
        assert!(
            campaign.creatives.iter().any(|c| c.id == crid),
            "crid {crid} of the campaign"
        );
        assert!(bid["burl"].as_str().unwrap().contains("/notice/imp?t="));
    }
    let mut impids: Vec<_> = bids.iter().map(|b| b["impid"].as_str().unwrap()).collect();
    impids.dedup();
    assert_eq!(impids.len(), bids.len(), "one bid per impression");
    bids
}

fn bid_on(bidder: &Bidder, name: &str) -> (Value, Value) {
    let body = sample(name);
    let reply = bidder.bid(&body);
    assert_eq!(reply.status, 200, "{name}: {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("x-openrtb-version"), Some("2.6"));
    (serde_json::from_slice(&body).unwrap(), reply.json())
}

#[test]
fn banner_video_native_and_multi_imp_requests_get_valid_bids() {
    let bidder = Bidder::start();
    let (req, resp) = bid_on(&bidder, "banner");
    let bids = check_bids(&req, &resp);
    assert_eq!(
        (bids[0]["w"].as_u64(), bids[0]["h"].as_u64()),
        (Some(300), Some(250))
    );
    assert_eq!(resp["cur"], "USD");

    let (req, resp) = bid_on(&bidder, "video");
    check_bids(&req, &resp);
    assert_eq!(
        resp["cur"], "EUR",
        "the first accepted currency we price in"
    );
    let price = resp["seatbid"][0]["bid"][0]["price"].as_f64().unwrap();
    assert!(price >= 4.0, "EUR floor met in EUR: {price}");

    let (req, resp) = bid_on(&bidder, "native");
    let bids = check_bids(&req, &resp);
    assert_eq!(bids[0]["mtype"], 4);
    let markup: Value = serde_json::from_str(bids[0]["adm"].as_str().unwrap()).unwrap();
    assert_eq!(markup["ver"], "1.2", "Native 1.2 markup: {markup}");
    assert_eq!(markup["assets"][0]["id"], 1);

    let (req, resp) = bid_on(&bidder, "app-multi-imp");
    let bids = check_bids(&req, &resp);
    let won: Vec<_> = bids.iter().map(|b| b["impid"].as_str().unwrap()).collect();
    assert_eq!(
        won,
        ["top", "mrec"],
        "the 160x600 slot has no mobile campaign"
    );
}

#[test]
fn private_auctions_bid_through_the_deal_at_its_floor() {
    let bidder = Bidder::start();
    let (req, resp) = bid_on(&bidder, "pmp-deal");
    check_bids(&req, &resp);
    let bid = &resp["seatbid"][0]["bid"][0];
    assert_eq!(bid["dealid"], "DEAL-AUTO-001");
    assert!(bid["price"].as_f64().unwrap() >= 9.5, "deal floor met");
    assert!(bid["price"].as_f64().unwrap() <= campaign("auto-premium-deal").bidding.max_cpm);
}

#[test]
fn requests_nothing_matches_get_no_content() {
    let bidder = Bidder::start();
    let odd_size = br#"{"id":"x","imp":[{"id":"1","banner":{"w":999,"h":999}}]}"#;
    let reply = bidder.bid(odd_size);
    assert_eq!(reply.status, 204);
    assert!(reply.body.is_empty());
    let blocked = br#"{"id":"x","imp":[{"id":"1","banner":{"w":300,"h":250}}],
        "device":{"devicetype":4,"os":"iOS","geo":{"country":"USA"}},
        "bcat":["IAB9","IAB18"]}"#;
    assert_eq!(bidder.bid(blocked).status, 204);
    assert_eq!(bidder.metric("tern_nobids_total{reason=\"no_match\"}"), 1.0);
    assert_eq!(bidder.metric("tern_nobids_total{reason=\"blocked\"}"), 1.0);
}

#[test]
fn a_spent_deadline_gets_no_bid() {
    let bidder = Bidder::start();
    // tmax 5 ms minus the default 10 ms margin leaves nothing.
    let body = br#"{"id":"x","tmax":5,"imp":[{"id":"1","banner":{"w":300,"h":250}}],
        "device":{"devicetype":4,"os":"iOS","geo":{"country":"USA"}}}"#;
    assert_eq!(bidder.bid(body).status, 204);
    assert_eq!(bidder.metric("tern_nobids_total{reason=\"deadline\"}"), 1.0);
    let roomy = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("\"tmax\":5", "\"tmax\":500");
    assert_eq!(bidder.bid(roomy.as_bytes()).status, 200);
}

/// Fires a bid's billing notice with a clearing price.
fn fire(bidder: &Bidder, burl: &str, price: &str) -> support::Reply {
    bidder.get(&burl.replace("${AUCTION_PRICE}", price))
}

#[test]
fn billing_notices_count_once_and_refuse_forgeries() {
    let bidder = Bidder::start();
    let (_, resp) = bid_on(&bidder, "banner");
    let burl = resp["seatbid"][0]["bid"][0]["burl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(burl.starts_with(&bidder.url("/notice/imp?t=")), "{burl}");

    assert_eq!(fire(&bidder, &burl, "1.25").status, 200);
    assert_eq!(
        bidder.metric("tern_spend_micros_total"),
        1250.0,
        "1.25 CPM = 1250 micros"
    );
    let replay = fire(&bidder, &burl, "1.25");
    assert_eq!(
        (replay.status, replay.text().trim()),
        (200, "already counted")
    );
    assert_eq!(
        bidder.metric("tern_notices_total{kind=\"imp\",outcome=\"duplicate\"}"),
        1.0
    );
    assert_eq!(
        bidder.metric("tern_spend_micros_total"),
        1250.0,
        "replay not debited"
    );

    let token_at = burl.find("t=").unwrap() + 2;
    let mut forged = burl.clone().into_bytes();
    forged[token_at + 10] = if forged[token_at + 10] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(fire(&bidder, &forged, "1").status, 403);
    assert_eq!(bidder.get(&bidder.url("/notice/imp?t=%%%")).status, 400);
    assert_eq!(bidder.get(&bidder.url("/notice/imp")).status, 400);
    assert_eq!(
        bidder.metric("tern_notices_total{kind=\"imp\",outcome=\"forged\"}"),
        1.0
    );
    assert_eq!(
        bidder.metric("tern_notices_total{kind=\"imp\",outcome=\"malformed\"}"),
        2.0
    );
    assert_eq!(
        bidder.metric("tern_notices_total{kind=\"imp\",outcome=\"accepted\"}"),
        1.0
    );
}

#[test]
fn expired_notices_are_refused() {
    let bidder = Bidder::start_with(Options {
        config: "[notice]\nmax_age_s = 1\n".into(),
        ..Options::default()
    });
    let (_, resp) = bid_on(&bidder, "banner");
    let burl = resp["seatbid"][0]["bid"][0]["burl"]
        .as_str()
        .unwrap()
        .to_owned();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(fire(&bidder, &burl, "1").status, 410);
    assert_eq!(
        bidder.metric("tern_notices_total{kind=\"imp\",outcome=\"expired\"}"),
        1.0
    );
}

#[test]
fn a_campaign_stops_bidding_when_its_budget_is_spent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("campaigns.toml");
    std::fs::write(
        &file,
        r#"
        [[campaigns]]
        id = "tiny"
        advertiser_domain = "tiny.example"
        bidding = { max_cpm = 2.0, base_bid = 2.0 }
        budget = { total = 0.006 }
        [[campaigns.creatives]]
        id = "tiny-300x250"
        banner = { w = 300, h = 250 }
        adm = "<b>tiny</b>"
        "#,
    )
    .unwrap();
    let bidder = Bidder::start_with(Options {
        campaigns: Some(file),
        ..Options::default()
    });
    let request =
        |n: u32| format!(r#"{{"id":"b{n}","imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}]}}"#);
    // Each won impression at 2.0 CPM costs 0.002: three exhaust the budget.
    for n in 0..3 {
        let reply = bidder.bid(request(n).as_bytes());
        assert_eq!(reply.status, 200, "bid {n}");
        let burl = reply.json()["seatbid"][0]["bid"][0]["burl"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(fire(&bidder, &burl, "2.0").status, 200);
    }
    assert_eq!(bidder.bid(request(3).as_bytes()).status, 204);
    assert_eq!(
        bidder.metric("tern_nobids_total{reason=\"budget_exhausted\"}"),
        1.0
    );
    // The budget service sees the whole budget committed at its next round.
    assert!(eventually(Duration::from_secs(5), || {
        bidder.metric("tern_campaigns_budget_exhausted") == 1.0
    }));
}
