//! Budget alerts: when a campaign's spend passes a threshold of its daily or
//! total budget (`budget.alert_thresholds_percent`), one bidder of the fleet says
//! so, once per threshold and budget day (or once ever, for the total). Which
//! bidder is decided by a conditional write to the ledger (`Update::Alert`); the
//! winner logs it, counts it (`tern_budget_alerts_total`) and, when
//! `budget.alerts.sns_topic_arn` is set, publishes it to SNS.

use serde::Serialize;

use super::ledger::LedgerItem;
use crate::aws::error_text;

/// One alert due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Alert {
    /// The ledger's key for it: `daily/<date>/<percent>` or `total/<percent>`.
    #[serde(skip)]
    pub(super) key: String,
    /// The campaign.
    pub(super) campaign_id: String,
    /// `daily` or `total`.
    pub(super) budget: &'static str,
    /// The budget day, for a daily alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) budget_day: Option<String>,
    /// The threshold passed, percent.
    pub(super) threshold_percent: u8,
    /// Spend so far, micros of `currency`.
    pub(super) spent_micros: u64,
    /// The budget, micros of `currency`.
    pub(super) budget_micros: u64,
    /// The campaign's currency.
    pub(super) currency: String,
    /// The bidder sending it.
    pub(super) bidder_id: String,
}

/// What a campaign's alerts are checked against.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits<'a> {
    pub(super) campaign_id: &'a str,
    pub(super) currency: &'a str,
    pub(super) daily: Option<u64>,
    pub(super) total: Option<u64>,
    pub(super) date: &'a str,
    pub(super) bidder_id: &'a str,
}

/// The alerts `item` calls for that nobody has sent yet.
pub(super) fn due(item: &LedgerItem, limits: &Limits<'_>, thresholds: &[u8]) -> Vec<Alert> {
    let spent_today = item.day(limits.date).spent;
    let budgets = [
        ("daily", limits.daily, spent_today, Some(limits.date)),
        ("total", limits.total, item.total_spent, None),
    ];
    let mut alerts = Vec::new();
    for (budget, limit, spent, day) in budgets {
        let Some(limit) = limit else { continue };
        for &percent in thresholds {
            // spent / limit >= percent / 100, in integers.
            if u128::from(spent) * 100 < u128::from(limit) * u128::from(percent) {
                continue;
            }
            let key = match day {
                Some(date) => format!("daily/{date}/{percent}"),
                None => format!("total/{percent}"),
            };
            if item.alerts.contains_key(&key) {
                continue;
            }
            alerts.push(Alert {
                key,
                campaign_id: limits.campaign_id.to_owned(),
                budget,
                budget_day: day.map(str::to_owned),
                threshold_percent: percent,
                spent_micros: spent,
                budget_micros: limit,
                currency: limits.currency.to_owned(),
                bidder_id: limits.bidder_id.to_owned(),
            });
        }
    }
    alerts
}

/// Where alerts go besides the log and the metric.
#[derive(Debug, Clone)]
pub(super) enum AlertSink {
    /// Nowhere else (the embedded default).
    LogOnly,
    /// An SNS topic.
    Sns {
        client: aws_sdk_sns::Client,
        topic_arn: String,
    },
}

impl AlertSink {
    /// Sends `alert`; the log line is written whatever the sink.
    pub(super) async fn send(&self, alert: &Alert) -> Result<(), String> {
        tracing::warn!(
            campaign = %alert.campaign_id,
            budget = alert.budget,
            threshold_percent = alert.threshold_percent,
            spent_micros = alert.spent_micros,
            budget_micros = alert.budget_micros,
            "budget alert"
        );
        let AlertSink::Sns { client, topic_arn } = self else {
            return Ok(());
        };
        let subject = format!(
            "Tern budget alert: {} at {}% of its {} budget",
            alert.campaign_id, alert.threshold_percent, alert.budget
        );
        let message = serde_json::to_string(alert).expect("alerts serialize");
        client
            .publish()
            .topic_arn(topic_arn)
            .subject(subject.chars().take(100).collect::<String>())
            .message(message)
            .send()
            .await
            .map(drop)
            .map_err(|e| error_text(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::ledger::DayFigures;

    fn limits() -> Limits<'static> {
        Limits {
            campaign_id: "c1",
            currency: "USD",
            daily: Some(1_000),
            total: Some(10_000),
            date: "2026-11-30",
            bidder_id: "b1",
        }
    }

    #[test]
    fn thresholds_passed_and_not_yet_sent_are_due() {
        let mut item = LedgerItem::default();
        item.days.insert(
            "2026-11-30".to_owned(),
            DayFigures {
                spent: 800,
                committed: 900,
            },
        );
        item.total_spent = 5_000;
        let keys: Vec<_> = due(&item, &limits(), &[50, 80, 100])
            .into_iter()
            .map(|a| a.key)
            .collect();
        assert_eq!(
            keys,
            ["daily/2026-11-30/50", "daily/2026-11-30/80", "total/50"]
        );
        item.alerts
            .insert("daily/2026-11-30/50".to_owned(), "b2".to_owned());
        let keys: Vec<_> = due(&item, &limits(), &[50, 80, 100])
            .into_iter()
            .map(|a| a.key)
            .collect();
        assert_eq!(
            keys,
            ["daily/2026-11-30/80", "total/50"],
            "sent once per fleet"
        );
    }

    #[test]
    fn an_alert_reads_as_json_with_its_figures() {
        let item = LedgerItem {
            total_spent: 10_000,
            ..LedgerItem::default()
        };
        let alert = due(&item, &limits(), &[100]).pop().unwrap();
        let json: serde_json::Value = serde_json::to_value(&alert).unwrap();
        assert_eq!(json["budget"], "total");
        assert_eq!(json["threshold_percent"], 100);
        assert_eq!(json["spent_micros"], 10_000);
        assert!(json.get("budget_day").is_none());
    }
}
