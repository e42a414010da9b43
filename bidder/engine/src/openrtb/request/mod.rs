//! OpenRTB 2.6 `BidRequest` (§3.2.1), borrowed from the request buffer.
//!
//! Strings are [`Str`]: they point into the body the exchange sent and only
//! allocate when the JSON string holds escapes. Fields the bidder does not use are
//! ignored; `ext` objects are kept as lazy, unparsed JSON. Every field is read
//! tolerantly (`null` is absent, numbers may come as strings, ... see `lenient`),
//! and a few are normalized after parsing (alpha-2 countries); docs/openrtb.md
//! lists each field and what Tern does with it.

use serde::Deserialize;

pub use super::borrowed::{List, Str};
pub use super::context::{
    App, Device, Dooh, Geo, Privacy, Publisher, Regs, RegsExt, Site, Source, SourceExt, User,
    UserExt,
};
pub use super::imp::{Audio, Banner, Deal, Format, Imp, Native, Pmp, Qty, TimedSlot, Video};
use super::lenient;
pub use super::native::{
    AssetRequest, DataRequest, EventTrackerRequest, ImageRequest, NativeRequest, PooledRequest,
    TitleRequest, VideoAssetRequest,
};
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
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub id: Str<'a>,
    /// Impressions offered; at least one is required. At most [`MAX_IMPS`] are read.
    #[serde(borrow, default)]
    pub imp: Imps<'a>,
    /// The website, when the ad shows on a site.
    #[serde(borrow, default)]
    pub site: Option<Site<'a>>,
    /// The app, when the ad shows in an app.
    #[serde(borrow, default)]
    pub app: Option<App<'a>>,
    /// The screen, when the ad shows out of home (2.6).
    #[serde(borrow, default)]
    pub dooh: Option<Dooh<'a>>,
    /// The user's device.
    #[serde(borrow, default)]
    pub device: Option<Device<'a>>,
    /// The user.
    #[serde(borrow, default)]
    pub user: Option<User<'a>>,
    /// 1 when this is a test request that will not be billed.
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub test: u8,
    /// Milliseconds the exchange waits for our answer, including the network.
    #[serde(default, deserialize_with = "lenient::int")]
    pub tmax: Option<u64>,
    /// Auction type (§3.2.1): 1 first price, 2 second price plus, 3 and up
    /// exchange-specific rules; absent means 2. Recorded with each bid.
    #[serde(default, deserialize_with = "lenient::recorded_int")]
    pub at: Option<u8>,
    /// Buyer seats allowed to bid; absent means all.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub wseat: List<Str<'a>, 2>,
    /// Buyer seats blocked from bidding.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub bseat: List<Str<'a>, 2>,
    /// Currencies the exchange accepts for bids (ISO-4217); absent means USD.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub cur: List<Str<'a>, 2>,
    /// Creative languages allowed (ISO-639-1); absent means any.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub wlang: List<Str<'a>, 2>,
    /// Taxonomy of `bcat` (list: Category Taxonomies); 1, IAB Content Category
    /// 1.0, when absent.
    #[serde(default, deserialize_with = "lenient::int")]
    pub cattax: Option<u16>,
    /// Blocked advertiser content categories, in the taxonomy of `cattax`.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub bcat: List<Str<'a>, 8>,
    /// Blocked advertiser domains.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub badv: List<Str<'a>, 4>,
    /// Blocked advertised applications (store ids / bundles).
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub bapp: List<Str<'a>, 4>,
    /// Regulations in force for this request.
    #[serde(borrow, default)]
    pub regs: Option<Regs<'a>>,
    /// Where the request came from (supply chain).
    #[serde(borrow, default)]
    pub source: Option<Source<'a>>,
    /// Exchange-specific extensions, left unparsed.
    #[serde(borrow, default)]
    pub ext: Option<RawJson<'a>>,
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
            fn visit_unit<E>(self) -> Result<(), E> {
                // `"imp": null`: no impressions, refused by `validate`.
                Ok(())
            }
        }
        place.0.clear();
        deserializer.deserialize_any(FirstImps(&mut place.0))
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
        place.normalize();
        place.validate()
    }

    /// Rewrites deviations whose meaning is clear into the spec's form, so the
    /// rest of the engine reads one form: an ISO-3166-1 alpha-2 country (`US`,
    /// which 2.x does not allow but exchanges send) becomes its alpha-3 code.
    pub fn normalize(&mut self) {
        let geo = self.device.as_mut().and_then(|d| d.geo.as_mut());
        if let Some(country) = geo.and_then(|g| g.country.as_mut())
            && let Some(alpha3) = alpha3_of(country)
        {
            *country = Str::borrowed(alpha3);
        }
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
            let deals = imp.pmp.iter().flat_map(|p| p.deals.iter());
            if deals.clone().any(|d| d.bidfloor < 0.0) {
                return Err(RequestError::Invalid("deal bidfloor is negative"));
            }
            let per_second = [
                imp.video.as_ref().and_then(|v| v.mincpmpersec),
                imp.audio.as_ref().and_then(|a| a.mincpmpersec),
            ];
            let mut per_second = per_second.into_iter().chain(deals.map(|d| d.mincpmpersec));
            if per_second.any(|p| p.is_some_and(|p| p < 0.0)) {
                return Err(RequestError::Invalid("mincpmpersec is negative"));
            }
        }
        if self.has_duplicate_imp_ids() {
            // Two bids would carry one `impid`, and the second billing notice
            // would be refused as a repeat (prebid-server refuses these too).
            return Err(RequestError::Invalid("imp ids are not unique"));
        }
        Ok(())
    }

    fn has_duplicate_imp_ids(&self) -> bool {
        let imps = &self.imp;
        if imps.len() <= 16 {
            return imps
                .iter()
                .enumerate()
                .any(|(i, imp)| imps[..i].iter().any(|seen| seen.id == imp.id));
        }
        let mut ids: Vec<&str> = imps.iter().map(|imp| &*imp.id).collect();
        ids.sort_unstable();
        ids.windows(2).any(|pair| pair[0] == pair[1])
    }

    /// The publisher id, from the site, the app or the DOOH screen.
    pub fn publisher_id(&self) -> Option<&str> {
        let publisher = match (&self.site, &self.app, &self.dooh) {
            (Some(site), _, _) => site.publisher.as_ref(),
            (None, Some(app), _) => app.publisher.as_ref(),
            (None, None, Some(dooh)) => dooh.publisher.as_ref(),
            (None, None, None) => None,
        };
        publisher.and_then(|p| p.id.as_deref())
    }

    /// Every content category the site or app declares (site, section and page),
    /// in the taxonomy [`BidRequest::content_cattax`] names.
    pub fn content_categories(&self) -> impl Iterator<Item = &str> {
        let (cat, section, page): (&[Str<'a>], &[Str<'a>], &[Str<'a>]) =
            match (&self.site, &self.app) {
                (Some(s), _) => (&s.cat, &s.sectioncat, &s.pagecat),
                (None, Some(a)) => (&a.cat, &a.sectioncat, &a.pagecat),
                (None, None) => (&[], &[], &[]),
            };
        cat.iter().chain(section).chain(page).map(|c| &**c)
    }

    /// The taxonomy of the site's or app's categories: 1 (IAB Content Category
    /// 1.0) unless `cattax` says otherwise.
    pub fn content_cattax(&self) -> u16 {
        let cattax = match (&self.site, &self.app) {
            (Some(s), _) => s.cattax,
            (None, Some(a)) => a.cattax,
            (None, None) => None,
        };
        cattax.unwrap_or(1)
    }

    /// The taxonomy of `bcat`: 1 (IAB Content Category 1.0) unless `cattax` says
    /// otherwise.
    pub fn bcat_cattax(&self) -> u16 {
        self.cattax.unwrap_or(1)
    }

    /// The privacy signals, each from its 2.6 location or else its 2.5 one.
    pub fn privacy(&self) -> Privacy<'_> {
        let regs = self.regs.as_ref();
        let regs_ext = regs.and_then(|r| r.ext.as_ref());
        let user = self.user.as_ref();
        let device = self.device.as_ref();
        Privacy {
            coppa: regs.is_some_and(|r| r.coppa == 1),
            gdpr: regs
                .and_then(|r| r.gdpr)
                .or_else(|| regs_ext.and_then(|e| e.gdpr))
                .map(|g| g == 1),
            consent: user
                .and_then(|u| u.consent.as_deref())
                .or_else(|| user?.ext.as_ref()?.consent.as_deref()),
            us_privacy: regs
                .and_then(|r| r.us_privacy.as_deref())
                .or_else(|| regs_ext?.us_privacy.as_deref()),
            gpp: regs.and_then(|r| r.gpp.as_deref()),
            gpp_sid: regs.map_or(&[], |r| &r.gpp_sid),
            limit_tracking: device.is_some_and(|d| d.lmt == Some(1) || d.dnt == Some(1)),
        }
    }

    /// The supply chain object, from `source.schain` or else the 2.5
    /// `source.ext.schain`; unparsed.
    pub fn schain(&self) -> Option<&RawJson<'a>> {
        let source = self.source.as_ref()?;
        source
            .schain
            .as_ref()
            .or_else(|| source.ext.as_ref()?.schain.as_ref())
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

/// The alpha-3 code of an ISO-3166-1 alpha-2 country code, any case.
fn alpha3_of(code: &str) -> Option<&'static str> {
    let &[a, b] = code.as_bytes() else {
        return None;
    };
    let upper = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
    let upper = std::str::from_utf8(&upper).ok()?;
    isocountry::CountryCode::for_alpha2(upper)
        .ok()
        .map(|c| c.alpha3())
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

    #[test]
    fn null_means_absent_at_any_depth() {
        let body = br#"{"id":"r","imp":[{"id":"1","bidfloor":null,"bidfloorcur":null,"secure":null,
            "banner":{"w":null,"h":null,"format":null,"battr":null},"pmp":null,"ext":null,
            "video":{"mimes":null,"protocols":null,"minduration":null,"rqddurs":null,"podid":null},
            "native":{"request":null,"ver":null}}],
            "site":{"cat":null,"publisher":null,"cattax":null},"app":null,"device":{"geo":null,"ua":null},
            "user":{"id":null,"ext":null},"bseat":null,"wseat":null,"cur":null,"bcat":null,"badv":null,
            "bapp":null,"regs":{"coppa":null,"gdpr":null,"ext":null},"source":{"schain":null},
            "tmax":null,"test":null,"at":null,"ext":null}"#;
        let req = BidRequest::parse(body).unwrap();
        let imp = &req.imp[0];
        assert_eq!((imp.bidfloor, imp.secure), (0.0, None));
        assert!(imp.video.as_ref().unwrap().mimes.is_empty());
        assert!(req.bseat.is_empty() && req.tmax.is_none() && req.test == 0);
        assert_eq!(req.privacy(), Privacy::default());
    }

    #[test]
    fn duplicate_imp_ids_are_refused_in_short_and_long_requests() {
        let dup = br#"{"id":"r","imp":[{"id":"1"},{"id":"2"},{"id":"1"}]}"#;
        assert_eq!(
            BidRequest::parse(dup).unwrap_err(),
            RequestError::Invalid("imp ids are not unique")
        );
        let mut imps: Vec<String> = (0..40).map(|i| format!(r#"{{"id":"{i}"}}"#)).collect();
        let unique = format!(r#"{{"id":"r","imp":[{}]}}"#, imps.join(","));
        assert!(BidRequest::parse(unique.as_bytes()).is_ok());
        imps.push(r#"{"id":"7"}"#.to_owned());
        let long = format!(r#"{{"id":"r","imp":[{}]}}"#, imps.join(","));
        assert!(BidRequest::parse(long.as_bytes()).is_err());
        // Numbers and strings with the same text are the same id.
        let mixed = br#"{"id":"r","imp":[{"id":1},{"id":"1"}]}"#;
        assert!(BidRequest::parse(mixed).is_err());
    }

    #[test]
    fn alpha_2_countries_read_as_alpha_3() {
        for (sent, read) in [("US", "USA"), ("de", "DEU"), ("USA", "USA"), ("XX", "XX")] {
            let body = format!(
                r#"{{"id":"r","imp":[{{"id":"1"}}],"device":{{"geo":{{"country":"{sent}"}}}}}}"#
            );
            assert_eq!(
                BidRequest::parse(body.as_bytes()).unwrap().country(),
                Some(read)
            );
        }
    }

    #[test]
    fn privacy_and_schain_fall_back_to_their_2_5_locations() {
        let old = br#"{"id":"r","imp":[{"id":"1"}],"regs":{"ext":{"gdpr":1,"us_privacy":"1YNN"}},
            "user":{"ext":{"consent":"CO-old","eids":[{"source":"x"}]}},
            "source":{"ext":{"schain":{"ver":"1.0","complete":1,"nodes":[]}}},"device":{"lmt":1}}"#;
        let req = BidRequest::parse(old).unwrap();
        let privacy = req.privacy();
        assert_eq!(privacy.gdpr, Some(true));
        assert_eq!(privacy.consent, Some("CO-old"));
        assert_eq!(privacy.us_privacy, Some("1YNN"));
        assert!(privacy.limit_tracking);
        assert!(req.schain().unwrap().as_raw_str().contains("complete"));
        let both = br#"{"id":"r","imp":[{"id":"1"}],"regs":{"gdpr":0,"us_privacy":"1NNN",
            "gpp":"DBABMA~x","gpp_sid":[2,6],"ext":{"gdpr":1,"us_privacy":"1YNN"}},
            "user":{"consent":"CO-new","ext":{"consent":"CO-old"}},
            "source":{"schain":{"ver":"1.0"},"ext":{"schain":{"ver":"old"}}}}"#;
        let req = BidRequest::parse(both).unwrap();
        let privacy = req.privacy();
        assert_eq!(privacy.gdpr, Some(false), "the 2.6 field wins");
        assert_eq!(privacy.consent, Some("CO-new"));
        assert_eq!(privacy.us_privacy, Some("1NNN"));
        assert_eq!(
            (privacy.gpp, privacy.gpp_sid),
            (Some("DBABMA~x"), &[2, 6][..])
        );
        assert_eq!(req.schain().unwrap().as_raw_str(), r#"{"ver":"1.0"}"#);
    }

    #[test]
    fn strings_for_numbers_and_single_values_for_lists_are_read() {
        let body = br#"{"id":"r","imp":[{"id":"1","bidfloor":"0.5","secure":true,
            "banner":{"w":"300","h":250.0,"format":{"w":728,"h":90}}}],
            "bcat":"IAB25,IAB26","cur":"EUR","tmax":"120","at":"1"}"#;
        let req = BidRequest::parse(body).unwrap();
        let imp = &req.imp[0];
        assert_eq!((imp.bidfloor, imp.secure), (0.5, Some(1)));
        let banner = imp.banner.as_ref().unwrap();
        assert_eq!((banner.w, banner.h), (Some(300), Some(250)));
        assert_eq!(&*banner.format, &[Format { w: 728, h: 90 }]);
        assert_eq!(req.bcat.len(), 2);
        assert_eq!((req.tmax, req.auction_type()), (Some(120), 1));
        assert_eq!(&*req.cur[0], "EUR");
    }

    #[test]
    fn negative_deal_floors_and_floors_per_second_are_refused() {
        for (body, why) in [
            (
                r#"{"id":"r","imp":[{"id":"1","pmp":{"deals":[{"id":"d","bidfloor":-5}]}}]}"#,
                "deal bidfloor is negative",
            ),
            (
                r#"{"id":"r","imp":[{"id":"1","video":{"mincpmpersec":-1}}]}"#,
                "mincpmpersec is negative",
            ),
            (
                r#"{"id":"r","imp":[{"id":"1","pmp":{"deals":[{"id":"d","mincpmpersec":-0.1}]}}]}"#,
                "mincpmpersec is negative",
            ),
        ] {
            assert_eq!(
                BidRequest::parse(body.as_bytes()).unwrap_err(),
                RequestError::Invalid(why)
            );
        }
    }

    #[test]
    fn fields_only_recorded_never_cost_the_request() {
        let body = br#"{"id":"r","imp":[{"id":"1","instl":"yes","banner":{"w":300,"h":250}}],
            "user":{"consent":{"v":2},"ext":"x"},"regs":{"gdpr":2,"us_privacy":7,"gpp":[1],
            "ext":{"gdpr":"yes","us_privacy":{}}},"device":{"dnt":-1,"lmt":1.5,"language":["en"]},
            "source":{"ext":[1,2]},"at":"first"}"#;
        let req = BidRequest::parse(body).unwrap();
        let privacy = req.privacy();
        assert_eq!(privacy.gdpr, None, "2 is neither yes nor no");
        assert_eq!(privacy.consent, None);
        assert_eq!(privacy.us_privacy, Some("7"));
        assert_eq!((privacy.gpp, privacy.limit_tracking), (None, false));
        assert_eq!((req.at, req.imp[0].instl), (None, None));
        let regs_ext =
            br#"{"id":"r","imp":[{"id":"1"}],"regs":{"ext":{"gdpr":"1","x":{"y":[1]}}}}"#;
        assert_eq!(
            BidRequest::parse(regs_ext).unwrap().privacy().gdpr,
            Some(true)
        );
    }
}
