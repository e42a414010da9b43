//! `/v1/campaigns/{id}/creatives`: a campaign's ads. Each change is a change of
//! the campaign (its version, its `ETag`, its audit entry), validated whole.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use tern_engine::campaign::Creative;

use super::campaigns::WriteParams;
use super::params::{Path, Query};
use super::write::{Change, check_version, commit, load};
use super::{AppState, JsonBody, if_match, with_etag};
use crate::auth::Principal;
use crate::problem::{Kind, Problem};

/// A campaign's creatives as stored.
fn creatives(document: &Value) -> Vec<Value> {
    document
        .get("creatives")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn position(list: &[Value], creative_id: &str) -> Option<usize> {
    list.iter()
        .position(|c| c.get("id").and_then(Value::as_str) == Some(creative_id))
}

fn not_found(id: &str, creative_id: &str) -> Problem {
    Problem::new(
        Kind::NotFound,
        format!("campaign `{id}` has no creative `{creative_id}`"),
    )
}

/// Lists a campaign's creatives; the `ETag` is the campaign's.
#[utoipa::path(get, operation_id = "listCreatives", path = "/v1/campaigns/{id}/creatives", tag = "creatives",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Creative>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    let list = Value::Array(creatives(&stored.document));
    Ok(with_etag(StatusCode::OK, stored.version, list))
}

/// Adds a creative (`409` if its id is taken). Needs the campaign's `If-Match`;
/// answers the campaign.
#[utoipa::path(post, operation_id = "createCreative", path = "/v1/campaigns/{id}/creatives", tag = "creatives",
    params(("id" = String, Path), WriteParams, ("If-Match" = String, Header)),
    request_body = Creative,
    responses((status = 200, body = tern_engine::campaign::Campaign), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
    JsonBody(creative): JsonBody,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    check_version(&stored, if_match(&headers)?)?;
    let mut list = creatives(&stored.document);
    if let Some(creative_id) = creative.get("id").and_then(Value::as_str)
        && position(&list, creative_id).is_some()
    {
        return Err(Problem::new(
            Kind::Conflict,
            format!("campaign `{id}` has a creative `{creative_id}`"),
        ));
    }
    list.push(creative);
    let mut document = stored.document.clone();
    document["creatives"] = Value::Array(list);
    let change = Change {
        action: "creative.create",
        principal: &principal,
        old: Some(&stored),
        document,
        validate_only: params.validate_only,
    };
    commit(&state, change, None).await
}

/// Reads one creative; the `ETag` is the campaign's.
#[utoipa::path(get, operation_id = "getCreative", path = "/v1/campaigns/{id}/creatives/{creative_id}", tag = "creatives",
    params(("id" = String, Path), ("creative_id" = String, Path)),
    responses((status = 200, body = Creative), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, creative_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    let list = creatives(&stored.document);
    let at = position(&list, &creative_id).ok_or_else(|| not_found(&id, &creative_id))?;
    Ok(with_etag(StatusCode::OK, stored.version, list[at].clone()))
}

/// Replaces one creative. Needs the campaign's `If-Match`; answers the campaign.
#[utoipa::path(put, operation_id = "replaceCreative", path = "/v1/campaigns/{id}/creatives/{creative_id}", tag = "creatives",
    params(("id" = String, Path), ("creative_id" = String, Path), WriteParams, ("If-Match" = String, Header)),
    request_body = Creative,
    responses((status = 200, body = tern_engine::campaign::Campaign), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, creative_id)): Path<(String, String)>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
    JsonBody(mut creative): JsonBody,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    check_version(&stored, if_match(&headers)?)?;
    let mut list = creatives(&stored.document);
    let at = position(&list, &creative_id).ok_or_else(|| not_found(&id, &creative_id))?;
    if let Value::Object(map) = &mut creative {
        map.entry("id")
            .or_insert_with(|| Value::from(creative_id.as_str()));
    }
    if creative.get("id").and_then(Value::as_str) != Some(creative_id.as_str()) {
        return Err(Problem::field(
            Kind::Invalid,
            &format!("creatives[{at}].id"),
            format!("must be `{creative_id}`, as in the path"),
        ));
    }
    list[at] = creative;
    let mut document = stored.document.clone();
    document["creatives"] = Value::Array(list);
    let change = Change {
        action: "creative.replace",
        principal: &principal,
        old: Some(&stored),
        document,
        validate_only: params.validate_only,
    };
    commit(&state, change, None).await
}

/// Removes one creative (a campaign keeps at least one). Needs the campaign's
/// `If-Match`; answers the campaign.
#[utoipa::path(delete, operation_id = "deleteCreative", path = "/v1/campaigns/{id}/creatives/{creative_id}", tag = "creatives",
    params(("id" = String, Path), ("creative_id" = String, Path), WriteParams, ("If-Match" = String, Header)),
    responses((status = 200, body = tern_engine::campaign::Campaign), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, creative_id)): Path<(String, String)>,
    Query(params): Query<WriteParams>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let stored = load(&state, &principal, &id).await?;
    check_version(&stored, if_match(&headers)?)?;
    let mut list = creatives(&stored.document);
    let at = position(&list, &creative_id).ok_or_else(|| not_found(&id, &creative_id))?;
    list.remove(at);
    let mut document = stored.document.clone();
    document["creatives"] = Value::Array(list);
    let change = Change {
        action: "creative.delete",
        principal: &principal,
        old: Some(&stored),
        document,
        validate_only: params.validate_only,
    };
    commit(&state, change, None).await
}
