//! The router without a socket (tower's `oneshot`), for what needs no storage or
//! must work without it: authentication, routing, content types, problem
//! documents, and a `503` when DynamoDB does not answer.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use control_plane::api::{self, AppState};
use control_plane::auth::KeyHasher;
use control_plane::config::TablesConfig;
use control_plane::metrics::Metrics;
use control_plane::store::Store;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

const BOOTSTRAP: &str = "router-test-bootstrap-key-0123456789";

/// The router, taking bodies up to `body_bytes`, over a store no one answers at
/// (port 9, discard).
fn router(body_bytes: usize) -> axum::Router {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .build();
    let state = AppState {
        store: Store::new(
            aws_sdk_dynamodb::Client::from_conf(config),
            TablesConfig::default(),
        ),
        hasher: KeyHasher::new("pepper", BOOTSTRAP),
        max_page_size: 50,
        currencies: vec![tern_engine::money::Currency::USD].into(),
        metrics: Arc::new(Metrics::default()),
        openapi: Arc::default(),
    };
    api::router(state, body_bytes)
}

async fn send(request: Request<Body>) -> (StatusCode, Option<String>, Vec<u8>) {
    send_to(router(1024), request).await
}

async fn send_to(
    router: axum::Router,
    request: Request<Body>,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, content_type, body)
}

fn get(path: &str, key: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn health_is_open_and_everything_else_needs_a_key() {
    let (status, _, body) = send(get("/health", None)).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"ok"[..]));
    for path in [
        "/v1/campaigns",
        "/v1/campaigns/c1",
        "/v1/keys",
        "/v1/audit",
        "/openapi.json",
    ] {
        let (status, content_type, body) = send(get(path, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(content_type.as_deref(), Some("application/problem+json"));
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["status"], 401);
    }
    let (status, _, _) = send(get("/v1/campaigns", Some("Basic abc"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_routes_bad_bodies_and_a_silent_store_are_problems() {
    let (status, content_type, _) = send(get("/v1/nope", Some(BOOTSTRAP))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));

    let post = |content_type: &str, body: &'static str| {
        Request::post("/v1/campaigns")
            .header(header::AUTHORIZATION, format!("Bearer {BOOTSTRAP}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    assert_eq!(
        send(post("text/plain", "{}")).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        send(post("application/json", "{not json")).await.0,
        StatusCode::BAD_REQUEST
    );
    let large: &'static str =
        Box::leak(format!("{{\"x\":\"{}\"}}", "a".repeat(2_000)).into_boxed_str());
    assert_eq!(
        send(post("application/json", large)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Nested past serde_json's recursion limit: refused, not a crashed worker.
    let deep: &'static str =
        Box::leak(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_boxed_str());
    let deep_request = Request::post("/v1/campaigns")
        .header(header::AUTHORIZATION, format!("Bearer {BOOTSTRAP}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(deep))
        .unwrap();
    let (status, _, body) = send_to(router(1 << 20), deep_request).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );

    let (status, _, body) = send(get("/v1/campaigns", Some(BOOTSTRAP))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert!(problem["type"].as_str().unwrap().ends_with("#unavailable"));
}
