//! The one way a campaign is changed: the requested document is given its next
//! version, validated by the bidder's own campaign model
//! (`tern_engine::campaign::parse_campaign`, so whatever is stored the bidders
//! accept), checked against the key's advertiser, and stored with its audit
//! entry in one conditional transaction.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tern_engine::campaign::{Campaign, parse_campaign};
use tern_tables::campaigns::ItemDocument;

use super::{AppState, IfMatch, with_etag};
use crate::auth::Principal;
use crate::problem::{Kind, Problem};
use crate::store::StoreError;
use crate::store::campaigns::{Expected, IdempotentCreate};
use crate::store::records::AuditEntry;

/// One change to make.
#[derive(Debug)]
pub(super) struct Change<'a> {
    /// The audit log's name for it, e.g. `campaign.pause`.
    pub action: &'static str,
    /// Who asks.
    pub principal: &'a Principal,
    /// The campaign as stored (`None`: a create).
    pub old: Option<&'a ItemDocument>,
    /// The campaign as it should become (its `version` is ignored).
    pub document: Value,
    /// Check only; store nothing.
    pub validate_only: bool,
}

/// Loads campaign `id` for `principal`: `404` when absent, `403` when it belongs
/// to another advertiser.
pub(super) async fn load(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<ItemDocument, Problem> {
    let not_found = || {
        Problem::new(
            Kind::NotFound,
            format!("no campaign `{}`", super::short(id)),
        )
    };
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        // No campaign can have it (and DynamoDB refuses keys past 2 KB).
        return Err(not_found());
    }
    let stored = state.store.campaign(id).await.map_err(store_problem)?;
    let Some(stored) = stored else {
        return Err(not_found());
    };
    let advertiser = stored.document.get("advertiser_id").and_then(Value::as_str);
    if !principal.may_access(advertiser) {
        return Err(Problem::new(
            Kind::Forbidden,
            format!("campaign `{id}` belongs to another advertiser"),
        ));
    }
    Ok(stored)
}

/// Checks that `if_match` names `stored`'s current version (`412` otherwise).
pub(super) fn check_version(stored: &ItemDocument, if_match: IfMatch) -> Result<u64, Problem> {
    match if_match {
        IfMatch::Any => Ok(stored.version),
        IfMatch::Versions(v) if v.contains(&stored.version) => Ok(stored.version),
        IfMatch::Versions(v) => Err(Problem::new(
            Kind::PreconditionFailed,
            format!(
                "campaign `{}` is at version {}, not {v:?}: read it again",
                stored.id, stored.version
            ),
        )),
    }
}

/// The validated campaign `change` asks for, at `version`: the campaign model's
/// rules, then what the fleet's bidders add (a currency they price).
fn validated(
    change: &Change<'_>,
    version: u64,
    currencies: &[tern_engine::money::Currency],
) -> Result<Campaign, Problem> {
    let mut document = change.document.clone();
    let Value::Object(map) = &mut document else {
        return Err(Problem::field(
            Kind::Invalid,
            "(record)",
            "must be a JSON object",
        ));
    };
    map.insert("version".to_owned(), Value::from(version));
    if let Some(field) = not_an_object(&document) {
        return Err(Problem::field(
            Kind::Invalid,
            &field,
            "must be a JSON object",
        ));
    }
    let campaign = parse_campaign(document, 0)
        .map_err(|e| Problem::field(Kind::Invalid, &e.field, e.reason))?;
    let priced = tern_engine::money::Currency::parse(&campaign.bidding.currency)
        .is_some_and(|c| currencies.contains(&c));
    if !priced {
        return Err(Problem::field(
            Kind::Invalid,
            "bidding.currency",
            format!(
                "`{}` is not a currency the fleet's bidders price (campaigns.currencies)",
                campaign.bidding.currency
            ),
        ));
    }
    let Some(advertiser) = campaign.advertiser_id.as_deref() else {
        return Err(Problem::field(
            Kind::Invalid,
            "advertiser_id",
            "required: the advertiser account that owns the campaign",
        ));
    };
    if !change.principal.may_access(Some(advertiser)) {
        return Err(Problem::new(
            Kind::Forbidden,
            format!("this key may not write campaigns of advertiser `{advertiser}`"),
        ));
    }
    Ok(campaign)
}

/// Makes `change`; on a create with `idempotency`, keeps the answer for retries.
pub(super) async fn commit(
    state: &AppState,
    change: Change<'_>,
    idempotency: Option<(&str, String)>,
) -> Result<Response, Problem> {
    let (version, expected) = match change.old {
        Some(old) => (old.version + 1, Expected::Version(old.version)),
        None => {
            let id = match change.document.get("id") {
                Some(Value::String(id)) if !id.is_empty() && id.len() <= MAX_ID_BYTES => id,
                _ => {
                    return Err(Problem::field(
                        Kind::Invalid,
                        "id",
                        "must be a string of 1 to 128 bytes (or absent: one is made)",
                    ));
                }
            };
            // Answered without a failed transaction where it can be (a failed
            // one is costlier, and moto's strands the stream readers).
            if state
                .store
                .campaign(id)
                .await
                .map_err(store_problem)?
                .is_some()
            {
                return Err(Problem::new(
                    Kind::Conflict,
                    format!("campaign `{id}` exists"),
                ));
            }
            let deleted_at = state.store.tombstone(id).await.map_err(store_problem)?;
            (
                deleted_at.map_or(1, |v| v + 1),
                Expected::Absent { deleted_at },
            )
        }
    };
    let campaign = validated(&change, version, &state.currencies)?;
    // As the table keeps it (and `GET` answers it): absent options left out.
    let body = without_nulls(serde_json::to_value(&campaign).expect("campaigns serialize"));
    if body.to_string().len() > MAX_CAMPAIGN_BYTES {
        return Err(Problem::field(
            Kind::Invalid,
            "(record)",
            format!("is larger than {MAX_CAMPAIGN_BYTES} bytes as JSON"),
        ));
    }
    if let Some(old) = change.old
        && unchanged(&old.document, &body)
    {
        // Nothing to write: no new version, no stream record, no audit entry.
        return Ok(with_etag(StatusCode::OK, old.version, old.document.clone()));
    }
    if change.validate_only {
        return Ok((StatusCode::OK, axum::Json(body)).into_response());
    }
    let audit = AuditEntry {
        at: jiff::Timestamp::now().to_string(),
        actor: change.principal.key_id.clone(),
        action: change.action.to_owned(),
        campaign_id: Some(campaign.id.clone()),
        advertiser_id: campaign.advertiser_id.clone(),
        key_id: None,
        old_version: change.old.map(|o| o.version),
        new_version: Some(version),
        old: change.old.map(|o| o.document.clone()),
        new: Some(body.clone()),
    };
    let status = if change.old.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let idempotent = idempotency
        .as_ref()
        .map(|(key, request_hash)| IdempotentCreate {
            key_id: &change.principal.key_id,
            key,
            record: crate::store::records::IdempotencyRecord {
                request_hash: request_hash.clone(),
                status: status.as_u16(),
                body: body.to_string(),
                etag: format!("\"{version}\""),
            },
        });
    match state
        .store
        .put_campaign(&campaign, expected, &audit, idempotent.as_ref())
        .await
    {
        Ok(()) => {}
        Err(StoreError::Condition(failed)) if idempotency.is_some() && failed.contains(&3) => {
            // A concurrent retry with the same key won: answer as it was answered.
            let (key, hash) = idempotency.expect("only creates with a key write a record");
            return replay(state, change.principal, key, &hash)
                .await?
                .ok_or_else(|| {
                    Problem::new(
                        Kind::Conflict,
                        "a request with this Idempotency-Key is in progress",
                    )
                });
        }
        Err(StoreError::Condition(failed)) if change.old.is_none() => {
            let why = if failed.contains(&2) {
                "was deleted meanwhile: send the create again"
            } else {
                "exists"
            };
            return Err(Problem::new(
                Kind::Conflict,
                format!("campaign `{}` {why}", campaign.id),
            ));
        }
        Err(StoreError::Condition(_)) => {
            return Err(Problem::new(
                Kind::PreconditionFailed,
                format!(
                    "campaign `{}` changed meanwhile: read it again",
                    campaign.id
                ),
            ));
        }
        Err(e) => return Err(store_problem(e)),
    }
    tracing::info!(campaign = %campaign.id, version, action = change.action, actor = %change.principal.key_id, "campaign changed");
    let mut response = with_etag(status, version, body);
    if status == StatusCode::CREATED {
        set_location(&mut response, &campaign.id);
    }
    Ok(response)
}

/// The first part of a campaign document that the model reads as a record but
/// that is not a JSON object (serde would read a record from a list, by
/// position: `"budget": [7.5]` as a daily budget of 7.5).
fn not_an_object(document: &Value) -> Option<String> {
    let is_record = |v: Option<&Value>| v.is_none_or(|v| v.is_null() || v.is_object());
    for field in [
        "bidding",
        "budget",
        "targeting",
        "frequency_cap",
        "screening",
        "segments",
    ] {
        if !is_record(document.get(field)) {
            return Some(field.to_owned());
        }
    }
    let targeting_video = document.get("targeting").and_then(|t| t.get("video"));
    if !is_record(targeting_video) {
        return Some("targeting.video".to_owned());
    }
    let records = |list: Option<&Value>| -> Option<usize> {
        let items = list.and_then(Value::as_array)?;
        items.iter().position(|item| !item.is_object())
    };
    if let Some(i) = records(document.get("category_taxonomies")) {
        return Some(format!("category_taxonomies[{i}]"));
    }
    let creatives = document.get("creatives").and_then(Value::as_array);
    for (i, creative) in creatives.into_iter().flatten().enumerate() {
        if !creative.is_object() {
            return Some(format!("creatives[{i}]"));
        }
        for kind in ["banner", "video", "audio", "native"] {
            if !is_record(creative.get(kind)) {
                return Some(format!("creatives[{i}].{kind}"));
            }
        }
        let native = creative.get("native");
        if !is_record(native.and_then(|n| n.get("video"))) {
            return Some(format!("creatives[{i}].native.video"));
        }
        for list in ["images", "data"] {
            if let Some(at) = records(native.and_then(|n| n.get(list))) {
                return Some(format!("creatives[{i}].native.{list}[{at}]"));
            }
        }
    }
    None
}

/// Longest campaign id (the campaign model's limit).
const MAX_ID_BYTES: usize = 128;

/// Largest campaign document: its audit entry holds it twice (before and after)
/// within DynamoDB's 400 KB item limit.
const MAX_CAMPAIGN_BYTES: usize = 128 * 1024;

/// Whether `new` (the campaign as it would be stored) is what `old` already is,
/// versions aside.
fn unchanged(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Value::Object(map) = &mut v {
            map.remove("version");
        }
        v
    };
    strip(old) == strip(new)
}

/// Sets `Location` to campaign `id`'s URL, its id percent-encoded as a path
/// segment.
pub(super) fn set_location(response: &mut Response, id: &str) {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let location = format!(
        "/v1/campaigns/{}",
        utf8_percent_encode(id, NON_ALPHANUMERIC)
    );
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
}

/// `value` with every `null` member of an object removed, at any depth.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The answer kept for `key` if the same request made it (`Ok(None)` if none is
/// kept; `422` if a different request used the key).
pub(super) async fn replay(
    state: &AppState,
    principal: &Principal,
    key: &str,
    request_hash: &str,
) -> Result<Option<Response>, Problem> {
    let record = state
        .store
        .idempotency(&principal.key_id, key)
        .await
        .map_err(store_problem)?;
    let Some(record) = record else {
        return Ok(None);
    };
    if record.request_hash != request_hash {
        return Err(Problem::new(
            Kind::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request",
        ));
    }
    let status = StatusCode::from_u16(record.status).unwrap_or(StatusCode::CREATED);
    let created_id = match serde_json::from_str::<Value>(&record.body) {
        Ok(Value::Object(body)) => body.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        record.body,
    )
        .into_response();
    let headers: &mut HeaderMap = response.headers_mut();
    if let Ok(value) = record.etag.parse() {
        headers.insert(header::ETAG, value);
    }
    headers.insert("idempotent-replayed", "true".parse().expect("valid header"));
    if status == StatusCode::CREATED
        && let Some(id) = created_id
    {
        set_location(&mut response, &id);
    }
    Ok(Some(response))
}

/// A store failure as the problem to answer.
pub(super) fn store_problem(error: StoreError) -> Problem {
    match error {
        StoreError::Corrupt(why) => {
            tracing::error!(%why, "unreadable item in the control plane's tables");
            Problem::unavailable(why)
        }
        other => Problem::unavailable(other),
    }
}
