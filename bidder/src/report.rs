//! `bidder report`: what happened, per campaign, from the local event files.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use tern_engine::money::impression_cost;

/// The fields of an event line the report reads.
#[derive(Debug, Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    request_id: Option<String>,
    imp_id: Option<String>,
    campaign_id: Option<String>,
    win_price_micros: Option<u64>,
    currency: Option<String>,
}

/// Totals of one campaign in one currency.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CampaignTotals {
    /// Bids sent.
    pub bids: u64,
    /// Impressions won (a win or a billing notice, counted once each).
    pub wins: u64,
    /// Billed impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Spend, micros of the currency (clearing CPM / 1000 per billed impression).
    pub spend_micros: u64,
}

/// Totals by (campaign, currency), plus lines that could not be read.
#[derive(Debug, Default)]
pub struct Report {
    /// Per campaign and currency.
    pub campaigns: BTreeMap<(String, String), CampaignTotals>,
    /// No-bids seen (sampled).
    pub nobids: u64,
    /// Lines that are not events.
    pub unreadable: u64,
    /// Files read.
    pub files: usize,
}

impl Report {
    /// Reads every `*.ndjson` file in `dir`.
    pub fn from_dir(dir: &Path) -> std::io::Result<Report> {
        let mut report = Report::default();
        let mut won: HashSet<(String, String)> = HashSet::new();
        let mut paths: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "ndjson"))
            .collect();
        paths.sort();
        for path in paths {
            report.files += 1;
            for text in std::fs::read_to_string(&path)?.lines() {
                match serde_json::from_str::<Line>(text) {
                    Ok(line) => report.add(line, &mut won),
                    Err(_) => report.unreadable += 1,
                }
            }
        }
        Ok(report)
    }

    fn add(&mut self, line: Line, won: &mut HashSet<(String, String)>) {
        if line.kind == "nobid" {
            self.nobids += 1;
            return;
        }
        let Some(campaign) = line.campaign_id else {
            self.unreadable += 1;
            return;
        };
        let currency = line.currency.unwrap_or_default();
        let totals = self.campaigns.entry((campaign, currency)).or_default();
        let mut count_win = |request: Option<String>, imp: Option<String>| {
            if won.insert((request.unwrap_or_default(), imp.unwrap_or_default())) {
                totals.wins += 1;
            }
        };
        match line.kind.as_str() {
            "bid" => totals.bids += 1,
            "win" => count_win(line.request_id, line.imp_id),
            "imp" => {
                totals.impressions += 1;
                totals.spend_micros += impression_cost(line.win_price_micros.unwrap_or(0));
                count_win(line.request_id, line.imp_id);
            }
            "click" => totals.clicks += 1,
            _ => self.unreadable += 1,
        }
    }

    /// A plain-text table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<28} {:>4} {:>10} {:>10} {:>9} {:>12} {:>8} {:>14}",
            "campaign", "cur", "bids", "wins", "win rate", "impressions", "clicks", "spend"
        );
        for ((campaign, currency), t) in &self.campaigns {
            let rate = if t.bids == 0 {
                0.0
            } else {
                100.0 * t.wins as f64 / t.bids as f64
            };
            let _ = writeln!(
                out,
                "{campaign:<28} {currency:>4} {:>10} {:>10} {:>8.2}% {:>12} {:>8} {:>14.6}",
                t.bids,
                t.wins,
                rate,
                t.impressions,
                t.clicks,
                t.spend_micros as f64 / 1e6
            );
        }
        let _ = writeln!(
            out,
            "{} files, {} sampled no-bids, {} unreadable lines",
            self.files, self.nobids, self.unreadable
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_bids_wins_spend_and_win_rate_per_campaign() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            r#"{"v":1,"type":"bid","request_id":"r1","imp_id":"1","campaign_id":"c","currency":"USD","bid_price_micros":2000000}"#,
            r#"{"v":1,"type":"bid","request_id":"r2","imp_id":"1","campaign_id":"c","currency":"USD","bid_price_micros":2000000}"#,
            r#"{"v":1,"type":"win","request_id":"r1","imp_id":"1","campaign_id":"c","currency":"USD","win_price_micros":1500000}"#,
            r#"{"v":1,"type":"imp","request_id":"r1","imp_id":"1","campaign_id":"c","currency":"USD","win_price_micros":1500000}"#,
            r#"{"v":1,"type":"click","request_id":"r1","imp_id":"1","campaign_id":"c","currency":"USD"}"#,
            r#"{"v":1,"type":"nobid","request_id":"r3","nobid_reason":"no_match"}"#,
            "not json",
        ];
        std::fs::write(dir.path().join("events-1-a.ndjson"), lines.join("\n")).unwrap();
        std::fs::write(dir.path().join("ignored.txt"), "x").unwrap();
        let report = Report::from_dir(dir.path()).unwrap();
        let totals = &report.campaigns[&("c".to_owned(), "USD".to_owned())];
        assert_eq!(
            totals,
            &CampaignTotals {
                bids: 2,
                wins: 1,
                impressions: 1,
                clicks: 1,
                spend_micros: 1500
            }
        );
        assert_eq!((report.nobids, report.unreadable, report.files), (1, 1, 1));
        let table = report.render();
        assert!(table.contains("50.00%"), "{table}");
        assert!(table.contains("0.001500"), "{table}");
    }
}
