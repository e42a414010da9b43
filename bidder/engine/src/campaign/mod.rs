//! The campaign model: what an advertiser buys, written by people (a campaigns file)
//! or by the control plane (DynamoDB items), validated the same way for both.
//!
//! Prices are decimal CPM in the campaign's currency; budgets are decimal amounts in
//! the same currency. The snapshot module compiles campaigns into indexed form.

mod creative;
mod load;
mod screening;
mod segments;
mod validate;

use serde::{Deserialize, Serialize};

pub use crate::budget::Pacing;

pub use creative::{
    AudioSpec, BannerSpec, Creative, NativeData, NativeImage, NativeSpec, NativeVideo, VideoSpec,
};
pub use load::{FileFormat, parse_campaign, parse_campaigns};
pub use screening::Screening;
pub use segments::{
    MAX_SEGMENT_ID_BYTES, MAX_SEGMENT_RULES, SegmentRef, Segments, is_segment_text,
};
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
    /// Categories of the ads in IAB Content Category 1.0 (`IAB18-3`), sent in
    /// `cat` and checked against `bcat` when the request's `cattax` is 1 (the
    /// default).
    #[serde(default)]
    pub categories: Vec<String>,
    /// The ads' categories in other taxonomies, for exchanges whose `bcat` uses
    /// one (OpenRTB 2.6 `cattax`): without an entry for the request's taxonomy,
    /// a campaign cannot show it is not blocked, so it does not bid where `bcat`
    /// is set in that taxonomy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category_taxonomies: Vec<TaxonomyCategories>,
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
    /// Which invalid-traffic and supply-chain findings the campaign refuses
    /// (`docs/ivt.md`); every check on by default.
    #[serde(default, skip_serializing_if = "Screening::is_default")]
    pub screening: Screening,
    /// Which user segments the campaign must or must not reach
    /// (`docs/segments.md`); none by default.
    #[serde(default, skip_serializing_if = "Segments::is_empty")]
    pub segments: Segments,
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

/// Targeting rules. Every list that is empty means "any"; every list that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Targeting {
    /// Countries, ISO-3166-1 alpha-3 (`USA`, `DEU`), as OpenRTB sends them.
    pub countries: Vec<String>,
    /// Regions, ISO-3166-2 (`US-CA`).
    pub regions: Vec<String>,
    /// Device types (AdCOM list Device Types): 1 mobile/tablet, 2 PC, 3 connected
    /// TV, 4 phone, 5 tablet, 6 connected device, 7 set-top box, 8 out-of-home.
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
    /// Whether the impression must (`true`) or must not (`false`) reward the
    /// user for watching (`imp.rwdd`); absent means either.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewarded: Option<bool>,
    /// Rules for video slots, applied to the campaign's video creatives.
    #[serde(skip_serializing_if = "VideoTargeting::is_any")]
    pub video: VideoTargeting,
}

/// Where a campaign's video ads may play (OpenRTB 2.6 `imp.video`). Empty lists
/// and absent flags mean "any"; a rule that is set does not match a request that
/// does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct VideoTargeting {
    /// Placements (`plcmt`, 2.6 list Plcmt Subtypes - Video): 1 instream,
    /// 2 accompanying content, 3 interstitial, 4 no content/standalone, 5-9 the
    /// later additions (pause, screensaver, overlay, squeezeback, in-scene).
    pub plcmt: Vec<u8>,
    /// Positions in the content (from `startdelay`).
    pub start: Vec<VideoStart>,
    /// Whether the player must (`true`) or must not (`false`) let the user skip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skippable: Option<bool>,
}

impl VideoTargeting {
    /// Whether every video slot matches.
    pub fn is_any(&self) -> bool {
        self.plcmt.is_empty() && self.start.is_empty() && self.skippable.is_none()
    }
}

/// Where in the content a video ad plays, from `startdelay` (AdCOM Start Delay
/// Modes): 0 pre-roll, a positive second or -1 mid-roll, -2 post-roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VideoStart {
    /// Before the content.
    Pre,
    /// During the content.
    Mid,
    /// After the content.
    Post,
}

impl VideoStart {
    /// The position `startdelay` names, if it is a known value.
    pub fn of_startdelay(startdelay: i32) -> Option<VideoStart> {
        match startdelay {
            0 => Some(VideoStart::Pre),
            -1 | 1.. => Some(VideoStart::Mid),
            -2 => Some(VideoStart::Post),
            _ => None,
        }
    }
}

/// A campaign's categories in one taxonomy other than IAB Content Category 1.0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaxonomyCategories {
    /// The taxonomy (OpenRTB 2.6 / AdCOM list Category Taxonomies): 2 IAB
    /// Content Taxonomy 2.0, 3 Ad Product 1.0, 5 Content 2.1, 6 Content 2.2,
    /// 7 Content 3.0, 8 Ad Product 2.0, 9 Content 3.1, 500+ vendor-specific.
    pub cattax: u16,
    /// Category ids in that taxonomy, compared exactly (ignoring ASCII case).
    pub categories: Vec<String>,
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
