//! `/v1/keys`: API keys, managed by operators. A key's secret is shown once, in
//! the answer that makes it; only its hash is stored (see `auth`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::write::store_problem;
use crate::auth::{Principal, Role};
use crate::problem::{Kind, Problem};
use crate::store::StoreError;
use crate::store::records::{AuditEntry, KeyRecord};

/// What a new key may do.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct NewKeyRequest {
    /// `operator`, or `advertiser` with `advertiser_id`.
    #[serde(flatten)]
    role: Role,
    /// What the key is for.
    #[serde(default)]
    description: String,
}

/// A key just made: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CreatedKey {
    /// The whole key, for `Authorization: Bearer <key>`. Not shown again.
    key: String,
    /// The stored record.
    #[serde(flatten)]
    record: KeyRecord,
}

/// Makes a key (operators only).
#[utoipa::path(post, operation_id = "createKey", path = "/v1/keys", tag = "keys", request_body = NewKeyRequest,
    responses((status = 201, body = CreatedKey), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    super::JsonBody(body): super::JsonBody,
) -> Result<Response, Problem> {
    principal.require_operator()?;
    let request: NewKeyRequest = serde_json::from_value(body)
        .map_err(|e| Problem::field(Kind::Invalid, "role", e.to_string()))?;
    if let Role::Advertiser(advertiser) = &request.role
        && (advertiser.is_empty() || advertiser.len() > 128)
    {
        return Err(Problem::field(
            Kind::Invalid,
            "advertiser_id",
            "must be 1 to 128 bytes",
        ));
    }
    let key = state
        .hasher
        .generate()
        .map_err(|e| Problem::unavailable(format!("no randomness: {e}")))?;
    let record = KeyRecord {
        key_id: key.key_id.clone(),
        hash: key.hash,
        role: request.role,
        description: request.description,
        created_at: jiff::Timestamp::now().to_string(),
        created_by: principal.key_id.clone(),
        revoked_at: None,
    };
    let audit = key_audit("key.create", &principal, &record);
    state
        .store
        .put_key(&record, &audit)
        .await
        .map_err(store_problem)?;
    tracing::info!(key_id = %record.key_id, by = %principal.key_id, "API key created");
    let created = CreatedKey {
        key: key.text,
        record,
    };
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// Lists every key, revoked ones included, without secrets (operators only).
#[utoipa::path(get, operation_id = "listKeys", path = "/v1/keys", tag = "keys",
    responses((status = 200, body = Vec<KeyRecord>), (status = 403, body = Problem)))]
pub(super) async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<axum::Json<Vec<KeyRecord>>, Problem> {
    principal.require_operator()?;
    let keys = state.store.keys().await.map_err(store_problem)?;
    Ok(axum::Json(keys))
}

/// Revokes a key: it stops working at once (operators only).
#[utoipa::path(delete, operation_id = "revokeKey", path = "/v1/keys/{key_id}", tag = "keys",
    params(("key_id" = String, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = Problem)))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(key_id): Path<String>,
) -> Result<Response, Problem> {
    principal.require_operator()?;
    let record = state.store.key(&key_id).await.map_err(store_problem)?;
    let Some(record) = record.filter(|r| r.revoked_at.is_none()) else {
        return Err(Problem::new(
            Kind::NotFound,
            format!("no active key `{key_id}`"),
        ));
    };
    let at = jiff::Timestamp::now().to_string();
    let audit = key_audit("key.revoke", &principal, &record);
    match state.store.revoke_key(&key_id, &at, &audit).await {
        Ok(()) => {
            tracing::info!(%key_id, by = %principal.key_id, "API key revoked");
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Err(StoreError::Condition(_)) => Err(Problem::new(
            Kind::NotFound,
            format!("no active key `{key_id}`"),
        )),
        Err(e) => Err(store_problem(e)),
    }
}

fn key_audit(action: &str, principal: &Principal, record: &KeyRecord) -> AuditEntry {
    AuditEntry {
        at: jiff::Timestamp::now().to_string(),
        actor: principal.key_id.clone(),
        action: action.to_owned(),
        campaign_id: None,
        advertiser_id: match &record.role {
            Role::Advertiser(a) => Some(a.clone()),
            Role::Operator => None,
        },
        key_id: Some(record.key_id.clone()),
        old_version: None,
        new_version: None,
        old: None,
        new: None,
    }
}
