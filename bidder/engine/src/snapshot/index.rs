//! Inverted indexes over a snapshot's campaigns.
//!
//! For every dimension that narrows the field (country, device type, OS, publisher,
//! deal, creative format) the index keeps, per value, the campaigns that accept it,
//! plus the campaigns that accept any value. For one impression the engine asks
//! every dimension how many candidates it would yield and walks only the smallest
//! list, so matching costs grow with the candidates, not with the campaign count.
//! Each candidate is then checked in full, so the index only has to be complete,
//! never exact. Lists are kept in price-rank order (see [`rank`]).

mod prefilter;
mod rank;

use std::hash::Hash;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::compiled::{CompiledCampaign, country_key};
use super::creative::CreativeKind;
use crate::money::FxTable;
use crate::openrtb::request::{BidRequest, Imp};
use prefilter::Prefilter;
pub(crate) use prefilter::RequestBits;
pub(crate) use rank::BidTerms;
use rank::PriceRank;

/// Campaign positions in the snapshot.
pub(crate) type Postings = Vec<u32>;

/// The lists one dimension yields for a request; walked one after the other.
/// Lists may overlap (a campaign with two listed sizes): the engine keeps the best
/// price per impression, so seeing a campaign twice costs time, never correctness.
pub(crate) type CandidateLists<'s> = SmallVec<[&'s [u32]; 8]>;

#[derive(Debug)]
struct Dimension<K> {
    by_value: FxHashMap<K, Postings>,
    any: Postings,
}

impl<K> Default for Dimension<K> {
    fn default() -> Self {
        Dimension {
            by_value: FxHashMap::default(),
            any: Vec::new(),
        }
    }
}

impl<K: Hash + Eq> Dimension<K> {
    fn add(&mut self, position: u32, values: impl IntoIterator<Item = K>) {
        let mut any = true;
        for value in values {
            any = false;
            let list = self.by_value.entry(value).or_default();
            if list.last() != Some(&position) {
                list.push(position);
            }
        }
        if any {
            self.any.push(position);
        }
    }

    fn postings_mut(&mut self) -> impl Iterator<Item = &mut Postings> {
        self.by_value
            .values_mut()
            .chain(std::iter::once(&mut self.any))
    }

    fn lists<Q>(&self, value: Option<&Q>) -> CandidateLists<'_>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut lists = CandidateLists::new();
        lists.push(&self.any);
        if let Some(list) = value.and_then(|v| self.by_value.get(v)) {
            lists.push(list);
        }
        lists
    }
}

/// The snapshot's indexes.
#[derive(Debug, Default)]
pub(crate) struct Index {
    countries: Dimension<[u8; 3]>,
    device_types: Dimension<u8>,
    os: Dimension<String>,
    publishers: Dimension<String>,
    /// Deal id -> campaigns targeting it; `any` holds the open-market campaigns.
    deals: Dimension<String>,
    banner_sizes: FxHashMap<(u32, u32), Postings>,
    video: Postings,
    audio: Postings,
    native: Postings,
    /// Every campaign's hour, country, device and OS targeting as bit masks.
    prefilter: Prefilter,
    /// Every campaign's price bounds, and the order lists are kept in.
    rank: PriceRank,
}

impl Index {
    /// Indexes the campaign at `position`; call [`Index::finish`] after the last.
    pub(crate) fn add(&mut self, position: u32, c: &CompiledCampaign, fx: &FxTable) {
        let t = &c.targeting;
        debug_assert_eq!(position as usize, self.prefilter.len(), "added in order");
        self.prefilter.add(t);
        self.rank.add(c, fx);
        self.countries.add(position, t.countries.iter().copied());
        self.device_types
            .add(position, t.device_types.iter().copied());
        self.os.add(position, t.os.iter().cloned());
        self.publishers
            .add(position, t.publishers_allow.iter().cloned());
        self.deals.add(position, t.deal_ids.iter().cloned());
        let (mut video, mut audio, mut native) = (false, false, false);
        for creative in &c.creatives {
            match creative.kind {
                CreativeKind::Banner { w, h } => {
                    let list = self.banner_sizes.entry((w, h)).or_default();
                    if list.last() != Some(&position) {
                        list.push(position);
                    }
                }
                CreativeKind::Video { .. } => video = true,
                CreativeKind::Audio(_) => audio = true,
                CreativeKind::Native(_) => native = true,
            }
        }
        for (has, list) in [
            (video, &mut self.video),
            (audio, &mut self.audio),
            (native, &mut self.native),
        ] {
            if has {
                list.push(position);
            }
        }
    }

    /// Puts every list in price-rank order, once every campaign is added.
    pub(crate) fn finish(&mut self) {
        let rank = &self.rank;
        let lists = self
            .countries
            .postings_mut()
            .chain(self.device_types.postings_mut())
            .chain(self.os.postings_mut())
            .chain(self.publishers.postings_mut())
            .chain(self.deals.postings_mut())
            .chain(self.banner_sizes.values_mut())
            .chain([&mut self.video, &mut self.audio, &mut self.native]);
        for list in lists {
            rank.sort(list);
        }
    }

    /// The price bounds of the campaign at `position`.
    #[inline]
    pub(crate) fn terms(&self, position: u32) -> &BidTerms {
        self.rank.terms(position)
    }

    /// The request's pre-filter bits; compute once per request.
    pub(crate) fn request_bits(&self, req: &BidRequest<'_>, hour_utc: u32) -> RequestBits {
        self.prefilter.request(req, hour_utc)
    }

    /// False when the campaign at `position` certainly does not target a request
    /// with these bits (its hours, countries, device types or OS exclude it).
    #[inline]
    pub(crate) fn may_target(&self, position: u32, bits: &RequestBits) -> bool {
        self.prefilter.may_target(position, bits)
    }

    /// The shortest set of candidate lists for `imp`, chosen among the dimensions.
    pub(crate) fn candidates<'s>(
        &'s self,
        req: &BidRequest<'_>,
        imp: &Imp<'_>,
    ) -> CandidateLists<'s> {
        let mut best = self.format_lists(imp);
        let mut best_len = total_len(&best);
        let mut consider = |lists: CandidateLists<'s>| {
            let len = total_len(&lists);
            if len < best_len {
                best = lists;
                best_len = len;
            }
        };
        consider(
            self.countries
                .lists(req.country().and_then(country_key).as_ref()),
        );
        consider(self.device_types.lists(req.device_type().as_ref()));
        let mut os_buf = [0u8; 32];
        consider(
            self.os
                .lists(req.os().and_then(|os| ascii_lower(os, &mut os_buf))),
        );
        consider(self.publishers.lists(req.publisher_id()));
        consider(self.deal_lists(imp));
        best
    }

    fn format_lists(&self, imp: &Imp<'_>) -> CandidateLists<'_> {
        let mut lists = CandidateLists::new();
        if let Some(banner) = &imp.banner {
            if let (Some(w), Some(h)) = (banner.w, banner.h) {
                lists.extend(self.banner_sizes.get(&(w, h)).map(Vec::as_slice));
            }
            for f in &banner.format {
                if banner.w == Some(f.w) && banner.h == Some(f.h) {
                    continue;
                }
                lists.extend(self.banner_sizes.get(&(f.w, f.h)).map(Vec::as_slice));
            }
        }
        if imp.video.is_some() {
            lists.push(&self.video);
        }
        if imp.audio.is_some() {
            lists.push(&self.audio);
        }
        if imp.native.is_some() {
            lists.push(&self.native);
        }
        lists
    }

    fn deal_lists(&self, imp: &Imp<'_>) -> CandidateLists<'_> {
        let mut lists = CandidateLists::new();
        let pmp = imp.pmp.as_ref();
        if pmp.is_none_or(|p| p.private_auction == 0) {
            lists.push(&self.deals.any);
        }
        for deal in pmp.map(|p| p.deals.as_slice()).unwrap_or_default() {
            lists.extend(self.deals.by_value.get(deal.id.as_ref()).map(Vec::as_slice));
        }
        lists
    }
}

fn total_len(lists: &[&[u32]]) -> usize {
    lists.iter().map(|l| l.len()).sum()
}

/// Lower-cases short ASCII text into `buf`; `None` when it does not fit.
fn ascii_lower<'b>(text: &str, buf: &'b mut [u8; 32]) -> Option<&'b str> {
    let out = buf.get_mut(..text.len())?;
    out.copy_from_slice(text.as_bytes());
    out.make_ascii_lowercase();
    std::str::from_utf8(out).ok()
}
