//! Rules a campaign must satisfy before it may bid. One set of rules serves every
//! source (file, DynamoDB, control plane), and every error names campaign and field.

use std::collections::HashSet;
use std::fmt;

use super::{Campaign, Creative};
use crate::budget::BudgetZone;
use crate::money::{Currency, micros_down};

/// Longest frequency-cap window: a year (counters expire with their window).
const MAX_CAP_WINDOW_S: u64 = 365 * 24 * 3600;

/// What prices and budgets must be: micros are integers, and beyond nine
/// billion units a float no longer tells one micro from the next
/// (`money::micros_down`).
const POSITIVE_AMOUNT: &str = "must be a number from 0.000001 to 9000000000";

/// Longest id accepted for campaigns and creatives.
const MAX_ID_BYTES: usize = 128;

/// A campaign that cannot be used, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignError {
    /// The campaign's id, or its position in a file when it has no usable id.
    pub campaign: String,
    /// Path of the field at fault, e.g. `bidding.max_cpm` or `creatives[1].banner.w`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for CampaignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "campaign `{}`: field `{}`: {}",
            self.campaign, self.field, self.reason
        )
    }
}

impl std::error::Error for CampaignError {}

impl Campaign {
    /// Checks every rule; the first broken one is returned.
    pub fn validate(&self) -> Result<(), CampaignError> {
        let fail = |field: &str, reason: &str| CampaignError {
            campaign: self.id.clone(),
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        check_id(&self.id).map_err(|r| fail("id", r))?;
        if let Some(advertiser) = &self.advertiser_id {
            check_id(advertiser).map_err(|r| fail("advertiser_id", r))?;
        }
        if !is_domain(&self.advertiser_domain) {
            return Err(fail(
                "advertiser_domain",
                "must be a lower-case domain like `example.com`",
            ));
        }
        for (i, cat) in self.categories.iter().enumerate() {
            if cat.is_empty() {
                return Err(fail(&format!("categories[{i}]"), "must not be empty"));
            }
        }
        let mut taxonomies = HashSet::new();
        for (i, taxonomy) in self.category_taxonomies.iter().enumerate() {
            let field = |f: &str| format!("category_taxonomies[{i}].{f}");
            if taxonomy.cattax <= 1 {
                return Err(fail(
                    &field("cattax"),
                    "must be a taxonomy other than 1 (IAB 1.0 categories go in `categories`)",
                ));
            }
            if !taxonomies.insert(taxonomy.cattax) {
                return Err(fail(&field("cattax"), "is listed twice"));
            }
            if taxonomy.categories.is_empty() || taxonomy.categories.iter().any(String::is_empty) {
                return Err(fail(
                    &field("categories"),
                    "must be a non-empty list of non-empty ids",
                ));
            }
        }
        if self.app_bundle.as_deref() == Some("") {
            return Err(fail("app_bundle", "must not be empty when set"));
        }
        if self.creatives.is_empty() {
            return Err(fail("creatives", "needs at least one creative"));
        }
        let mut ids = HashSet::new();
        for (i, creative) in self.creatives.iter().enumerate() {
            validate_creative(creative)
                .map_err(|(field, reason)| fail(&format!("creatives[{i}].{field}"), reason))?;
            if !ids.insert(creative.id.as_str()) {
                return Err(fail(&format!("creatives[{i}].id"), "duplicate creative id"));
            }
        }
        self.validate_targeting().map_err(|(f, r)| fail(f, r))?;
        self.validate_money().map_err(|(f, r)| fail(f, r))?;
        if let Some((field, reason)) = self.screening.invalid_field() {
            return Err(fail(field, reason));
        }
        if let Some((field, reason)) = self.segments.invalid_field() {
            return Err(fail(&field, reason));
        }
        if let Some(cap) = &self.frequency_cap {
            if cap.max_impressions == 0 {
                return Err(fail("frequency_cap.max_impressions", "must be at least 1"));
            }
            if !(1..=MAX_CAP_WINDOW_S).contains(&cap.window_secs) {
                return Err(fail(
                    "frequency_cap.window_secs",
                    "must be between 1 and 31536000 (a year)",
                ));
            }
        }
        Ok(())
    }

    fn validate_targeting(&self) -> Result<(), (&'static str, &'static str)> {
        let t = &self.targeting;
        if !t
            .countries
            .iter()
            .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err((
                "targeting.countries",
                "must be ISO-3166-1 alpha-3 codes like `USA`",
            ));
        }
        if !t
            .regions
            .iter()
            .all(|r| r.len() >= 4 && r.as_bytes().get(2) == Some(&b'-'))
        {
            return Err(("targeting.regions", "must be ISO-3166-2 codes like `US-CA`"));
        }
        if !t.device_types.iter().all(|d| (1..=8).contains(d)) {
            return Err((
                "targeting.device_types",
                "must be OpenRTB device types 1 to 8",
            ));
        }
        if !t.hours_utc.iter().all(|h| *h < 24) {
            return Err(("targeting.hours_utc", "must be hours 0 to 23"));
        }
        if !t.video.plcmt.iter().all(|p| (1..=9).contains(p)) {
            return Err((
                "targeting.video.plcmt",
                "must be OpenRTB 2.6 video placements 1 to 9",
            ));
        }
        let lists = [
            ("targeting.os", &t.os),
            ("targeting.categories_include", &t.categories_include),
            ("targeting.categories_exclude", &t.categories_exclude),
            ("targeting.publishers_allow", &t.publishers_allow),
            ("targeting.publishers_deny", &t.publishers_deny),
            ("targeting.deal_ids", &t.deal_ids),
        ];
        for (field, list) in lists {
            if list.iter().any(String::is_empty) {
                return Err((field, "must not hold empty strings"));
            }
        }
        Ok(())
    }

    fn validate_money(&self) -> Result<(), (&'static str, &'static str)> {
        let b = &self.bidding;
        if Currency::parse(&b.currency).is_none() {
            return Err(("bidding.currency", "must be a three-letter ISO-4217 code"));
        }
        match micros_down(b.max_cpm) {
            Some(m) if m > 0 => {}
            _ => {
                return Err(("bidding.max_cpm", POSITIVE_AMOUNT));
            }
        }
        match micros_down(b.base_bid) {
            Some(m) if m > 0 => {}
            _ => {
                return Err(("bidding.base_bid", POSITIVE_AMOUNT));
            }
        }
        if b.base_bid > b.max_cpm {
            return Err(("bidding.base_bid", "must not exceed bidding.max_cpm"));
        }
        for (field, amount) in [
            ("budget.daily", self.budget.daily),
            ("budget.total", self.budget.total),
        ] {
            if let Some(amount) = amount {
                match micros_down(amount) {
                    Some(m) if m > 0 => {}
                    _ => return Err((field, POSITIVE_AMOUNT)),
                }
            }
        }
        if let Some(zone) = &self.budget.timezone
            && BudgetZone::named(zone).is_err()
        {
            return Err((
                "budget.timezone",
                "must be an IANA time zone name (such as America/New_York or UTC)",
            ));
        }
        Ok(())
    }
}

fn check_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err("must be 1 to 128 bytes");
    }
    if id.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err("must not contain spaces or control characters");
    }
    Ok(())
}

fn is_domain(domain: &str) -> bool {
    domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

fn validate_creative(c: &Creative) -> Result<(), (&'static str, &'static str)> {
    check_id(&c.id).map_err(|r| ("id", r))?;
    let kinds = [
        c.banner.is_some(),
        c.video.is_some(),
        c.audio.is_some(),
        c.native.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err((
            "banner",
            "exactly one of banner, video, audio and native must be set",
        ));
    }
    if let Some(banner) = &c.banner
        && (banner.w == 0 || banner.h == 0)
    {
        return Err(("banner", "w and h must be positive"));
    }
    if let Some(video) = &c.video {
        let fields = ["video.mime", "video.duration_secs", "video.protocol"];
        check_timed(&video.mime, video.duration_secs, video.protocol, fields)?;
        if !(1..=2).contains(&video.linearity) {
            return Err(("video.linearity", "must be 1 (linear) or 2 (non-linear)"));
        }
    }
    if let Some(audio) = &c.audio {
        let fields = ["audio.mime", "audio.duration_secs", "audio.protocol"];
        check_timed(&audio.mime, audio.duration_secs, audio.protocol, fields)?;
    }
    if c.attr.contains(&0) {
        return Err(("attr", "must be creative attributes (1 and up)"));
    }
    if let Some(language) = &c.language
        && !(language.len() == 2 && language.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err(("language", "must be an ISO-639-1 code like `en`"));
    }
    if let Some(native) = &c.native {
        if c.adm.is_some() {
            return Err((
                "adm",
                "a native creative declares its assets; the bidder writes its markup",
            ));
        }
        native.validate()?;
    }
    match (&c.adm, &c.nurl) {
        (None, None) if c.native.is_none() => {
            return Err(("adm", "one of adm and nurl must be set"));
        }
        (Some(adm), _) if adm.is_empty() => return Err(("adm", "must not be empty")),
        (_, Some(nurl)) if !is_http_url(nurl) => {
            return Err(("nurl", "must be an http(s) URL"));
        }
        (_, Some(nurl)) if c.secure && nurl.starts_with("http://") => {
            return Err(("nurl", "a secure creative needs an https URL"));
        }
        _ => {}
    }
    Ok(())
}

/// The rules video and audio media share; `fields` names mime, duration and
/// protocol.
fn check_timed(
    mime: &str,
    duration_secs: u32,
    protocol: u8,
    [mime_field, duration_field, protocol_field]: [&'static str; 3],
) -> Result<(), (&'static str, &'static str)> {
    if !mime.contains('/') {
        return Err((mime_field, "must be a MIME type like `video/mp4`"));
    }
    if duration_secs == 0 {
        return Err((duration_field, "must be positive"));
    }
    if protocol == 0 {
        return Err((
            protocol_field,
            "must be a protocol of list Creative Subtypes",
        ));
    }
    Ok(())
}

/// Whether `url` is an absolute http(s) URL.
pub(super) fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.bytes().any(|b| b.is_ascii_whitespace()))
}

#[cfg(test)]
mod tests;
