//! `[screening]`: where the invalid-traffic and supply-chain lists come from
//! (`docs/ivt.md`), how often they are checked for changes, and which ad system
//! domain each exchange sells under.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::aws::S3Location;
use crate::error::{ConfigError, at_least_one};

/// List sources and exchange identities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScreeningConfig {
    /// Start from the bundled lists (the crawler-user-agents bot list, sample IP
    /// ranges, the example model); the operator's files are added to them, a file
    /// at the same path replacing the bundled one.
    pub bundled: bool,
    /// A directory of lists in the layout of `docs/ivt.md`, re-read when a file
    /// in it changes. A bad list at start stops the bidder; later, a bad list is
    /// rejected and the last good lists keep serving.
    pub lists_dir: Option<PathBuf>,
    /// An S3 prefix holding the same layout, `s3://bucket/prefix/`, polled by
    /// every bidder (AWS configuration as for DynamoDB); empty: none. Until its
    /// first good read the bundled lists serve.
    pub s3_uri: String,
    /// How often the directory or prefix is checked for changes, milliseconds.
    pub poll_interval_ms: u64,
    /// The ad system domain each exchange (the `<exchange>` of
    /// `/openrtb2/bid/<exchange>`) sells under: its `asi` in supply chains and its
    /// domain in ads.txt. Without it, a chain's last node is not compared with
    /// the sender and a chainless request cannot be matched to ads.txt.
    pub exchange_domains: BTreeMap<String, String>,
}

impl Default for ScreeningConfig {
    fn default() -> Self {
        ScreeningConfig {
            bundled: true,
            lists_dir: None,
            s3_uri: String::new(),
            poll_interval_ms: 60_000,
            exchange_domains: BTreeMap::new(),
        }
    }
}

impl ScreeningConfig {
    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[("screening.poll_interval_ms", self.poll_interval_ms)])?;
        if self.lists_dir.is_some() && self.s3().is_some() {
            return Err(ConfigError::new(
                "screening.s3_uri",
                "set either screening.lists_dir or screening.s3_uri, not both",
            ));
        }
        if let Some(uri) = self.s3() {
            S3Location::parse(uri).map_err(|why| ConfigError::new("screening.s3_uri", why))?;
        }
        for (exchange, domain) in &self.exchange_domains {
            let domain_like = !domain.is_empty()
                && domain.contains('.')
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
            if !domain_like {
                return Err(ConfigError::new(
                    format!("screening.exchange_domains.{exchange}"),
                    "must be a lower-case domain like `exchange.example`",
                ));
            }
        }
        Ok(())
    }
}

impl ScreeningConfig {
    /// The S3 prefix, when one is set.
    pub fn s3(&self) -> Option<&str> {
        Some(self.s3_uri.as_str()).filter(|uri| !uri.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::assert_refused;

    #[test]
    fn each_rejected_value_names_its_key() {
        assert_refused(&[
            (
                "[screening]\npoll_interval_ms = 0",
                "screening.poll_interval_ms",
            ),
            ("[screening]\ns3_uri = \"https://x/y\"", "screening.s3_uri"),
            ("[screening]\ns3_uri = \"s3:///y\"", "screening.s3_uri"),
            (
                "[screening]\nlists_dir = \"/l\"\ns3_uri = \"s3://b/p\"",
                "screening.s3_uri",
            ),
            (
                "[screening.exchange_domains]\nx = \"Exchange.Example\"",
                "screening.exchange_domains.x",
            ),
            ("[screening]\nlist_dir = \"/l\"", "screening.list_dir"),
        ]);
    }

    #[test]
    fn s3_uris_name_bucket_and_prefix() {
        let at = |uri| S3Location::parse(uri).unwrap();
        assert_eq!(at("s3://b").prefix, "");
        assert_eq!(at("s3://b/").prefix, "");
        assert_eq!(at("s3://b/ivt").prefix, "ivt/");
        let nested = at("s3://lists-bucket/fleet/ivt/");
        assert_eq!(
            (nested.bucket.as_str(), nested.prefix.as_str()),
            ("lists-bucket", "fleet/ivt/")
        );
    }
}
