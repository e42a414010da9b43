//! Audiences: the user segments a request brings (the exchange's, in
//! `user.data[]`) or the user store knows (ours, first-party), whether the request
//! lets them be used at all, and the campaigns' segment rules judged against them
//! (`docs/segments.md`).
//!
//! Segments are compared as 64-bit digests ([`SegmentKey`]): a first-party
//! segment by its id, an exchange's by its provider (ASCII case ignored), its
//! taxonomy when a rule names one, and its id. A request's keys are gathered once,
//! and only when the snapshot holds a campaign with segment rules; a campaign
//! without rules never looks at them.
//!
//! Privacy: segments describe a person, so none are used (the exchange's ignored,
//! ours not looked up, and every campaign with segment rules sits out) when the
//! request says the user may not be tracked: `regs.coppa = 1`, `device.lmt = 1` or
//! `device.dnt = 1`, or GDPR applies (`regs.gdpr = 1`) and the TCF consent string
//! does not give our vendor consent for purposes 1 (store and access information
//! on a device) and 4 (use profiles to select personalised advertising) — see
//! [`may_use_segments`].

mod rules;
mod tcf;

use xxhash_rust::xxh3::Xxh3;

use crate::openrtb::request::{BidRequest, Privacy};
use crate::user::hash_lowercase;

pub(crate) use rules::Judgement;
pub use rules::SegmentRules;

/// TCF purposes a user must have consented to before their segments are used:
/// 1, store and/or access information on a device (our user id is a cookie or
/// device id), and 4, use profiles to select personalised advertising (TCF 2.2
/// Policies, Appendix A; neither may rest on legitimate interest).
pub const SEGMENT_PURPOSES: [u8; 2] = [1, 4];

/// Most of the exchange's segments read from one request; the rest are ignored.
/// Real requests carry a few to a few tens.
pub const MAX_REQUEST_SEGMENTS: usize = 256;

/// A segment as the bid path compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegmentKey(u64);

impl SegmentKey {
    /// The key of our own segment `id`.
    pub fn first_party(id: &str) -> SegmentKey {
        let mut hasher = Xxh3::new();
        hasher.update(b"1p\0");
        hasher.update(id.as_bytes());
        SegmentKey(hasher.digest())
    }

    /// The key of segment `id` of data provider `provider` (ASCII case
    /// ignored), in taxonomy `segtax` when a rule names one.
    pub fn exchange(provider: &str, segtax: Option<u32>, id: &str) -> SegmentKey {
        let mut hasher = Xxh3::new();
        hasher.update(b"dp\0");
        hash_lowercase(&mut hasher, provider);
        hasher.update(b"\0");
        if let Some(segtax) = segtax {
            hasher.update(&segtax.to_le_bytes());
        }
        hasher.update(b"\0");
        hasher.update(id.as_bytes());
        SegmentKey(hasher.digest())
    }
}

/// Whether the request lets the bidder use the user's segments (see the
/// module): not under COPPA, no limit-ad-tracking or do-not-track, and where GDPR
/// applies, a TCF v2 consent string giving vendor `gvl_vendor_id` (our id in the
/// Global Vendor List; 0 when we have none, which no consent can cover) consent
/// for [`SEGMENT_PURPOSES`]. A request that does not say whether GDPR applies is
/// taken as saying it does not (OpenRTB 2.6 §3.2.3 leaves `gdpr` to the exchange).
pub fn may_use_segments(privacy: &Privacy<'_>, gvl_vendor_id: u16) -> bool {
    if privacy.coppa || privacy.limit_tracking {
        return false;
    }
    if privacy.gdpr != Some(true) {
        return true;
    }
    privacy
        .consent
        .is_some_and(|consent| tcf::vendor_consents(consent, gvl_vendor_id, &SEGMENT_PURPOSES))
}

/// What the user store said about the user's first-party segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentOutcome {
    /// The segments are in [`Audience::first_party`] (none for a user the store
    /// does not know).
    Read,
    /// Some of the segments are in [`Audience::first_party`]: the store answered
    /// as many as it reads of one user, and there may be more. They prove
    /// memberships, never absences (an exclusion cannot be shown to pass).
    Partial,
    /// No answer (store down, slow or busy, or no user id): campaigns that
    /// need one sit out.
    Unavailable,
}

/// Whether a user is in one segment, as far as the request and the store tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Membership {
    /// In it.
    In,
    /// Not in it (the list it would be in is whole).
    Out,
    /// Not in the part of a list that was read (the request's, or the store's,
    /// cut short): it cannot be known, and counts against the campaign.
    Unknown,
    /// A first-party segment, and the store has not answered yet.
    Unread,
}

/// One request's segments, in buffers reused across requests.
#[derive(Debug, Default)]
pub struct Audience {
    /// Whether the request's segments were gathered (the snapshot has rules).
    prepared: bool,
    /// Whether the request lets segments be used ([`may_use_segments`]).
    allowed: bool,
    /// The exchange's segments, sorted: each under every key a rule could name
    /// it by (provider id or name, with and without its taxonomy).
    exchange: Vec<SegmentKey>,
    /// Whether `exchange` holds every segment the request sent (not cut at
    /// [`MAX_REQUEST_SEGMENTS`]).
    exchange_complete: bool,
    /// Our segments for the user, sorted, once read.
    first_party: Vec<SegmentKey>,
    /// Whether `first_party` holds the store's answer.
    first_party_read: bool,
    /// Whether that answer is every segment of the user.
    first_party_complete: bool,
}

impl Audience {
    /// Gathers the request's segments and whether they may be used.
    pub(crate) fn prepare(&mut self, req: &BidRequest<'_>, gvl_vendor_id: u16) {
        self.clear();
        self.prepared = true;
        self.allowed = may_use_segments(&req.privacy(), gvl_vendor_id);
        if !self.allowed {
            return;
        }
        let data = req.user.iter().flat_map(|u| u.data.iter());
        let mut read = 0;
        for provider in data {
            let segtax = provider.ext.as_ref().and_then(|e| e.segtax);
            let names = [provider.id.as_deref(), provider.name.as_deref()];
            for segment in &provider.segment {
                let Some(id) = segment.id.as_deref().filter(|id| !id.is_empty()) else {
                    continue;
                };
                if read == MAX_REQUEST_SEGMENTS {
                    self.exchange_complete = false;
                    break;
                }
                read += 1;
                for name in names.into_iter().flatten().filter(|n| !n.is_empty()) {
                    self.exchange.push(SegmentKey::exchange(name, None, id));
                    if segtax.is_some() {
                        self.exchange.push(SegmentKey::exchange(name, segtax, id));
                    }
                }
            }
        }
        self.exchange.sort_unstable();
    }

    /// Forgets the request (nothing gathered: every segment rule sits out).
    pub(crate) fn clear(&mut self) {
        self.prepared = false;
        self.exchange_complete = true;
        self.allowed = false;
        self.exchange.clear();
        self.first_party.clear();
        self.first_party_read = false;
    }

    /// Whether the request's segments were withheld: campaigns have segment
    /// rules, and the request says the user may not be tracked.
    pub fn withheld(&self) -> bool {
        self.prepared && !self.allowed
    }

    /// The buffer for the store's answer: the keys ([`SegmentKey::first_party`])
    /// of the user's live first-party segments, in any order.
    pub fn first_party(&mut self) -> &mut Vec<SegmentKey> {
        self.first_party.clear();
        &mut self.first_party
    }

    /// Takes the store's answer (sorting what [`Audience::first_party`] received).
    pub(crate) fn set_first_party(&mut self, outcome: SegmentOutcome) {
        self.first_party_read = outcome != SegmentOutcome::Unavailable;
        self.first_party_complete = outcome == SegmentOutcome::Read;
        if self.first_party_read {
            self.first_party.sort_unstable();
        } else {
            self.first_party.clear();
        }
    }

    /// Whether the user is in the segment `key` (first-party or not).
    pub(crate) fn membership(&self, key: SegmentKey, first_party: bool) -> Membership {
        let (complete, list) = if first_party {
            if !self.first_party_read {
                return Membership::Unread;
            }
            (self.first_party_complete, &self.first_party)
        } else {
            (self.exchange_complete, &self.exchange)
        };
        match list.binary_search(&key) {
            Ok(_) => Membership::In,
            Err(_) if complete => Membership::Out,
            Err(_) => Membership::Unknown,
        }
    }
}

#[cfg(test)]
mod tests;
