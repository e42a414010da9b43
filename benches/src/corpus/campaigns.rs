//! Campaign sets whose targeting draws from the same pools as the requests, so a
//! share of requests bids and the rest exercises the no-bid paths.

use serde_json::json;
use tern_engine::campaign::{
    BannerSpec, Bidding, Budget, Campaign, CampaignStatus, Creative, FrequencyCap, NativeData,
    NativeImage, NativeSpec, Screening, Targeting, VideoSpec,
};

use super::*;

/// `count` valid, active campaigns generated from `seed`, with targeting drawn from
/// the same pools as [`requests`]. Budgets are large, so spend never stops a bid
/// during a benchmark, and there is no hour targeting, so results do not depend on
/// the time of day.
pub fn campaigns(count: usize, seed: u64) -> Vec<Campaign> {
    let mut rng = Rng::new(seed ^ 0xC0FFEE);
    let deals = deal_pool(count);
    (0..count).map(|n| campaign(&mut rng, n, deals)).collect()
}

fn campaign(rng: &mut Rng, n: usize, deals: u32) -> Campaign {
    let id = format!("cmp-{n:06}");
    let roll = rng.below(100);
    let mut creatives = Vec::new();
    let adm = |id: &str, w: u32, h: u32| {
        format!(
            "<a href=\"https://adv{n}.example/landing?c={id}\"><img src=\"https://cdn.adv{n}.example/{id}.jpg\" width=\"{w}\" height=\"{h}\"></a>"
        )
    };
    let mut targeting = Targeting::default();
    if roll < 12 {
        creatives.push(Creative {
            id: format!("{id}-video"),
            banner: None,
            video: Some(VideoSpec {
                mime: (*rng.pick(&VIDEO_MIMES[..2])).to_owned(),
                duration_secs: *rng.pick(&[15, 30, 30, 60]),
                protocol: *rng.pick(&[2, 3, 7]),
                w: Some(1280),
                h: Some(720),
                linearity: 1,
            }),
            audio: None,
            native: None,
            adm: None,
            nurl: Some(format!("https://ads.adv{n}.example/vast/{id}.xml")),
            secure: true,
            attr: vec![],
            language: None,
        });
    } else if roll < 20 {
        creatives.push(Creative {
            id: format!("{id}-native"),
            banner: None,
            video: None,
            audio: None,
            native: Some(NativeSpec {
                title: Some(format!("Offer {n}")),
                images: vec![NativeImage {
                    kind: 3,
                    url: format!("https://cdn.adv{n}.example/main.jpg"),
                    w: 1200,
                    h: 627,
                }],
                data: vec![NativeData {
                    kind: 2,
                    value: format!("Everything adv{n} sells, delivered tomorrow."),
                }],
                video: None,
                link: format!("https://adv{n}.example/"),
                clicktrackers: vec![],
                imptrackers: vec![format!("https://track.adv{n}.example/imp")],
            }),
            adm: None,
            nurl: None,
            secure: true,
            attr: vec![],
            language: None,
        });
    } else {
        let sizes = 1 + rng.below(3) as usize;
        let first = rng.below(SIZES.len() as u64) as usize;
        for k in 0..sizes {
            let (w, h) = SIZES[(first + k * 3) % SIZES.len()];
            let cid = format!("{id}-{w}x{h}");
            creatives.push(Creative {
                adm: Some(adm(&cid, w, h)),
                id: cid,
                banner: Some(BannerSpec { w, h }),
                video: None,
                audio: None,
                native: None,
                nurl: None,
                secure: rng.chance(90),
                attr: vec![],
                language: None,
            });
        }
        if roll < 27 {
            targeting.deal_ids = (0..1 + rng.below(2))
                .map(|_| deal_id(rng.below(u64::from(deals))))
                .collect();
        }
    }
    if rng.chance(70) {
        targeting.countries = (0..1 + rng.below(3))
            .map(|_| (*rng.pick(&COUNTRIES)).to_owned())
            .collect();
        targeting.countries.dedup();
    }
    if rng.chance(10) {
        targeting.regions = vec![(*rng.pick(&REGIONS)).to_owned()];
    }
    if rng.chance(50) {
        targeting.device_types = match rng.below(3) {
            0 => vec![1, 4, 5],
            1 => vec![2],
            _ => vec![3, 7],
        };
    }
    if rng.chance(30) {
        targeting.os = vec![(*rng.pick(&MOBILE_OS)).to_owned()];
    }
    if rng.chance(20) {
        targeting.categories_include = categories(rng, 3)
            .into_iter()
            .map(|c| c.split('-').next().unwrap_or_default().to_owned())
            .collect();
    }
    if rng.chance(20) {
        targeting.categories_exclude = vec![format!("IAB{}", 1 + rng.below(26))];
    }
    if rng.chance(10) {
        targeting.publishers_allow = (0..5)
            .map(|_| format!("pub-{}", rng.below(u64::from(PUBLISHERS))))
            .collect();
    }
    if rng.chance(10) {
        targeting.publishers_deny = vec![format!("pub-{}", rng.below(u64::from(PUBLISHERS)))];
    }
    let base_bid = rng.money(0.3, 6.0);
    Campaign {
        id,
        version: 1,
        status: CampaignStatus::Active,
        advertiser_id: None,
        advertiser_domain: format!("adv{n}.example"),
        categories: vec![category(rng)],
        category_taxonomies: vec![],
        app_bundle: rng
            .chance(15)
            .then(|| format!("com.adv{n}.app{}", rng.below(10))),
        creatives,
        targeting,
        bidding: Bidding {
            max_cpm: base_bid + rng.money(0.5, 10.0),
            base_bid,
            currency: if rng.chance(15) { "EUR" } else { "USD" }.to_owned(),
        },
        budget: Budget {
            daily: Some(1.0e9),
            ..Budget::default()
        },
        frequency_cap: rng.chance(30).then_some(FrequencyCap {
            max_impressions: 5,
            window_secs: 3600,
        }),
        screening: Screening::default(),
        segments: Default::default(),
    }
}

/// A campaigns document the bidder reads (`--campaigns FILE.json`).
pub fn campaigns_json(campaigns: &[Campaign]) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({ "campaigns": campaigns }))
        .expect("campaigns serialize to JSON")
}
