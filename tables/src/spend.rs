//! The spend ledger's record, one per campaign, as the bidders write it (see
//! `docs/budgets.md` and the bidder's `budget::ledger`) and the control plane
//! reads it for campaign status. In DynamoDB (`tern-spend`, key `campaign_id`)
//! the fields are attributes of the same names: numbers `N`, maps `M`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

/// Names one bidder process's lease for one budget day: `<bidder>-<process>@<date>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeaseKey {
    /// Digest of the bidder's id.
    pub bidder: u64,
    /// The process's number.
    pub process: u32,
    /// The budget day, `YYYY-MM-DD`.
    pub date: String,
}

impl fmt::Display for LeaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}-{:08x}@{}", self.bidder, self.process, self.date)
    }
}

impl LeaseKey {
    /// Reads a key as [`LeaseKey`]'s `Display` writes it.
    pub fn parse(text: &str) -> Option<LeaseKey> {
        let (owner, date) = text.split_once('@')?;
        let (bidder, process) = owner.split_once('-')?;
        Some(LeaseKey {
            bidder: u64::from_str_radix(bidder, 16).ok()?,
            process: u32::from_str_radix(process, 16).ok()?,
            date: date.to_owned(),
        })
    }
}

/// One day's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// Billed on bids of this day.
    pub spent: u64,
    /// Spent plus leased out for this day.
    pub committed: u64,
}

/// One lease.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The bidder's id, for people reading the ledger.
    pub bidder_id: String,
    /// Leased and not yet spent.
    pub reserved: u64,
    /// Spend by other bidders on this lease's bids already taken off `reserved`.
    pub absorbed: u64,
    /// Bumped by every change.
    pub seq: u64,
    /// Lapses at this instant unless renewed, seconds since the epoch.
    pub expires_s: u64,
}

/// One campaign's record (see the module).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerItem {
    /// All spend.
    pub total_spent: u64,
    /// All spend plus every lease's `reserved`.
    pub total_committed: u64,
    /// By budget day, `YYYY-MM-DD`.
    pub days: BTreeMap<String, DayFigures>,
    /// By [`LeaseKey`] text.
    pub leases: BTreeMap<String, Lease>,
    /// Spend on a lease's bids billed at other bidders, by [`LeaseKey`] text.
    pub foreign: BTreeMap<String, u64>,
    /// Journal position of each bidder's last flush, by bidder digest (hex).
    pub flushed: BTreeMap<String, u64>,
    /// Alerts sent, by alert key, with the bidder that sent each.
    pub alerts: BTreeMap<String, String>,
}

impl LedgerItem {
    /// The lease named `key`, if the record has it.
    pub fn lease(&self, key: &LeaseKey) -> Option<&Lease> {
        self.leases.get(&key.to_string())
    }

    /// A day's figures (zero when absent).
    pub fn day(&self, date: &str) -> DayFigures {
        self.days.get(date).copied().unwrap_or_default()
    }
}

/// One bidder's digest as the `flushed` map keys it.
pub fn bidder_key(bidder: u64) -> String {
    format!("{bidder:016x}")
}

fn number_of(value: Option<&AttributeValue>) -> u64 {
    match value {
        Some(AttributeValue::N(n)) => n.parse::<i128>().map_or(0, |n| n.max(0) as u64),
        _ => 0,
    }
}

fn map_of(value: Option<&AttributeValue>) -> Option<&HashMap<String, AttributeValue>> {
    match value {
        Some(AttributeValue::M(map)) => Some(map),
        _ => None,
    }
}

fn entries<'i, T>(
    item: &'i HashMap<String, AttributeValue>,
    name: &str,
    read: impl Fn(&'i AttributeValue) -> T,
) -> BTreeMap<String, T> {
    map_of(item.get(name))
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), read(v)))
        .collect()
}

/// A ledger item as DynamoDB holds it; missing or mistyped fields read as zero.
pub fn from_item(item: &HashMap<String, AttributeValue>) -> LedgerItem {
    LedgerItem {
        total_spent: number_of(item.get("total_spent")),
        total_committed: number_of(item.get("total_committed")),
        days: entries(item, "days", |v| {
            let m = map_of(Some(v));
            let field = |f: &str| number_of(m.and_then(|m| m.get(f)));
            DayFigures {
                spent: field("spent"),
                committed: field("committed"),
            }
        }),
        leases: entries(item, "leases", |v| {
            let m = map_of(Some(v));
            let field = |f: &str| number_of(m.and_then(|m| m.get(f)));
            Lease {
                bidder_id: match m.and_then(|m| m.get("bidder_id")) {
                    Some(AttributeValue::S(s)) => s.clone(),
                    _ => String::new(),
                },
                reserved: field("reserved"),
                absorbed: field("absorbed"),
                seq: field("seq"),
                expires_s: field("expires_s"),
            }
        }),
        foreign: entries(item, "foreign", |v| number_of(Some(v))),
        flushed: entries(item, "flushed", |v| number_of(Some(v))),
        alerts: entries(item, "alerts", |v| match v {
            AttributeValue::S(s) => s.clone(),
            _ => String::new(),
        }),
    }
}
