//! HTTP/1.1 framing for the bid and admin listeners.
//!
//! `httparse` reads the head; this module adds what a server must decide on top of
//! it: body framing (Content-Length or chunked), gzip bodies with an inflation cap,
//! keep-alive, size limits, and the status each malformed input earns. It does no
//! I/O: the server's connection loop feeds it bytes and writes out what it
//! produces.

mod body;
mod head;
mod response;
mod status;

use std::time::Instant;

pub(crate) use body::{BodyLocation, frame_body, inflate_gzip};
pub(crate) use head::{BodyFraming, Method, RequestHead, parse_head};
pub(crate) use response::{Reply, write_continue, write_response};
pub(crate) use status::Status;

/// A request the framing layer refuses; answered with `status` and closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HttpError {
    /// Status code to answer with.
    pub(crate) status: Status,
    /// Short reason, sent as the body.
    pub(crate) reason: &'static str,
}

impl HttpError {
    pub(crate) const fn new(status: Status, reason: &'static str) -> HttpError {
        HttpError { status, reason }
    }
}

/// One complete request as the router sees it.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    /// Request method.
    pub(crate) method: Method,
    /// Path, without the query.
    pub(crate) path: &'a str,
    /// Query string, without `?`; empty when absent.
    pub(crate) query: &'a str,
    /// Body, inflated if it was gzip-encoded.
    pub(crate) body: &'a [u8],
    /// Whether the Content-Type is absent or names JSON (or plain text).
    pub(crate) json_content_type: bool,
    /// When the request's first byte arrived.
    pub(crate) received_at: Instant,
}

/// Answers requests of one listener.
pub(crate) trait Router {
    /// Writes the response body for `req` into `body` and returns its status line
    /// data. May wait (on a side service) without blocking other connections.
    async fn route(&self, req: &Request<'_>, body: &mut Vec<u8>) -> Reply;

    /// Called once per response written, including framing errors.
    fn on_response(&self, _status: Status, _received_at: Instant) {}

    /// Called when routing panicked; the connection answers 500 and closes.
    fn on_panic(&self) {}
}

#[cfg(test)]
mod robustness;
