//! `GET /v1/campaigns/{id}/status`: what the fleet has spent and holds of a
//! campaign's budget, from the spend ledger the bidders keep (`docs/budgets.md`),
//! and where today's spend stands against an even spread of the daily budget.

use axum::extract::State;
use serde::Serialize;
use serde_json::Value;
use tern_engine::budget::{BudgetZone, Pacing};
use tern_engine::campaign::Campaign;
use tern_engine::money::micros_down;
use tern_tables::spend::LedgerItem;
use utoipa::ToSchema;

use super::AppState;
use super::params::Path;
use super::write::{load, store_problem};
use crate::auth::Principal;
use crate::problem::{Kind, Problem};

/// A campaign's budget as the fleet stands with it. Amounts are micros of the
/// campaign's currency; spend fields are absent until a bidder has leased or
/// spent for the campaign (absent, not zero: the ledger has no record).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CampaignStatus {
    /// The campaign.
    campaign_id: String,
    /// Its version.
    version: u64,
    /// `active` or `paused`.
    status: String,
    /// The currency of every amount here.
    currency: String,
    /// Today in the campaign's budget time zone, `YYYY-MM-DD`.
    budget_day: String,
    /// The daily budget, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    daily_budget_micros: Option<u64>,
    /// The total budget, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    total_budget_micros: Option<u64>,
    /// Billed impressions on today's bids, fleet-wide.
    #[serde(skip_serializing_if = "Option::is_none")]
    spent_today_micros: Option<u64>,
    /// Billed impressions over the campaign's life, fleet-wide.
    #[serde(skip_serializing_if = "Option::is_none")]
    spent_total_micros: Option<u64>,
    /// Leased to bidders for today and not yet spent (bids in flight hold part of it).
    #[serde(skip_serializing_if = "Option::is_none")]
    leased_micros: Option<u64>,
    /// Bidder processes holding a live lease for today.
    #[serde(skip_serializing_if = "Option::is_none")]
    bidders_leasing: Option<u64>,
    /// Budget alerts sent (`daily/<date>/<percent>`, `total/<percent>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    alerts: Option<Vec<String>>,
    /// Pacing of the daily budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pacing: Option<PacingStatus>,
}

/// Where today's spend stands.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PacingStatus {
    /// `even` or `asap`.
    mode: String,
    /// Share of the budget day gone, 0 to 1.
    day_elapsed: f64,
    /// What an even spread of the daily budget would have spent by now.
    even_spend_micros: u64,
    /// What is left of today's budget over what is left of the day, per second:
    /// the rate an even spread needs from now on (the bidders weight it by the
    /// traffic they expect in each part of the day).
    even_rate_micros_per_s: f64,
}

/// Reads what the fleet has spent and holds of a campaign's budget.
#[utoipa::path(get, path = "/v1/campaigns/{id}/status", operation_id = "getCampaignStatus", tag = "campaigns",
    params(("id" = String, Path)),
    responses((status = 200, body = CampaignStatus), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn get_status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<CampaignStatus>, Problem> {
    let stored = load(&state, &principal, &id).await?;
    let campaign = stored.campaign().map_err(|e| {
        Problem::new(
            Kind::Invalid,
            format!("the stored campaign is not valid, so the fleet does not bid on it: {e}"),
        )
    })?;
    let ledger = state.store.spend(&id).await.map_err(store_problem)?;
    let now_s = tern_engine::clock::now_unix_s();
    Ok(axum::Json(status_of(&campaign, ledger.as_ref(), now_s)))
}

/// The status of `campaign` at `now_s` given its ledger record.
fn status_of(campaign: &Campaign, ledger: Option<&LedgerItem>, now_s: u64) -> CampaignStatus {
    let zone = campaign
        .budget
        .timezone
        .as_deref()
        .and_then(|name| BudgetZone::named(name).ok())
        .unwrap_or_default();
    let today = zone.day_of(now_s);
    let date = BudgetZone::date(today);
    // Rounded down as the bidders round budgets: never more than allowed.
    let daily = campaign.budget.daily.and_then(micros_down);
    let total = campaign.budget.total.and_then(micros_down);
    let spent_today = ledger.map(|l| l.day(&date).spent);
    let leases = ledger.map(|l| {
        l.leases
            .iter()
            .filter(|(key, lease)| key.ends_with(&format!("@{date}")) && lease.expires_s > now_s)
            .map(|(_, lease)| lease.reserved)
            .collect::<Vec<_>>()
    });
    let pacing = daily.map(|daily| {
        let (start, end) = (zone.day_start(today), zone.day_end(today));
        let length = end.saturating_sub(start).max(1) as f64;
        let elapsed = (now_s.saturating_sub(start) as f64 / length).min(1.0);
        let left_s = end.saturating_sub(now_s).max(1) as f64;
        let left = daily.saturating_sub(spent_today.unwrap_or(0));
        PacingStatus {
            mode: match campaign.budget.pacing {
                Pacing::Even => "even",
                Pacing::Asap => "asap",
            }
            .to_owned(),
            day_elapsed: elapsed,
            even_spend_micros: (daily as f64 * elapsed) as u64,
            even_rate_micros_per_s: left as f64 / left_s,
        }
    });
    CampaignStatus {
        campaign_id: campaign.id.clone(),
        version: campaign.version,
        status: match serde_json::to_value(campaign.status) {
            Ok(Value::String(s)) => s,
            _ => String::new(),
        },
        currency: campaign.bidding.currency.clone(),
        budget_day: date.clone(),
        daily_budget_micros: daily,
        total_budget_micros: total,
        spent_today_micros: spent_today,
        spent_total_micros: ledger.map(|l| l.total_spent),
        leased_micros: leases.as_ref().map(|l| l.iter().sum()),
        bidders_leasing: leases.as_ref().map(|l| l.len() as u64),
        alerts: ledger.map(|l| l.alerts.keys().cloned().collect()),
        pacing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_tables::spend::{DayFigures, Lease};

    fn campaign() -> Campaign {
        serde_json::from_value(serde_json::json!({
            "id": "c1", "advertiser_domain": "a.example",
            "bidding": {"max_cpm": 2.0, "base_bid": 1.0},
            "budget": {"daily": 100.0, "total": 1000.0, "timezone": "America/New_York"},
            "creatives": [{"id": "cr", "banner": {"w": 1, "h": 1}, "adm": "x"}]
        }))
        .unwrap()
    }

    /// 2026-11-30T17:00:00Z: noon in New York (UTC-5).
    const NOON_NY: u64 = 1_796_058_000;

    #[test]
    fn spend_is_absent_without_a_record_and_read_from_it_when_there() {
        let status = status_of(&campaign(), None, NOON_NY);
        assert_eq!(status.budget_day, "2026-11-30");
        assert_eq!(status.daily_budget_micros, Some(100_000_000));
        assert!(status.spent_today_micros.is_none() && status.leased_micros.is_none());
        let pacing = status.pacing.unwrap();
        assert!((pacing.day_elapsed - 0.5).abs() < 1e-9);
        assert_eq!(pacing.even_spend_micros, 50_000_000);
        // Nothing spent: the whole budget over the 43,200 s left.
        assert!((pacing.even_rate_micros_per_s - 100_000_000.0 / 43_200.0).abs() < 1e-6);

        let mut ledger = LedgerItem {
            total_spent: 70_000_000,
            ..LedgerItem::default()
        };
        ledger.days.insert(
            "2026-11-30".to_owned(),
            DayFigures {
                spent: 30_000_000,
                committed: 45_000_000,
            },
        );
        let lease = |reserved, expires_s| Lease {
            reserved,
            expires_s,
            ..Lease::default()
        };
        ledger.leases.insert(
            "aa-1@2026-11-30".to_owned(),
            lease(10_000_000, NOON_NY + 60),
        );
        ledger
            .leases
            .insert("bb-2@2026-11-30".to_owned(), lease(5_000_000, NOON_NY - 1));
        ledger
            .leases
            .insert("aa-1@2026-11-29".to_owned(), lease(7, NOON_NY + 60));
        let status = status_of(&campaign(), Some(&ledger), NOON_NY);
        assert_eq!(status.spent_today_micros, Some(30_000_000));
        assert_eq!(status.spent_total_micros, Some(70_000_000));
        assert_eq!(
            status.leased_micros,
            Some(10_000_000),
            "live leases of today only"
        );
        assert_eq!(status.bidders_leasing, Some(1));
    }
}
