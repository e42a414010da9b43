//! What a bid says about its ad (OpenRTB 2.6 §4.2.3): the format (`mtype`), a
//! timed ad's `dur` and `protocol`, categories with their taxonomy (`cat`,
//! `cattax`), `attr`, `language`, the Native 1.2 markup in `adm`, and the signed
//! `lurl` beside `burl`.

use std::sync::Arc;

use serde_json::Value;
use tern_engine::budget::Budgets;
use tern_engine::campaign::{FileFormat, parse_campaigns};
use tern_engine::decision::{Auction, BidContext, nobody_at_cap};
use tern_engine::money::FxTable;
use tern_engine::notice::{BidOrigin, NoticeSigner};
use tern_engine::openrtb::BidRequest;
use tern_engine::response::{BillingUrl, ResponseParts, write_bid_response};
use tern_engine::screen::Verdict;
use tern_engine::snapshot::Snapshot;

const NOW: u64 = 1_700_000_000;

const CAMPAIGNS: &str = r#"
[[campaigns]]
id = "shoes"
advertiser_domain = "shoes.example"
categories = ["IAB18-3"]
category_taxonomies = [{ cattax = 2, categories = ["483"] }]
bidding = { max_cpm = 5.0, base_bid = 2.0 }

[[campaigns.creatives]]
id = "shoes-300x250"
banner = { w = 300, h = 250 }
adm = "<img src='https://cdn.shoes.example/a.png'>"
attr = [6]
language = "en"

[[campaigns.creatives]]
id = "shoes-15s"
video = { mime = "video/mp4", duration_secs = 15, protocol = 7 }
nurl = "https://ads.shoes.example/vast.xml"

[[campaigns.creatives]]
id = "shoes-native"
[campaigns.creatives.native]
title = "Shoes that fit"
link = "https://shoes.example/"
images = [{ type = 3, url = "https://cdn.shoes.example/main.png", w = 1200, h = 627 }]
imptrackers = ["https://track.shoes.example/i"]
"#;

fn snapshot() -> Snapshot {
    let campaigns = parse_campaigns(CAMPAIGNS, FileFormat::Toml).unwrap();
    let snapshot = Snapshot::build(
        &campaigns,
        Arc::new(FxTable::default()),
        &Budgets::default(),
    )
    .unwrap();
    snapshot.grant_whole_budgets(NOW, NOW + 3_600);
    snapshot
}

/// The first bid of the response to `json`, with billing URLs on.
fn first_bid(json: &str) -> Value {
    let snapshot = snapshot();
    let request = BidRequest::parse(json.as_bytes()).unwrap();
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: NOW,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    let mut auction = Auction::default();
    let currency = auction
        .decide(&snapshot, &request, &ctx, nobody_at_cap)
        .expect("a bid");
    let signer = NoticeSigner::new(b"0123456789abcdef");
    let mut out = Vec::new();
    let parts = ResponseParts {
        request: &request,
        snapshot: &snapshot,
        bids: auction.bids(),
        currency,
        seat: "tern",
        billing: Some(BillingUrl {
            base_url: "https://bid.tern.example",
            signer: &signer,
            origin: BidOrigin::default(),
        }),
        now_unix_s: NOW,
        user: None,
        exchange: "x",
    };
    write_bid_response(&mut out, &parts);
    let response: Value = serde_json::from_slice(&out).unwrap();
    response["seatbid"][0]["bid"][0].clone()
}

#[test]
fn a_banner_bid_says_its_format_categories_attributes_and_language() {
    let bid = first_bid(r#"{"id":"r","imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#);
    assert_eq!(bid["mtype"], 1);
    assert_eq!(bid["cat"], serde_json::json!(["IAB18-3"]));
    assert_eq!(bid["cattax"], 1);
    assert_eq!(bid["attr"], serde_json::json!([6]));
    assert_eq!(bid["language"], "en");
    assert!(bid.get("dur").is_none() && bid.get("lang").is_none());
}

#[test]
fn categories_follow_the_taxonomy_of_bcat() {
    let bid = first_bid(
        r#"{"id":"r","cattax":2,"bcat":["52"],"imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#,
    );
    assert_eq!(bid["cat"], serde_json::json!(["483"]));
    assert_eq!(bid["cattax"], 2);
}

#[test]
fn a_video_bid_says_its_duration_and_protocol() {
    let bid = first_bid(
        r#"{"id":"r","imp":[{"id":"1","banner":{"w":728,"h":90},"video":{"mimes":["video/mp4"],"rqddurs":[15]}}]}"#,
    );
    assert_eq!((&bid["mtype"], &bid["dur"]), (&2.into(), &15.into()));
    assert_eq!(bid["protocol"], 7);
    assert_eq!(bid["crid"], "shoes-15s");
}

#[test]
fn a_native_bid_carries_native_1_2_markup_answering_the_request_assets() {
    let request = r#"{"ver":"1.2","assets":[{"id":5,"required":1,"title":{"len":40}},
        {"id":6,"required":1,"img":{"type":3,"wmin":600}},{"id":7,"data":{"type":2}}]}"#;
    let json = format!(
        r#"{{"id":"r","imp":[{{"id":"1","native":{{"ver":"1.2","request":{}}}}}]}}"#,
        serde_json::to_string(request).unwrap()
    );
    let bid = first_bid(&json);
    assert_eq!(bid["mtype"], 4);
    let markup: Value = serde_json::from_str(bid["adm"].as_str().unwrap()).unwrap();
    assert_eq!(markup["ver"], "1.2");
    let ids: Vec<&Value> = markup["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    assert_eq!(ids, [5, 6], "nothing to offer for the optional data asset");
    assert_eq!(markup["imptrackers"][0], "https://track.shoes.example/i");

    // A request in the Native 1.0 wrapper gets its answer wrapped the same way.
    let wrapped = format!(r#"{{"native":{request}}}"#);
    let json = format!(
        r#"{{"id":"r","imp":[{{"id":"1","native":{{"request":{}}}}}]}}"#,
        serde_json::to_string(&wrapped).unwrap()
    );
    let markup: Value = serde_json::from_str(first_bid(&json)["adm"].as_str().unwrap()).unwrap();
    assert_eq!(markup["native"]["assets"][0]["id"], 5);
}

#[test]
fn every_bid_carries_a_loss_url_signed_like_its_billing_url() {
    let bid = first_bid(r#"{"id":"r","imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#);
    let burl = bid["burl"].as_str().unwrap();
    let lurl = bid["lurl"].as_str().unwrap();
    let token = |url: &str| {
        url.split("t=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned()
    };
    assert!(
        lurl.starts_with("https://bid.tern.example/notice/loss?t="),
        "{lurl}"
    );
    assert!(
        lurl.ends_with("&r=${AUCTION_LOSS}&m=${AUCTION_MIN_TO_WIN}"),
        "{lurl}"
    );
    assert_eq!(token(burl), token(lurl));
}
