//! `/v1/campaigns`: create, read, list, replace, patch (JSON merge patch), pause,
//! resume, change the budget, delete.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tern_engine::campaign::{Budget, Campaign, CampaignStatus};
use utoipa::{IntoParams, ToSchema};

use super::params::{Path, Query};
use super::write::{Change, check_version, commit, load, replay, store_problem};
use super::{AppState, JsonBody, decode_cursor, encode_cursor, if_match, page_limit, with_etag};
use crate::auth::Principal;
use crate::problem::{Kind, Problem};
use crate::store::campaigns::CampaignFilter;

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// `?validate_only=true`: check the write fully, store nothing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct WriteParams {
    /// Run every check and answer `200` with the campaign as it would be
    /// stored, without storing it.
    #[serde(default)]
    pub(super) validate_only: bool,
}

/// Filters and position of a campaign listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct ListParams {
    /// Only campaigns with this status.
    status: Option<CampaignStatus>,
    /// Only this advertiser's campaigns (advertiser keys see only their own).
    advertiser_id: Option<String>,
    /// Most campaigns in the page (default and cap: `server.max_page_size`).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of campaigns.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CampaignList {
    /// The campaigns.
    campaigns: Vec<Value>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// Lists campaigns, filtered, a page at a time.
#[utoipa::path(get, operation_id = "listCampaigns", path = "/v1/campaigns", tag = "campaigns", params(ListParams),
    responses((status = 200, body = CampaignList), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<CampaignList>, Problem> {
    let limit = page_limit(params.limit, state.max_page_size)?;
    let advertiser_id = principal.scope(params.advertiser_id)?;
    let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = CampaignFilter {
        status: params.status,
        advertiser_id,
    };
    let page = state
        .store
        .campaigns(&filter, limit, after.as_deref())
        .await
        .map_err(store_problem)?;
    Ok(axum::Json(CampaignList {
        campaigns: page.items.into_iter().map(|d| d.document).collect(),
        next_cursor: page.next.as_deref().map(encode_cursor),
    }))
}

/// Creates a campaign. Without `id` one is made. `advertiser_id` is required
/// (an advertiser key's own when absent). With `Idempotency-Key`, a retry of the
/// same request gets the first answer (`Idempotent-Replayed: true`) and never
/// makes a second campaign; the key with a different request is `422`.
#[utoipa::path(post, operation_id = "createCampaign", path = "/v1/campaigns", tag = "campaigns", params(WriteParams,
        ("Idempotency-Key" = Option<String>, Header, description = "makes retries safe (kept 24 h)")),
    request_body = Campaign,
    responses((status = 201, body = Campaign, description = "created; ETag and Location set"),
        (status = 200, body = Campaign, description = "validate_only: valid, nothing stored"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
    JsonBody(mut document): JsonBody,
) -> Result<Response, Problem> {
    // The request as sent, before an id is made for it: a retry is the same request.
    let hash = request_hash(&document);
    let Value::Object(map) = &mut document else {
        return Err(Problem::field(
            Kind::Invalid,
            "(record)",
            "must be a JSON object",
        ));
    };
    if !map.contains_key("id") {
        map.insert("id".to_owned(), Value::from(new_campaign_id()));
    }
    if let Some(own) = principal.advertiser() {
        map.entry("advertiser_id")
            .or_insert_with(|| Value::from(own));
    }
    let idempotency = match headers.get("idempotency-key") {
        Some(value) => {
            let key = value
                .to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
                .ok_or_else(|| {
                    Problem::new(
                        Kind::Malformed,
                        "Idempotency-Key must be 1 to 255 visible characters",
                    )
                })?;
            if !params.validate_only
                && let Some(answer) = replay(&state, &principal, key, &hash).await?
            {
                return Ok(answer);
            }
            Some((key, hash))
        }
        None => None,
    };
    let change = Change {
        action: "campaign.create",
        principal: &principal,
        old: None,
        document,
        validate_only: params.validate_only,
    };
    let idempotency = idempotency.filter(|_| !params.validate_only);
    commit(&state, change, idempotency).await
}

/// Reads a campaign; its version is the `ETag`.
#[utoipa::path(get, operation_id = "getCampaign", path = "/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path, description = "campaign id")),
    responses((status = 200, body = Campaign), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    Ok(with_etag(StatusCode::OK, stored.version, stored.document))
}

/// Replaces a campaign. Needs `If-Match` with its `ETag`.
#[utoipa::path(put, operation_id = "replaceCampaign", path = "/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path), WriteParams, ("If-Match" = String, Header, description = "the campaign's ETag, or *")),
    request_body = Campaign,
    responses((status = 200, body = Campaign), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
    JsonBody(mut document): JsonBody,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    check_version(&stored, if_match(&headers)?)?;
    same_id(&mut document, &id)?;
    let change = Change {
        action: "campaign.replace",
        principal: &principal,
        old: Some(&stored),
        document,
        validate_only: params.validate_only,
    };
    commit(&state, change, None).await
}

/// Changes some fields of a campaign: a JSON merge patch (RFC 7396; `null`
/// removes a field). Needs `If-Match`.
#[utoipa::path(patch, operation_id = "updateCampaign", path = "/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path), WriteParams, ("If-Match" = String, Header)),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = Campaign), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    check_version(&stored, if_match(&headers)?)?;
    let mut document = stored.document.clone();
    merge_patch(&mut document, &patch);
    same_id(&mut document, &id)?;
    let change = Change {
        action: "campaign.update",
        principal: &principal,
        old: Some(&stored),
        document,
        validate_only: params.validate_only,
    };
    commit(&state, change, None).await
}

/// Pauses a campaign: the fleet stops bidding on it within seconds. Needs `If-Match`.
#[utoipa::path(post, operation_id = "pauseCampaign", path = "/v1/campaigns/{id}/pause", tag = "campaigns",
    params(("id" = String, Path), WriteParams, ("If-Match" = String, Header)),
    responses((status = 200, body = Campaign), (status = 412, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn pause(
    state: State<AppState>,
    principal: Principal,
    id: Path<String>,
    params: Query<WriteParams>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    set_status(
        state,
        principal,
        id,
        params,
        headers,
        CampaignStatus::Paused,
    )
    .await
}

/// Resumes a paused campaign. Needs `If-Match`.
#[utoipa::path(post, operation_id = "resumeCampaign", path = "/v1/campaigns/{id}/resume", tag = "campaigns",
    params(("id" = String, Path), WriteParams, ("If-Match" = String, Header)),
    responses((status = 200, body = Campaign), (status = 412, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn resume(
    state: State<AppState>,
    principal: Principal,
    id: Path<String>,
    params: Query<WriteParams>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    set_status(
        state,
        principal,
        id,
        params,
        headers,
        CampaignStatus::Active,
    )
    .await
}

async fn set_status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
    status: CampaignStatus,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    check_version(&stored, if_match(&headers)?)?;
    let mut document = stored.document.clone();
    document["status"] = serde_json::to_value(status).expect("statuses serialize");
    let action = match status {
        CampaignStatus::Active => "campaign.resume",
        CampaignStatus::Paused => "campaign.pause",
    };
    let change = Change {
        action,
        principal: &principal,
        old: Some(&stored),
        document,
        validate_only: params.validate_only,
    };
    commit(&state, change, None).await
}

/// Replaces a campaign's budget (daily, total, time zone, pacing; amounts in the
/// campaign's currency). Raising a spent budget lets the fleet bid again within
/// seconds. Needs `If-Match`.
#[utoipa::path(put, operation_id = "setCampaignBudget", path = "/v1/campaigns/{id}/budget", tag = "campaigns",
    params(("id" = String, Path), WriteParams, ("If-Match" = String, Header)),
    request_body = Budget,
    responses((status = 200, body = Campaign), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn set_budget(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
    JsonBody(budget): JsonBody,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    check_version(&stored, if_match(&headers)?)?;
    if !budget.is_object() {
        return Err(Problem::field(
            Kind::Invalid,
            "budget",
            "must be a JSON object",
        ));
    }
    let mut document = stored.document.clone();
    document["budget"] = budget;
    let change = Change {
        action: "campaign.budget",
        principal: &principal,
        old: Some(&stored),
        document,
        validate_only: params.validate_only,
    };
    commit(&state, change, None).await
}

/// Deletes a campaign; the fleet stops bidding on it within seconds. Its id may
/// be used again (at a higher version). Needs `If-Match`.
#[utoipa::path(delete, operation_id = "deleteCampaign", path = "/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path), WriteParams, ("If-Match" = String, Header)),
    responses((status = 204, description = "deleted (or, with validate_only, deletable)"), (status = 412, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    let version = check_version(&stored, if_match(&headers)?)?;
    if params.validate_only {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let audit = crate::store::records::AuditEntry {
        at: jiff::Timestamp::now().to_string(),
        actor: principal.key_id.clone(),
        action: "campaign.delete".to_owned(),
        campaign_id: Some(id.clone()),
        advertiser_id: stored
            .document
            .get("advertiser_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        key_id: None,
        old_version: Some(version),
        new_version: None,
        old: Some(stored.document.clone()),
        new: None,
    };
    match state.store.delete_campaign(&id, version, &audit).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(crate::store::StoreError::Condition(_)) => Err(Problem::new(
            Kind::PreconditionFailed,
            format!("campaign `{id}` changed meanwhile: read it again"),
        )),
        Err(e) => Err(store_problem(e)),
    }
}

/// Refuses a body whose `id` differs from the path's; fills it in when absent.
fn same_id(document: &mut Value, id: &str) -> Result<(), Problem> {
    let Value::Object(map) = document else {
        return Err(Problem::field(
            Kind::Invalid,
            "(record)",
            "must be a JSON object",
        ));
    };
    match map.get("id") {
        Some(Value::String(body_id)) if body_id != id => Err(Problem::field(
            Kind::Invalid,
            "id",
            format!("is `{body_id}` but the path names `{id}`"),
        )),
        _ => {
            map.insert("id".to_owned(), Value::from(id));
            Ok(())
        }
    }
}

/// Applies a JSON merge patch (RFC 7396 §2) to `target`.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (name, value) in changes {
        if value.is_null() {
            map.remove(name);
        } else {
            merge_patch(map.entry(name.clone()).or_insert(Value::Null), value);
        }
    }
}

/// A fresh campaign id: `c-` and 16 hex digits.
fn new_campaign_id() -> String {
    format!("c-{:016x}", fastrand::u64(..))
}

/// What makes two creates the same request: the body, canonically (keys sorted).
fn request_hash(document: &Value) -> String {
    let digest = Sha256::digest(document.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // The example of RFC 7396 §3.
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [1, 2]});
        merge_patch(&mut target, &json!({"a": [3]}));
        assert_eq!(target, json!({"a": [3]}), "arrays are replaced whole");
    }

    #[test]
    fn the_body_id_must_be_the_paths() {
        let mut document = json!({"advertiser_domain": "a.example"});
        same_id(&mut document, "c1").unwrap();
        assert_eq!(document["id"], "c1");
        let mut other = json!({"id": "c2"});
        let problem = same_id(&mut other, "c1").unwrap_err();
        assert_eq!(problem.errors[0].field, "id");
    }

    #[test]
    fn the_request_hash_ignores_key_order() {
        assert_eq!(
            request_hash(&json!({"a": 1, "b": 2})),
            request_hash(&json!({"b": 2, "a": 1}))
        );
        assert_ne!(
            request_hash(&json!({"a": 1})),
            request_hash(&json!({"a": 2}))
        );
    }
}
