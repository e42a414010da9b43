//! Skipping candidates that cannot beat the best bid so far, and walking them in
//! price-rank order, must pick the same prices as checking every campaign.

use proptest::prelude::*;

use super::*;

#[derive(Debug, Clone)]
struct Spec {
    base: u32,
    extra: u32,
    eur: bool,
    deal: Option<u8>,
    country: Option<bool>,
    capped: bool,
    wide: bool,
    daily: Option<u32>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        1..60u32,
        0..40u32,
        any::<bool>(),
        proptest::option::weighted(0.3, 0..3u8),
        proptest::option::of(any::<bool>()),
        any::<bool>(),
        any::<bool>(),
        proptest::option::weighted(0.2, 1..4u32),
    )
        .prop_map(
            |(base, extra, eur, deal, country, capped, wide, daily)| Spec {
                base,
                extra,
                eur,
                deal,
                country,
                capped,
                wide,
                daily,
            },
        )
}

fn to_campaign(n: usize, s: &Spec) -> Campaign {
    let mut c = campaign(
        &format!("c{n}"),
        f64::from(s.base) / 10.0,
        f64::from(s.base + s.extra) / 10.0,
    );
    if s.eur {
        c.bidding.currency = "EUR".into();
    }
    if let Some(d) = s.deal {
        c.targeting.deal_ids = vec![format!("d{d}")];
    }
    if let Some(usa) = s.country {
        c.targeting.countries = vec![if usa { "USA" } else { "DEU" }.into()];
    }
    if s.wide {
        c.creatives.push(banner(&format!("c{n}-728x90"), 728, 90));
    }
    // A budget of a few micros cannot pay for any bid: out of budget.
    c.budget.daily = s.daily.map(|d| f64::from(d) / 1_000_000.0);
    if s.capped {
        c = capped(c);
    }
    c
}

#[derive(Debug, Clone)]
struct ImpSpec {
    wide: bool,
    floor: u32,
    floor_eur: bool,
    deals: Vec<(u8, u32)>,
    private: bool,
}

fn imp_spec() -> impl Strategy<Value = ImpSpec> {
    (
        any::<bool>(),
        0..70u32,
        any::<bool>(),
        proptest::collection::vec((0..4u8, 0..70u32), 0..3),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(wide, floor, floor_eur, deals, private)| ImpSpec {
            wide,
            floor,
            floor_eur,
            deals,
            private,
        })
}

fn request_json(imps: &[ImpSpec], country: Option<bool>, eur: bool) -> String {
    let imps: Vec<serde_json::Value> = imps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (w, h) = if s.wide { (728, 90) } else { (300, 250) };
            let mut imp = serde_json::json!({
                "id": i.to_string(),
                "banner": { "w": w, "h": h },
                "bidfloor": f64::from(s.floor) / 10.0,
                "bidfloorcur": if s.floor_eur { "EUR" } else { "USD" },
            });
            if !s.deals.is_empty() || s.private {
                let deals: Vec<serde_json::Value> = s
                    .deals
                    .iter()
                    .map(|(d, floor)| {
                        serde_json::json!({ "id": format!("d{d}"), "bidfloor": f64::from(*floor) / 10.0 })
                    })
                    .collect();
                imp["pmp"] = serde_json::json!({
                    "private_auction": u8::from(s.private),
                    "deals": deals,
                });
            }
            imp
        })
        .collect();
    let mut req = serde_json::json!({ "id": "r", "imp": imps });
    if let Some(usa) = country {
        req["device"] =
            serde_json::json!({ "geo": { "country": if usa { "USA" } else { "DEU" } } });
    }
    if eur {
        req["cur"] = serde_json::json!(["EUR"]);
    }
    req.to_string()
}

/// The best price per impression among every campaign `allowed` accepts,
/// checking each campaign in full.
fn exhaustive(
    snap: &Snapshot,
    req: &BidRequest<'_>,
    allowed: impl Fn(u32) -> bool,
) -> Vec<Option<Micros>> {
    let currency = response_currency(req, snap.fx()).unwrap();
    let pricing = Pricing::new(snap.fx(), currency);
    let mut rng = fastrand::Rng::with_seed(1);
    let mut blocks = BlockLists::default();
    blocks.prepare(req);
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: NOON,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    let view = RequestView {
        req,
        ctx: &ctx,
        blocks: &blocks,
        audience: &Audience::default(),
        hour: 12,
        pricing: &pricing,
    };
    req.imp
        .iter()
        .map(|imp| {
            let slot = Slot {
                imp,
                floor: pricing.floor(imp.bidfloor, imp.bidfloorcur.as_ref()),
            };
            (0..snap.campaigns().len() as u32)
                .filter(|p| allowed(*p))
                .filter_map(|p| {
                    let c = &snap.campaigns()[p as usize];
                    let terms = snap.index.terms(p);
                    evaluate(c, terms, &slot, &view, &mut rng).ok()
                })
                .map(|bid| bid.price)
                .max()
        })
        .collect()
}

fn prices(bids: &[ImpBid], imps: usize) -> Vec<Option<Micros>> {
    let mut out = vec![None; imps];
    for b in bids {
        assert!(out[b.imp].is_none(), "one bid per impression");
        out[b.imp] = Some(b.price);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn same_prices_as_checking_every_campaign(
        specs in proptest::collection::vec(spec(), 1..40),
        imps in proptest::collection::vec(imp_spec(), 1..4),
        country in proptest::option::of(any::<bool>()),
        eur in any::<bool>(),
        capped_out_mask in any::<u64>(),
    ) {
        let campaigns: Vec<Campaign> =
            specs.iter().enumerate().map(|(n, s)| to_campaign(n, s)).collect();
        let snap = build(&campaigns);
        let json = request_json(&imps, country, eur);
        let req = BidRequest::parse(json.as_bytes()).unwrap();
        let ctx = BidContext { seat: "tern", now_unix_s: NOON, screen: Verdict::PASS, gvl_vendor_id: 0 };

        let expected = exhaustive(&snap, &req, |_| true);
        let mut auction = Auction::default();
        let decision = auction.decide(&snap, &req, &ctx, nobody_at_cap);
        prop_assert_eq!(decision.is_ok(), expected.iter().any(Option::is_some));
        prop_assert_eq!(prices(auction.bids(), imps.len()), expected);

        // Caps: some capped campaigns turn out to be at their cap.
        let at_cap =
            |p: u32| snap.campaigns()[p as usize].frequency_cap.is_some()
                && capped_out_mask & (1 << (p % 64)) != 0;
        let expected = exhaustive(&snap, &req, |p| !at_cap(p));
        let _ = auction.decide(&snap, &req, &ctx, |queries, counts| {
            counts.extend(queries.iter().map(|&p| u32::from(at_cap(p))));
        });
        prop_assert_eq!(prices(auction.bids(), imps.len()), expected);
    }
}
