//! Segment rules in the decision: the exchange's segments settle rules in the
//! walk, first-party ones are asked of the user store only when they can change
//! the outcome, and privacy withholds both.

use super::*;
use crate::audience::{SegmentKey, SegmentOutcome};
use crate::campaign::{SegmentRef, Segments};

fn first_party(id: &str) -> SegmentRef {
    SegmentRef {
        id: id.into(),
        provider: None,
        segtax: None,
    }
}

fn exchange(provider: &str, segtax: Option<u32>, id: &str) -> SegmentRef {
    SegmentRef {
        id: id.into(),
        provider: Some(provider.into()),
        segtax,
    }
}

fn with_segments(mut c: Campaign, segments: Segments) -> Campaign {
    c.segments = segments;
    c
}

fn include_any(refs: Vec<SegmentRef>) -> Segments {
    Segments {
        include_any: refs,
        ..Segments::default()
    }
}

/// A banner request whose user carries `data` (the `user.data` array) and
/// `extra` request members (e.g. `"regs":{...}`).
fn request(data: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"r","imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}],"user":{{"buyeruid":"u1","data":{data}}}{extra}}}"#
    )
}

const DMP: &str = r#"[{"id":"77","name":"DataCo.example","segment":[{"id":"auto"},{"id":42}],"ext":{"segtax":4}}]"#;

fn ctx() -> BidContext<'static> {
    BidContext {
        seat: "tern",
        now_unix_s: NOON,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    }
}

/// Runs steps 1 and 2 and answers the store with `first_party` (the user's
/// first-party segment ids), or as unavailable (`None`).
fn with_store(
    snap: &Snapshot,
    json: &str,
    first_party: Option<&[&str]>,
) -> (bool, Decision, Vec<String>) {
    let req = BidRequest::parse(json.as_bytes()).unwrap();
    let mut auction = Auction::default();
    let currency = match auction.run(snap, &req, &ctx()) {
        Ok(currency) => currency,
        Err(reason) => return (false, Err(reason), vec![]),
    };
    let asked = auction.segment_lookup();
    let outcome = match first_party {
        Some(ids) => {
            if let Some(buffer) = auction.store_query().segments {
                buffer.extend(ids.iter().map(|id| SegmentKey::first_party(id)));
            }
            SegmentOutcome::Read
        }
        None => SegmentOutcome::Unavailable,
    };
    let decision = auction
        .finish(snap, CapOutcome::IgnoreCaps, outcome)
        .map(|_| currency);
    let winners = auction
        .bids()
        .iter()
        .map(|b| snap.campaigns()[b.campaign as usize].id.clone())
        .collect();
    (asked, decision, winners)
}

#[test]
fn exchange_segments_match_by_provider_id_or_name_and_taxonomy() {
    let cases = [
        (exchange("77", None, "auto"), true),
        (exchange("dataco.example", None, "auto"), true),
        (exchange("DATACO.EXAMPLE", Some(4), "42"), true),
        (exchange("dataco.example", Some(5), "auto"), false),
        (exchange("other.example", None, "auto"), false),
        (exchange("77", None, "AUTO"), false),
    ];
    for (segment, matches) in cases {
        let snap = build(&[with_segments(
            campaign("c", 1.0, 2.0),
            include_any(vec![segment.clone()]),
        )]);
        let json = request(DMP, "");
        if matches {
            assert_eq!(
                winner(&snap, &json).map(|w| w.0),
                Some("c".into()),
                "{segment:?}"
            );
        } else {
            assert_eq!(reason(&snap, &json), NoBidReason::Segment, "{segment:?}");
        }
    }
}

#[test]
fn include_all_and_exclude_rules() {
    let all = Segments {
        include_all: vec![exchange("77", None, "auto"), exchange("77", None, "42")],
        ..Segments::default()
    };
    let missing = Segments {
        include_all: vec![exchange("77", None, "auto"), exchange("77", None, "7")],
        ..Segments::default()
    };
    let excluded = Segments {
        exclude: vec![exchange("77", None, "42")],
        ..Segments::default()
    };
    let snap = build(&[with_segments(campaign("all", 1.0, 2.0), all)]);
    assert!(winner(&snap, &request(DMP, "")).is_some());
    let snap = build(&[with_segments(campaign("missing", 1.0, 2.0), missing)]);
    assert_eq!(reason(&snap, &request(DMP, "")), NoBidReason::Segment);
    let snap = build(&[with_segments(campaign("excluded", 1.0, 2.0), excluded)]);
    assert_eq!(reason(&snap, &request(DMP, "")), NoBidReason::Segment);
    assert!(
        winner(&snap, &request("[]", "")).is_some(),
        "a user without the segment is not excluded"
    );
}

#[test]
fn first_party_rules_ask_the_store_and_wait_for_its_answer() {
    let snap = build(&[
        with_segments(
            campaign("auto-buyers", 3.0, 4.0),
            include_any(vec![first_party("auto")]),
        ),
        campaign("run-of-network", 1.0, 2.0),
    ]);
    let json = request("[]", "");
    let (asked, decision, winners) = with_store(&snap, &json, Some(&["auto", "travel"]));
    assert!(asked && decision.is_ok());
    assert_eq!(winners, ["auto-buyers"]);
    let (_, _, winners) = with_store(&snap, &json, Some(&["travel"]));
    assert_eq!(winners, ["run-of-network"], "not in the segment");
    let (_, _, winners) = with_store(&snap, &json, None);
    assert_eq!(
        winners,
        ["run-of-network"],
        "no answer: the segment campaign sits out"
    );

    let alone = build(&[with_segments(
        campaign("auto-buyers", 3.0, 4.0),
        include_any(vec![first_party("auto")]),
    )]);
    let (_, decision, _) = with_store(&alone, &json, None);
    assert_eq!(decision, Err(NoBidReason::Segment));
}

#[test]
fn the_store_is_not_asked_when_first_party_segments_cannot_change_the_outcome() {
    let snap = build(&[
        with_segments(
            campaign("cheap-segment", 1.0, 2.0),
            include_any(vec![first_party("auto")]),
        ),
        campaign("rich", 3.0, 4.0),
    ]);
    let (asked, _, winners) = with_store(&snap, &request("[]", ""), Some(&["auto"]));
    assert!(!asked, "`rich` outbids it whatever the store says");
    assert_eq!(winners, ["rich"]);
    // An exchange segment that already fails the rule settles it too.
    let settled = Segments {
        include_all: vec![first_party("auto"), exchange("77", None, "absent")],
        ..Segments::default()
    };
    let snap = build(&[with_segments(campaign("c", 3.0, 4.0), settled)]);
    let (asked, decision, _) = with_store(&snap, &request(DMP, ""), Some(&["auto"]));
    assert!(!asked);
    assert_eq!(decision, Err(NoBidReason::Segment));
    // Campaigns without rules never gather segments.
    let plain = build(&[campaign("plain", 1.0, 2.0)]);
    let json = request(DMP, "");
    let req = BidRequest::parse(json.as_bytes()).unwrap();
    let mut auction = Auction::default();
    auction.run(&plain, &req, &ctx()).unwrap();
    assert!(!plain.uses_segments() && !auction.segment_lookup() && !auction.audience().withheld());
}

#[test]
fn mixed_rules_combine_first_party_and_exchange_segments() {
    let rules = Segments {
        include_any: vec![first_party("auto"), exchange("77", None, "auto")],
        exclude: vec![first_party("customers")],
        ..Segments::default()
    };
    let snap = build(&[with_segments(campaign("c", 1.0, 2.0), rules)]);
    let (asked, decision, _) = with_store(&snap, &request(DMP, ""), Some(&[]));
    assert!(asked, "the exclusion is first-party");
    assert!(decision.is_ok(), "included by the exchange's segment");
    let (_, decision, _) = with_store(&snap, &request(DMP, ""), Some(&["customers"]));
    assert_eq!(decision, Err(NoBidReason::Segment));
    let (_, decision, _) = with_store(&snap, &request("[]", ""), Some(&["auto"]));
    assert!(decision.is_ok(), "included by the first-party segment");
}

#[test]
fn untrackable_users_get_no_segment_targeting() {
    let snap = build(&[
        with_segments(
            campaign("segment", 3.0, 4.0),
            include_any(vec![exchange("77", None, "auto")]),
        ),
        with_segments(
            campaign("exclusion", 2.0, 3.0),
            Segments {
                exclude: vec![exchange("77", None, "kids")],
                ..Segments::default()
            },
        ),
        campaign("contextual", 1.0, 2.0),
    ]);
    assert_eq!(winner(&snap, &request(DMP, "")).unwrap().0, "segment");
    for untracked in [
        r#","regs":{"coppa":1}"#,
        r#","device":{"lmt":1}"#,
        r#","device":{"dnt":1}"#,
        r#","regs":{"gdpr":1}"#,
        r#","regs":{"ext":{"gdpr":1}}"#,
    ] {
        let json = request(DMP, untracked);
        assert_eq!(winner(&snap, &json).unwrap().0, "contextual", "{untracked}");
        let req = BidRequest::parse(json.as_bytes()).unwrap();
        let mut auction = Auction::default();
        auction.run(&snap, &req, &ctx()).unwrap();
        assert!(auction.audience().withheld(), "{untracked}");
    }
    assert_eq!(
        winner(&snap, &request(DMP, r#","regs":{"gdpr":0}"#))
            .unwrap()
            .0,
        "segment"
    );
}

#[test]
fn odd_user_data_is_read_tolerantly() {
    let snap = build(&[with_segments(
        campaign("c", 1.0, 2.0),
        include_any(vec![exchange("77", None, "auto")]),
    )]);
    for data in [
        r#"[null,"x",{"id":"77","segment":[null,"auto",{"id":"auto"}]}]"#,
        r#"{"id":"77","segment":{"id":"auto"}}"#,
        r#"[{"id":77,"segment":[{"id":"auto","name":"Auto","value":"1"}],"ext":{"segtax":"x"}}]"#,
    ] {
        assert!(winner(&snap, &request(data, "")).is_some(), "{data}");
    }
    for data in [r#""auto""#, "null", "7", r#"[{"segment":[{"id":"auto"}]}]"#] {
        assert_eq!(
            reason(&snap, &request(data, "")),
            NoBidReason::Segment,
            "{data}"
        );
    }
}

#[test]
fn exclusions_fail_closed_when_the_exchange_sent_more_segments_than_are_read() {
    let snap = build(&[
        with_segments(
            campaign("no-churn", 3.0, 4.0),
            Segments {
                exclude: vec![exchange("dataco.example", None, "churn")],
                ..Segments::default()
            },
        ),
        with_segments(
            campaign("sports", 2.0, 3.0),
            include_any(vec![exchange("dataco.example", None, "sports")]),
        ),
        campaign("contextual", 1.0, 2.0),
    ]);
    let noise: Vec<String> = (0..300).map(|i| format!(r#"{{"id":"n{i}"}}"#)).collect();
    let data = format!(
        r#"[{{"id":"noise","segment":[{}]}},{{"id":"dataco.example","segment":[{{"id":"churn"}},{{"id":"sports"}}]}}]"#,
        noise.join(",")
    );
    assert_eq!(
        winner(&snap, &request(&data, "")).unwrap().0,
        "contextual",
        "the excluded segment may be among those not read: the exclusion cannot be shown to pass, \
         and the included one was not read"
    );
    let few = r#"[{"id":"dataco.example","segment":[{"id":"sports"}]}]"#;
    assert_eq!(winner(&snap, &request(few, "")).unwrap().0, "no-churn");
}

#[test]
fn exclusions_fail_closed_when_the_store_answered_only_part_of_a_users_segments() {
    let snap = build(&[
        with_segments(
            campaign("no-customers", 3.0, 4.0),
            Segments {
                exclude: vec![first_party("customers")],
                ..Segments::default()
            },
        ),
        with_segments(
            campaign("auto", 2.0, 3.0),
            include_any(vec![first_party("auto")]),
        ),
        campaign("contextual", 1.0, 2.0),
    ]);
    let json = request("[]", "");
    let req = BidRequest::parse(json.as_bytes()).unwrap();
    let mut auction = Auction::default();
    auction.run(&snap, &req, &ctx()).unwrap();
    assert!(auction.segment_lookup());
    if let Some(buffer) = auction.store_query().segments {
        buffer.push(SegmentKey::first_party("auto"));
    }
    let bids = auction
        .finish(&snap, CapOutcome::IgnoreCaps, SegmentOutcome::Partial)
        .unwrap();
    let winner = &snap.campaigns()[bids[0].campaign as usize].id;
    assert_eq!(
        winner, "auto",
        "a partial answer proves memberships, never absences"
    );
}

#[test]
fn unreadable_or_gpp_only_privacy_signals_withhold_segments() {
    let snap = build(&[
        with_segments(
            campaign("segment", 3.0, 4.0),
            include_any(vec![exchange("77", None, "auto")]),
        ),
        campaign("contextual", 1.0, 2.0),
    ]);
    for signal in [
        r#","regs":{"gpp":"DBABMA~CPXxRfAPXxRfAAfKABENB","gpp_sid":[2]}"#,
        r#","regs":{"gpp_sid":[7,2]}"#,
        r#","regs":{"gdpr":2}"#,
        r#","regs":{"gdpr":"yes"}"#,
        r#","regs":{"coppa":2}"#,
        r#","device":{"lmt":"yes"}"#,
        r#","device":{"dnt":true}"#,
    ] {
        assert_eq!(
            winner(&snap, &request(DMP, signal)).unwrap().0,
            "contextual",
            "{signal}"
        );
    }
    for tracked in [
        r#","regs":{"gdpr":"0"}"#,
        r#","regs":{"gpp_sid":[7]}"#,
        r#","device":{"lmt":0}"#,
    ] {
        assert_eq!(
            winner(&snap, &request(DMP, tracked)).unwrap().0,
            "segment",
            "{tracked}"
        );
    }
}
