//! Errors as RFC 9457 problem details (`application/problem+json`): every error
//! the API returns names its kind (`type`, a link to its section of
//! `docs/control-plane.md`), its status, a one-line `detail`, and for invalid
//! input the fields at fault (`errors`, each with a JSON pointer and the dotted
//! field name the campaign model uses).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Where problem types are documented.
const TYPE_BASE: &str = "https://github.com/tern-rtb/tern/blob/main/docs/control-plane.md#";

/// The media type of problem documents (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer into the request body (RFC 6901), e.g. `/bidding/max_cpm`.
    pub pointer: String,
    /// The field as the campaign model names it, e.g. `bidding.max_cpm`.
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

impl FieldError {
    /// The error for dotted `field` (with `[i]` list positions, as the campaign
    /// model's validation reports them).
    pub fn new(field: &str, detail: impl Into<String>) -> FieldError {
        FieldError {
            pointer: pointer_of(field),
            field: field.to_owned(),
            detail: detail.into(),
        }
    }
}

/// `creatives[1].banner.w` as the JSON pointer `/creatives/1/banner/w`.
fn pointer_of(field: &str) -> String {
    if field.is_empty() || field == "(record)" {
        return String::new();
    }
    let mut pointer = String::new();
    for part in field.split('.') {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            pointer.push('/');
            pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
        }
        for index in rest.split('[') {
            let index = index.trim_end_matches(']');
            if !index.is_empty() {
                pointer.push('/');
                pointer.push_str(index);
            }
        }
    }
    pointer
}

/// The kinds of problem the API reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The body or a parameter cannot be read (`400`).
    Malformed,
    /// No valid API key (`401`).
    Unauthorized,
    /// The key may not do this (`403`).
    Forbidden,
    /// No such resource (`404`).
    NotFound,
    /// The route does not take this method (`405`).
    MethodNotAllowed,
    /// A campaign with this id exists (`409`).
    Conflict,
    /// `If-Match` names a version that is not the current one (`412`).
    PreconditionFailed,
    /// The body is larger than `server.body_bytes` (`413`).
    TooLarge,
    /// The body is not JSON (`415`).
    UnsupportedMediaType,
    /// The campaign breaks a rule of the campaign model (`422`).
    Invalid,
    /// A key request names no valid role or advertiser (`422`).
    InvalidKey,
    /// An `Idempotency-Key` was used before with a different request (`422`).
    IdempotencyKeyReused,
    /// A write without `If-Match` (`428`).
    PreconditionRequired,
    /// DynamoDB did not answer (`503`).
    Unavailable,
}

impl Kind {
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Kind::Malformed => (
                StatusCode::BAD_REQUEST,
                "malformed-request",
                "Malformed request",
            ),
            Kind::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "No valid API key"),
            Kind::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for this key",
            ),
            Kind::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Kind::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Kind::Conflict => (StatusCode::CONFLICT, "conflict", "Already exists"),
            Kind::PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Version mismatch",
            ),
            Kind::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
            ),
            Kind::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Kind::Invalid => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-campaign",
                "Invalid campaign",
            ),
            Kind::InvalidKey => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-key-request",
                "Invalid key request",
            ),
            Kind::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused with a different request",
            ),
            Kind::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "If-Match required",
            ),
            Kind::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Storage unavailable",
            ),
        }
    }
}

/// A problem document (RFC 9457 §3.1), and the error type of every handler.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    /// A link to the problem type's documentation.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// The problem type in words.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time, in one line.
    pub detail: String,
    /// The fields at fault, for invalid input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// A problem of `kind` with `detail`.
    pub fn new(kind: Kind, detail: impl Into<String>) -> Problem {
        let (status, slug, title) = kind.parts();
        Problem {
            problem_type: format!("{TYPE_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// An invalid-input problem of `kind` naming `field`.
    pub fn field(kind: Kind, field: &str, detail: impl Into<String>) -> Problem {
        let detail = detail.into();
        let mut problem = Problem::new(kind, format!("`{field}`: {detail}"));
        problem.errors.push(FieldError::new(field, detail));
        problem
    }

    /// The storage failed or did not answer.
    pub fn unavailable(error: impl std::fmt::Display) -> Problem {
        tracing::warn!(%error, "DynamoDB call failed");
        Problem::new(
            Kind::Unavailable,
            "the campaign store did not answer; retry",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tern\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_json_pointers() {
        assert_eq!(pointer_of("bidding.max_cpm"), "/bidding/max_cpm");
        assert_eq!(pointer_of("creatives[1].banner.w"), "/creatives/1/banner/w");
        assert_eq!(pointer_of("categories[0]"), "/categories/0");
        assert_eq!(pointer_of("a/b~c"), "/a~1b~0c");
        assert_eq!(pointer_of("(record)"), "");
    }

    #[test]
    fn a_problem_names_its_type_status_and_field() {
        let problem = Problem::field(Kind::Invalid, "bidding.max_cpm", "must be positive");
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["status"], 422);
        assert!(
            json["type"]
                .as_str()
                .unwrap()
                .ends_with("#invalid-campaign")
        );
        assert_eq!(json["errors"][0]["pointer"], "/bidding/max_cpm");
        assert_eq!(json["errors"][0]["field"], "bidding.max_cpm");
        assert_eq!(json["detail"], "`bidding.max_cpm`: must be positive");
        let response = problem.into_response();
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
