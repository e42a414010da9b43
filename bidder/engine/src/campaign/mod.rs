//! The campaign model: what an advertiser buys, written by people (a campaigns file)
//! or by the control plane (DynamoDB items), validated the same way for both.
//!
//! Prices are decimal CPM in the campaign's currency; budgets are decimal amounts in
//! the same currency. The snapshot module compiles campaigns into indexed form.

mod load;
mod validate;

use serde::{Deserialize, Serialize};

pub use crate::budget::Pacing;

pub use load::{FileFormat, parse_campaign, parse_campaigns};
pub use validate::CampaignError;

/// One campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Unique id; bids name it in `cid`.
    pub id: String,
    /// Monotonic version: a change applies only over a lower version.
    #[serde(default)]
    pub version: u64,
    /// Paused campaigns are kept but never bid.
    #[serde(default)]
    pub status: CampaignStatus,
    /// The advertiser account that owns the campaign: the control plane scopes
    /// advertiser API keys by it. Not used in bidding; optional in files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertiser_id: Option<String>,
    /// The advertiser's domain, sent in `adomain` and checked against `badv`.
    pub advertiser_domain: String,
    /// IAB content categories of the ads, sent in `cat` and checked against `bcat`.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Store id of the advertised app, if any, checked against `bapp`.
    #[serde(default)]
    pub app_bundle: Option<String>,
    /// The ads; at least one.
    pub creatives: Vec<Creative>,
    /// Where and to whom the campaign bids; empty lists mean "any".
    #[serde(default)]
    pub targeting: Targeting,
    /// How much to bid.
    pub bidding: Bidding,
    /// How much may be spent.
    #[serde(default)]
    pub budget: Budget,
    /// How often one user may see the campaign (enforced by the frequency-cap service).
    #[serde(default)]
    pub frequency_cap: Option<FrequencyCap>,
}

/// Whether a campaign bids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Bids when targeting and budget allow.
    #[default]
    Active,
    /// Never bids.
    Paused,
}

/// One ad. Exactly one of `banner`, `video` and `native` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Creative {
    /// Creative id, sent in `crid` and `adid`.
    pub id: String,
    /// A display ad of a fixed size.
    #[serde(default)]
    pub banner: Option<BannerSpec>,
    /// A video ad.
    #[serde(default)]
    pub video: Option<VideoSpec>,
    /// A native ad (its `adm` is a native response document).
    #[serde(default)]
    pub native: Option<NativeSpec>,
    /// Markup served on a win; `${AUCTION_PRICE}` and other macros are left to the exchange.
    #[serde(default)]
    pub adm: Option<String>,
    /// Win notice URL that returns the markup, when `adm` is not inline.
    #[serde(default)]
    pub nurl: Option<String>,
    /// Whether the creative serves over HTTPS only (required by `imp.secure = 1`).
    #[serde(default = "default_secure")]
    pub secure: bool,
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
    /// Duration in seconds.
    pub duration_secs: u32,
    /// Protocol of the markup (OpenRTB list 5.8; 2 = VAST 2.0, 3 = VAST 3.0, 7 = VAST 4.0).
    pub protocol: u8,
    /// Width in pixels, sent in the bid.
    #[serde(default)]
    pub w: Option<u32>,
    /// Height in pixels, sent in the bid.
    #[serde(default)]
    pub h: Option<u32>,
}

/// A native ad; it fits any native impression.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NativeSpec {}

/// Targeting rules. Every list that is empty means "any"; every list that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Targeting {
    /// Countries, ISO-3166-1 alpha-3 (`USA`, `DEU`), as OpenRTB sends them.
    pub countries: Vec<String>,
    /// Regions, ISO-3166-2 (`US-CA`).
    pub regions: Vec<String>,
    /// Device types, OpenRTB list 5.21 (1-7).
    pub device_types: Vec<u8>,
    /// Operating systems, compared case-insensitively (`iOS`, `Android`).
    pub os: Vec<String>,
    /// Site/app content categories of which at least one must be present.
    pub categories_include: Vec<String>,
    /// Site/app content categories of which none may be present.
    pub categories_exclude: Vec<String>,
    /// Publisher ids allowed.
    pub publishers_allow: Vec<String>,
    /// Publisher ids refused.
    pub publishers_deny: Vec<String>,
    /// Deal ids; when set, the campaign only bids through these deals.
    pub deal_ids: Vec<String>,
    /// Hours of the day (UTC, 0-23) in which the campaign bids.
    pub hours_utc: Vec<u8>,
}

/// Bid pricing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Bidding {
    /// Highest price ever bid, CPM.
    pub max_cpm: f64,
    /// Price bid when the floor is below it, CPM; raised up to `max_cpm` to meet a floor.
    pub base_bid: f64,
    /// Currency of prices and budgets (ISO-4217).
    #[serde(default = "default_currency")]
    pub currency: String,
}

fn default_currency() -> String {
    "USD".to_owned()
}

/// Spend limits in the campaign's currency; absent means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Spend allowed per budget day (midnight to midnight in `timezone`).
    #[serde(default)]
    pub daily: Option<f64>,
    /// Spend allowed over the campaign's life.
    #[serde(default)]
    pub total: Option<f64>,
    /// IANA time zone of the budget day (`America/New_York`); UTC when absent.
    #[serde(default)]
    pub timezone: Option<String>,
    /// How the daily budget is spread over the day: `even` (the default) or `asap`.
    #[serde(default)]
    pub pacing: Pacing,
}

/// At most `max_impressions` impressions per user per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FrequencyCap {
    /// Impressions allowed in one window.
    pub max_impressions: u32,
    /// Window length in seconds.
    pub window_secs: u64,
}
