//! Bit-mask pre-filter: the targeting every request is checked against (hour,
//! country, region, device type, OS, included content categories), packed per campaign into one small, contiguous
//! record, so most candidates the indexes return are turned away without touching
//! the campaign itself (its vectors, strings and counters live elsewhere in memory).
//!
//! Like the indexes, the filter only has to be complete: it may pass a campaign that
//! the full check then rejects, never reject one the full check would accept.

use rustc_hash::FxHashMap;

use crate::openrtb::request::BidRequest;
use crate::snapshot::compiled::{CompiledTargeting, country_key};

/// Values of one dimension that get their own bit; beyond them a campaign passes
/// the filter on that dimension and is left to the full check.
const BITS: u32 = 63;
/// The bit a request gets when it has no value, or one no campaign targets: only
/// campaigns that accept any value have it.
const NONE_BIT: u64 = 1 << BITS;
/// A campaign that accepts any value (or has too many to map).
const ANY: u64 = u64::MAX;

/// Maps the values of one dimension to bits.
#[derive(Debug)]
struct BitMap<K> {
    bits: FxHashMap<K, u32>,
}

impl<K> Default for BitMap<K> {
    fn default() -> Self {
        BitMap {
            bits: FxHashMap::default(),
        }
    }
}

impl<K: std::hash::Hash + Eq> BitMap<K> {
    /// The mask of a campaign that accepts `values` (empty: any).
    fn campaign_mask(&mut self, values: impl IntoIterator<Item = K>) -> u64 {
        let mut mask = 0;
        let mut any = true;
        for value in values {
            any = false;
            let next = self.bits.len() as u32;
            let bit = *self.bits.entry(value).or_insert(next);
            if bit >= BITS {
                return ANY;
            }
            mask |= 1 << bit;
        }
        if any { ANY } else { mask }
    }

    /// The bit of a request's value.
    fn request_bit<Q>(&self, value: Option<&Q>) -> u64
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        match value.and_then(|v| self.bits.get(v)) {
            Some(bit) if *bit < BITS => 1 << bit,
            // A value with no bit of its own: no campaign lists it, or it overflowed,
            // and overflowed campaigns pass anyway.
            _ => NONE_BIT,
        }
    }
}

/// One campaign's packed targeting.
#[derive(Debug, Clone, Copy)]
struct Masks {
    hours: u32,
    countries: u64,
    regions: u64,
    device_types: u64,
    os: u64,
    /// Top-level categories (`IAB1` of `IAB1-5`) of the include rules: a rule can
    /// only match a category under its own top level.
    categories: u64,
}

/// The request side: one bit per dimension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestBits {
    hour: u32,
    country: u64,
    region: u64,
    device_type: u64,
    os: u64,
    categories: u64,
}

/// Packed targeting of every indexed campaign, by position.
#[derive(Debug, Default)]
pub(crate) struct Prefilter {
    masks: Vec<Masks>,
    countries: BitMap<[u8; 3]>,
    regions: BitMap<String>,
    os: BitMap<String>,
    categories: BitMap<String>,
}

impl Prefilter {
    /// Adds the campaign at the next position.
    pub(crate) fn add(&mut self, t: &CompiledTargeting) {
        let device_types = if t.device_types.is_empty() {
            ANY
        } else {
            t.device_types
                .iter()
                .fold(0, |mask, d| mask | device_bit(Some(*d)))
        };
        let masks = Masks {
            hours: t.hours_mask,
            countries: self.countries.campaign_mask(t.countries.iter().copied()),
            // Compiled regions are upper case, as `request` looks them up.
            regions: self.regions.campaign_mask(t.regions.iter().cloned()),
            device_types,
            // Compiled OS names are lower case, as `request` looks them up.
            os: self.os.campaign_mask(t.os.iter().cloned()),
            categories: self
                .categories
                .campaign_mask(t.categories_include.iter().map(|r| top_level(r).to_owned())),
        };
        self.masks.push(masks);
    }

    /// Campaigns added so far.
    pub(crate) fn len(&self) -> usize {
        self.masks.len()
    }

    /// The request's bits, computed once per request.
    pub(crate) fn request(&self, req: &BidRequest<'_>, hour_utc: u32) -> RequestBits {
        let os = match req.os() {
            None => NONE_BIT,
            Some(os) => {
                let mut buf = [0u8; 32];
                match super::ascii_lower(os, &mut buf) {
                    Some(lower) => self.os.request_bit(Some(lower)),
                    // Too long to look up: let the full check decide.
                    None => ANY,
                }
            }
        };
        let region = match req.region() {
            None => NONE_BIT,
            Some(region) => {
                let mut buf = [0u8; 32];
                match ascii_upper(region, &mut buf) {
                    Some(upper) => self.regions.request_bit(Some(upper)),
                    None => ANY,
                }
            }
        };
        // Every top level the request's categories fall under; NONE_BIT so that
        // campaigns without include rules pass.
        let categories = req.content_categories().fold(NONE_BIT, |mask, cat| {
            match self.categories.bits.get(top_level(cat)) {
                Some(bit) if *bit < BITS => mask | 1 << bit,
                _ => mask,
            }
        });
        RequestBits {
            hour: 1 << hour_utc,
            region,
            categories,
            country: self
                .countries
                .request_bit(req.country().and_then(country_key).as_ref()),
            device_type: device_bit(req.device_type()),
            os,
        }
    }

    /// False when the campaign at `position` certainly does not target the request.
    #[inline]
    pub(crate) fn may_target(&self, position: u32, req: &RequestBits) -> bool {
        let Some(m) = self.masks.get(position as usize) else {
            return true;
        };
        m.hours & req.hour != 0
            && m.countries & req.country != 0
            && m.device_types & req.device_type != 0
            && m.os & req.os != 0
            && m.regions & req.region != 0
            && m.categories & req.categories != 0
    }
}

/// The top level of an IAB category: `IAB1` for `IAB1-5`.
fn top_level(category: &str) -> &str {
    category.split('-').next().unwrap_or(category)
}

/// Upper-cases short ASCII text into `buf`; `None` when it does not fit.
fn ascii_upper<'b>(text: &str, buf: &'b mut [u8; 32]) -> Option<&'b str> {
    let out = buf.get_mut(..text.len())?;
    out.copy_from_slice(text.as_bytes());
    out.make_ascii_uppercase();
    std::str::from_utf8(out).ok()
}

/// Device types are small numbers (OpenRTB list 5.21): bit `d`, or the none bit.
fn device_bit(device_type: Option<u8>) -> u64 {
    match device_type {
        Some(d) if u32::from(d) < BITS => 1 << d,
        _ => NONE_BIT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targeting(countries: &[&str], device_types: &[u8], os: &[&str]) -> CompiledTargeting {
        CompiledTargeting {
            countries: countries.iter().filter_map(|c| country_key(c)).collect(),
            device_types: device_types.to_vec(),
            os: os.iter().map(|o| o.to_ascii_lowercase()).collect(),
            hours_mask: u32::MAX,
            ..CompiledTargeting::default()
        }
    }

    fn request(country: Option<&str>, device_type: Option<u8>, os: Option<&str>) -> String {
        let mut device = serde_json::Map::new();
        if let Some(c) = country {
            device.insert("geo".into(), serde_json::json!({ "country": c }));
        }
        if let Some(d) = device_type {
            device.insert("devicetype".into(), d.into());
        }
        if let Some(o) = os {
            device.insert("os".into(), o.into());
        }
        serde_json::json!({ "id": "r", "imp": [{ "id": "1" }], "device": device }).to_string()
    }

    #[test]
    fn rejects_only_what_the_full_check_rejects() {
        let campaigns = [
            targeting(&[], &[], &[]),
            targeting(&["USA", "can"], &[], &[]),
            targeting(&["DEU"], &[2], &["Windows"]),
            targeting(&[], &[1, 4, 5], &["iOS", "android"]),
            targeting(&["FRA"], &[3], &[]),
        ];
        let mut filter = Prefilter::default();
        for t in &campaigns {
            filter.add(t);
        }
        let countries = [
            None,
            Some("USA"),
            Some("usa"),
            Some("CAN"),
            Some("DEU"),
            Some("BRA"),
        ];
        let devices = [None, Some(1), Some(2), Some(3), Some(4), Some(9), Some(200)];
        let systems = [
            None,
            Some("iOS"),
            Some("ANDROID"),
            Some("windows"),
            Some("Tizen"),
        ];
        for country in countries {
            for device in devices {
                for os in systems {
                    let body = request(country, device, os);
                    let req = BidRequest::parse(body.as_bytes()).unwrap();
                    let bits = filter.request(&req, 12);
                    for (position, t) in campaigns.iter().enumerate() {
                        let full = t.countries.is_empty()
                            || req
                                .country()
                                .and_then(country_key)
                                .is_some_and(|c| t.countries.contains(&c));
                        let full = full
                            && (t.device_types.is_empty()
                                || req
                                    .device_type()
                                    .is_some_and(|d| t.device_types.contains(&d)));
                        let full = full
                            && (t.os.is_empty()
                                || req.os().is_some_and(|o| {
                                    t.os.iter().any(|x| x.eq_ignore_ascii_case(o))
                                }));
                        assert_eq!(
                            filter.may_target(position as u32, &bits),
                            full,
                            "campaign {position}, request {body}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn regions_and_included_categories_reject_only_what_the_full_check_rejects() {
        let with = |regions: &[&str], include: &[&str]| CompiledTargeting {
            regions: regions.iter().map(|r| r.to_ascii_uppercase()).collect(),
            categories_include: include.iter().map(|c| (*c).to_owned()).collect(),
            hours_mask: u32::MAX,
            ..CompiledTargeting::default()
        };
        let campaigns = [
            with(&[], &[]),
            with(&["US-CA", "us-ny"], &[]),
            with(&[], &["IAB1", "IAB3-5"]),
            with(&["DE-BY"], &["IAB12"]),
            with(&[], &["483"]),
        ];
        let mut filter = Prefilter::default();
        for t in &campaigns {
            filter.add(t);
        }
        let regions = [
            None,
            Some("US-CA"),
            Some("us-ny"),
            Some("DE-BY"),
            Some("FR-75"),
        ];
        let cats: [&[&str]; 7] = [
            &[],
            &["IAB1"],
            &["IAB1-2", "IAB7"],
            &["IAB3"],
            &["IAB3-5"],
            &["IAB12-1", "IAB3-50"],
            &["483", "IAB9"],
        ];
        for region in regions {
            for cat in cats {
                let mut req = serde_json::json!({ "id": "r", "imp": [{ "id": "1" }],
                    "site": { "cat": cat } });
                if let Some(r) = region {
                    req["device"] = serde_json::json!({ "geo": { "region": r } });
                }
                let body = req.to_string();
                let req = BidRequest::parse(body.as_bytes()).unwrap();
                let bits = filter.request(&req, 3);
                for (position, t) in campaigns.iter().enumerate() {
                    let region_ok = t.regions.is_empty()
                        || req
                            .region()
                            .is_some_and(|r| t.regions.iter().any(|x| x.eq_ignore_ascii_case(r)));
                    let include_ok = t.categories_include.is_empty()
                        || req.content_categories().any(|c| {
                            t.categories_include
                                .iter()
                                .any(|rule| crate::snapshot::compiled::category_matches(rule, c))
                        });
                    let passes = filter.may_target(position as u32, &bits);
                    // The filter is complete; on these dimensions it is also exact for
                    // regions, and exact for categories up to the top level.
                    assert!(
                        passes || !(region_ok && include_ok),
                        "campaign {position} wrongly rejected for {body}"
                    );
                    if !region_ok {
                        assert!(!passes, "campaign {position} should be rejected for {body}");
                    }
                }
            }
        }
    }

    #[test]
    fn too_many_values_pass_to_the_full_check() {
        let mut filter = Prefilter::default();
        let many: Vec<String> = (0..70).map(|n| format!("os{n}")).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        filter.add(&targeting(&[], &[], &names));
        filter.add(&targeting(&[], &[], &["os69"]));
        let body = request(None, None, Some("os69"));
        let req = BidRequest::parse(body.as_bytes()).unwrap();
        let bits = filter.request(&req, 0);
        assert!(filter.may_target(0, &bits) && filter.may_target(1, &bits));
    }
}
