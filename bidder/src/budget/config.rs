//! `[budget]`: where the fleet's spend ledger lives, how often this bidder settles
//! with it, how long bids hold their cost, and budget alerts.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, at_least_one};

/// Fleet budgets (see `docs/budgets.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    /// `local` (the embedded default: one bidder, ledger in `state_dir`) or
    /// `dynamodb` (a fleet sharing one spend table).
    pub ledger: LedgerKind,
    /// Directory of this bidder's spend journal (and, for `local`, its ledger).
    /// It names the bidder in the fleet: keep it across restarts.
    pub state_dir: PathBuf,
    /// This bidder's name in the ledger; empty: the one kept in `state_dir`
    /// (the host name and a random suffix, made on first start).
    pub bidder_id: String,
    /// How often spend is flushed to the ledger and leases renewed, milliseconds.
    pub flush_interval_ms: u64,
    /// How long a bid holds its cost waiting for its billing notice, seconds.
    pub hold_timeout_s: u64,
    /// How long a lease lives without renewal before any bidder may reclaim it,
    /// seconds; at least 4/3 of `hold_timeout_s` and two flush intervals (see
    /// `docs/budgets.md`).
    pub lease_ttl_s: u64,
    /// Seconds of this bidder's recent spend one lease slice covers.
    pub slice_s: u64,
    /// Budget alert thresholds, percent of a daily or total budget, each 1 to 100.
    pub alert_thresholds_percent: Vec<u8>,
    /// The DynamoDB ledger.
    pub dynamodb: LedgerDynamoDbConfig,
    /// Where alerts go besides the log and `tern_budget_alerts_total`.
    pub alerts: AlertsConfig,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            ledger: LedgerKind::Local,
            state_dir: PathBuf::from("tern-state"),
            bidder_id: String::new(),
            flush_interval_ms: 1_000,
            hold_timeout_s: 120,
            lease_ttl_s: 180,
            slice_s: 10,
            alert_thresholds_percent: vec![50, 80, 100],
            dynamodb: LedgerDynamoDbConfig::default(),
            alerts: AlertsConfig::default(),
        }
    }
}

/// Where the spend ledger lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// A file in `budget.state_dir`: one bidder alone.
    #[default]
    Local,
    /// A DynamoDB table shared by the fleet.
    Dynamodb,
}

/// The DynamoDB spend ledger. Endpoint, region and credentials come from the
/// standard AWS configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerDynamoDbConfig {
    /// Spend table (key `campaign_id`, see `docs/budgets.md`).
    pub table: String,
    /// Time allowed for one call, milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for LedgerDynamoDbConfig {
    fn default() -> Self {
        LedgerDynamoDbConfig {
            table: "tern-spend".to_owned(),
            request_timeout_ms: 2_000,
        }
    }
}

/// Budget alert destinations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// SNS topic alerts are published to; empty: log and metric only.
    pub sns_topic_arn: String,
}

/// Longest hold: a day (a hold must end before the budget day after next).
const MAX_HOLD_TIMEOUT_S: u64 = 86_400 / 2;

impl BudgetConfig {
    /// How long after its bid a billing notice may come and still be inside the
    /// overspend bound of `docs/budgets.md`, milliseconds: the hold timeout less
    /// two flush intervals (a notice billed at another bidder reaches the bid's
    /// own bidder through the ledger, one flush each way, and must find the
    /// bid's hold still live there).
    pub fn late_after_ms(&self) -> u64 {
        (self.hold_timeout_s * 1_000).saturating_sub(2 * self.flush_interval_ms)
    }

    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[
            ("budget.flush_interval_ms", self.flush_interval_ms),
            ("budget.hold_timeout_s", self.hold_timeout_s),
            ("budget.slice_s", self.slice_s),
            (
                "budget.dynamodb.request_timeout_ms",
                self.dynamodb.request_timeout_ms,
            ),
        ])?;
        if self.state_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("budget.state_dir", "must not be empty"));
        }
        if self.hold_timeout_s > MAX_HOLD_TIMEOUT_S {
            return Err(ConfigError::new(
                "budget.hold_timeout_s",
                "must be at most 43200 (12 hours)",
            ));
        }
        if self.late_after_ms() == 0 {
            return Err(ConfigError::new(
                "budget.hold_timeout_s",
                "must be longer than two budget.flush_interval_ms",
            ));
        }
        // Leases are renewed every quarter of their life, and serve new bids only
        // while the holds those bids place end before the lease can lapse: the
        // three quarters left at a renewal must cover the holds and two flushes.
        let flush_s = self.flush_interval_ms.div_ceil(1_000);
        let needed_s = (self.hold_timeout_s + 2 * flush_s) * 4 / 3;
        if self.lease_ttl_s < needed_s {
            return Err(ConfigError::new(
                "budget.lease_ttl_s",
                format!(
                    "must be at least 4/3 of (budget.hold_timeout_s + 2 flush intervals): {needed_s}"
                ),
            ));
        }
        if self
            .alert_thresholds_percent
            .iter()
            .any(|p| !(1..=100).contains(p))
        {
            return Err(ConfigError::new(
                "budget.alert_thresholds_percent",
                "each must be between 1 and 100",
            ));
        }
        if self.bidder_id.len() > 128 || self.bidder_id.contains(['@', '\n']) {
            return Err(ConfigError::new(
                "budget.bidder_id",
                "must be at most 128 bytes, without '@' or line breaks",
            ));
        }
        if self.ledger == LedgerKind::Dynamodb && self.dynamodb.table.is_empty() {
            return Err(ConfigError::new(
                "budget.dynamodb.table",
                "must not be empty",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::assert_refused;

    #[test]
    fn each_refused_value_names_its_key() {
        assert_refused(&[
            (
                "[budget]\nflush_interval_ms = 0",
                "budget.flush_interval_ms",
            ),
            ("[budget]\nhold_timeout_s = 0", "budget.hold_timeout_s"),
            ("[budget]\nhold_timeout_s = 86400", "budget.hold_timeout_s"),
            (
                "[budget]\nhold_timeout_s = 4\nflush_interval_ms = 2000",
                "budget.hold_timeout_s",
            ),
            ("[budget]\nlease_ttl_s = 160", "budget.lease_ttl_s"),
            (
                "[budget]\nlease_ttl_s = 180\nflush_interval_ms = 20000",
                "budget.lease_ttl_s",
            ),
            ("[budget]\nslice_s = 0", "budget.slice_s"),
            ("[budget]\nstate_dir = \"\"", "budget.state_dir"),
            (
                "[budget]\nalert_thresholds_percent = [50, 0]",
                "budget.alert_thresholds_percent",
            ),
            (
                "[budget]\nalert_thresholds_percent = [150]",
                "budget.alert_thresholds_percent",
            ),
            ("[budget]\nbidder_id = \"a@b\"", "budget.bidder_id"),
            ("[budget]\nledger = \"redis\"", "budget.ledger"),
            (
                "[budget]\nledger = \"dynamodb\"\ndynamodb.table = \"\"",
                "budget.dynamodb.table",
            ),
        ]);
    }
}
