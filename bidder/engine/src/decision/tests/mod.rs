//! Each test is a small auction: a few campaigns, one request, the expected outcome.

use std::sync::Arc;

use super::blocks::BlockLists;
use super::pricing::{Pricing, response_currency};
use super::walk::{RequestView, Slot, evaluate};
use super::*;
use crate::budget::Budgets;
use crate::campaign::{
    BannerSpec, Bidding, Budget, Campaign, CampaignStatus, Creative, FrequencyCap, NativeSpec,
    Targeting, VideoSpec,
};
use crate::money::FxTable;
use crate::screen::Verdict;
use crate::snapshot::Snapshot;

/// Noon UTC (1_700_006_400 is a midnight).
const NOON: u64 = 1_700_006_400 + 12 * 3600;

fn banner(id: &str, w: u32, h: u32) -> Creative {
    Creative {
        id: id.into(),
        banner: Some(BannerSpec { w, h }),
        video: None,
        audio: None,
        native: None,
        adm: Some(format!("<img src='https://cdn.example/{id}.png'>")),
        nurl: None,
        secure: true,
        attr: vec![],
        language: None,
    }
}

fn campaign(id: &str, base_bid: f64, max_cpm: f64) -> Campaign {
    Campaign {
        id: id.into(),
        version: 1,
        status: CampaignStatus::Active,
        advertiser_id: None,
        advertiser_domain: format!("{}.example", id.to_ascii_lowercase()),
        categories: vec!["IAB18".into()],
        category_taxonomies: vec![],
        app_bundle: None,
        creatives: vec![banner(&format!("{id}-300x250"), 300, 250)],
        targeting: Targeting::default(),
        bidding: Bidding {
            max_cpm,
            base_bid,
            currency: "USD".into(),
        },
        budget: Budget::default(),
        frequency_cap: None,
        screening: Default::default(),
        segments: Default::default(),
    }
}

/// A 640x360 MP4 VAST 3 video ad of `duration_secs`.
fn timed_creative(id: &str, duration_secs: u32) -> Creative {
    Creative {
        id: id.into(),
        banner: None,
        video: Some(VideoSpec {
            mime: "video/mp4".into(),
            duration_secs,
            protocol: 3,
            w: Some(640),
            h: Some(360),
            linearity: 1,
        }),
        audio: None,
        native: None,
        adm: Some("<VAST version=\"3.0\"></VAST>".into()),
        nurl: None,
        secure: true,
        attr: vec![],
        language: None,
    }
}

/// A campaign bidding `base_bid` (at most 20) with one video ad per duration.
fn video_campaign(id: &str, base_bid: f64, durations: &[u32]) -> Campaign {
    let mut c = campaign(id, base_bid, 20.0);
    c.creatives = durations
        .iter()
        .map(|d| timed_creative(&format!("{id}-{d}s"), *d))
        .collect();
    c
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// A snapshot of `campaigns` in which each campaign with a budget holds a lease of
/// all of it (what a budget service with the whole fleet to itself grants).
fn build(campaigns: &[Campaign]) -> Snapshot {
    for c in campaigns {
        c.validate().unwrap();
    }
    let fx = Arc::new(FxTable::new([(eur(), 0.5)]).unwrap());
    let snapshot = Snapshot::build(campaigns, fx, &Budgets::default()).unwrap();
    snapshot.grant_whole_budgets(NOON, NOON + 3_600);
    snapshot
}

/// What one auction came to: the response currency, or why nothing was bid.
type Decision = Result<Currency, NoBidReason>;

/// Decides `json` with nobody at a frequency cap.
fn run(snapshot: &Snapshot, json: &str) -> (Decision, Vec<ImpBid>) {
    let req = BidRequest::parse(json.as_bytes()).unwrap();
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: NOON,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    let mut auction = Auction::default();
    let decision = auction.decide(snapshot, &req, &ctx, nobody_at_cap);
    (decision, auction.bids().to_vec())
}

fn winner(snapshot: &Snapshot, json: &str) -> Option<(String, Micros)> {
    match run(snapshot, json) {
        (Ok(_), bids) => {
            let b = bids[0];
            Some((
                snapshot.campaigns()[b.campaign as usize].id.clone(),
                b.price,
            ))
        }
        (Err(_), _) => None,
    }
}

fn reason(snapshot: &Snapshot, json: &str) -> NoBidReason {
    match run(snapshot, json).0 {
        Err(reason) => reason,
        Ok(_) => panic!("expected no bid for {json}"),
    }
}

const BANNER: &str = r#"{"id":"r1","imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#;

fn with_device(device: &str) -> String {
    format!(r#"{{"id":"r1","imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}],"device":{device}}}"#)
}

#[test]
fn best_price_wins_each_impression() {
    let snap = build(&[campaign("low", 1.0, 2.0), campaign("high", 3.0, 4.0)]);
    assert_eq!(winner(&snap, BANNER), Some(("high".into(), 3_000_000)));
}

#[test]
fn banner_fits_by_exact_size_or_format_list() {
    let snap = build(&[campaign("c", 1.0, 2.0)]);
    let listed =
        r#"{"id":"r","imp":[{"id":"1","banner":{"format":[{"w":728,"h":90},{"w":300,"h":250}]}}]}"#;
    assert!(winner(&snap, listed).is_some());
    let other = r#"{"id":"r","imp":[{"id":"1","banner":{"w":728,"h":90}}]}"#;
    assert_eq!(
        reason(&snap, other),
        NoBidReason::NoMatch,
        "no campaign has 728x90"
    );
    let video_only = r#"{"id":"r","imp":[{"id":"1","video":{"mimes":["video/mp4"]}}]}"#;
    assert_eq!(reason(&snap, video_only), NoBidReason::NoMatch);
}

#[test]
fn the_slot_main_size_is_preferred_over_other_listed_sizes() {
    let mut c = campaign("c", 1.0, 2.0);
    c.creatives = vec![banner("small", 320, 50), banner("mrec", 300, 250)];
    let snap = build(&[c]);
    let req =
        r#"{"id":"r","imp":[{"id":"1","banner":{"w":300,"h":250,"format":[{"w":320,"h":50}]}}]}"#;
    let (_, bids) = run(&snap, req);
    assert_eq!(
        (bids[0].creative, bids[0].w, bids[0].h),
        (1, Some(300), Some(250))
    );
    let only_list =
        r#"{"id":"r","imp":[{"id":"1","banner":{"format":[{"w":320,"h":50},{"w":300,"h":250}]}}]}"#;
    assert_eq!(
        run(&snap, only_list).1[0].creative,
        0,
        "no main size: first that fits"
    );
}

#[test]
fn secure_slots_need_secure_creatives() {
    let mut c = campaign("c", 1.0, 2.0);
    c.creatives[0].secure = false;
    let snap = build(&[c]);
    assert!(winner(&snap, BANNER).is_some());
    let secure = r#"{"id":"r","imp":[{"id":"1","secure":1,"banner":{"w":300,"h":250}}]}"#;
    assert_eq!(reason(&snap, secure), NoBidReason::NoCreative);
}

#[test]
fn geo_device_and_os_targeting() {
    let mut c = campaign("c", 1.0, 2.0);
    c.targeting.countries = vec!["USA".into(), "CAN".into()];
    c.targeting.regions = vec!["US-CA".into()];
    c.targeting.device_types = vec![4, 5];
    c.targeting.os = vec!["iOS".into()];
    let snap = build(&[c]);
    let hit = r#"{"geo":{"country":"USA","region":"US-CA"},"devicetype":4,"os":"IOS"}"#;
    assert!(winner(&snap, &with_device(hit)).is_some());
    for miss in [
        r#"{"geo":{"country":"DEU","region":"US-CA"},"devicetype":4,"os":"iOS"}"#,
        r#"{"geo":{"country":"USA","region":"US-NY"},"devicetype":4,"os":"iOS"}"#,
        r#"{"geo":{"country":"USA","region":"US-CA"},"devicetype":2,"os":"iOS"}"#,
        r#"{"geo":{"country":"USA","region":"US-CA"},"devicetype":4,"os":"Android"}"#,
        r#"{"devicetype":4,"os":"iOS"}"#,
    ] {
        assert_eq!(
            reason(&snap, &with_device(miss)),
            NoBidReason::NoMatch,
            "{miss}"
        );
    }
}

#[test]
fn publisher_and_category_targeting() {
    let mut c = campaign("c", 1.0, 2.0);
    c.targeting.publishers_allow = vec!["pub-1".into(), "pub-2".into()];
    c.targeting.publishers_deny = vec!["pub-2".into()];
    c.targeting.categories_include = vec!["IAB19".into()];
    c.targeting.categories_exclude = vec!["IAB19-3".into()];
    let snap = build(&[c]);
    let site = |publisher: &str, cats: &str| {
        format!(
            r#"{{"id":"r","imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}],
            "site":{{"publisher":{{"id":"{publisher}"}},"cat":[{cats}]}}}}"#
        )
    };
    assert!(winner(&snap, &site("pub-1", r#""IAB19-1""#)).is_some());
    assert_eq!(
        reason(&snap, &site("pub-3", r#""IAB19""#)),
        NoBidReason::NoMatch
    );
    assert_eq!(
        reason(&snap, &site("pub-2", r#""IAB19""#)),
        NoBidReason::NoMatch,
        "deny wins"
    );
    assert_eq!(
        reason(&snap, &site("pub-1", r#""IAB1""#)),
        NoBidReason::NoMatch
    );
    assert_eq!(
        reason(&snap, &site("pub-1", r#""IAB19","IAB19-3""#)),
        NoBidReason::NoMatch
    );
    let app = r#"{"id":"r","imp":[{"id":"1","banner":{"w":300,"h":250}}],
        "app":{"bundle":"com.x","publisher":{"id":"pub-1"},"sectioncat":["IAB19-2"]}}"#;
    assert!(winner(&snap, app).is_some(), "app section categories count");
}

#[test]
fn hours_of_day_are_utc() {
    let mut c = campaign("c", 1.0, 2.0);
    c.targeting.hours_utc = vec![12];
    let snap = build(&[c.clone()]);
    assert!(winner(&snap, BANNER).is_some());
    c.targeting.hours_utc = vec![0, 1, 23];
    let snap = build(&[c]);
    assert_eq!(reason(&snap, BANNER), NoBidReason::NoMatch);
}

#[test]
fn block_lists_exclude_categories_domains_and_apps() {
    let mut c = campaign("c", 1.0, 2.0);
    c.categories = vec!["IAB7-1".into()];
    c.advertiser_domain = "eu.shoes.example".into();
    c.app_bundle = Some("com.shoes".into());
    let snap = build(&[c]);
    let blocked = |field: &str| {
        format!(r#"{{"id":"r","imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}],{field}}}"#)
    };
    assert!(winner(&snap, &blocked(r#""bcat":["IAB8"]"#)).is_some());
    assert_eq!(
        reason(&snap, &blocked(r#""bcat":["IAB7"]"#)),
        NoBidReason::Blocked
    );
    assert_eq!(
        reason(&snap, &blocked(r#""badv":["shoes.example"]"#)),
        NoBidReason::Blocked
    );
    assert_eq!(
        reason(&snap, &blocked(r#""bapp":["com.shoes"]"#)),
        NoBidReason::Blocked
    );
    assert!(winner(&snap, &blocked(r#""badv":["hoes.example"]"#)).is_some());
}

#[test]
fn a_blocked_leader_leaves_the_next_best() {
    let mut high = campaign("high", 3.0, 4.0);
    high.categories = vec!["IAB7".into()];
    let snap = build(&[high, campaign("low", 1.0, 2.0)]);
    let req = r#"{"id":"r","imp":[{"id":"1","banner":{"w":300,"h":250}}],"bcat":["IAB7"]}"#;
    assert_eq!(winner(&snap, req), Some(("low".into(), 1_000_000)));
}

#[test]
fn floors_raise_the_bid_up_to_the_maximum() {
    let snap = build(&[campaign("c", 1.0, 2.0)]);
    let floor = |f: &str| {
        format!(r#"{{"id":"r","imp":[{{"id":"1","bidfloor":{f},"banner":{{"w":300,"h":250}}}}]}}"#)
    };
    assert_eq!(
        winner(&snap, &floor("0.5")).unwrap().1,
        1_000_000,
        "base bid above floor"
    );
    assert_eq!(
        winner(&snap, &floor("1.75")).unwrap().1,
        1_750_000,
        "raised to floor"
    );
    assert_eq!(
        winner(&snap, &floor("2")).unwrap().1,
        2_000_000,
        "floor equal to max"
    );
    assert_eq!(reason(&snap, &floor("2.01")), NoBidReason::BelowFloor);
    // Past what micros hold: still a floor nobody pays, not a currency problem.
    assert_eq!(reason(&snap, &floor("1e13")), NoBidReason::BelowFloor);
}

#[test]
fn floors_and_bids_convert_currencies() {
    // 1 USD = 0.5 EUR in the test table.
    let snap = build(&[campaign("c", 1.0, 2.0)]);
    // A 0.9 EUR floor is 1.8 USD: the 1 USD base bid is raised to it.
    let eur_floor = r#"{"id":"r","imp":[{"id":"1","bidfloor":0.9,"bidfloorcur":"EUR","banner":{"w":300,"h":250}}]}"#;
    assert_eq!(winner(&snap, eur_floor).unwrap().1, 1_800_000);
    // 1.1 EUR = 2.2 USD exceeds the 2 USD maximum.
    let high = eur_floor.replace("0.9", "1.1");
    assert_eq!(reason(&snap, &high), NoBidReason::BelowFloor);
    // Asked to bid in EUR: 1 USD base bid = 0.5 EUR.
    let in_eur = r#"{"id":"r","cur":["EUR"],"imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#;
    assert_eq!(run(&snap, in_eur).0, Ok(eur()));
    assert_eq!(winner(&snap, in_eur).unwrap().1, 500_000);
    // The first currency we know is used.
    let first_known = in_eur.replace(r#"["EUR"]"#, r#"["JPY","EUR","USD"]"#);
    assert_eq!(run(&snap, &first_known).0, Ok(eur()));
    let unknown = in_eur.replace(r#"["EUR"]"#, r#"["JPY"]"#);
    assert_eq!(reason(&snap, &unknown), NoBidReason::Currency);
    let floor_unknown = eur_floor.replace(r#""EUR""#, r#""JPY""#);
    assert_eq!(reason(&snap, &floor_unknown), NoBidReason::Currency);
}

#[test]
fn campaign_currency_converts_to_response_currency() {
    let mut c = campaign("c", 1.0, 2.0);
    c.bidding.currency = "EUR".into();
    let snap = build(&[c]);
    // 1 EUR base bid = 2 USD.
    assert_eq!(winner(&snap, BANNER).unwrap().1, 2_000_000);
}

#[test]
fn private_auctions_take_only_deal_bids() {
    let mut deal = campaign("deal", 2.0, 6.0);
    deal.targeting.deal_ids = vec!["D-1".into()];
    let snap = build(&[campaign("open", 3.0, 4.0), deal]);
    let pmp = |private: u8, deals: &str| {
        format!(
            r#"{{"id":"r","imp":[{{"id":"1","banner":{{"w":300,"h":250}},
            "pmp":{{"private_auction":{private},"deals":[{deals}]}}}}]}}"#
        )
    };
    let (decision, bids) = run(&snap, &pmp(1, r#"{"id":"D-1","bidfloor":5}"#));
    assert!(decision.is_ok());
    assert_eq!(snap.campaigns()[bids[0].campaign as usize].id, "deal");
    assert_eq!(
        (bids[0].deal, bids[0].price),
        (Some(0), 5_000_000),
        "deal floor applies"
    );
    assert_eq!(reason(&snap, &pmp(1, r#"{"id":"D-9"}"#)), NoBidReason::Deal);
    // Open auction with deals on offer: the open campaign outbids the deal at base price.
    assert_eq!(winner(&snap, &pmp(0, r#"{"id":"D-1"}"#)).unwrap().0, "open");
    // Deal-only campaigns never bid in the open market.
    let snap = build(&[{
        let mut d = campaign("deal", 2.0, 6.0);
        d.targeting.deal_ids = vec!["D-1".into()];
        d
    }]);
    assert_eq!(reason(&snap, BANNER), NoBidReason::NoMatch);
    // A deal restricted to other seats is not ours.
    let other_seat = pmp(1, r#"{"id":"D-1","wseat":["someone-else"]}"#);
    assert_eq!(reason(&snap, &other_seat), NoBidReason::Deal);
}

#[test]
fn seat_lists_apply_to_the_whole_request() {
    let snap = build(&[campaign("c", 1.0, 2.0)]);
    let seats = |field: &str| {
        format!(r#"{{"id":"r","imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}],{field}}}"#)
    };
    assert!(winner(&snap, &seats(r#""wseat":["tern","x"]"#)).is_some());
    assert_eq!(reason(&snap, &seats(r#""wseat":["x"]"#)), NoBidReason::Seat);
    assert_eq!(
        reason(&snap, &seats(r#""bseat":["tern"]"#)),
        NoBidReason::Seat
    );
}

#[test]
fn multi_impression_requests_get_one_bid_per_winnable_impression() {
    let mut wide = campaign("wide", 2.0, 3.0);
    wide.creatives = vec![banner("leader", 728, 90)];
    let snap = build(&[campaign("box", 1.0, 2.0), wide]);
    let req = r#"{"id":"r","imp":[
        {"id":"a","banner":{"w":300,"h":250}},
        {"id":"b","banner":{"w":160,"h":600}},
        {"id":"c","banner":{"w":728,"h":90}}]}"#;
    let (decision, bids) = run(&snap, req);
    assert_eq!(decision, Ok(Currency::USD));
    let got: Vec<_> = bids
        .iter()
        .map(|b| (b.imp, snap.campaigns()[b.campaign as usize].id.as_str()))
        .collect();
    assert_eq!(got, [(0, "box"), (2, "wide")]);
}

#[test]
fn bids_commit_only_what_the_lease_holds() {
    let mut c = campaign("c", 2.0, 2.0);
    c.budget.daily = Some(10.0);
    let snap = Snapshot::build(&[c], Arc::new(FxTable::default()), &Budgets::default()).unwrap();
    assert_eq!(reason(&snap, BANNER), NoBidReason::Budget, "no lease yet");
    let lease = &snap.campaigns()[0].lease;
    lease.grant(4_000, 0, NOON + 60); // two impressions at 2.0 CPM
    assert!(winner(&snap, BANNER).is_some());
    assert!(winner(&snap, BANNER).is_some());
    assert_eq!(lease.held(), 4_000, "each bid holds its cost");
    assert_eq!(reason(&snap, BANNER), NoBidReason::Budget);
    // Notices at half the bid price free the other half: one more bid.
    lease.settle(NOON, 0, 2_000, 1_000);
    assert_eq!(reason(&snap, BANNER), NoBidReason::Budget);
    lease.settle(NOON, 0, 2_000, 1_000);
    assert!(winner(&snap, BANNER).is_some());
    assert_eq!(reason(&snap, BANNER), NoBidReason::Budget);
    // A campaign without a budget needs no lease.
    let snap = build(&[campaign("other", 2.0, 2.0)]);
    assert!(winner(&snap, BANNER).is_some());
}

#[test]
fn a_lapsed_lease_stops_bidding() {
    let mut c = campaign("c", 2.0, 2.0);
    c.budget.total = Some(10.0);
    let snap = build(&[c]);
    assert!(winner(&snap, BANNER).is_some());
    snap.campaigns()[0].lease.set_usable_until(NOON);
    assert_eq!(reason(&snap, BANNER), NoBidReason::Budget);
}

#[test]
fn leases_survive_a_snapshot_rebuild() {
    let mut c = campaign("c", 2.0, 2.0);
    c.budget.total = Some(1.0);
    let budgets = Budgets::default();
    let fx = Arc::new(FxTable::default());
    let first = Snapshot::build(std::slice::from_ref(&c), Arc::clone(&fx), &budgets).unwrap();
    first.campaigns()[0].lease.grant(2_000, 0, NOON + 60);
    c.bidding.base_bid = 1.0;
    let second = Snapshot::build(&[c], fx, &budgets).unwrap();
    assert!(winner(&second, BANNER).is_some());
    assert_eq!(
        first.campaigns()[0].lease.held(),
        1_000,
        "one lease, both snapshots"
    );
}

#[test]
fn pacing_holds_back_bids_by_its_throttle() {
    let mut c = campaign("c", 2.0, 2.0);
    c.budget.daily = Some(1_000.0);
    let snap = build(&[c]);
    let lease = &snap.campaigns()[0].lease;
    lease.set_throttle(0.0);
    assert_eq!(reason(&snap, BANNER), NoBidReason::Paced);
    lease.set_throttle(0.5);
    let bids = (0..2_000)
        .filter(|_| winner(&snap, BANNER).is_some())
        .count();
    assert!((850..1_150).contains(&bids), "about half: {bids}");
    // An unthrottled campaign is not drawn for: a paced one loses to it only on
    // price.
    lease.set_throttle(1.0);
    assert!(winner(&snap, BANNER).is_some());
}

#[test]
fn paused_campaigns_do_not_bid() {
    let mut c = campaign("c", 1.0, 2.0);
    c.status = CampaignStatus::Paused;
    let snap = build(&[c]);
    assert_eq!(snap.paused(), 1);
    assert_eq!(reason(&snap, BANNER), NoBidReason::NoMatch);
}

#[test]
fn no_bid_reason_is_the_furthest_check_reached() {
    let mut blocked = campaign("blocked", 1.0, 2.0);
    blocked.categories = vec!["IAB7".into()];
    let snap = build(&[blocked, campaign("cheap", 1.0, 1.0)]);
    let req = r#"{"id":"r","bcat":["IAB7"],"imp":[{"id":"1","bidfloor":1.5,"banner":{"w":300,"h":250}}]}"#;
    assert_eq!(reason(&snap, req), NoBidReason::BelowFloor);
}

#[test]
fn the_index_walks_only_candidates_of_the_requested_value() {
    // 26^2 campaigns, each in its own country; one request walks one of them.
    let mut all = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            let code = String::from_utf8(vec![b'X', a, b]).unwrap();
            let mut c = campaign(&format!("c-{code}"), 1.0, 2.0);
            c.targeting.countries = vec![code];
            all.push(c);
        }
    }
    let snap = build(&all);
    let json = with_device(r#"{"geo":{"country":"XQR"}}"#);
    let req = BidRequest::parse(json.as_bytes()).unwrap();
    let lists = snap.index.candidates(&req, &req.imp[0]);
    let walked: Vec<u32> = lists.iter().flat_map(|l| l.iter().copied()).collect();
    assert_eq!(walked.len(), 1);
    assert_eq!(snap.campaigns()[walked[0] as usize].id, "c-XQR");
    assert_eq!(winner(&snap, &json).unwrap().0, "c-XQR");
}

#[test]
fn the_index_prefers_the_most_selective_dimension() {
    // Every campaign runs in USA, but only one has a 160x600 creative.
    let mut all: Vec<Campaign> = (0..200)
        .map(|i| {
            let mut c = campaign(&format!("c{i}"), 1.0, 2.0);
            c.targeting.countries = vec!["USA".into()];
            c
        })
        .collect();
    all[7].creatives.push(banner("sky", 160, 600));
    let snap = build(&all);
    let json = r#"{"id":"r","imp":[{"id":"1","banner":{"w":160,"h":600}}],"device":{"geo":{"country":"USA"}}}"#;
    let req = BidRequest::parse(json.as_bytes()).unwrap();
    let walked: usize = snap
        .index
        .candidates(&req, &req.imp[0])
        .iter()
        .map(|l| l.len())
        .sum();
    assert_eq!(walked, 1);
    assert_eq!(winner(&snap, json).unwrap().0, "c7");
}

fn capped(mut c: Campaign) -> Campaign {
    c.frequency_cap = Some(FrequencyCap {
        max_impressions: 1,
        window_secs: 60,
    });
    c
}

mod against_every_campaign;
mod caps;
mod formats;
mod segments;
