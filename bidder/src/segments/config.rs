//! `[segments]`: first-party audience segments (`docs/segments.md`): the file the
//! embedded default's in-process store is loaded from, how long a loaded
//! segment lives when its line does not say, where `bidder segments load` finds
//! dropped files, and our identity for GDPR consent.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::file::MAX_TTL_S;
use crate::aws::S3Location;
use crate::error::{ConfigError, at_least_one};

/// Thirty days, in seconds.
const THIRTY_DAYS_S: u64 = 30 * 24 * 3600;

/// First-party segments and the privacy rule's vendor id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentsConfig {
    /// A user→segments file (JSON Lines, `docs/segments.md`) loaded at start into
    /// the in-process store (`frequency_cap.store = "local"`); a bad line stops
    /// the bidder naming it. With Redis, load it with `bidder segments load`.
    pub file: Option<PathBuf>,
    /// How long a segment lives when its line gives no `ttl_s`, seconds: 1 to
    /// ten years.
    pub default_ttl_s: u64,
    /// Where `bidder segments load` without a source reads dropped files:
    /// `s3://bucket/prefix/`; each object is loaded once (`docs/segments.md`).
    /// Empty: none.
    pub s3_uri: String,
    /// Our id in the IAB Global Vendor List (TCF v2). Where GDPR applies, a
    /// user's segments are used only when the consent string gives this vendor
    /// consent for purposes 1 and 4; 0 (no id) uses none there.
    pub gvl_vendor_id: u16,
}

impl Default for SegmentsConfig {
    fn default() -> Self {
        SegmentsConfig {
            file: None,
            default_ttl_s: THIRTY_DAYS_S,
            s3_uri: String::new(),
            gvl_vendor_id: 0,
        }
    }
}

impl SegmentsConfig {
    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[("segments.default_ttl_s", self.default_ttl_s)])?;
        if self.default_ttl_s > MAX_TTL_S {
            return Err(ConfigError::new(
                "segments.default_ttl_s",
                format!("at most {MAX_TTL_S} seconds (ten years)"),
            ));
        }
        if let Some(uri) = self.s3() {
            S3Location::parse(uri).map_err(|why| ConfigError::new("segments.s3_uri", why))?;
        }
        Ok(())
    }

    /// The S3 prefix of dropped files, when one is set.
    pub fn s3(&self) -> Option<&str> {
        Some(self.s3_uri.trim()).filter(|uri| !uri.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_a_zero_ttl_and_a_bad_prefix() {
        let zero = SegmentsConfig {
            default_ttl_s: 0,
            ..SegmentsConfig::default()
        };
        assert_eq!(zero.validate().unwrap_err().key, "segments.default_ttl_s");
        let bad = SegmentsConfig {
            s3_uri: "https://bucket/x".into(),
            ..SegmentsConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().key, "segments.s3_uri");
        assert!(SegmentsConfig::default().validate().is_ok());
    }

    #[test]
    fn rejects_a_default_ttl_over_ten_years() {
        let longest = SegmentsConfig {
            default_ttl_s: MAX_TTL_S,
            ..SegmentsConfig::default()
        };
        assert!(longest.validate().is_ok());
        let over = SegmentsConfig {
            default_ttl_s: MAX_TTL_S + 1,
            ..SegmentsConfig::default()
        };
        let error = over.validate().unwrap_err();
        assert_eq!(error.key, "segments.default_ttl_s");
        assert!(error.to_string().contains("ten years"), "{error}");
    }
}
