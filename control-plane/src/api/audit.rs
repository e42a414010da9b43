//! `GET /v1/audit`: every change, newest first, filtered. Advertiser keys see
//! their advertiser's entries only.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::params::Query;
use super::write::store_problem;
use super::{AppState, decode_cursor, encode_cursor, page_limit};
use crate::auth::Principal;
use crate::problem::{Kind, Problem};
use crate::store::records::{AuditEntry, AuditQuery};

/// Filters and position of an audit listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditParams {
    /// Only this campaign's changes.
    campaign_id: Option<String>,
    /// Only changes made with this key id.
    actor: Option<String>,
    /// Only this action, e.g. `campaign.pause`.
    action: Option<String>,
    /// Only this advertiser's (advertiser keys: always their own).
    advertiser_id: Option<String>,
    /// Changes at or after this instant (RFC 3339).
    since: Option<String>,
    /// Changes before this instant (RFC 3339).
    until: Option<String>,
    /// Most entries in the page (default and cap: `server.max_page_size`).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AuditList {
    /// The entries, newest first.
    entries: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// An RFC 3339 instant as ms since the epoch, or the problem naming `field`.
fn instant_ms(field: &str, text: Option<&str>) -> Result<Option<u64>, Problem> {
    text.map(|t| {
        t.parse::<jiff::Timestamp>()
            .ok()
            .and_then(|ts| u64::try_from(ts.as_millisecond()).ok())
            .ok_or_else(|| {
                Problem::field(
                    Kind::Malformed,
                    field,
                    "must be an RFC 3339 instant like 2026-11-30T12:00:00Z",
                )
            })
    })
    .transpose()
}

/// Lists changes, newest first.
#[utoipa::path(get, operation_id = "listAudit", path = "/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditList), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<AuditParams>,
) -> Result<axum::Json<AuditList>, Problem> {
    let advertiser_id = principal.scope(params.advertiser_id)?;
    let since_ms = instant_ms("since", params.since.as_deref())?;
    let until_ms = instant_ms("until", params.until.as_deref())?;
    if let (Some(since), Some(until)) = (since_ms, until_ms)
        && since > until
    {
        return Err(Problem::field(
            Kind::Malformed,
            "since",
            "must not be after until",
        ));
    }
    let query = AuditQuery {
        since_ms,
        until_ms,
        campaign_id: params.campaign_id,
        actor: params.actor,
        action: params.action,
        advertiser_id,
        limit: page_limit(params.limit, state.max_page_size)?,
        after: params.cursor.as_deref().map(decode_cursor).transpose()?,
    };
    let page = state.store.audit(&query).await.map_err(store_problem)?;
    Ok(axum::Json(AuditList {
        entries: page.entries,
        next_cursor: page.next.as_deref().map(encode_cursor),
    }))
}
