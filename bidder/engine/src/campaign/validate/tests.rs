use super::*;
use crate::campaign::{BannerSpec, Bidding, Budget, FrequencyCap, Targeting};

pub(crate) fn campaign() -> Campaign {
    Campaign {
        id: "c1".into(),
        version: 1,
        status: Default::default(),
        advertiser_id: None,
        advertiser_domain: "shoes.example".into(),
        categories: vec!["IAB18".into()],
        app_bundle: None,
        category_taxonomies: vec![],
        creatives: vec![Creative {
            id: "cr1".into(),
            banner: Some(BannerSpec { w: 300, h: 250 }),
            video: None,
            audio: None,
            native: None,
            adm: Some("<div>ad</div>".into()),
            nurl: None,
            secure: true,
            attr: vec![],
            language: None,
        }],
        targeting: Targeting::default(),
        bidding: Bidding {
            max_cpm: 5.0,
            base_bid: 2.0,
            currency: "USD".into(),
        },
        budget: Budget::default(),
        frequency_cap: None,
        screening: Default::default(),
        segments: Default::default(),
    }
}

fn field_of(c: Campaign) -> String {
    c.validate().unwrap_err().field
}

#[test]
fn a_complete_campaign_is_valid() {
    campaign().validate().unwrap();
}

#[test]
fn each_rule_names_its_field() {
    let mut c = campaign();
    c.id = String::new();
    assert_eq!(field_of(c), "id");

    let mut c = campaign();
    c.advertiser_domain = "Shoes".into();
    assert_eq!(field_of(c), "advertiser_domain");

    let mut c = campaign();
    c.creatives.clear();
    assert_eq!(field_of(c), "creatives");

    let mut c = campaign();
    c.creatives[0].banner = Some(BannerSpec { w: 0, h: 250 });
    assert_eq!(field_of(c), "creatives[0].banner");

    let mut c = campaign();
    c.creatives[0].adm = None;
    assert_eq!(field_of(c), "creatives[0].adm");

    let mut c = campaign();
    c.creatives[0].adm = None;
    c.creatives[0].nurl = Some("http://insecure.example/win".into());
    assert_eq!(field_of(c), "creatives[0].nurl");

    let mut c = campaign();
    c.creatives.push(c.creatives[0].clone());
    assert_eq!(field_of(c), "creatives[1].id");

    let mut c = campaign();
    c.targeting.countries = vec!["US".into()];
    assert_eq!(field_of(c), "targeting.countries");

    let mut c = campaign();
    c.targeting.device_types = vec![9];
    assert_eq!(field_of(c), "targeting.device_types");

    let mut c = campaign();
    c.targeting.hours_utc = vec![24];
    assert_eq!(field_of(c), "targeting.hours_utc");

    let mut c = campaign();
    c.bidding.base_bid = 6.0;
    assert_eq!(field_of(c), "bidding.base_bid");

    let mut c = campaign();
    c.bidding.max_cpm = -1.0;
    assert_eq!(field_of(c), "bidding.max_cpm");

    let mut c = campaign();
    c.bidding.currency = "dollars".into();
    assert_eq!(field_of(c), "bidding.currency");

    let mut c = campaign();
    c.budget.daily = Some(0.0);
    assert_eq!(field_of(c), "budget.daily");

    let mut c = campaign();
    c.budget.timezone = Some("Europe/Atlantis".into());
    assert_eq!(field_of(c), "budget.timezone");

    let mut c = campaign();
    c.frequency_cap = Some(FrequencyCap {
        max_impressions: 0,
        window_secs: 60,
    });
    assert_eq!(field_of(c), "frequency_cap.max_impressions");

    for window_secs in [0, 365 * 24 * 3600 + 1, u64::MAX / 1000] {
        let mut c = campaign();
        c.frequency_cap = Some(FrequencyCap {
            max_impressions: 1,
            window_secs,
        });
        assert_eq!(field_of(c), "frequency_cap.window_secs", "{window_secs}");
    }
}

#[test]
fn format_rules_name_their_field() {
    use crate::campaign::{NativeSpec, TaxonomyCategories, VideoSpec};
    let video = || VideoSpec {
        mime: "video/mp4".into(),
        duration_secs: 30,
        protocol: 3,
        w: None,
        h: None,
        linearity: 1,
    };
    let native = || NativeSpec {
        title: Some("Title".into()),
        link: "https://shoes.example/".into(),
        ..NativeSpec::default()
    };
    type Change = Box<dyn Fn(&mut Campaign)>;
    let cases: [(&str, Change); 12] = [
        (
            "creatives[0].attr",
            Box::new(|c| c.creatives[0].attr = vec![0]),
        ),
        (
            "creatives[0].language",
            Box::new(|c| c.creatives[0].language = Some("EN".into())),
        ),
        (
            "creatives[0].banner",
            Box::new(move |c| c.creatives[0].video = Some(video())),
        ),
        (
            "creatives[0].video.linearity",
            Box::new(move |c| {
                c.creatives[0].banner = None;
                c.creatives[0].video = Some(VideoSpec {
                    linearity: 3,
                    ..video()
                });
            }),
        ),
        (
            "creatives[0].adm",
            Box::new(move |c| {
                c.creatives[0].banner = None;
                c.creatives[0].native = Some(native());
            }),
        ),
        (
            "creatives[0].native.link",
            Box::new(move |c| {
                c.creatives[0].banner = None;
                c.creatives[0].adm = None;
                c.creatives[0].native = Some(NativeSpec {
                    link: "shoes".into(),
                    ..native()
                });
            }),
        ),
        (
            "creatives[0].native",
            Box::new(move |c| {
                c.creatives[0].banner = None;
                c.creatives[0].adm = None;
                c.creatives[0].native = Some(NativeSpec {
                    title: None,
                    ..native()
                });
            }),
        ),
        (
            "category_taxonomies[0].cattax",
            Box::new(|c| {
                c.category_taxonomies = vec![TaxonomyCategories {
                    cattax: 1,
                    categories: vec!["IAB1".into()],
                }]
            }),
        ),
        (
            "category_taxonomies[0].categories",
            Box::new(|c| {
                c.category_taxonomies = vec![TaxonomyCategories {
                    cattax: 2,
                    categories: vec![],
                }]
            }),
        ),
        (
            "targeting.video.plcmt",
            Box::new(|c| c.targeting.video.plcmt = vec![10]),
        ),
        (
            "creatives[0].native.images.type",
            Box::new(move |c| {
                c.creatives[0].banner = None;
                c.creatives[0].adm = None;
                let logo = crate::campaign::NativeImage {
                    kind: 2,
                    url: "https://x.example/l.png".into(),
                    w: 1,
                    h: 1,
                };
                c.creatives[0].native = Some(NativeSpec {
                    images: vec![logo],
                    ..native()
                });
            }),
        ),
        (
            "creatives[0].native.data",
            Box::new(move |c| {
                c.creatives[0].banner = None;
                c.creatives[0].adm = None;
                let data = crate::campaign::NativeData {
                    kind: 13,
                    value: "x".into(),
                };
                c.creatives[0].native = Some(NativeSpec {
                    data: vec![data],
                    ..native()
                });
            }),
        ),
    ];
    for (field, change) in cases {
        let mut c = campaign();
        change(&mut c);
        assert_eq!(field_of(c), field);
    }
    let mut ok = campaign();
    ok.creatives[0].banner = None;
    ok.creatives[0].adm = None;
    ok.creatives[0].native = Some(native());
    ok.validate().unwrap();
}

#[test]
fn error_text_names_campaign_and_field() {
    let mut c = campaign();
    c.bidding.max_cpm = f64::NAN;
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "campaign `c1`: field `bidding.max_cpm`: must be a number from 0.000001 to 9000000000"
    );
}

#[test]
fn budgets_too_large_for_micros_say_the_limit() {
    let mut c = campaign();
    c.budget.daily = Some(1e12);
    let err = c.validate().unwrap_err();
    assert_eq!(err.field, "budget.daily");
    assert!(err.reason.contains("9000000000"), "{err}");
    c.budget.daily = Some(9e9);
    assert!(c.validate().is_ok());
}

#[test]
fn screening_scores_are_between_0_and_1_and_lowering_starts_below_the_limit() {
    for score in [-0.1, 1.5, f64::NAN] {
        let mut c = campaign();
        c.screening.max_ivt_score = Some(score);
        assert_eq!(field_of(c), "screening.max_ivt_score", "{score}");
        let mut c = campaign();
        c.screening.lower_price_from_ivt_score = Some(score);
        assert_eq!(
            field_of(c),
            "screening.lower_price_from_ivt_score",
            "{score}"
        );
    }
    let mut c = campaign();
    c.screening.max_ivt_score = Some(0.0);
    assert_eq!(field_of(c), "screening.max_ivt_score");
    let mut c = campaign();
    c.screening.lower_price_from_ivt_score = Some(1.0);
    assert_eq!(field_of(c), "screening.lower_price_from_ivt_score");
    let mut c = campaign();
    c.screening.max_ivt_score = Some(0.5);
    c.screening.lower_price_from_ivt_score = Some(0.5);
    assert_eq!(field_of(c), "screening.lower_price_from_ivt_score");
    c = campaign();
    c.screening.max_ivt_score = Some(0.9);
    c.screening.lower_price_from_ivt_score = Some(0.3);
    c.validate().unwrap();
}

#[test]
fn screening_reads_from_toml_with_safe_defaults() {
    let doc = r#"
        [[campaigns]]
        id = "c"
        advertiser_domain = "shoes.example"
        bidding = { max_cpm = 2.0, base_bid = 1.0 }
        screening = { block_datacenter = false, max_ivt_score = 0.7 }
        [[campaigns.creatives]]
        id = "cr"
        adm = "<a/>"
        banner = { w = 300, h = 250 }
    "#;
    let campaigns =
        crate::campaign::parse_campaigns(doc, crate::campaign::FileFormat::Toml).expect("parses");
    let s = &campaigns[0].screening;
    assert!(!s.block_datacenter);
    assert!(s.block_bots && s.require_schain_complete && s.require_authorized_seller);
    assert!(!s.require_schain);
    assert_eq!(s.max_ivt_score, Some(0.7));
    let unknown = doc.replace("max_ivt_score", "max_ivt");
    let err =
        crate::campaign::parse_campaigns(&unknown, crate::campaign::FileFormat::Toml).unwrap_err();
    assert!(err.to_string().contains("max_ivt"), "{err}");
}

#[test]
fn segments_read_from_toml_in_both_forms_and_write_back_as_tables() {
    let doc = r#"
        [[campaigns]]
        id = "c"
        advertiser_domain = "shoes.example"
        bidding = { max_cpm = 2.0, base_bid = 1.0 }
        segments = { include_any = ["auto-intenders", { provider = "dataco.example", segtax = 4, id = "243" }], exclude = ["customers"] }
        [[campaigns.creatives]]
        id = "cr"
        adm = "<a/>"
        banner = { w = 300, h = 250 }
    "#;
    let campaigns =
        crate::campaign::parse_campaigns(doc, crate::campaign::FileFormat::Toml).expect("parses");
    let s = &campaigns[0].segments;
    assert_eq!(s.include_any.len(), 2);
    assert!(s.include_any[0].is_first_party() && s.include_any[0].id == "auto-intenders");
    assert_eq!(s.include_any[1].provider.as_deref(), Some("dataco.example"));
    assert_eq!(s.include_any[1].segtax, Some(4));
    assert_eq!(s.exclude[0].id, "customers");
    let json = serde_json::to_value(&campaigns[0]).unwrap();
    assert_eq!(
        json["segments"]["include_any"][0],
        serde_json::json!({"id": "auto-intenders"})
    );
    let back: Campaign = serde_json::from_value(json).unwrap();
    assert_eq!(back.segments, *s, "what is written reads back the same");
    let unknown = doc.replace("segtax = 4", "taxonomy = 4");
    let err =
        crate::campaign::parse_campaigns(&unknown, crate::campaign::FileFormat::Toml).unwrap_err();
    assert!(err.to_string().contains("taxonomy"), "{err}");
    let plain = serde_json::to_value(campaign()).unwrap();
    assert!(plain.get("segments").is_none(), "no rules, nothing written");
}

#[test]
fn segment_rules_name_valid_segments_once() {
    use crate::campaign::SegmentRef;
    let first = |id: &str| SegmentRef {
        id: id.into(),
        provider: None,
        segtax: None,
    };
    type Change<'a> = Box<dyn Fn(&mut Campaign) + 'a>;
    let cases: Vec<(Change<'_>, &str)> = vec![
        (
            Box::new(|c| c.segments.include_any = vec![first("")]),
            "segments.include_any[0].id",
        ),
        (
            Box::new(|c| c.segments.exclude = vec![first("a b")]),
            "segments.exclude[0].id",
        ),
        (
            Box::new(|c| c.segments.include_all = vec![first(&"x".repeat(65))]),
            "segments.include_all[0].id",
        ),
        (
            Box::new(|c| {
                c.segments.include_any = vec![SegmentRef {
                    provider: Some(String::new()),
                    ..first("a")
                }]
            }),
            "segments.include_any[0].provider",
        ),
        (
            Box::new(|c| {
                c.segments.include_any = vec![SegmentRef {
                    segtax: Some(4),
                    ..first("a")
                }]
            }),
            "segments.include_any[0].segtax",
        ),
        (
            Box::new(|c| {
                c.segments.include_any = vec![first("a")];
                c.segments.exclude = vec![first("a")];
            }),
            "segments.exclude[0]",
        ),
        (
            Box::new(|c| {
                c.segments.include_any = (0..257).map(|i| first(&format!("s{i}"))).collect()
            }),
            "segments.include_any[256]",
        ),
    ];
    for (change, field) in cases {
        let mut c = campaign();
        change(&mut c);
        assert_eq!(c.validate().unwrap_err().field, field);
    }
    let mut c = campaign();
    c.segments.include_any = vec![
        first("a"),
        SegmentRef {
            provider: Some("DataCo.example".into()),
            segtax: Some(4),
            ..first("a")
        },
    ];
    c.segments.exclude = vec![SegmentRef {
        provider: Some("dataco.example".into()),
        ..first("a")
    }];
    c.validate()
        .expect("the same id from other sources is another segment");
}

#[test]
fn segments_are_a_table_never_a_list_read_by_position() {
    let doc = r#"
        [[campaigns]]
        id = "c"
        advertiser_domain = "shoes.example"
        bidding = { max_cpm = 2.0, base_bid = 1.0 }
        segments = [["auto"], [], ["customers"]]
        [[campaigns.creatives]]
        id = "cr"
        adm = "<a/>"
        banner = { w = 300, h = 250 }
    "#;
    let err = crate::campaign::parse_campaigns(doc, crate::campaign::FileFormat::Toml).unwrap_err();
    assert!(err.to_string().contains("segments"), "{err}");
}
