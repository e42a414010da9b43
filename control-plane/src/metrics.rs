//! Prometheus metrics of the API: requests by method, route template and status,
//! and a latency histogram by route, served on the admin listener's `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::api::AppState;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS_S: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Debug, Default)]
struct Latency {
    /// Requests at or below each bound of `BUCKETS_S`.
    buckets: [u64; BUCKETS_S.len()],
    count: u64,
    sum_s: f64,
}

/// The counters (a lock held for a map update: the control plane serves people
/// and scripts, not the bid path).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Latency>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        drop(requests);
        let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let entry = latency.entry(route.to_owned()).or_default();
        for (bucket, bound) in entry.buckets.iter_mut().zip(BUCKETS_S) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        entry.count += 1;
        entry.sum_s += seconds;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP tern_cp_requests_total API requests by method, route and status.\n");
        out.push_str("# TYPE tern_cp_requests_total counter\n");
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((method, route, status), count) in requests.iter() {
            let _ = writeln!(
                out,
                "tern_cp_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
        drop(requests);
        out.push_str("# HELP tern_cp_request_duration_seconds API request latency by route.\n");
        out.push_str("# TYPE tern_cp_request_duration_seconds histogram\n");
        let latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        for (route, l) in latency.iter() {
            let route = escape(route);
            for (bound, count) in BUCKETS_S.iter().zip(l.buckets) {
                let _ = writeln!(
                    out,
                    "tern_cp_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "tern_cp_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                l.count
            );
            let _ = writeln!(
                out,
                "tern_cp_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                l.sum_s
            );
            let _ = writeln!(
                out,
                "tern_cp_request_duration_seconds_count{{route=\"{route}\"}} {}",
                l.count
            );
        }
        out
    }
}

/// A label value escaped for the text format.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: times each request and counts it under its route template (so
/// ids in paths never become label values).
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Standard methods only: a label per made-up method would let anyone grow
    // the metrics without bound.
    let method = match request.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m,
        _ => "other",
    }
    .to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_timed_into_buckets() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/v1/campaigns/{id}", 200, 0.003);
        metrics.observe("GET", "/v1/campaigns/{id}", 200, 2.0);
        let text = metrics.render();
        assert!(text.contains(
            "tern_cp_requests_total{method=\"GET\",route=\"/v1/campaigns/{id}\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.0025\"} 0"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
