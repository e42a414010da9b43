//! The benchmark corpus: realistic OpenRTB 2.6 bid requests and campaign sets,
//! generated deterministically from a seed, plus the samples the bidder ships.
//!
//! Requests look like what exchanges send: a few KB each, with user agents, client
//! hints, consent strings, extended ids, supply chains and exchange extensions that
//! the parser has to skip, over banner, video, native, app, site, deal and
//! multi-impression traffic. Campaigns draw their targeting from the same value
//! pools, so a share of requests bids and the rest exercises the no-bid paths.

mod campaigns;

use serde_json::{Value, json};

pub use self::campaigns::{campaigns, campaigns_json};

/// The samples shipped in `bidder/samples/`, by file name.
pub const SHIPPED_SAMPLES: [(&str, &str); 5] = [
    (
        "banner",
        include_str!("../../../bidder/samples/banner.json"),
    ),
    ("video", include_str!("../../../bidder/samples/video.json")),
    (
        "native",
        include_str!("../../../bidder/samples/native.json"),
    ),
    (
        "app-multi-imp",
        include_str!("../../../bidder/samples/app-multi-imp.json"),
    ),
    (
        "pmp-deal",
        include_str!("../../../bidder/samples/pmp-deal.json"),
    ),
];

/// Countries requests come from and campaigns target (ISO-3166-1 alpha-3).
const COUNTRIES: [&str; 15] = [
    "USA", "USA", "USA", "CAN", "GBR", "DEU", "FRA", "ESP", "ITA", "BRA", "MEX", "JPN", "AUS",
    "IND", "NLD",
];
const REGIONS: [&str; 6] = ["US-CA", "US-NY", "US-TX", "CA-ON", "GB-ENG", "DE-BY"];
const MOBILE_OS: [&str; 2] = ["iOS", "Android"];
const DESKTOP_OS: [&str; 3] = ["Windows", "macOS", "Linux"];
const CTV_OS: [&str; 3] = ["tvOS", "Roku", "Tizen"];
/// Common display sizes, most frequent first.
const SIZES: [(u32, u32); 8] = [
    (300, 250),
    (320, 50),
    (728, 90),
    (160, 600),
    (300, 600),
    (970, 250),
    (336, 280),
    (468, 60),
];
const VIDEO_MIMES: [&str; 3] = ["video/mp4", "video/webm", "application/javascript"];
const BIDDER_NAMES: [&str; 6] = ["appnexus", "rubicon", "pubmatic", "ix", "openx", "criteo"];
const EID_SOURCES: [&str; 6] = [
    "liveramp.com",
    "id5-sync.com",
    "uidapi.com",
    "criteo.com",
    "pubcid.org",
    "adserver.org",
];
/// Publishers in the traffic.
const PUBLISHERS: u32 = 200;

/// A deterministic pseudo-random generator (xorshift64*), so every run and every
/// machine benchmarks the same corpus.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; 0 is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of `items`.
    pub fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A float in `lo..hi`, rounded to cents.
    pub fn money(&mut self, lo: f64, hi: f64) -> f64 {
        let x = lo + (hi - lo) * (self.below(10_000) as f64 / 10_000.0);
        (x * 100.0).round() / 100.0
    }

    /// `len` lower-case hex digits.
    pub fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        (0..len)
            .map(|_| DIGITS[self.below(16) as usize] as char)
            .collect()
    }

    /// `len` characters of URL-safe base64 alphabet (consent strings look like this).
    pub fn b64(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..len)
            .map(|_| DIGITS[self.below(64) as usize] as char)
            .collect()
    }
}

/// What kind of traffic a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// One banner on a website, browser on a phone or desktop.
    BannerSite,
    /// One banner in a mobile app.
    BannerApp,
    /// One video slot, on a site or connected TV.
    Video,
    /// One native slot on a site.
    Native,
    /// Three banner slots in one app screen.
    MultiImpApp,
    /// A private-marketplace banner with deals.
    Deal,
}

impl RequestKind {
    /// Every kind, in the mix the corpus cycles through.
    pub const MIX: [RequestKind; 10] = [
        RequestKind::BannerSite,
        RequestKind::BannerApp,
        RequestKind::BannerSite,
        RequestKind::Video,
        RequestKind::BannerApp,
        RequestKind::Native,
        RequestKind::MultiImpApp,
        RequestKind::BannerSite,
        RequestKind::Deal,
        RequestKind::BannerApp,
    ];

    /// Short name, used in file names and bench ids.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::BannerSite => "banner-site",
            RequestKind::BannerApp => "banner-app",
            RequestKind::Video => "video",
            RequestKind::Native => "native",
            RequestKind::MultiImpApp => "multi-imp-app",
            RequestKind::Deal => "deal",
        }
    }
}

/// One generated request body.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Kind of traffic.
    pub kind: RequestKind,
    /// The JSON body, as an exchange would POST it.
    pub body: Vec<u8>,
}

/// `count` requests cycling through [`RequestKind::MIX`], generated from `seed`.
/// `deals` is the size of the deal-id pool (match it to [`campaigns`]' pool).
pub fn requests(count: usize, seed: u64, deals: u32) -> Vec<Sample> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            let kind = RequestKind::MIX[i % RequestKind::MIX.len()];
            let body = request(&mut rng, kind, i, deals);
            Sample {
                kind,
                body: serde_json::to_vec(&body).expect("a json! value serializes"),
            }
        })
        .collect()
}

/// The deal-id pool size that goes with `campaigns` campaigns.
pub fn deal_pool(campaigns: usize) -> u32 {
    (campaigns as u32 / 20).max(4)
}

fn deal_id(n: u64) -> String {
    format!("DEAL-{n:05}")
}

fn category(rng: &mut Rng) -> String {
    let top = 1 + rng.below(26);
    if rng.chance(60) {
        format!("IAB{top}-{}", 1 + rng.below(12))
    } else {
        format!("IAB{top}")
    }
}

fn categories(rng: &mut Rng, max: u64) -> Vec<String> {
    (0..1 + rng.below(max)).map(|_| category(rng)).collect()
}

fn banner_imp(rng: &mut Rng, id: &str, secure: bool) -> Value {
    let (w, h) = *rng.pick(&SIZES[..6]);
    let mut formats = vec![json!({ "w": w, "h": h })];
    if rng.chance(40) {
        let (w2, h2) = *rng.pick(&SIZES);
        if (w2, h2) != (w, h) {
            formats.push(json!({ "w": w2, "h": h2 }));
        }
    }
    json!({
        "id": id,
        "banner": { "w": w, "h": h, "format": formats, "pos": rng.below(4), "api": [3, 5, 6, 7],
                    "battr": [1, 3, 8, 9, 10, 14] },
        "displaymanager": "prebid.org",
        "displaymanagerver": "8.52.0",
        "tagid": format!("slot-{}-{}", id, rng.hex(6)),
        "bidfloor": rng.money(0.05, 2.5),
        "bidfloorcur": "USD",
        "secure": u8::from(secure),
        "exp": 300,
        "ext": imp_ext(rng, id),
    })
}

fn imp_ext(rng: &mut Rng, id: &str) -> Value {
    let mut bidders = serde_json::Map::new();
    for name in BIDDER_NAMES.iter().take(2 + rng.below(4) as usize) {
        bidders.insert(
            (*name).to_owned(),
            json!({ "placementId": rng.below(90_000_000) + 10_000_000, "siteId": rng.hex(8) }),
        );
    }
    json!({
        "gpid": format!("/{}/homepage/{id}", 10_000 + rng.below(90_000)),
        "data": { "pbadslot": format!("/homepage/{id}"), "adserver": { "name": "gam", "adslot": format!("/1234/home/{id}") } },
        "tid": format!("{}-{}-{}-{}", rng.hex(8), rng.hex(4), rng.hex(4), rng.hex(12)),
        "prebid": { "bidder": bidders },
    })
}

fn publisher(rng: &mut Rng) -> Value {
    let id = rng.below(u64::from(PUBLISHERS));
    json!({ "id": format!("pub-{id}"), "name": format!("Publisher {id}"), "domain": format!("publisher{id}.example") })
}

fn site(rng: &mut Rng) -> Value {
    let domain = format!("news{}.example", rng.below(500));
    json!({
        "id": format!("site-{}", rng.below(5000)),
        "name": "Daily News",
        "domain": domain,
        "page": format!("https://{domain}/articles/{}/{}.html", rng.hex(6), rng.hex(12)),
        "ref": "https://www.search.example/",
        "cat": categories(rng, 3),
        "sectioncat": categories(rng, 2),
        "pagecat": categories(rng, 2),
        "privacypolicy": 1,
        "mobile": 1,
        "publisher": publisher(rng),
        "content": { "language": "en", "livestream": 0, "keywords": "politics,economy,markets,world" },
        "ext": { "amp": 0 },
    })
}

fn app(rng: &mut Rng) -> Value {
    let n = rng.below(800);
    json!({
        "id": format!("app-{n}"),
        "name": format!("Example App {n}"),
        "bundle": format!("com.example.app{n}"),
        "domain": format!("app{n}.example"),
        "storeurl": format!("https://play.google.example/store/apps/details?id=com.example.app{n}"),
        "ver": "5.14.2",
        "cat": categories(rng, 3),
        "privacypolicy": 1,
        "paid": 0,
        "publisher": publisher(rng),
    })
}

fn device(rng: &mut Rng, devicetype: u8, os: &str) -> Value {
    let country = *rng.pick(&COUNTRIES);
    let mut geo = json!({
        "country": country, "type": 2, "lat": 40.7 + rng.money(0.0, 1.0), "lon": -74.0 + rng.money(0.0, 1.0),
        "city": "New York", "zip": "10001", "utcoffset": -300,
    });
    if rng.chance(50) {
        geo["region"] = json!(*rng.pick(&REGIONS));
    }
    let ua = match os {
        "iOS" => {
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
        }
        "Android" => {
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"
        }
        "Windows" => {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67"
        }
        "macOS" => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"
        }
        _ => {
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36"
        }
    };
    json!({
        "ua": ua,
        "sua": { "browsers": [ { "brand": "Chromium", "version": ["124", "0", "6367", "82"] },
                               { "brand": "Google Chrome", "version": ["124", "0", "6367", "82"] },
                               { "brand": "Not-A.Brand", "version": ["99", "0", "0", "0"] } ],
                 "platform": { "brand": os, "version": ["14", "0", "0"] }, "mobile": 1, "source": 2 },
        "ip": format!("203.0.{}.{}", rng.below(256), rng.below(256)),
        "geo": geo,
        "dnt": 0, "lmt": 0,
        "devicetype": devicetype,
        "make": "Google", "model": "Pixel 8",
        "os": os, "osv": "14.0",
        "h": 2400, "w": 1080, "ppi": 420, "pxratio": 2.625, "js": 1,
        "language": "en", "carrier": "Example Mobile", "connectiontype": 6,
        "ifa": format!("{}-{}-{}-{}-{}", rng.hex(8), rng.hex(4), rng.hex(4), rng.hex(4), rng.hex(12)),
        "ext": { "atts": 3, "ifv": rng.hex(32) },
    })
}

fn user(rng: &mut Rng) -> Value {
    let eids: Vec<Value> = EID_SOURCES
        .iter()
        .take(2 + rng.below(5) as usize)
        .map(|source| {
            let len = 40 + rng.below(60) as usize;
            json!({ "source": source, "uids": [ { "id": rng.b64(len), "atype": 1 + rng.below(3) } ] })
        })
        .collect();
    let consent_len = 300 + rng.below(200) as usize;
    json!({
        "id": format!("u-{}", rng.hex(16)),
        "buyeruid": format!("tern-{}", rng.hex(12)),
        "yob": 1970 + rng.below(40),
        "gender": if rng.chance(50) { "F" } else { "M" },
        "consent": rng.b64(consent_len),
        "eids": eids,
        "ext": { "data": { "segments": [ rng.below(9999), rng.below(9999), rng.below(9999) ] } },
    })
}

fn request(rng: &mut Rng, kind: RequestKind, index: usize, deals: u32) -> Value {
    let id = format!("{}-{index}", rng.hex(24));
    let mobile = rng.chance(70);
    let (devicetype, os) = match kind {
        RequestKind::BannerApp | RequestKind::MultiImpApp => {
            (if rng.chance(80) { 4 } else { 5 }, *rng.pick(&MOBILE_OS))
        }
        RequestKind::Video if rng.chance(40) => (3, *rng.pick(&CTV_OS)),
        _ if mobile => (4, *rng.pick(&MOBILE_OS)),
        _ => (2, *rng.pick(&DESKTOP_OS)),
    };
    let imps: Vec<Value> = match kind {
        RequestKind::BannerSite | RequestKind::BannerApp => vec![banner_imp(rng, "1", true)],
        RequestKind::MultiImpApp => (1..=3)
            .map(|n| {
                let secure = rng.chance(70);
                banner_imp(rng, &n.to_string(), secure)
            })
            .collect(),
        RequestKind::Video => vec![json!({
            "id": "1",
            "video": {
                "mimes": VIDEO_MIMES, "minduration": 5, "maxduration": *rng.pick(&[15, 30, 60]),
                "protocols": [2, 3, 5, 6, 7, 8], "w": 1280, "h": 720, "startdelay": 0,
                "placement": 1, "plcmt": 1, "linearity": 1, "skip": 1, "skipafter": 5,
                "playbackmethod": [2], "api": [1, 2, 7], "pos": 1,
            },
            "tagid": format!("preroll-{}", rng.hex(6)),
            "bidfloor": rng.money(1.0, 8.0),
            "bidfloorcur": if rng.chance(20) { "EUR" } else { "USD" },
            "secure": 1,
            "ext": imp_ext(rng, "1"),
        })],
        RequestKind::Native => vec![json!({
            "id": "1",
            "native": {
                "request": "{\"ver\":\"1.2\",\"context\":1,\"plcmttype\":1,\"assets\":[{\"id\":1,\"required\":1,\"title\":{\"len\":90}},{\"id\":2,\"required\":1,\"img\":{\"type\":3,\"w\":1200,\"h\":627}},{\"id\":3,\"data\":{\"type\":2,\"len\":140}}]}",
                "ver": "1.2",
            },
            "tagid": format!("feed-{}", rng.hex(6)),
            "bidfloor": rng.money(0.2, 3.0),
            "secure": 1,
            "ext": imp_ext(rng, "1"),
        })],
        RequestKind::Deal => {
            let mut imp = banner_imp(rng, "1", true);
            let offered: Vec<Value> = (0..1 + rng.below(3))
                .map(|_| {
                    json!({ "id": deal_id(rng.below(u64::from(deals))), "bidfloor": rng.money(2.0, 9.0),
                            "bidfloorcur": "USD", "at": 1 })
                })
                .collect();
            imp["pmp"] = json!({ "private_auction": u8::from(rng.chance(50)), "deals": offered });
            vec![imp]
        }
    };
    let mut req = json!({
        "id": id,
        "imp": imps,
        "device": device(rng, devicetype, os),
        "user": user(rng),
        "at": 1,
        "tmax": 120 + rng.below(200),
        "cur": ["USD"],
        "bcat": categories(rng, 4),
        "badv": [format!("brand{}.example", rng.below(100)), "spam.example"],
        "regs": { "coppa": 0, "gdpr": u8::from(rng.chance(30)), "us_privacy": "1YNN",
                  "gpp": rng.b64(60), "gpp_sid": [7] },
        "source": {
            "tid": format!("{}-{}", rng.hex(8), rng.hex(12)),
            "schain": { "ver": "1.0", "complete": 1, "nodes": [
                { "asi": "exchange.example", "sid": rng.hex(8), "hp": 1, "rid": rng.hex(16) },
                { "asi": "reseller.example", "sid": rng.hex(6), "hp": 1 } ] },
        },
        "ext": { "prebid": { "auctiontimestamp": 1_700_000_000_000_u64 + rng.below(1_000_000),
                             "targeting": { "includewinners": true, "includebidderkeys": false },
                             "channel": { "name": "web", "version": "8.52.0" } } },
    });
    match kind {
        RequestKind::BannerApp | RequestKind::MultiImpApp => {
            req["app"] = app(rng);
            req["bapp"] = json!([format!("com.example.app{}", rng.below(800))]);
        }
        _ => req["site"] = site(rng),
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_campaigns_are_valid_and_deterministic() {
        let a = campaigns(300, 7);
        for c in &a {
            c.validate().unwrap();
        }
        assert_eq!(a, campaigns(300, 7));
    }

    #[test]
    fn generated_requests_parse_and_weigh_a_few_kb() {
        let corpus = requests(50, 7, 10);
        for sample in &corpus {
            tern_engine::openrtb::BidRequest::parse(&sample.body).unwrap();
            assert!(
                (1_500..8_000).contains(&sample.body.len()),
                "{} bytes",
                sample.body.len()
            );
        }
    }
}
