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
pub use super::schain::{SupplyChain, SupplyChainNode};
pub use super::user_data::{Data, DataExt, Segment};
use crate::json_in;

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
                    // Read each impression where it stays (one is about 1.4 KB):
                    // an empty slot first, dropped again after the last one.
                    self.0.push(Imp::default());
                    let slot = self.0.last_mut().expect("just pushed");
                    if seq.next_element_seed(InPlace(slot))?.is_none() {
                        self.0.pop();
                        return Ok(());
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

/// Reads a value into an existing slot (serde's `deserialize_in_place` as a seed).
struct InPlace<'p, T>(&'p mut T);

impl<'de, T: Deserialize<'de>> serde::de::DeserializeSeed<'de> for InPlace<'_, T> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        T::deserialize_in_place(deserializer, self.0)
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
        // One SIMD pass checks the whole body is UTF-8, so the reader can slice
        // and borrow it freely; the reader checks every value it reads whole,
        // what it skips as far as finding its end needs, and the nesting before it
        // starts (see `json_in`).
        let text = simdutf8::basic::from_utf8(body)
            .map_err(|_| RequestError::Invalid("body is not UTF-8"))?;
        json_in::from_str_into(text, place).map_err(|e| RequestError::Json(e.to_string()))?;
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
            // Fail closed: a COPPA value other than 0 is taken as 1.
            coppa: regs.is_some_and(|r| r.coppa != 0),
            // GDPR applies when the flag says so, or when a GPP section in force
            // is the EU TCF v2 one (section id 2, IAB GPP), whatever the flag.
            gdpr: if regs.is_some_and(|r| r.gpp_sid.contains(&2)) {
                Some(true)
            } else {
                regs.and_then(|r| r.gdpr)
                    .or_else(|| regs_ext.and_then(|e| e.gdpr))
                    .map(|g| g == 1)
            },
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

    /// The supply chain, from `source.schain` or else the 2.5
    /// `source.ext.schain`.
    pub fn schain(&self) -> Option<&SupplyChain<'a>> {
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
    /// The body is not JSON of the BidRequest shape, or nests arrays and
    /// objects deeper than any real request does (`json_depth::MAX_DEPTH`).
    #[error("malformed bid request: {0}")]
    Json(String),
    /// The JSON is well-formed but breaks a rule of the spec.
    #[error("invalid bid request: {0}")]
    Invalid(&'static str),
}

#[cfg(test)]
mod tests;
