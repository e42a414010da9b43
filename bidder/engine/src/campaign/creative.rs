//! The ads a campaign shows: banner, video, audio or native, with what an
//! exchange checks before it takes one (size, duration, protocol, attributes,
//! language, native assets).

use serde::{Deserialize, Serialize};

/// One ad. Exactly one of `banner`, `video`, `audio` and `native` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Creative {
    /// Creative id, sent in `crid` and `adid`.
    pub id: String,
    /// A display ad of a fixed size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<BannerSpec>,
    /// A video ad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoSpec>,
    /// An audio ad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioSpec>,
    /// A native ad: its assets; the bidder writes the Native 1.2 response
    /// markup (`adm`) for each request from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeSpec>,
    /// Markup served on a win; `${AUCTION_PRICE}` and other macros are left to
    /// the exchange. Not for native creatives.
    #[serde(default)]
    pub adm: Option<String>,
    /// Win notice URL that returns the markup, when `adm` is not inline.
    #[serde(default)]
    pub nurl: Option<String>,
    /// Whether the creative serves over HTTPS only (required by `imp.secure = 1`).
    #[serde(default = "default_secure")]
    pub secure: bool,
    /// Creative attributes (OpenRTB 2.6 / AdCOM list Creative Attributes, 1-17,
    /// e.g. 6 in-banner video auto-play, 16 skippable): sent in the bid's `attr`;
    /// a slot whose `battr` lists one of them is not bid on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attr: Vec<u16>,
    /// Language of the ad, ISO-639-1 (`en`): sent in the bid's `language`; a
    /// request whose `wlang` does not list it is not bid on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

fn default_secure() -> bool {
    true
}

/// A banner's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BannerSpec {
    /// Width in pixels.
    pub w: u32,
    /// Height in pixels.
    pub h: u32,
}

/// A video ad's properties, matched against `imp.video`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VideoSpec {
    /// MIME type of the media, e.g. `video/mp4`.
    pub mime: String,
    /// Duration in seconds, sent in the bid's `dur`.
    pub duration_secs: u32,
    /// Protocol of the markup (list Creative Subtypes; 2 = VAST 2.0, 3 = VAST 3.0,
    /// 7 = VAST 4.0), sent in the bid's `protocol`.
    pub protocol: u8,
    /// Width in pixels, sent in the bid.
    #[serde(default)]
    pub w: Option<u32>,
    /// Height in pixels, sent in the bid.
    #[serde(default)]
    pub h: Option<u32>,
    /// 1 linear (in-stream, the default), 2 non-linear (overlay); a slot that
    /// states `linearity` takes only its kind.
    #[serde(default = "default_linearity")]
    pub linearity: u8,
}

fn default_linearity() -> u8 {
    1
}

/// An audio ad's properties, matched against `imp.audio`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AudioSpec {
    /// MIME type of the media, e.g. `audio/mp4`.
    pub mime: String,
    /// Duration in seconds, sent in the bid's `dur`.
    pub duration_secs: u32,
    /// Protocol of the markup (list Creative Subtypes; DAAST 1.0 is 9, VAST 4
    /// audio 7), sent in the bid's `protocol`.
    pub protocol: u8,
}

/// A native ad's assets (IAB Native Ads 1.2 §5): what the response may offer for
/// each asset a request asks for. An asset the request requires that the
/// creative lacks (or that does not fit its size or length) keeps the creative
/// out of that impression.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NativeSpec {
    /// The headline; fits a title asset whose `len` is at least its length in
    /// characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Images, each of one type (1 icon, 3 main image).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<NativeImage>,
    /// Data fields (sponsor name, description, rating, call to action, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<NativeData>,
    /// A video, as a VAST tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<NativeVideo>,
    /// Where a click leads (`link.url`).
    pub link: String,
    /// Click trackers fired by the exchange (`link.clicktrackers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clicktrackers: Vec<String>,
    /// Impression pixels: sent as image event trackers where the request offers
    /// them, else as `imptrackers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imptrackers: Vec<String>,
}

impl NativeSpec {
    /// Checks the assets; errors name the field under `native.`.
    pub(super) fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        let http = super::validate::is_http_url;
        if !http(&self.link) {
            return Err(("native.link", "must be an http(s) URL"));
        }
        if self.title.is_none()
            && self.images.is_empty()
            && self.data.is_empty()
            && self.video.is_none()
        {
            return Err((
                "native",
                "needs at least one asset (title, images, data, video)",
            ));
        }
        if self.title.as_deref() == Some("") {
            return Err(("native.title", "must not be empty when set"));
        }
        for image in &self.images {
            // Native 1.2 list Image Asset Types: 2 (logo) was merged into 1.
            if !matches!(image.kind, 1 | 3 | 500..) {
                return Err(("native.images.type", "must be 1 (icon), 3 (main) or 500+"));
            }
            if !http(&image.url) || image.w == 0 || image.h == 0 {
                return Err(("native.images", "need an http(s) url and positive w and h"));
            }
        }
        // Native 1.2 list Data Asset Types: 1-12, 500+ exchange-specific.
        let bad_data = |d: &NativeData| !matches!(d.kind, 1..=12 | 500..) || d.value.is_empty();
        if self.data.iter().any(bad_data) {
            return Err((
                "native.data",
                "need a type (1 to 12 or 500+) and a non-empty value",
            ));
        }
        if let Some(video) = &self.video
            && (video.vasttag.is_empty() || !video.mime.contains('/') || video.duration_secs == 0)
        {
            return Err((
                "native.video",
                "needs a vasttag, a MIME type and a positive duration",
            ));
        }
        let trackers = self.clicktrackers.iter().chain(&self.imptrackers);
        if trackers.into_iter().any(|t| !http(t)) {
            return Err(("native.clicktrackers", "trackers must be http(s) URLs"));
        }
        Ok(())
    }
}

/// A native image asset (Native 1.2 §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NativeImage {
    /// Image type (Native 1.2 list Image Asset Types): 1 icon, 3 main image.
    #[serde(rename = "type")]
    pub kind: u16,
    /// Image URL.
    pub url: String,
    /// Width in pixels.
    pub w: u32,
    /// Height in pixels.
    pub h: u32,
}

/// A native data asset (Native 1.2 §5.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NativeData {
    /// Data type (Native 1.2 list Data Asset Types): 1 sponsored, 2 desc,
    /// 3 rating, 6 price, 11 displayurl, 12 ctatext, ...
    #[serde(rename = "type")]
    pub kind: u16,
    /// The text; fits a data asset whose `len` is at least its length in
    /// characters.
    pub value: String,
}

/// A native video asset (Native 1.2 §5.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NativeVideo {
    /// The VAST document.
    pub vasttag: String,
    /// MIME type of the media in it.
    pub mime: String,
    /// Duration in seconds.
    pub duration_secs: u32,
    /// Protocol of the VAST (list Creative Subtypes).
    pub protocol: u8,
}
