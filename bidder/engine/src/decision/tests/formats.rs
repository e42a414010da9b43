//! Fitting ads to what a slot accepts: video and audio durations, pods and their
//! floors, video placement rules, native assets, creative attributes and
//! languages, and the block lists in every spelling and taxonomy. (What the
//! response says of each is in `tests/response_fields.rs`.)

use super::*;
use crate::campaign::{
    AudioSpec, NativeData, NativeImage, TaxonomyCategories, VideoStart, VideoTargeting,
};

fn video(extra: &str) -> String {
    format!(r#"{{"id":"r","imp":[{{"id":"1","video":{{"mimes":["video/mp4"]{extra}}}}}]}}"#)
}

/// The format (`mtype`) and duration of the first bid `json` gets.
fn chosen(snapshot: &Snapshot, json: &str) -> (u8, Option<u32>) {
    let (_, bids) = run(snapshot, json);
    let bid = bids.first().expect("a bid");
    let creative = &snapshot.campaigns()[bid.campaign as usize].creatives[bid.creative];
    (
        creative.kind.mtype(),
        creative.kind.timed().map(|t| t.duration_secs),
    )
}

#[test]
fn video_fits_by_mime_duration_and_protocol() {
    let snap = build(&[video_campaign("v", 5.0, &[30])]);
    assert!(winner(&snap, &video("")).is_some());
    let listed = r#","minduration":15,"maxduration":30,"protocols":[2,3]"#;
    assert!(winner(&snap, &video(listed)).is_some());
    for refused in [
        r#","maxduration":15"#,
        r#","protocols":[7]"#,
        r#","protocol":7"#,
    ] {
        assert_eq!(
            reason(&snap, &video(refused)),
            NoBidReason::NoCreative,
            "{refused}"
        );
    }
    let webm = r#"{"id":"r","imp":[{"id":"1","video":{"mimes":["video/webm"]}}]}"#;
    assert_eq!(reason(&snap, webm), NoBidReason::NoCreative);
    let (_, bids) = run(&snap, &video(""));
    assert_eq!((bids[0].w, bids[0].h), (Some(640), Some(360)));
    assert_eq!(chosen(&snap, &video("")), (2, Some(30)));
}

#[test]
fn required_durations_and_pod_length_pick_the_creative_that_fits() {
    let snap = build(&[video_campaign("v", 5.0, &[30, 15, 6])]);
    let dur = |extra: &str| chosen(&snap, &video(extra)).1.unwrap();
    assert_eq!(dur(r#","rqddurs":[15,20]"#), 15);
    assert_eq!(dur(r#","rqddurs":[6],"minduration":5,"maxduration":60"#), 6);
    assert_eq!(dur(r#","podid":"p1","poddur":20,"maxseq":3"#), 15);
    assert_eq!(dur(r#","podid":"p1","poddur":10"#), 6);
    assert_eq!(
        reason(&snap, &video(r#","rqddurs":[10,20]"#)),
        NoBidReason::NoCreative
    );
    assert_eq!(
        reason(&snap, &video(r#","poddur":5"#)),
        NoBidReason::NoCreative
    );
}

#[test]
fn a_floor_per_second_prices_the_ad_by_its_length() {
    // 30 s at 0.25 per second is a floor of 7.50; base bid 5, max 20.
    let snap = build(&[video_campaign("v", 5.0, &[30])]);
    let (_, price) = winner(&snap, &video(r#","mincpmpersec":0.25"#)).unwrap();
    assert_eq!(price, 7_500_000);
    // The higher floor wins: bidfloor 9 over 7.50.
    let both = r#"{"id":"r","imp":[{"id":"1","bidfloor":9,
        "video":{"mimes":["video/mp4"],"mincpmpersec":0.25}}]}"#;
    assert_eq!(winner(&snap, both).unwrap().1, 9_000_000);
    // Above the campaign's maximum: no bid.
    assert_eq!(
        reason(&snap, &video(r#","mincpmpersec":1"#)),
        NoBidReason::BelowFloor
    );
    // A campaign ranked below a standing bid is not skipped: its longer ad's
    // per-second floor lifts its price past that bid (18 for 30 s over 5).
    let long = video_campaign("long", 4.0, &[30]);
    let snap = build(&[video_campaign("short", 5.0, &[6]), long]);
    let (winner_id, price) = winner(&snap, &video(r#","mincpmpersec":0.6"#)).unwrap();
    assert_eq!((winner_id.as_str(), price), ("long", 18_000_000));
}

#[test]
fn video_placement_start_and_skip_rules_need_the_slot_to_say() {
    let mut c = video_campaign("v", 5.0, &[30]);
    c.targeting.video = VideoTargeting {
        plcmt: vec![1],
        start: vec![VideoStart::Pre],
        skippable: Some(true),
    };
    let snap = build(&[c]);
    assert!(winner(&snap, &video(r#","plcmt":1,"startdelay":0,"skip":1"#)).is_some());
    // The deprecated placement 1 (in-stream) reads as plcmt 1.
    assert!(winner(&snap, &video(r#","placement":1,"startdelay":0,"skip":1"#)).is_some());
    for refused in [
        r#","plcmt":4,"startdelay":0,"skip":1"#,
        r#","placement":3,"startdelay":0,"skip":1"#,
        r#","plcmt":1,"startdelay":-2,"skip":1"#,
        r#","plcmt":1,"startdelay":0,"skip":0"#,
        r#","plcmt":1,"skip":1"#,
    ] {
        assert_eq!(
            reason(&snap, &video(refused)),
            NoBidReason::NoCreative,
            "{refused}"
        );
    }
    let overlay = video(r#","plcmt":1,"startdelay":0,"skip":1,"linearity":2"#);
    assert_eq!(reason(&snap, &overlay), NoBidReason::NoCreative);
}

#[test]
fn rewarded_targeting_reads_rwdd() {
    let mut c = campaign("c", 1.0, 2.0);
    c.targeting.rewarded = Some(true);
    let snap = build(&[c]);
    let rewarded = r#"{"id":"r","imp":[{"id":"1","rwdd":1,"banner":{"w":300,"h":250}}]}"#;
    assert!(winner(&snap, rewarded).is_some());
    assert_eq!(reason(&snap, BANNER), NoBidReason::NoMatch);
}

#[test]
fn audio_ads_fill_audio_slots_and_say_so() {
    let mut c = campaign("a", 2.0, 3.0);
    c.creatives = vec![Creative {
        audio: Some(AudioSpec {
            mime: "audio/mp4".into(),
            duration_secs: 15,
            protocol: 9,
        }),
        video: None,
        ..timed_creative("a15", 15)
    }];
    let snap = build(&[c]);
    let audio =
        r#"{"id":"r","imp":[{"id":"1","audio":{"mimes":["audio/mp4"],"rqddurs":[15,30]}}]}"#;
    assert_eq!(chosen(&snap, audio), (3, Some(15)));
    assert_eq!(reason(&snap, &video("")), NoBidReason::NoMatch);
    let long = r#"{"id":"r","imp":[{"id":"1","audio":{"mimes":["audio/mp4"],"maxduration":10}}]}"#;
    assert_eq!(reason(&snap, long), NoBidReason::NoCreative);
}

#[test]
fn a_multi_format_impression_says_which_format_the_bid_is() {
    let mut c = video_campaign("v", 5.0, &[15]);
    c.creatives.push(banner("b", 300, 250));
    let snap = build(&[c]);
    let both = r#"{"id":"r","imp":[{"id":"1","banner":{"w":300,"h":250},
        "video":{"mimes":["video/mp4"]}}]}"#;
    assert_eq!(
        chosen(&snap, both),
        (1, None),
        "the slot's main banner size comes first"
    );
    assert_eq!(chosen(&snap, &video("")), (2, Some(15)));
}

fn native_campaign() -> Campaign {
    let mut c = campaign("n", 1.0, 2.0);
    c.creatives = vec![Creative {
        native: Some(NativeSpec {
            title: Some("Shoes that fit".into()),
            images: vec![NativeImage {
                kind: 3,
                url: "https://cdn.example/main.png".into(),
                w: 1200,
                h: 627,
            }],
            data: vec![NativeData {
                kind: 1,
                value: "Shoes Inc".into(),
            }],
            video: None,
            link: "https://shoes.example/".into(),
            clicktrackers: vec![],
            imptrackers: vec![],
        }),
        banner: None,
        adm: None,
        ..banner("n1", 1, 1)
    }];
    c
}

fn native(request: &str) -> String {
    let request = serde_json::to_string(request).unwrap();
    format!(r#"{{"id":"r","imp":[{{"id":"1","native":{{"ver":"1.2","request":{request}}}}}]}}"#)
}

#[test]
fn native_creatives_fit_the_assets_a_request_requires() {
    let snap = build(&[native_campaign()]);
    let fits = r#"{"assets":[{"id":1,"required":1,"title":{"len":90}},
        {"id":2,"required":1,"img":{"type":3,"wmin":600,"hmin":300}},
        {"id":3,"data":{"type":2,"len":90}}]}"#;
    assert_eq!(chosen(&snap, &native(fits)), (4, None));
    let lacks = r#"{"assets":[{"id":1,"required":1,"data":{"type":2}}]}"#;
    assert_eq!(reason(&snap, &native(lacks)), NoBidReason::NoCreative);
    let too_long = r#"{"assets":[{"id":1,"required":1,"title":{"len":5}}]}"#;
    assert_eq!(reason(&snap, &native(too_long)), NoBidReason::NoCreative);
    let unreadable = r#"{"id":"r","imp":[{"id":"1","native":{"request":"{oops"}}]}"#;
    assert_eq!(reason(&snap, unreadable), NoBidReason::NoCreative);
    assert_eq!(reason(&snap, BANNER), NoBidReason::NoMatch);
}

#[test]
fn blocked_attributes_and_other_languages_keep_a_creative_out() {
    let mut c = campaign("c", 1.0, 2.0);
    c.creatives[0].attr = vec![6];
    c.creatives[0].language = Some("en".into());
    let snap = build(&[c]);
    assert!(winner(&snap, BANNER).is_some());
    let battr = r#"{"id":"r","imp":[{"id":"1","banner":{"w":300,"h":250,"battr":[6,7]}}]}"#;
    assert_eq!(reason(&snap, battr), NoBidReason::NoCreative);
    let lang = |wlang: &str| {
        format!(r#"{{"id":"r","wlang":{wlang},"imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}]}}"#)
    };
    assert!(winner(&snap, &lang(r#"["de","EN"]"#)).is_some());
    assert_eq!(reason(&snap, &lang(r#"["de"]"#)), NoBidReason::NoCreative);
}

#[test]
fn block_lists_hold_in_any_spelling() {
    let snap = build(&[campaign("shoes", 1.0, 2.0)]);
    let blocked = |field: &str| {
        format!(r#"{{"id":"r",{field},"imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}]}}"#)
    };
    for field in [
        r#""bcat":["iab18"]"#,
        r#""bcat":"IAB18""#,
        r#""badv":["WWW.Shoes.Example."]"#,
        r#""badv":["https://shoes.example/home"]"#,
    ] {
        assert_eq!(
            reason(&snap, &blocked(field)),
            NoBidReason::Blocked,
            "{field}"
        );
    }
}

#[test]
fn bcat_in_another_taxonomy_compares_the_categories_declared_in_it() {
    let plain = campaign("plain", 1.0, 2.0);
    let mut declared = campaign("declared", 1.5, 2.0);
    declared.category_taxonomies = vec![TaxonomyCategories {
        cattax: 2,
        categories: vec!["483".into()],
    }];
    let snap = build(&[plain, declared]);
    let req = |bcat: &str| {
        format!(
            r#"{{"id":"r","cattax":2,"bcat":{bcat},"imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}]}}"#
        )
    };
    // `plain` declares nothing in taxonomy 2, so it cannot bid where bcat uses it.
    let (id, _) = winner(&snap, &req(r#"["52"]"#)).unwrap();
    assert_eq!(id, "declared");
    assert_eq!(reason(&snap, &req(r#"["483"]"#)), NoBidReason::Blocked);
    // IAB 1.0 names mean nothing in taxonomy 2: `IAB18` does not block.
    assert!(winner(&snap, &req(r#"["IAB18"]"#)).is_some());
    // With the default taxonomy both may bid, and IAB 1.0 names block both.
    assert_eq!(winner(&snap, BANNER).unwrap().0, "declared");
    let iab = r#"{"id":"r","bcat":["IAB18"],"imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#;
    assert_eq!(reason(&snap, iab), NoBidReason::Blocked);
}

#[test]
fn dooh_impressions_with_a_multiplier_are_not_bid() {
    let snap = build(&[campaign("c", 1.0, 2.0)]);
    let dooh = |qty: &str| {
        format!(
            r#"{{"id":"r","dooh":{{"id":"screens","publisher":{{"id":"p"}}}},
            "imp":[{{"id":"1","qty":{qty},"banner":{{"w":300,"h":250}}}}]}}"#
        )
    };
    assert_eq!(
        reason(&snap, &dooh(r#"{"multiplier":12.5}"#)),
        NoBidReason::Multiplier
    );
    assert!(winner(&snap, &dooh(r#"{"multiplier":1}"#)).is_some());
}

#[test]
fn one_advertiser_wins_at_most_one_slot_of_a_pod() {
    let pod = |podid2: &str| {
        format!(
            r#"{{"id":"r","imp":[
            {{"id":"s1","video":{{"mimes":["video/mp4"],"podid":"p","slotinpod":1}}}},
            {{"id":"s2","video":{{"mimes":["video/mp4"],"podid":"{podid2}"}}}}]}}"#
        )
    };
    let snap = build(&[video_campaign("rich", 9.0, &[30])]);
    let (_, bids) = run(&snap, &pod("p"));
    assert_eq!(bids.iter().map(|b| b.imp).collect::<Vec<_>>(), [0]);
    let (_, bids) = run(&snap, &pod("other-pod"));
    assert_eq!(bids.len(), 2, "another pod is another break");
    // The runner-up fills the second slot, though it ranks below a bid that stood.
    let snap = build(&[
        video_campaign("rich", 9.0, &[30]),
        video_campaign("thrifty", 3.0, &[30]),
    ]);
    let (_, bids) = run(&snap, &pod("p"));
    let won: Vec<_> = bids
        .iter()
        .map(|b| snap.campaigns()[b.campaign as usize].id.as_str())
        .collect();
    assert_eq!(won, ["rich", "thrifty"]);
}

#[test]
fn a_floor_per_second_picks_the_creative_that_can_meet_it() {
    // 1.50 a second: the 30 s spot would need 45 (above the maximum of 20),
    // the 15 s one 22.50 — still above; the 6 s one 9.
    let snap = build(&[video_campaign("v", 5.0, &[30, 15, 6])]);
    let bids = run(&snap, &video(r#","mincpmpersec":1.5"#)).1;
    let creative = &snap.campaigns()[0].creatives[bids[0].creative];
    assert_eq!((creative.id.as_str(), bids[0].price), ("v-6s", 9_000_000));
    assert_eq!(
        reason(&snap, &video(r#","mincpmpersec":5"#)),
        NoBidReason::BelowFloor
    );
}

#[test]
fn a_deal_bid_meets_the_floor_per_second_too() {
    let mut c = video_campaign("d", 5.0, &[30]);
    c.targeting.deal_ids = vec!["DV".into()];
    let snap = build(&[c]);
    let deal = |deal_extra: &str, imp_extra: &str| {
        format!(
            r#"{{"id":"r","imp":[{{"id":"1","video":{{"mimes":["video/mp4"]{imp_extra}}},
            "pmp":{{"private_auction":1,"deals":[{{"id":"DV","bidfloor":2{deal_extra}}}]}}}}]}}"#
        )
    };
    // The impression's 0.50 a second: 15 for 30 s, over the deal's 2.
    assert_eq!(
        winner(&snap, &deal("", r#","mincpmpersec":0.5"#))
            .unwrap()
            .1,
        15_000_000
    );
    // The deal's own 0.25 a second overrides it: 7.50.
    let both = deal(r#","mincpmpersec":0.25"#, r#","mincpmpersec":0.5"#);
    assert_eq!(winner(&snap, &both).unwrap().1, 7_500_000);
    // No floor per second: the deal's floor, under the base bid of 5.
    assert_eq!(winner(&snap, &deal("", "")).unwrap().1, 5_000_000);
}
