//! The impression and what fills it (OpenRTB 2.6 §3.2.4–§3.2.12, §3.2.31): banner,
//! video, audio and native slots, private-marketplace deals and DOOH quantities.
//! Every field is read tolerantly (see `lenient`); docs/openrtb.md lists them.

use serde::Deserialize;

use super::borrowed::{List, Str};
use super::lenient::{self, object_items};
use super::native::PooledRequest;
use super::raw_json::RawJson;

/// One impression on offer (§3.2.4). `Default` is an empty slot the request's
/// list reads an impression into in place, not a valid impression.
#[derive(Debug, Default, Deserialize)]
pub struct Imp<'a> {
    /// Impression id, unique within the request; bids refer to it.
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub id: Str<'a>,
    /// Present when a banner (display) ad may fill the slot.
    #[serde(borrow, default)]
    pub banner: Option<Banner<'a>>,
    /// Present when a video ad may fill the slot.
    #[serde(borrow, default)]
    pub video: Option<Video<'a>>,
    /// Present when an audio ad may fill the slot.
    #[serde(borrow, default)]
    pub audio: Option<Audio<'a>>,
    /// Present when a native ad may fill the slot.
    #[serde(default)]
    pub native: Option<Native>,
    /// Private marketplace terms.
    #[serde(borrow, default)]
    pub pmp: Option<Pmp<'a>>,
    /// Placement or ad tag id at the publisher.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub tagid: Option<Str<'a>>,
    /// Minimum bid, in CPM of `bidfloorcur`.
    #[serde(default, deserialize_with = "lenient::float_or_zero")]
    pub bidfloor: f64,
    /// Currency of `bidfloor` (ISO-4217); USD when absent.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub bidfloorcur: Option<Str<'a>>,
    /// 1 when the creative must be served over HTTPS.
    #[serde(default, deserialize_with = "lenient::int")]
    pub secure: Option<u8>,
    /// 1 when the ad is interstitial or full screen (recorded only).
    #[serde(default, deserialize_with = "lenient::recorded_flag")]
    pub instl: Option<u8>,
    /// 1 when the user is rewarded for viewing the ad (2.6).
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub rwdd: u8,
    /// Billable events the impression counts as (DOOH, §3.2.31).
    #[serde(default)]
    pub qty: Option<Qty>,
    /// Exchange-specific extensions, left unparsed.
    #[serde(borrow, default)]
    pub ext: Option<RawJson<'a>>,
}

impl Imp<'_> {
    /// Whether the impression sells more or fewer than one billable event (a DOOH
    /// screen seen by many): `qty.multiplier` set and not 1.
    pub fn has_multiplier(&self) -> bool {
        self.qty
            .as_ref()
            .and_then(|q| q.multiplier)
            .is_some_and(|m| m != 1.0)
    }
}

/// A width and height pair the slot accepts (§3.2.10).
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// Width in device-independent pixels.
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub w: u32,
    /// Height in device-independent pixels.
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub h: u32,
}

/// Banner slot (§3.2.6).
#[derive(Debug, Deserialize)]
pub struct Banner<'a> {
    /// Exact width, when the slot has one size.
    #[serde(default, deserialize_with = "lenient::int")]
    pub w: Option<u32>,
    /// Exact height, when the slot has one size.
    #[serde(default, deserialize_with = "lenient::int")]
    pub h: Option<u32>,
    /// Every size the slot accepts.
    #[serde(default, deserialize_with = "lenient::list")]
    pub format: List<Format, 4>,
    /// Blocked creative attributes (list: Creative Attributes).
    #[serde(default, deserialize_with = "lenient::list")]
    pub battr: List<u16, 8>,
    /// Exchange-specific extensions, left unparsed.
    #[serde(borrow, default)]
    pub ext: Option<RawJson<'a>>,
}

/// Video slot (§3.2.7), including the 2.6 pod fields.
#[derive(Debug, Deserialize)]
pub struct Video<'a> {
    /// Accepted MIME types, e.g. `video/mp4`.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub mimes: List<Str<'a>, 4>,
    /// Minimum ad duration in seconds.
    #[serde(default, deserialize_with = "lenient::int")]
    pub minduration: Option<u32>,
    /// Maximum ad duration in seconds.
    #[serde(default, deserialize_with = "lenient::int")]
    pub maxduration: Option<u32>,
    /// The only ad durations accepted, in seconds (2.6); overrides min/max.
    #[serde(default, deserialize_with = "lenient::list")]
    pub rqddurs: List<u32, 4>,
    /// Accepted video protocols (VAST versions, list: Creative Subtypes).
    #[serde(default, deserialize_with = "lenient::list")]
    pub protocols: List<u8, 8>,
    /// One accepted protocol (deprecated by `protocols`).
    #[serde(default, deserialize_with = "lenient::int")]
    pub protocol: Option<u8>,
    /// Player width.
    #[serde(default, deserialize_with = "lenient::int")]
    pub w: Option<u32>,
    /// Player height.
    #[serde(default, deserialize_with = "lenient::int")]
    pub h: Option<u32>,
    /// Where the video plays (2.6 list: Plcmt Subtypes - Video): 1 instream,
    /// 2 accompanying content, 3 interstitial, 4 no content (standalone).
    #[serde(default, deserialize_with = "lenient::int")]
    pub plcmt: Option<u8>,
    /// The 2.5 placement type (deprecated in 2.6), read when `plcmt` is absent.
    #[serde(default, deserialize_with = "lenient::int")]
    pub placement: Option<u8>,
    /// Seconds into the content the ad starts: >0 mid-roll at that time, 0
    /// pre-roll, -1 generic mid-roll, -2 generic post-roll.
    #[serde(default, deserialize_with = "lenient::int")]
    pub startdelay: Option<i32>,
    /// 1 when the player lets the user skip the ad.
    #[serde(default, deserialize_with = "lenient::int")]
    pub skip: Option<u8>,
    /// 1 linear (in-stream), 2 non-linear (overlay).
    #[serde(default, deserialize_with = "lenient::int")]
    pub linearity: Option<u8>,
    /// Pod (ad break) this impression belongs to (2.6).
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub podid: Option<Str<'a>>,
    /// Total seconds of a dynamic pod (2.6).
    #[serde(default, deserialize_with = "lenient::int")]
    pub poddur: Option<u32>,
    /// Most ads a dynamic pod may hold (2.6).
    #[serde(default, deserialize_with = "lenient::int")]
    pub maxseq: Option<u32>,
    /// Position in the pod the bid is for: 0 any, 1 first, -1 last, 2 first or last.
    #[serde(default, deserialize_with = "lenient::int")]
    pub slotinpod: Option<i8>,
    /// Floor per second of ad, CPM in the impression's floor currency (2.6).
    #[serde(default, deserialize_with = "lenient::float")]
    pub mincpmpersec: Option<f64>,
    /// Blocked creative attributes.
    #[serde(default, deserialize_with = "lenient::list")]
    pub battr: List<u16, 8>,
}

/// Audio slot (§3.2.8).
#[derive(Debug, Deserialize)]
pub struct Audio<'a> {
    /// Accepted MIME types, e.g. `audio/mp4`.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub mimes: List<Str<'a>, 4>,
    /// Minimum ad duration in seconds.
    #[serde(default, deserialize_with = "lenient::int")]
    pub minduration: Option<u32>,
    /// Maximum ad duration in seconds.
    #[serde(default, deserialize_with = "lenient::int")]
    pub maxduration: Option<u32>,
    /// The only ad durations accepted, in seconds (2.6).
    #[serde(default, deserialize_with = "lenient::list")]
    pub rqddurs: List<u32, 4>,
    /// Accepted protocols (DAAST/VAST versions).
    #[serde(default, deserialize_with = "lenient::list")]
    pub protocols: List<u8, 8>,
    /// Start delay, as for video.
    #[serde(default, deserialize_with = "lenient::int")]
    pub startdelay: Option<i32>,
    /// Pod (ad break) this impression belongs to (2.6).
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub podid: Option<Str<'a>>,
    /// Total seconds of a dynamic pod (2.6).
    #[serde(default, deserialize_with = "lenient::int")]
    pub poddur: Option<u32>,
    /// Most ads a dynamic pod may hold (2.6).
    #[serde(default, deserialize_with = "lenient::int")]
    pub maxseq: Option<u32>,
    /// Floor per second of ad, CPM (2.6).
    #[serde(default, deserialize_with = "lenient::float")]
    pub mincpmpersec: Option<f64>,
    /// Blocked creative attributes.
    #[serde(default, deserialize_with = "lenient::list")]
    pub battr: List<u16, 8>,
}

/// What video and audio slots ask of a timed creative, in one shape.
#[derive(Debug, Clone, Copy)]
pub struct TimedSlot<'s, 'a> {
    /// Accepted MIME types.
    pub mimes: &'s [Str<'a>],
    /// Minimum seconds.
    pub minduration: Option<u32>,
    /// Maximum seconds.
    pub maxduration: Option<u32>,
    /// Exact seconds accepted; empty means the min/max range.
    pub rqddurs: &'s [u32],
    /// Dynamic pod length, seconds.
    pub poddur: Option<u32>,
    /// Accepted protocols; empty means any.
    pub protocols: &'s [u8],
    /// Deprecated single protocol, when `protocols` is empty.
    pub protocol: Option<u8>,
    /// Pod id, for competitive separation within a pod.
    pub podid: Option<&'s str>,
    /// Floor per second, CPM.
    pub mincpmpersec: Option<f64>,
    /// Blocked creative attributes.
    pub battr: &'s [u16],
}

impl<'s, 'a> TimedSlot<'s, 'a> {
    /// Whether a creative of `duration_s` seconds fits the slot's durations:
    /// exactly one of `rqddurs` when given, else within min/max, and never longer
    /// than a dynamic pod.
    pub fn takes_duration(&self, duration_s: u32) -> bool {
        let listed = if self.rqddurs.is_empty() {
            self.minduration.is_none_or(|min| duration_s >= min)
                && self.maxduration.is_none_or(|max| duration_s <= max)
        } else {
            self.rqddurs.contains(&duration_s)
        };
        listed && self.poddur.is_none_or(|pod| duration_s <= pod)
    }

    /// Whether the slot accepts `protocol` (any, when it names none).
    pub fn takes_protocol(&self, protocol: u8) -> bool {
        match (self.protocols, self.protocol) {
            ([], None) => true,
            ([], Some(one)) => one == protocol,
            (list, _) => list.contains(&protocol),
        }
    }
}

impl<'a> Video<'a> {
    /// The slot's timing rules.
    pub fn timed(&self) -> TimedSlot<'_, 'a> {
        TimedSlot {
            mimes: &self.mimes,
            minduration: self.minduration,
            maxduration: self.maxduration,
            rqddurs: &self.rqddurs,
            poddur: self.poddur,
            protocols: &self.protocols,
            protocol: self.protocol,
            podid: self.podid.as_deref(),
            mincpmpersec: self.mincpmpersec,
            battr: &self.battr,
        }
    }

    /// The 2.6 placement (`plcmt`), or the deprecated 2.5 `placement` mapped to
    /// it: 1 in-stream → 1, 5 interstitial/slider/floating → 3, 2 in-banner, 3
    /// in-article and 4 in-feed (all outstream) → 4 no-content/standalone.
    pub fn plcmt(&self) -> Option<u8> {
        self.plcmt.or_else(|| match self.placement? {
            1 => Some(1),
            5 => Some(3),
            2..=4 => Some(4),
            _ => None,
        })
    }
}

impl<'a> Audio<'a> {
    /// The slot's timing rules.
    pub fn timed(&self) -> TimedSlot<'_, 'a> {
        TimedSlot {
            mimes: &self.mimes,
            minduration: self.minduration,
            maxduration: self.maxduration,
            rqddurs: &self.rqddurs,
            poddur: self.poddur,
            protocols: &self.protocols,
            protocol: None,
            podid: self.podid.as_deref(),
            mincpmpersec: self.mincpmpersec,
            battr: &self.battr,
        }
    }
}

/// Native slot (§3.2.9).
#[derive(Debug, Deserialize)]
pub struct Native {
    /// The Native Ads request: a JSON-encoded string per 2.x, or an object as some
    /// older exchanges send it. `None` when absent or unreadable: then no native ad
    /// can be shown to fit, and the impression's other formats still bid.
    #[serde(default, deserialize_with = "super::native::read")]
    pub request: Option<PooledRequest>,
    /// Blocked creative attributes.
    #[serde(default, deserialize_with = "lenient::list")]
    pub battr: List<u16, 8>,
}

/// Private marketplace (§3.2.11).
#[derive(Debug, Deserialize)]
pub struct Pmp<'a> {
    /// 1 when only bids on the listed deals are allowed.
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub private_auction: u8,
    /// The deals on offer.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub deals: List<Deal<'a>, 4>,
}

/// One deal (§3.2.12).
#[derive(Debug, Deserialize)]
pub struct Deal<'a> {
    /// Deal id agreed with the seller.
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub id: Str<'a>,
    /// Minimum bid for this deal, in CPM of `bidfloorcur`.
    #[serde(default, deserialize_with = "lenient::float_or_zero")]
    pub bidfloor: f64,
    /// Currency of `bidfloor`; USD when absent.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub bidfloorcur: Option<Str<'a>>,
    /// Buyer seats allowed on this deal; absent means all.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub wseat: List<Str<'a>, 2>,
    /// Floor per second of a video or audio ad on this deal, CPM in
    /// `bidfloorcur` (2.6); overrides the impression's.
    #[serde(default, deserialize_with = "lenient::float")]
    pub mincpmpersec: Option<f64>,
}

/// DOOH quantity (§3.2.31).
#[derive(Debug, Deserialize)]
pub struct Qty {
    /// Billable events the impression counts as, e.g. 12.5 viewers of a screen.
    #[serde(default, deserialize_with = "lenient::float")]
    pub multiplier: Option<f64>,
}

object_items!(Format, Deal<'a>);
