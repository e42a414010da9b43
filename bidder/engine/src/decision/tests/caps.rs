//! Frequency caps in the decision: which capped campaigns are asked about, and the
//! pick once the cap store has answered (or could not).

use super::*;

/// The campaign ids at `positions`.
fn ids_at(snap: &Snapshot, positions: impl IntoIterator<Item = u32>) -> Vec<&str> {
    positions
        .into_iter()
        .map(|p| snap.campaigns()[p as usize].id.as_str())
        .collect()
}

/// The campaign ids of `bids`.
fn ids<'s>(snap: &'s Snapshot, bids: &[ImpBid]) -> Vec<&'s str> {
    ids_at(snap, bids.iter().map(|b| b.campaign))
}

/// Answers the auction's cap queries: the user has seen the campaigns named in
/// `seen` that often, the others never.
fn answer(snap: &Snapshot, auction: &mut Auction, seen: &[(&str, u32)]) {
    let query = auction.store_query();
    query.counts.extend(query.caps.iter().map(|&q| {
        let id = &snap.campaigns()[q as usize].id;
        seen.iter().find(|(s, _)| s == id).map_or(0, |(_, n)| *n)
    }));
}

#[test]
fn a_capped_out_pick_falls_back_to_the_next_best_eligible_bid() {
    let snap = build(&[
        campaign("low", 1.0, 2.0),
        capped(campaign("high", 3.0, 4.0)),
        capped(campaign("mid", 2.0, 3.0)),
    ]);
    let req = BidRequest::parse(BANNER.as_bytes()).unwrap();
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: NOON,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    let mut auction = Auction::default();
    assert_eq!(auction.run(&snap, &req, &ctx), Ok(Currency::USD));
    let mut queried = ids_at(&snap, auction.cap_queries().iter().copied());
    queried.sort_unstable();
    assert_eq!(
        queried,
        ["high", "mid"],
        "both capped campaigns can beat `low`"
    );

    answer(&snap, &mut auction, &[]);
    assert_eq!(
        ids(
            &snap,
            auction
                .finish(&snap, CapOutcome::Counted, SegmentOutcome::Read)
                .unwrap()
        ),
        ["high"]
    );
    assert_eq!(auction.capped_out(), 0);
    // `high` has reached its cap of one impression.
    answer(&snap, &mut auction, &[("high", 1)]);
    let bids = auction
        .finish(&snap, CapOutcome::Counted, SegmentOutcome::Read)
        .unwrap()
        .to_vec();
    assert_eq!((ids(&snap, &bids), bids[0].price), (vec!["mid"], 2_000_000));
    assert_eq!(auction.capped_out(), 1);
    // The store could not answer: the policy decides.
    let bids = auction
        .finish(&snap, CapOutcome::SkipCapped, SegmentOutcome::Read)
        .unwrap()
        .to_vec();
    assert_eq!((ids(&snap, &bids), bids[0].price), (vec!["low"], 1_000_000));
    assert_eq!(auction.capped_out(), 2);
    assert_eq!(
        ids(
            &snap,
            auction
                .finish(&snap, CapOutcome::IgnoreCaps, SegmentOutcome::Read)
                .unwrap()
        ),
        ["high"]
    );
    // A short answer leaves the unanswered campaigns out.
    let _ = auction.store_query();
    assert_eq!(
        ids(
            &snap,
            auction
                .finish(&snap, CapOutcome::Counted, SegmentOutcome::Read)
                .unwrap()
        ),
        ["low"]
    );

    let nothing =
        BidRequest::parse(br#"{"id":"r","imp":[{"id":"1","banner":{"w":1,"h":1}}]}"#).unwrap();
    assert_eq!(
        auction.run(&snap, &nothing, &ctx),
        Err(NoBidReason::NoMatch)
    );
    assert!(auction.cap_queries().is_empty() && auction.bids().is_empty());
}

#[test]
fn every_candidate_at_its_cap_is_a_frequency_cap_no_bid() {
    let snap = build(&[capped(campaign("only", 1.0, 2.0))]);
    let req = BidRequest::parse(BANNER.as_bytes()).unwrap();
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: NOON,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    let mut auction = Auction::default();
    let seen_once = |queries: &[u32], counts: &mut Vec<u32>| {
        counts.extend(queries.iter().map(|_| 1));
    };
    assert_eq!(
        auction.decide(&snap, &req, &ctx, seen_once),
        Err(NoBidReason::FrequencyCap)
    );
}

#[test]
fn capped_campaigns_an_uncapped_bid_beats_are_never_queried() {
    // "top" (uncapped) stands whatever the caps say, so the cheaper capped
    // campaign can never be picked: neither kept nor asked about.
    let snap = build(&[
        capped(campaign("capped-low", 1.0, 2.0)),
        campaign("top", 3.0, 4.0),
        capped(campaign("capped-high", 5.0, 6.0)),
    ]);
    let req = BidRequest::parse(BANNER.as_bytes()).unwrap();
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: NOON,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    let mut auction = Auction::default();
    auction.run(&snap, &req, &ctx).unwrap();
    let mut kept = ids(&snap, &auction.eligible);
    kept.sort_unstable();
    assert_eq!(kept, ["capped-high", "top"]);
    assert_eq!(
        ids_at(&snap, auction.cap_queries().iter().copied()),
        ["capped-high"]
    );
    // With only an uncapped winner possible, nothing is asked at all.
    let snap = build(&[
        capped(campaign("capped-low", 1.0, 2.0)),
        campaign("top", 3.0, 4.0),
    ]);
    auction.run(&snap, &req, &ctx).unwrap();
    assert!(auction.cap_queries().is_empty());
}

/// Pod separation can take the best uncapped bid away from a slot (its
/// advertiser won an earlier one), so in a pod every capped campaign that is
/// eligible must be asked about, or it would take that slot unchecked.
#[test]
fn in_a_pod_every_eligible_capped_campaign_is_asked_about() {
    let video = |id: &str, base_bid: f64, domain: &str| {
        let mut c = video_campaign(id, base_bid, &[30]);
        c.advertiser_domain = domain.into();
        c
    };
    let snap = build(&[
        video("alpha", 10.0, "alpha.example"),
        video("alpha-two", 9.5, "alpha.example"),
        capped(video("capped", 8.0, "capped.example")),
    ]);
    let pod = r#"{"id":"r","imp":[
        {"id":"s0","video":{"mimes":["video/mp4"],"podid":"P"}},
        {"id":"s1","video":{"mimes":["video/mp4"],"podid":"P"}}]}"#;
    let req = BidRequest::parse(pod.as_bytes()).unwrap();
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: NOON,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    let mut auction = Auction::default();
    auction.run(&snap, &req, &ctx).unwrap();
    assert_eq!(
        ids_at(&snap, auction.cap_queries().iter().copied()),
        ["capped"]
    );
    // The user has seen `capped` as often as allowed: slot s1 stays empty.
    answer(&snap, &mut auction, &[("capped", 1)]);
    let bids = auction
        .finish(&snap, CapOutcome::Counted, SegmentOutcome::Read)
        .unwrap();
    assert_eq!(ids(&snap, bids), ["alpha"]);
    // No user to count for: the capped campaign sits out.
    auction.run(&snap, &req, &ctx).unwrap();
    let bids = auction
        .finish(&snap, CapOutcome::SkipCapped, SegmentOutcome::Read)
        .unwrap();
    assert_eq!(ids(&snap, bids), ["alpha"]);
}
