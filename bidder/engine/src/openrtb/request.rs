//! OpenRTB 2.6 `BidRequest`, borrowed from the request buffer.
//!
//! Strings are [`Str`]: they point into the body the
//! exchange sent and only allocate when the JSON string holds escapes. Fields the
//! bidder does not use are ignored; `ext` objects are kept as lazy, unparsed JSON.

use serde::Deserialize;

pub use super::borrowed::{List, Str};
pub use super::raw_json::RawJson;
use crate::json_depth::{self, TooDeep};

/// Longest request or impression id accepted; ids travel inside billing tokens.
pub const MAX_ID_BYTES: usize = 256;

/// Most impressions read from one request; the ones after are skipped unparsed
/// and get no bid. Real requests carry a few (a video pod some tens); without a
/// bound, one gzip-compressed request of thousands of impressions would hold a
/// worker for a long time and draw a response of megabytes.
pub const MAX_IMPS: usize = 256;

/// The top-level bid request (OpenRTB 2.6 §3.2.1). `Default` is an empty slot for
/// [`BidRequest::parse_into`], not a valid request.
#[derive(Debug, Default, Deserialize)]
pub struct BidRequest<'a> {
    /// Auction id, echoed in the response.
    #[serde(borrow)]
    pub id: Str<'a>,
    /// Impressions offered; at least one is required. At most [`MAX_IMPS`] are read.
    #[serde(borrow, default)]
    pub imp: Imps<'a>,
    /// The website, when the ad shows on a site.
    #[serde(borrow)]
    pub site: Option<Site<'a>>,
    /// The app, when the ad shows in an app.
    #[serde(borrow)]
    pub app: Option<App<'a>>,
    /// The user's device.
    #[serde(borrow)]
    pub device: Option<Device<'a>>,
    /// The user.
    #[serde(borrow)]
    pub user: Option<User<'a>>,
    /// 1 when this is a test request that will not be billed.
    #[serde(default)]
    pub test: u8,
    /// Milliseconds the exchange waits for our answer, including the network.
    pub tmax: Option<u64>,
    /// Auction type (§3.2.1): 1 first price, 2 second price plus, 3 and up
    /// exchange-specific rules; absent means 2. Recorded with each bid.
    pub at: Option<u8>,
    /// Buyer seats allowed to bid; absent means all.
    #[serde(borrow, default)]
    pub wseat: List<Str<'a>, 2>,
    /// Buyer seats blocked from bidding.
    #[serde(borrow, default)]
    pub bseat: List<Str<'a>, 2>,
    /// Currencies the exchange accepts for bids (ISO-4217); absent means USD.
    #[serde(borrow, default)]
    pub cur: List<Str<'a>, 2>,
    /// Blocked advertiser content categories.
    #[serde(borrow, default)]
    pub bcat: List<Str<'a>, 8>,
    /// Blocked advertiser domains.
    #[serde(borrow, default)]
    pub badv: List<Str<'a>, 4>,
    /// Blocked advertised applications (store ids / bundles).
    #[serde(borrow, default)]
    pub bapp: List<Str<'a>, 4>,
    /// Regulations in force for this request.
    pub regs: Option<Regs>,
    /// Where the request came from (supply chain).
    #[serde(borrow)]
    pub source: Option<Source<'a>>,
    /// Exchange-specific extensions, left unparsed.
    #[serde(borrow)]
    pub ext: Option<RawJson<'a>>,
}

/// One impression on offer (§3.2.4).
#[derive(Debug, Deserialize)]
pub struct Imp<'a> {
    /// Impression id, unique within the request; bids refer to it.
    #[serde(borrow)]
    pub id: Str<'a>,
    /// Present when a banner (display) ad may fill the slot.
    #[serde(borrow)]
    pub banner: Option<Banner<'a>>,
    /// Present when a video ad may fill the slot.
    #[serde(borrow)]
    pub video: Option<Video<'a>>,
    /// Present when a native ad may fill the slot; its request string is not read.
    #[serde(borrow)]
    pub native: Option<Native<'a>>,
    /// Private marketplace terms.
    #[serde(borrow)]
    pub pmp: Option<Pmp<'a>>,
    /// Placement or ad tag id at the publisher.
    #[serde(borrow)]
    pub tagid: Option<Str<'a>>,
    /// Minimum bid, in CPM of `bidfloorcur`.
    #[serde(default)]
    pub bidfloor: f64,
    /// Currency of `bidfloor` (ISO-4217); USD when absent.
    #[serde(borrow)]
    pub bidfloorcur: Option<Str<'a>>,
    /// 1 when the creative must be served over HTTPS.
    pub secure: Option<u8>,
    /// Exchange-specific extensions, left unparsed.
    #[serde(borrow)]
    pub ext: Option<RawJson<'a>>,
}

/// A width and height pair the slot accepts (§3.2.10).
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// Width in device-independent pixels.
    #[serde(default)]
    pub w: u32,
    /// Height in device-independent pixels.
    #[serde(default)]
    pub h: u32,
}

/// Banner slot (§3.2.6).
#[derive(Debug, Deserialize)]
pub struct Banner<'a> {
    /// Exact width, when the slot has one size.
    pub w: Option<u32>,
    /// Exact height, when the slot has one size.
    pub h: Option<u32>,
    /// Every size the slot accepts.
    #[serde(default)]
    pub format: List<Format, 4>,
    /// Exchange-specific extensions, left unparsed.
    #[serde(borrow)]
    pub ext: Option<RawJson<'a>>,
}

/// Video slot (§3.2.7).
#[derive(Debug, Deserialize)]
pub struct Video<'a> {
    /// Accepted MIME types, e.g. `video/mp4`.
    #[serde(borrow, default)]
    pub mimes: List<Str<'a>, 4>,
    /// Minimum ad duration in seconds.
    pub minduration: Option<u32>,
    /// Maximum ad duration in seconds.
    pub maxduration: Option<u32>,
    /// Accepted video protocols (VAST versions), OpenRTB list 5.8.
    #[serde(default)]
    pub protocols: List<u8, 8>,
    /// Player width.
    pub w: Option<u32>,
    /// Player height.
    pub h: Option<u32>,
}

/// Native slot (§3.2.9); only its presence matters to matching. Its `request`
/// document is a JSON string full of escapes that the engine never reads, so it is
/// skipped rather than unescaped into a copy (which would allocate per request).
#[derive(Debug, Deserialize)]
pub struct Native<'a> {
    /// Version of the Native Ads API the request follows.
    #[serde(borrow)]
    pub ver: Option<Str<'a>>,
}

/// Private marketplace (§3.2.11).
#[derive(Debug, Deserialize)]
pub struct Pmp<'a> {
    /// 1 when only bids on the listed deals are allowed.
    #[serde(default)]
    pub private_auction: u8,
    /// The deals on offer.
    #[serde(borrow, default)]
    pub deals: List<Deal<'a>, 4>,
}

/// One deal (§3.2.12).
#[derive(Debug, Deserialize)]
pub struct Deal<'a> {
    /// Deal id agreed with the seller.
    #[serde(borrow)]
    pub id: Str<'a>,
    /// Minimum bid for this deal, in CPM of `bidfloorcur`.
    #[serde(default)]
    pub bidfloor: f64,
    /// Currency of `bidfloor`; USD when absent.
    #[serde(borrow)]
    pub bidfloorcur: Option<Str<'a>>,
    /// Buyer seats allowed on this deal; absent means all.
    #[serde(borrow, default)]
    pub wseat: List<Str<'a>, 2>,
}

/// Publisher of a site or app (§3.2.15).
#[derive(Debug, Deserialize)]
pub struct Publisher<'a> {
    /// Exchange-specific publisher id.
    #[serde(borrow)]
    pub id: Option<Str<'a>>,
}

/// Website (§3.2.13).
#[derive(Debug, Deserialize)]
pub struct Site<'a> {
    /// Exchange-specific site id.
    #[serde(borrow)]
    pub id: Option<Str<'a>>,
    /// Site domain.
    #[serde(borrow)]
    pub domain: Option<Str<'a>>,
    /// Content categories of the site.
    #[serde(borrow, default)]
    pub cat: List<Str<'a>, 4>,
    /// Content categories of the current section.
    #[serde(borrow, default)]
    pub sectioncat: List<Str<'a>, 4>,
    /// Content categories of the current page.
    #[serde(borrow, default)]
    pub pagecat: List<Str<'a>, 4>,
    /// The site's publisher.
    #[serde(borrow)]
    pub publisher: Option<Publisher<'a>>,
}

/// Application (§3.2.14).
#[derive(Debug, Deserialize)]
pub struct App<'a> {
    /// Exchange-specific app id.
    #[serde(borrow)]
    pub id: Option<Str<'a>>,
    /// Store id or bundle name, e.g. `com.example.game`.
    #[serde(borrow)]
    pub bundle: Option<Str<'a>>,
    /// App domain.
    #[serde(borrow)]
    pub domain: Option<Str<'a>>,
    /// Content categories of the app.
    #[serde(borrow, default)]
    pub cat: List<Str<'a>, 4>,
    /// Content categories of the current section.
    #[serde(borrow, default)]
    pub sectioncat: List<Str<'a>, 4>,
    /// Content categories of the current page or view.
    #[serde(borrow, default)]
    pub pagecat: List<Str<'a>, 4>,
    /// The app's publisher.
    #[serde(borrow)]
    pub publisher: Option<Publisher<'a>>,
}

/// Location (§3.2.19).
#[derive(Debug, Deserialize)]
pub struct Geo<'a> {
    /// Country, ISO-3166-1 alpha-3.
    #[serde(borrow)]
    pub country: Option<Str<'a>>,
    /// Region, ISO-3166-2 subdivision code.
    #[serde(borrow)]
    pub region: Option<Str<'a>>,
}

/// Device (§3.2.18).
#[derive(Debug, Deserialize)]
pub struct Device<'a> {
    /// Browser user agent.
    #[serde(borrow)]
    pub ua: Option<Str<'a>>,
    /// IPv4 address.
    #[serde(borrow)]
    pub ip: Option<Str<'a>>,
    /// Device location.
    #[serde(borrow)]
    pub geo: Option<Geo<'a>>,
    /// Device type, OpenRTB list 5.21 (1 mobile/tablet, 2 PC, 3 CTV, 4 phone, ...).
    pub devicetype: Option<u8>,
    /// Operating system, e.g. `iOS`, `Android`.
    #[serde(borrow)]
    pub os: Option<Str<'a>>,
    /// Advertising id.
    #[serde(borrow)]
    pub ifa: Option<Str<'a>>,
}

/// User (§3.2.20).
#[derive(Debug, Deserialize)]
pub struct User<'a> {
    /// Exchange-specific user id.
    #[serde(borrow)]
    pub id: Option<Str<'a>>,
    /// Our own user id for this user, as mapped by the exchange.
    #[serde(borrow)]
    pub buyeruid: Option<Str<'a>>,
}

/// Regulations (§3.2.3).
#[derive(Debug, Deserialize)]
pub struct Regs {
    /// 1 when the request falls under COPPA.
    #[serde(default)]
    pub coppa: u8,
    /// 1 when the request falls under GDPR (2.6 moved it here from `ext`).
    pub gdpr: Option<u8>,
}

/// Supply chain source (§3.2.2).
#[derive(Debug, Deserialize)]
pub struct Source<'a> {
    /// Transaction id shared by every exchange in the chain.
    #[serde(borrow)]
    pub tid: Option<Str<'a>>,
    /// The supply chain object; only its presence is read.
    #[serde(borrow)]
    pub schain: Option<RawJson<'a>>,
}

/// The impressions of a request: the first [`MAX_IMPS`] of the `imp` array (the
/// rest are skipped unparsed), read as a slice. Deserialized in place, like the
/// request, so a few KB of impressions are built where they stay.
#[derive(Debug, Default)]
pub struct Imps<'a>(List<Imp<'a>, 4>);

impl<'a> std::ops::Deref for Imps<'a> {
    type Target = [Imp<'a>];
    fn deref(&self) -> &[Imp<'a>] {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Imps<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut imps = Imps::default();
        Imps::deserialize_in_place(deserializer, &mut imps)?;
        Ok(imps)
    }

    fn deserialize_in_place<D: serde::Deserializer<'de>>(
        deserializer: D,
        place: &mut Self,
    ) -> Result<(), D::Error> {
        struct FirstImps<'p, 'a>(&'p mut List<Imp<'a>, 4>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for FirstImps<'_, 'a> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of impressions")
            }
            fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
                while self.0.len() < MAX_IMPS {
                    match seq.next_element()? {
                        Some(imp) => self.0.push(imp),
                        None => return Ok(()),
                    }
                }
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(())
            }
        }
        place.0.clear();
        deserializer.deserialize_seq(FirstImps(&mut place.0))
    }
}

impl<'a> BidRequest<'a> {
    /// Parses a request body; the returned request borrows from `body`.
    pub fn parse(body: &'a [u8]) -> Result<Self, RequestError> {
        let mut request = BidRequest::default();
        BidRequest::parse_into(body, &mut request)?;
        Ok(request)
    }

    /// Parses a request body into `place` (every field is overwritten), for the
    /// bid path: the request is a few KB held inline, and building it in the
    /// caller's slot saves copying it out of the parser layer by layer. On an error
    /// `place` holds a partial request to be discarded.
    pub fn parse_into(body: &'a [u8], place: &mut BidRequest<'a>) -> Result<(), RequestError> {
        // sonic-rs checks UTF-8 in the strings it decodes but not in the values it
        // keeps lazy (`ext`), so the whole body is checked first, in one SIMD pass;
        // parsing the checked text then skips sonic-rs's own per-string checks.
        let text = simdutf8::basic::from_utf8(body)
            .map_err(|_| RequestError::Invalid("body is not UTF-8"))?;
        // Before sonic-rs recurses into it: see `json_depth`.
        json_depth::check(body, json_depth::MAX_DEPTH).map_err(RequestError::TooDeep)?;
        let json = |e: sonic_rs::Error| RequestError::Json(e.to_string());
        let mut de = sonic_rs::Deserializer::from_str(text);
        BidRequest::deserialize_in_place(&mut de, place).map_err(json)?;
        de.end().map_err(json)?;
        place.validate()
    }

    /// Checks what the spec requires beyond JSON shape; [`BidRequest::parse`] calls
    /// it, and so must anyone who deserializes the type by other means.
    pub fn validate(&self) -> Result<(), RequestError> {
        if self.id.is_empty() {
            return Err(RequestError::Invalid("request id is empty"));
        }
        if self.id.len() > MAX_ID_BYTES {
            return Err(RequestError::Invalid("request id is longer than 256 bytes"));
        }
        if self.imp.is_empty() {
            return Err(RequestError::Invalid("request has no imp"));
        }
        for imp in self.imp.iter() {
            if imp.id.is_empty() {
                return Err(RequestError::Invalid("imp id is empty"));
            }
            if imp.id.len() > MAX_ID_BYTES {
                return Err(RequestError::Invalid("imp id is longer than 256 bytes"));
            }
            if !imp.bidfloor.is_finite() || imp.bidfloor < 0.0 {
                return Err(RequestError::Invalid("imp bidfloor is negative"));
            }
        }
        Ok(())
    }

    /// The publisher id, from the site or else the app.
    pub fn publisher_id(&self) -> Option<&str> {
        let publisher = match (&self.site, &self.app) {
            (Some(site), _) => site.publisher.as_ref(),
            (None, Some(app)) => app.publisher.as_ref(),
            (None, None) => None,
        };
        publisher.and_then(|p| p.id.as_deref())
    }

    /// Every content category the site or app declares (site, section and page).
    pub fn content_categories(&self) -> impl Iterator<Item = &str> {
        let (cat, section, page): (&[Str<'a>], &[Str<'a>], &[Str<'a>]) =
            match (&self.site, &self.app) {
                (Some(s), _) => (&s.cat, &s.sectioncat, &s.pagecat),
                (None, Some(a)) => (&a.cat, &a.sectioncat, &a.pagecat),
                (None, None) => (&[], &[], &[]),
            };
        cat.iter().chain(section).chain(page).map(|c| &**c)
    }

    /// The device's country, ISO-3166-1 alpha-3.
    pub fn country(&self) -> Option<&str> {
        self.geo()?.country.as_deref()
    }

    /// The device's region, ISO-3166-2.
    pub fn region(&self) -> Option<&str> {
        self.geo()?.region.as_deref()
    }

    fn geo(&self) -> Option<&Geo<'a>> {
        self.device.as_ref()?.geo.as_ref()
    }

    /// The auction type (§3.2.1 `at`): 2 (second price plus) when absent.
    pub fn auction_type(&self) -> u8 {
        self.at.unwrap_or(2)
    }

    /// The device type (OpenRTB list 5.21).
    pub fn device_type(&self) -> Option<u8> {
        self.device.as_ref()?.devicetype
    }

    /// The device operating system.
    pub fn os(&self) -> Option<&str> {
        self.device.as_ref()?.os.as_deref()
    }
}

/// Why a body is not an acceptable bid request; the text goes back in a 400.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// The body is not JSON of the BidRequest shape.
    #[error("malformed bid request: {0}")]
    Json(String),
    /// The JSON is well-formed but breaks a rule of the spec.
    #[error("invalid bid request: {0}")]
    Invalid(&'static str),
    /// Arrays and objects nest deeper than any real request does.
    #[error("malformed bid request: {0}")]
    TooDeep(TooDeep),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_plain_strings_and_ignores_unknown_fields() {
        let body = br#"{"id":"a1","imp":[{"id":"1","banner":{"w":300,"h":250},"zz":[1,2]}],
            "site":{"publisher":{"id":"pub-1"},"cat":["IAB1"]},"future":{"x":1},"ext":{"k":"v"}}"#;
        let req = BidRequest::parse(body).unwrap();
        assert_eq!(req.id, "a1");
        assert!(req.id.is_borrowed());
        let publisher = req.site.as_ref().unwrap().publisher.as_ref().unwrap();
        assert!(publisher.id.as_ref().unwrap().is_borrowed());
        assert!(
            req.site.as_ref().unwrap().cat[0].is_borrowed(),
            "borrowed inside a Vec too"
        );
        assert_eq!(req.publisher_id(), Some("pub-1"));
        assert_eq!(req.content_categories().collect::<Vec<_>>(), ["IAB1"]);
        assert_eq!(req.ext.unwrap().as_raw_str(), r#"{"k":"v"}"#);
    }

    #[test]
    fn impressions_past_the_bound_are_skipped() {
        let imps: Vec<String> = (0..MAX_IMPS + 10)
            .map(|i| format!(r#"{{"id":"{i}"}}"#))
            .collect();
        let body = format!(r#"{{"id":"r","imp":[{}],"tmax":90}}"#, imps.join(","));
        let req = BidRequest::parse(body.as_bytes()).unwrap();
        assert_eq!(req.imp.len(), MAX_IMPS);
        assert_eq!(&*req.imp[MAX_IMPS - 1].id, (MAX_IMPS - 1).to_string());
        assert_eq!(req.tmax, Some(90), "what follows the array is still read");
        // Skipped impressions are still checked as JSON.
        let bad = body.replace(&format!(r#"{{"id":"{}"}}"#, MAX_IMPS + 5), r#"{"id":}"#);
        assert!(BidRequest::parse(bad.as_bytes()).is_err());
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let req = BidRequest::parse(br#"{"id":"a\"1","imp":[{"id":"1"}]}"#).unwrap();
        assert_eq!(req.id, "a\"1");
        assert!(!req.id.is_borrowed());
    }

    #[test]
    fn rejects_missing_imp_and_empty_ids() {
        assert_eq!(
            BidRequest::parse(br#"{"id":"a"}"#).unwrap_err(),
            RequestError::Invalid("request has no imp")
        );
        assert_eq!(
            BidRequest::parse(br#"{"id":"a","imp":[{"id":""}]}"#).unwrap_err(),
            RequestError::Invalid("imp id is empty")
        );
        assert!(matches!(
            BidRequest::parse(br#"{"imp":[{"id":"1"}]}"#).unwrap_err(),
            RequestError::Json(_)
        ));
        assert!(matches!(
            BidRequest::parse(b"{\"id\":").unwrap_err(),
            RequestError::Json(_)
        ));
    }

    #[test]
    fn invalid_utf8_is_refused_even_inside_lazy_ext() {
        let mut body = br#"{"id":"a","imp":[{"id":"1","ext":{"k":"XX"}}]}"#.to_vec();
        let at = body.windows(2).position(|w| w == b"XX").unwrap();
        body[at] = 0xff;
        body[at + 1] = 0xfe;
        assert_eq!(
            BidRequest::parse(&body).unwrap_err(),
            RequestError::Invalid("body is not UTF-8")
        );
    }

    #[test]
    fn parsing_into_a_used_slot_leaves_nothing_of_the_previous_request() {
        let full = br#"{"id":"a","tmax":90,"imp":[{"id":"1","bidfloor":2.5},{"id":"2"}],
            "site":{"id":"s","cat":["IAB1"]},"bcat":["IAB25"],"cur":["EUR"],"test":1}"#;
        let small = br#"{"id":"b","imp":[{"id":"9"}]}"#;
        let mut place = BidRequest::default();
        BidRequest::parse_into(full, &mut place).unwrap();
        assert_eq!((place.imp.len(), place.tmax), (2, Some(90)));
        BidRequest::parse_into(small, &mut place).unwrap();
        assert_eq!(&*place.id, "b");
        assert_eq!(place.imp.len(), 1);
        assert_eq!((&*place.imp[0].id, place.imp[0].bidfloor), ("9", 0.0));
        assert!(place.site.is_none() && place.bcat.is_empty() && place.cur.is_empty());
        assert_eq!((place.tmax, place.test), (None, 0));
        assert!(BidRequest::parse_into(b"{\"id\":\"c\"}", &mut place).is_err());
    }

    #[test]
    fn reads_app_device_and_deals() {
        let body = br#"{"id":"r","imp":[{"id":"1","video":{"mimes":["video/mp4"],"protocols":[2,3]},
            "pmp":{"private_auction":1,"deals":[{"id":"d1","bidfloor":4.5,"bidfloorcur":"EUR"}]}}],
            "app":{"bundle":"com.x","publisher":{"id":"p9"}},
            "device":{"geo":{"country":"USA","region":"US-CA"},"devicetype":4,"os":"iOS"},
            "regs":{"coppa":1,"gdpr":0},"source":{"schain":{"ver":"1.0"}},"tmax":120,"cur":["EUR"]}"#;
        let req = BidRequest::parse(body).unwrap();
        assert_eq!(req.publisher_id(), Some("p9"));
        assert_eq!(req.country(), Some("USA"));
        assert_eq!(req.region(), Some("US-CA"));
        assert_eq!(req.device_type(), Some(4));
        assert_eq!(req.os(), Some("iOS"));
        assert_eq!(req.tmax, Some(120));
        let pmp = req.imp[0].pmp.as_ref().unwrap();
        assert_eq!(pmp.private_auction, 1);
        assert_eq!(pmp.deals[0].bidfloorcur.as_deref(), Some("EUR"));
        assert!(req.source.unwrap().schain.is_some());
        assert_eq!(req.regs.unwrap().coppa, 1);
    }
}
