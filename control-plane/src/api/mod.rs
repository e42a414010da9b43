//! The REST API under `/v1`, its OpenAPI document (`/openapi.json`, generated
//! from the handlers, so it lists exactly the routes served), and what the
//! handlers share: the state, the JSON body and `If-Match` readers, and `ETag`s.

mod audit;
mod campaigns;
mod creatives;
mod keys;
mod params;
mod status;
mod write;

use std::sync::{Arc, OnceLock};

use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::KeyHasher;
use crate::metrics::Metrics;
use crate::problem::{Kind, Problem};
use crate::store::Store;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The tables.
    pub store: Store,
    /// Key hashing and the bootstrap key.
    pub hasher: KeyHasher,
    /// Most items one page may hold.
    pub max_page_size: u32,
    /// Currencies the fleet's bidders price (`campaigns.currencies`).
    pub currencies: Arc<[tern_engine::money::Currency]>,
    /// Request counts and durations.
    pub metrics: Arc<Metrics>,
    /// The OpenAPI document, set once the router is built from the handlers.
    pub openapi: Arc<OnceLock<Value>>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tern control plane",
        description = "Campaigns, creatives, budgets, API keys and the audit log of a Tern bidder fleet. \
            Every route but /health needs `Authorization: Bearer <key>`. Errors are RFC 9457 problem documents. \
            See docs/control-plane.md."
    ),
    modifiers(&BearerAuth),
    security(("api_key" = []))
)]
struct ApiDoc;

/// Declares the bearer-key scheme every route uses.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tern_<key id>_<secret>")
                    .build(),
            ),
        );
    }
}

/// The API router and its OpenAPI document.
pub fn router(state: AppState, body_bytes: usize) -> Router {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(campaigns::list, campaigns::create))
        .routes(routes!(
            campaigns::get_one,
            campaigns::replace,
            campaigns::update,
            campaigns::delete
        ))
        .routes(routes!(campaigns::pause))
        .routes(routes!(campaigns::resume))
        .routes(routes!(campaigns::set_budget))
        .routes(routes!(status::get_status))
        .routes(routes!(creatives::list, creatives::create))
        .routes(routes!(
            creatives::get_one,
            creatives::replace,
            creatives::delete
        ))
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(health))
        .routes(routes!(openapi_json))
        .with_state(state.clone())
        .split_for_parts();
    let _ = state
        .openapi
        .set(serde_json::to_value(&api).expect("the OpenAPI document serializes"));
    router
        .fallback(|| async { Problem::new(Kind::NotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                Kind::MethodNotAllowed,
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::record,
        ))
        .with_state(state)
}

/// This document: every route the API serves (OpenAPI 3.1).
#[utoipa::path(get, operation_id = "getOpenApi", path = "/openapi.json", responses((status = 200, description = "the OpenAPI document")))]
async fn openapi_json(State(state): State<AppState>, _: crate::auth::Principal) -> Json<Value> {
    Json(state.openapi.get().cloned().unwrap_or_default())
}

/// Liveness: `200` while the process runs. The only route open without a key.
#[utoipa::path(get, operation_id = "health", path = "/health", security(()), responses((status = 200, description = "running")))]
async fn health() -> &'static str {
    "ok"
}

/// A JSON request body read as a document (any `*/json` or `*/*+json` type).
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !is_json {
            return Err(Problem::new(
                Kind::UnsupportedMediaType,
                "send the body as `Content-Type: application/json`",
            ));
        }
        let bytes = read_body(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| Problem::new(Kind::Malformed, format!("the body is not JSON: {e}")))
    }
}

/// The body's bytes, or the problem with reading them.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, Problem> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(Kind::TooLarge, "the body is larger than server.body_bytes")
            } else {
                Problem::new(Kind::Malformed, rejection.body_text())
            }
        })
}

/// What `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: whatever the current version is.
    Any,
    /// `"<version>"`, or a list of them.
    Versions(Vec<u64>),
}

/// Reads the required `If-Match` header: `428` without it, `412` when it names
/// no version this service could have issued.
pub fn if_match(headers: &HeaderMap) -> Result<IfMatch, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Err(Problem::new(
            Kind::PreconditionRequired,
            "send the campaign's ETag in If-Match (or `*`)",
        ));
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(IfMatch::Any);
    }
    // A list (RFC 9110 §13.1.1) names the versions any of which may be current.
    let versions: Option<Vec<u64>> = text
        .split(',')
        .map(|tag| {
            tag.trim()
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .and_then(|t| t.parse().ok())
        })
        .collect();
    match versions {
        Some(versions) if !versions.is_empty() => Ok(IfMatch::Versions(versions)),
        _ => Err(Problem::new(
            Kind::PreconditionFailed,
            format!("If-Match `{}` is not an ETag of this service", short(text)),
        )),
    }
}

/// `text` cut to 64 characters, for echoing in a problem's detail.
pub(super) fn short(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The `ETag` of `version`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header value")
}

/// A campaign document with its `ETag`.
pub fn with_etag(status: axum::http::StatusCode, version: u64, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::ETAG, etag(version));
    response
}

/// The `limit` of a page: the default and the cap are `max_page_size`.
pub fn page_limit(limit: Option<u32>, max: u32) -> Result<u32, Problem> {
    match limit {
        None => Ok(max),
        Some(0) => Err(Problem::field(
            Kind::Malformed,
            "limit",
            "must be at least 1",
        )),
        Some(n) => Ok(n.min(max)),
    }
}

/// Cursors are opaque to clients: the position as base64url.
pub fn encode_cursor(position: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(position)
}

/// Reads a cursor [`encode_cursor`] made.
pub fn decode_cursor(cursor: &str) -> Result<String, Problem> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| !text.is_empty())
        .ok_or_else(|| Problem::field(Kind::Malformed, "cursor", "is not a cursor this API gave"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_reads_etags_and_star() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            if_match(&headers).unwrap_err().status,
            428,
            "required on writes"
        );
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"7\""));
        assert_eq!(if_match(&headers).unwrap(), IfMatch::Versions(vec![7]));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"7\", \"9\""));
        assert_eq!(if_match(&headers).unwrap(), IfMatch::Versions(vec![7, 9]));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(if_match(&headers).unwrap(), IfMatch::Any);
        headers.insert(header::IF_MATCH, HeaderValue::from_static("7"));
        assert_eq!(if_match(&headers).unwrap_err().status, 412);
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor("c-1/x")).unwrap(), "c-1/x");
        assert_eq!(decode_cursor("%%%").unwrap_err().status, 400);
        assert_eq!(decode_cursor("").unwrap_err().status, 400);
    }
}
