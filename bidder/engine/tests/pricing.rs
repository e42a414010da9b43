//! Prices as the exchange reads them: over random floors with many decimals, in
//! every configured currency, just above and just below what a campaign can pay,
//! every bid's price (the JSON number written in the response) is at least the
//! floor and at most the campaign's maximum, both converted at the table's rate.

use std::sync::Arc;

use proptest::prelude::*;
use tern_engine::budget::Budgets;
use tern_engine::campaign::{
    BannerSpec, Bidding, Budget, Campaign, CampaignStatus, Creative, Targeting,
};
use tern_engine::decision::{Auction, BidContext, nobody_at_cap};
use tern_engine::money::{Currency, FxTable, micros_down, to_amount};
use tern_engine::openrtb::BidRequest;
use tern_engine::response::{ResponseParts, write_bid_response};
use tern_engine::screen::Verdict;
use tern_engine::snapshot::Snapshot;

/// The bidder's default `bidding.fx` table (units per US dollar), with USD.
const RATES: [(&str, f64); 4] = [("USD", 1.0), ("EUR", 0.92), ("GBP", 0.79), ("JPY", 150.0)];

fn fx() -> FxTable {
    FxTable::new(
        RATES
            .iter()
            .map(|(code, rate)| (Currency::parse(code).unwrap(), *rate)),
    )
    .unwrap()
}

fn campaign(base_bid: f64, max_cpm: f64, currency: &str) -> Campaign {
    Campaign {
        id: "c".into(),
        version: 1,
        status: CampaignStatus::Active,
        advertiser_id: None,
        advertiser_domain: "shoes.example".into(),
        categories: vec![],
        category_taxonomies: vec![],
        app_bundle: None,
        creatives: vec![Creative {
            id: "cr".into(),
            banner: Some(BannerSpec { w: 300, h: 250 }),
            video: None,
            audio: None,
            native: None,
            adm: Some("<b>ad</b>".into()),
            nurl: None,
            secure: false,
            attr: vec![],
            language: None,
        }],
        targeting: Targeting::default(),
        bidding: Bidding {
            max_cpm,
            base_bid,
            currency: currency.into(),
        },
        budget: Budget::default(),
        frequency_cap: None,
        screening: Default::default(),
        segments: Default::default(),
    }
}

/// The price the bidder answers with, read from its response as an exchange
/// reads it (a JSON float), or `None` for no bid.
fn answered_price(
    snapshot: &Snapshot,
    floor: f64,
    floor_currency: &str,
    currency: &str,
) -> Option<f64> {
    let body = format!(
        r#"{{"id":"r","cur":["{currency}"],"imp":[{{"id":"1","banner":{{"w":300,"h":250}},"bidfloor":{floor:?},"bidfloorcur":"{floor_currency}"}}]}}"#
    );
    let request = BidRequest::parse(body.as_bytes()).unwrap();
    assert_eq!(
        request.imp[0].bidfloor, floor,
        "the floor reads back as sent"
    );
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: 1_700_000_000,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    let mut auction = Auction::default();
    let Ok(answered_in) = auction.decide(snapshot, &request, &ctx, nobody_at_cap) else {
        return None;
    };
    assert_eq!(answered_in.as_str(), currency);
    let mut out = Vec::new();
    write_bid_response(
        &mut out,
        &ResponseParts {
            request: &request,
            snapshot,
            bids: auction.bids(),
            currency: answered_in,
            seat: "tern",
            billing: None,
            now_unix_s: ctx.now_unix_s,
            user: None,
            exchange: "",
        },
    );
    let response: serde_json::Value = serde_json::from_slice(&out).unwrap();
    Some(response["seatbid"][0]["bid"][0]["price"].as_f64().unwrap())
}

fn currency() -> impl Strategy<Value = &'static str> {
    prop::sample::select(RATES.iter().map(|(code, _)| *code).collect::<Vec<_>>())
}

/// An amount with up to 12 decimals, between 0.000001 and 100.
fn amount() -> impl Strategy<Value = f64> {
    (1u64..100_000_000_000_000, 0u32..=12).prop_map(|(digits, decimals)| {
        let value = digits as f64 / 10f64.powi(decimals as i32);
        (value % 100.0).max(0.000_001)
    })
}

/// Where the floor sits against what the campaign can pay.
#[derive(Debug, Clone, Copy)]
enum FloorNear {
    /// Anywhere.
    Random,
    /// A few float steps (or a few millionths) around the campaign's base bid.
    Base,
    /// The same around its maximum.
    Max,
}

fn nudged(value: f64, steps: i32, micro_steps: i32) -> f64 {
    let mut v = value + f64::from(micro_steps) * 1e-7;
    for _ in 0..steps.unsigned_abs() {
        v = if steps > 0 {
            v.next_up()
        } else {
            v.next_down()
        };
    }
    v.max(0.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn bids_are_never_below_the_floor_nor_above_the_maximum(
        campaign_currency in currency(),
        floor_currency in currency(),
        response_currency in currency(),
        base in amount(),
        headroom in amount(),
        random_floor in amount(),
        near in prop::sample::select(vec![FloorNear::Random, FloorNear::Base, FloorNear::Max]),
        steps in -4i32..=4,
        micro_steps in -12i32..=12,
    ) {
        let fx = fx();
        let max = base + headroom;
        let snapshot = Snapshot::build(
            &[campaign(base, max, campaign_currency)],
            Arc::new(fx.clone()),
            &Budgets::default(),
        ).unwrap();
        let (c, f, r) = (
            Currency::parse(campaign_currency).unwrap(),
            Currency::parse(floor_currency).unwrap(),
            Currency::parse(response_currency).unwrap(),
        );
        let floor = match near {
            FloorNear::Random => random_floor,
            FloorNear::Base => nudged(fx.convert_amount(base, c, f).unwrap(), steps, micro_steps),
            FloorNear::Max => nudged(fx.convert_amount(max, c, f).unwrap(), steps, micro_steps),
        };
        let floor_in_response = fx.convert_amount(floor, f, r).unwrap();
        let max_in_response = fx.convert_amount(max, c, r).unwrap();
        // What the campaign may pay after its maximum is rounded down to whole micros
        // of its own currency (the rule for campaign limits), converted.
        let payable = fx.convert_amount(to_amount(micros_down(max).unwrap()), c, r).unwrap();
        // The least the campaign bids: its base bid, raised to the floor.
        let base_paid = fx.convert_amount(to_amount(micros_down(base).unwrap()), c, r).unwrap();
        let lowest = floor_in_response.max(base_paid);
        match answered_price(&snapshot, floor, floor_currency, response_currency) {
            Some(price) => {
                prop_assert!(price >= floor_in_response, "price {price} below floor {floor_in_response}");
                prop_assert!(price <= max_in_response, "price {price} above maximum {max_in_response}");
            }
            None => {
                // No bid is right only when no whole micro fits between the lowest
                // price and the maximum, or the lowest price is below one micro
                // (a bid of 0 is never made).
                prop_assert!(
                    lowest + 2e-6 > payable * (1.0 - 1e-12) || lowest < 1.000_001e-6,
                    "no bid although the lowest price {lowest} is below the maximum {payable}"
                );
            }
        }
    }
}

#[test]
fn a_floor_with_seven_decimals_is_met_not_rounded_away() {
    let fx = Arc::new(fx());
    let snapshot =
        Snapshot::build(&[campaign(0.000_001, 6.0, "USD")], fx, &Budgets::default()).unwrap();
    // Each floor is above the base bid, so the bid is the floor rounded up.
    for floor in [2.8000001, 4.0 / 0.9, 0.1 + 0.2, 1.5e-6] {
        let price = answered_price(&snapshot, floor, "USD", "USD").unwrap();
        assert!(price >= floor, "{price} < {floor}");
        assert!(
            price - floor < 1.000_001e-6,
            "{price} is more than a micro over {floor}"
        );
    }
    // In another currency than the campaign's and the floor's.
    let price = answered_price(&snapshot, 2.8000001, "EUR", "GBP").unwrap();
    let fx = self::fx();
    let (eur, gbp) = (
        Currency::parse("EUR").unwrap(),
        Currency::parse("GBP").unwrap(),
    );
    assert!(price >= fx.convert_amount(2.8000001, eur, gbp).unwrap());
}
