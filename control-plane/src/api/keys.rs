//! `/v1/keys`: API keys, managed by operators. A key's secret is shown once, in
//! the answer that makes it; only its hash is stored (see `auth`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::campaigns::WriteParams;
use super::params::{Path, Query};
use super::write::store_problem;
use crate::auth::{Principal, Role};
use crate::problem::{Kind, Problem};
use crate::store::StoreError;
use crate::store::records::{AuditEntry, KeyRecord};

/// The roles a key may have.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum RoleName {
    /// Everything, including keys.
    Operator,
    /// One advertiser's campaigns.
    Advertiser,
}

/// What a new key may do.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewKeyRequest {
    /// `operator`, or `advertiser` (with `advertiser_id`).
    role: RoleName,
    /// The advertiser an `advertiser` key is limited to (1 to 128 bytes, no
    /// spaces, as campaign ids).
    #[serde(default)]
    advertiser_id: Option<String>,
    /// What the key is for.
    #[serde(default)]
    description: String,
}

impl NewKeyRequest {
    /// The request read from `body`, or the problem naming the field at fault.
    fn read(body: serde_json::Value) -> Result<(Role, String), Problem> {
        let request: NewKeyRequest = serde_path_to_error::deserialize(body).map_err(|e| {
            let field = e.path().to_string();
            Problem::field(Kind::InvalidKey, &field, e.into_inner().to_string())
        })?;
        let role = match (request.role, request.advertiser_id) {
            (RoleName::Operator, None) => Role::Operator,
            (RoleName::Operator, Some(_)) => {
                return Err(Problem::field(
                    Kind::InvalidKey,
                    "advertiser_id",
                    "an operator key is not limited to an advertiser",
                ));
            }
            (RoleName::Advertiser, None) => {
                return Err(Problem::field(
                    Kind::InvalidKey,
                    "advertiser_id",
                    "required for an advertiser key",
                ));
            }
            (RoleName::Advertiser, Some(advertiser)) => {
                let valid = !advertiser.is_empty()
                    && advertiser.len() <= 128
                    && !advertiser
                        .bytes()
                        .any(|b| b.is_ascii_control() || b == b' ');
                if !valid {
                    return Err(Problem::field(
                        Kind::InvalidKey,
                        "advertiser_id",
                        "must be 1 to 128 bytes without spaces or control characters, as in campaigns",
                    ));
                }
                Role::Advertiser(advertiser)
            }
        };
        Ok((role, request.description))
    }
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
    params(WriteParams),
    responses((status = 201, body = CreatedKey), (status = 200, description = "validate_only: valid, nothing made"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<WriteParams>,
    super::JsonBody(body): super::JsonBody,
) -> Result<Response, Problem> {
    principal.require_operator()?;
    let (role, description) = NewKeyRequest::read(body)?;
    if params.validate_only {
        return Ok(StatusCode::OK.into_response());
    }
    let key = state
        .hasher
        .generate()
        .map_err(|e| Problem::unavailable(format!("no randomness: {e}")))?;
    let record = KeyRecord {
        key_id: key.key_id.clone(),
        hash: key.hash,
        role,
        description,
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
    responses((status = 200, body = Vec<KeyRecord>), (status = 403, body = Problem, content_type = "application/problem+json")))]
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
    params(("key_id" = String, Path), WriteParams),
    responses((status = 204, description = "revoked (or, with validate_only, revocable)"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(key_id): Path<String>,
    Query(params): Query<WriteParams>,
) -> Result<Response, Problem> {
    principal.require_operator()?;
    let no_key = || {
        Problem::new(
            Kind::NotFound,
            format!("no active key `{}`", super::short(&key_id)),
        )
    };
    if crate::auth::parse_key(&format!("tern_{key_id}_x")).is_none() {
        return Err(no_key());
    }
    let record = state.store.key(&key_id).await.map_err(store_problem)?;
    let Some(record) = record.filter(|r| r.revoked_at.is_none()) else {
        return Err(no_key());
    };
    if params.validate_only {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
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
