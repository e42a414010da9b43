//! `bidder report`: what happened, per campaign and exchange, from the local event
//! files: bids, wins, losses and the win rate, impressions, clicks and spend, and
//! why bids lost (the exchanges' loss reasons, OpenRTB 2.6 list 5.25).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use tern_engine::money::impression_cost;

/// The loss reason codes of OpenRTB 2.6 list 5.25 (the list of OpenRTB 3.0 that
/// 2.6 refers to), with the names reports give them. Codes from 500 up are the
/// exchange's own; other codes are reported by number.
pub const LOSS_REASONS: [(u32, &str); 32] = [
    (0, "bid won"),
    (1, "internal error"),
    (2, "impression opportunity expired"),
    (3, "invalid bid response"),
    (4, "invalid deal id"),
    (5, "invalid auction id"),
    (6, "invalid advertiser domain"),
    (7, "missing markup"),
    (8, "missing creative id"),
    (9, "missing bid price"),
    (10, "missing minimum creative approval data"),
    (100, "below auction floor"),
    (101, "below deal floor"),
    (102, "lost to higher bid"),
    (103, "lost to a bid for a deal"),
    (104, "buyer seat blocked"),
    (200, "creative filtered: general"),
    (201, "creative filtered: pending processing"),
    (202, "creative filtered: disapproved by exchange"),
    (203, "creative filtered: size not allowed"),
    (204, "creative filtered: incorrect creative format"),
    (205, "creative filtered: advertiser exclusions"),
    (206, "creative filtered: app store id exclusions"),
    (207, "creative filtered: not secure"),
    (208, "creative filtered: language exclusions"),
    (209, "creative filtered: category exclusions"),
    (210, "creative filtered: creative attribute exclusions"),
    (211, "creative filtered: ad type exclusions"),
    (212, "creative filtered: animation too long"),
    (213, "creative filtered: not allowed in deal"),
    (214, "creative filtered: invalid skadnetwork"),
    (215, "creative filtered: app bundle exclusions"),
];

/// Codes from this one up are exchange-specific (list 5.25: "500+").
pub const EXCHANGE_SPECIFIC_LOSS_REASONS: u32 = 500;

/// What a loss reason code means: its list 5.25 name, `exchange-specific` from
/// 500 up, `None` for a code the list does not define.
pub fn loss_reason_name(code: u32) -> Option<&'static str> {
    match LOSS_REASONS.binary_search_by_key(&code, |(c, _)| *c) {
        Ok(at) => Some(LOSS_REASONS[at].1),
        Err(_) if code >= EXCHANGE_SPECIFIC_LOSS_REASONS => Some("exchange-specific"),
        Err(_) => None,
    }
}

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
    exchange: Option<String>,
    loss_reason: Option<u32>,
}

/// Which rows a line counts in: campaign, exchange (empty when not named) and
/// currency.
pub type RowKey = (String, String, String);

/// Totals of one campaign on one exchange in one currency.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CampaignTotals {
    /// Bids sent.
    pub bids: u64,
    /// Impressions won (a win or a billing notice, counted once each).
    pub wins: u64,
    /// Bids the exchange reported lost: loss notices, once per impression, except
    /// those whose reason is 0 ("bid won").
    pub losses: u64,
    /// Billed impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Spend, micros of the currency (clearing CPM / 1000 per billed impression).
    pub spend_micros: u64,
    /// Loss notices by reason code (`None`: the notice carried no readable
    /// reason), once per impression, reason 0 included.
    pub loss_reasons: BTreeMap<Option<u32>, u64>,
}

impl CampaignTotals {
    /// Wins per bid, percent; `None` without bids.
    pub fn win_rate_percent(&self) -> Option<f64> {
        (self.bids > 0).then(|| 100.0 * self.wins as f64 / self.bids as f64)
    }
}

/// Totals by campaign, exchange and currency, plus lines that could not be read.
#[derive(Debug, Default)]
pub struct Report {
    /// Per campaign, exchange and currency.
    pub campaigns: BTreeMap<RowKey, CampaignTotals>,
    /// No-bids seen (sampled).
    pub nobids: u64,
    /// Lines that are not events.
    pub unreadable: u64,
    /// Files read.
    pub files: usize,
}

/// Impressions already counted, by (exchange, auction, impression): for wins,
/// and for losses.
#[derive(Debug, Default)]
struct Seen {
    won: HashSet<(String, String, String)>,
    lost: HashSet<(String, String, String)>,
}

impl Report {
    /// Reads every `*.ndjson` file in `dir`.
    pub fn from_dir(dir: &Path) -> std::io::Result<Report> {
        let mut report = Report::default();
        let mut seen = Seen::default();
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
                    Ok(line) => report.add(line, &mut seen),
                    Err(_) => report.unreadable += 1,
                }
            }
        }
        Ok(report)
    }

    fn add(&mut self, line: Line, seen: &mut Seen) {
        if line.kind == "nobid" {
            self.nobids += 1;
            return;
        }
        let Some(campaign) = line.campaign_id else {
            self.unreadable += 1;
            return;
        };
        let exchange = line.exchange.unwrap_or_default();
        let impression = (
            exchange.clone(),
            line.request_id.unwrap_or_default(),
            line.imp_id.unwrap_or_default(),
        );
        let currency = line.currency.unwrap_or_default();
        let totals = self
            .campaigns
            .entry((campaign, exchange, currency))
            .or_default();
        match line.kind.as_str() {
            "bid" => totals.bids += 1,
            "win" => {
                if seen.won.insert(impression) {
                    totals.wins += 1;
                }
            }
            "imp" => {
                totals.impressions += 1;
                totals.spend_micros += impression_cost(line.win_price_micros.unwrap_or(0));
                if seen.won.insert(impression) {
                    totals.wins += 1;
                }
            }
            "click" => totals.clicks += 1,
            "loss" => {
                if seen.lost.insert(impression) {
                    *totals.loss_reasons.entry(line.loss_reason).or_default() += 1;
                    if line.loss_reason != Some(0) {
                        totals.losses += 1;
                    }
                }
            }
            _ => self.unreadable += 1,
        }
    }

    /// A plain-text table per campaign and exchange (`-` for an unnamed one),
    /// then the loss reasons of each.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<28} {:<16} {:>4} {:>10} {:>10} {:>10} {:>8} {:>12} {:>8} {:>14}",
            "campaign",
            "exchange",
            "cur",
            "bids",
            "wins",
            "losses",
            "win rate",
            "impressions",
            "clicks",
            "spend"
        );
        for ((campaign, exchange, currency), t) in &self.campaigns {
            let rate = t
                .win_rate_percent()
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.1}%"));
            let _ = writeln!(
                out,
                "{campaign:<28} {:<16} {currency:>4} {:>10} {:>10} {:>10} {rate:>8} {:>12} {:>8} {:>14.6}",
                exchange_name(exchange),
                t.bids,
                t.wins,
                t.losses,
                t.impressions,
                t.clicks,
                t.spend_micros as f64 / 1e6
            );
        }
        if self.campaigns.values().any(|t| !t.loss_reasons.is_empty()) {
            let _ = writeln!(
                out,
                "\nloss reasons (OpenRTB 2.6 list 5.25)\n{:<28} {:<16} {:>6}  {:<48} {:>10}",
                "campaign", "exchange", "code", "reason", "notices"
            );
            for ((campaign, exchange, _), t) in &self.campaigns {
                for (code, count) in &t.loss_reasons {
                    let (code, name) = match code {
                        Some(code) => (
                            code.to_string(),
                            loss_reason_name(*code).unwrap_or("not in the list"),
                        ),
                        None => ("-".to_owned(), "unknown"),
                    };
                    let _ = writeln!(
                        out,
                        "{campaign:<28} {:<16} {code:>6}  {name:<48} {count:>10}",
                        exchange_name(exchange)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "{} files, {} sampled no-bids, {} unreadable lines",
            self.files, self.nobids, self.unreadable
        );
        out
    }
}

/// An exchange as the report shows it: `-` when the bid path named none.
fn exchange_name(exchange: &str) -> &str {
    if exchange.is_empty() { "-" } else { exchange }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(campaign: &str, exchange: &str) -> RowKey {
        (campaign.to_owned(), exchange.to_owned(), "USD".to_owned())
    }

    fn report_of(lines: &[&str]) -> Report {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("events-1-a.ndjson"), lines.join("\n")).unwrap();
        std::fs::write(dir.path().join("ignored.txt"), "x").unwrap();
        Report::from_dir(dir.path()).unwrap()
    }

    #[test]
    fn totals_bids_wins_spend_and_win_rate_per_campaign() {
        let report = report_of(&[
            r#"{"v":1,"type":"bid","request_id":"r1","imp_id":"1","campaign_id":"c","currency":"USD","bid_price_micros":2000000}"#,
            r#"{"v":1,"type":"bid","request_id":"r2","imp_id":"1","campaign_id":"c","currency":"USD","bid_price_micros":2000000}"#,
            r#"{"v":1,"type":"win","request_id":"r1","imp_id":"1","campaign_id":"c","currency":"USD","win_price_micros":1500000}"#,
            r#"{"v":1,"type":"imp","request_id":"r1","imp_id":"1","campaign_id":"c","currency":"USD","win_price_micros":1500000}"#,
            r#"{"v":1,"type":"click","request_id":"r1","imp_id":"1","campaign_id":"c","currency":"USD"}"#,
            r#"{"v":1,"type":"nobid","request_id":"r3","nobid_reason":"no_match"}"#,
            "not json",
        ]);
        let totals = &report.campaigns[&key("c", "")];
        assert_eq!(
            totals,
            &CampaignTotals {
                bids: 2,
                wins: 1,
                impressions: 1,
                clicks: 1,
                spend_micros: 1500,
                ..CampaignTotals::default()
            }
        );
        assert_eq!((report.nobids, report.unreadable, report.files), (1, 1, 1));
        let table = report.render();
        assert!(table.contains("50.0%"), "{table}");
        assert!(table.contains("0.001500"), "{table}");
        assert!(!table.contains("loss reasons"), "no losses, no section");
    }

    #[test]
    fn losses_and_their_reasons_are_counted_per_campaign_and_exchange() {
        let bid = |id: &str, exchange: &str| {
            format!(
                r#"{{"v":1,"type":"bid","request_id":"{id}","imp_id":"1","campaign_id":"c","currency":"USD","exchange":"{exchange}"}}"#
            )
        };
        let loss = |id: &str, exchange: &str, reason: &str| {
            format!(
                r#"{{"v":1,"type":"loss","request_id":"{id}","imp_id":"1","campaign_id":"c","currency":"USD","exchange":"{exchange}"{reason}}}"#
            )
        };
        let lines = [
            bid("a1", "adx"),
            bid("a2", "adx"),
            bid("a3", "adx"),
            bid("a4", "adx"),
            bid("a5", "adx"),
            bid("a6", "adx"),
            r#"{"v":1,"type":"imp","request_id":"a1","imp_id":"1","campaign_id":"c","currency":"USD","exchange":"adx","win_price_micros":1000000}"#.to_owned(),
            loss("a2", "adx", r#","loss_reason":102,"min_to_win_micros":2600000"#),
            // The same loss again (resent, or counted by a second bidder): once.
            loss("a2", "adx", r#","loss_reason":102"#),
            loss("a3", "adx", r#","loss_reason":102"#),
            loss("a4", "adx", r#","loss_reason":100"#),
            loss("a5", "adx", ""),
            // Reason 0 says the bid won: listed, but not a loss.
            loss("a6", "adx", r#","loss_reason":0"#),
            bid("b1", "other"),
            loss("b1", "other", r#","loss_reason":1234"#),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let report = report_of(&lines);
        let adx = &report.campaigns[&key("c", "adx")];
        assert_eq!((adx.bids, adx.wins, adx.losses), (6, 1, 4));
        assert_eq!(
            adx.loss_reasons,
            BTreeMap::from([(None, 1), (Some(0), 1), (Some(100), 1), (Some(102), 2)])
        );
        let other = &report.campaigns[&key("c", "other")];
        assert_eq!((other.bids, other.wins, other.losses), (1, 0, 1));
        assert_eq!(report.unreadable, 0, "loss lines are events");

        let table = report.render();
        let (rows, reasons) = table.split_once("loss reasons").expect("a reasons section");
        let row = |exchange: &str| -> Vec<&str> {
            rows.lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>())
                .find(|cells| cells.len() > 2 && cells[..2] == ["c", exchange])
                .unwrap_or_else(|| panic!("no row for {exchange} in\n{table}"))
        };
        // campaign, exchange, currency, bids, wins, losses, win rate, ...
        assert_eq!(row("adx")[2..7], ["USD", "6", "1", "4", "16.7%"]);
        assert_eq!(row("other")[2..7], ["USD", "1", "0", "1", "0.0%"]);
        // campaign, exchange, code, reason (words), notices
        let listed: Vec<(String, String, String, String)> = reasons
            .lines()
            .skip(2)
            .filter(|l| l.starts_with("c "))
            .map(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                let name = cells[3..cells.len() - 1].join(" ");
                let count = cells[cells.len() - 1].to_owned();
                (cells[1].to_owned(), cells[2].to_owned(), name, count)
            })
            .collect();
        let expected = [
            ("adx", "-", "unknown", "1"),
            ("adx", "0", "bid won", "1"),
            ("adx", "100", "below auction floor", "1"),
            ("adx", "102", "lost to higher bid", "2"),
            ("other", "1234", "exchange-specific", "1"),
        ]
        .map(|(e, c, n, k)| (e.to_owned(), c.to_owned(), n.to_owned(), k.to_owned()));
        assert_eq!(listed, expected, "{table}");
    }

    #[test]
    fn every_list_5_25_code_has_a_name_and_others_are_told_apart() {
        assert!(LOSS_REASONS.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        assert_eq!(loss_reason_name(102), Some("lost to higher bid"));
        assert_eq!(
            loss_reason_name(213),
            Some("creative filtered: not allowed in deal")
        );
        assert_eq!(loss_reason_name(500), Some("exchange-specific"));
        assert_eq!(loss_reason_name(1000), Some("exchange-specific"));
        assert_eq!(loss_reason_name(11), None);
        assert_eq!(loss_reason_name(300), None);
    }

    #[test]
    fn a_campaign_without_bids_in_the_files_has_no_win_rate() {
        let report = report_of(&[
            r#"{"v":1,"type":"imp","request_id":"r1","imp_id":"1","campaign_id":"c","currency":"USD","win_price_micros":1000000}"#,
        ]);
        let row = report.render().lines().nth(1).unwrap().to_owned();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[..7], ["c", "-", "USD", "0", "1", "0", "-"], "{row}");
    }
}
