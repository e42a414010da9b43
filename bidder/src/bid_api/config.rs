//! `[bidding]` and `[notice]`: what every bid shares (seat, deadline, exchange
//! rates) and how billing notices are signed and remembered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tern_engine::money::{Currency, FxError, FxTable};

use crate::error::{ConfigError, at_least_one};

/// Longest a notice may be late (and be remembered to count it once): a week.
const MAX_NOTICE_AGE_S: u64 = 7 * 24 * 3600;

/// Bidding behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BiddingConfig {
    /// Our buyer seat id: sent in `seatbid.seat`, checked against `wseat`/`bseat`.
    pub seat: String,
    /// Deadline used when a request carries no `tmax`, milliseconds.
    pub default_tmax_ms: u64,
    /// Part of `tmax` kept for the network: past `tmax - margin` the answer is 204.
    pub tmax_margin_ms: u64,
    /// Exchange rates: units of each currency per one US dollar (USD is always 1).
    pub fx: BTreeMap<String, f64>,
}

impl Default for BiddingConfig {
    fn default() -> Self {
        BiddingConfig {
            seat: "tern".to_owned(),
            default_tmax_ms: 100,
            tmax_margin_ms: 10,
            fx: [("EUR", 0.92), ("GBP", 0.79), ("JPY", 150.0)]
                .into_iter()
                .map(|(c, r)| (c.to_owned(), r))
                .collect(),
        }
    }
}

/// Billing notices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoticeConfig {
    /// HMAC key shared by the fleet (at least 16 bytes). Empty: a random key per
    /// process, so notices only verify on the bidder that bid.
    pub secret: String,
    /// Notices older than this are refused, seconds; also how long repeats are remembered.
    pub max_age_s: u64,
}

impl Default for NoticeConfig {
    fn default() -> Self {
        NoticeConfig {
            secret: String::new(),
            max_age_s: 3_600,
        }
    }
}

impl BiddingConfig {
    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.seat.is_empty() {
            return Err(ConfigError::new("bidding.seat", "must not be empty"));
        }
        at_least_one(&[("bidding.default_tmax_ms", self.default_tmax_ms)])?;
        if self.tmax_margin_ms >= self.default_tmax_ms {
            return Err(ConfigError::new(
                "bidding.tmax_margin_ms",
                "must be below bidding.default_tmax_ms",
            ));
        }
        self.fx_table().map(drop)
    }

    /// The exchange-rate table from `fx`.
    pub fn fx_table(&self) -> Result<FxTable, ConfigError> {
        let mut rates = Vec::new();
        for (code, rate) in &self.fx {
            let currency = Currency::parse(code).ok_or_else(|| {
                ConfigError::new(
                    format!("bidding.fx.{code}"),
                    "must be a three-letter currency code",
                )
            })?;
            rates.push((currency, *rate));
        }
        FxTable::new(rates).map_err(|e| {
            let FxError::BadRate(currency) = e;
            ConfigError::new(format!("bidding.fx.{currency}"), e.to_string())
        })
    }
}

impl NoticeConfig {
    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.secret.is_empty() && self.secret.len() < 16 {
            return Err(ConfigError::new(
                "notice.secret",
                "must be at least 16 bytes (or empty)",
            ));
        }
        at_least_one(&[("notice.max_age_s", self.max_age_s)])?;
        // Repeats are remembered this long, in memory sized by it.
        if self.max_age_s > MAX_NOTICE_AGE_S {
            return Err(ConfigError::new(
                "notice.max_age_s",
                "must be at most 604800 (7 days)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::assert_refused;

    #[test]
    fn each_rejected_value_names_its_key() {
        assert_refused(&[
            ("[bidding]\ndefault_tmax_ms = 0", "bidding.default_tmax_ms"),
            ("[bidding]\nseat = \"\"", "bidding.seat"),
            ("[bidding]\ntmax_margin_ms = 100", "bidding.tmax_margin_ms"),
            ("[bidding.fx]\nEURO = 1.0", "bidding.fx.EURO"),
            ("[bidding.fx]\nCHF = -1.0", "bidding.fx.CHF"),
            ("[bidding.fx]\nUSD = 2.0", "bidding.fx.USD"),
            ("[notice]\nsecret = \"short\"", "notice.secret"),
            ("[notice]\nmax_age_s = 0", "notice.max_age_s"),
            ("[notice]\nmax_age_s = 100000000000", "notice.max_age_s"),
        ]);
    }
}
