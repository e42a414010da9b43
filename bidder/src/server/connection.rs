//! One keep-alive connection: read bytes, answer every complete request in order
//! (pipelining), write the answers in one go, repeat, under the configured limits.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use std::rc::Rc;
use std::time::{Duration, Instant};

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt, CancelableAsyncReadRent};
use monoio::net::TcpStream;

use super::drain::Drain;
use crate::http::{
    BodyLocation, HttpError, Method, Reply, Request, Router, Status, frame_body, inflate_gzip,
    parse_head, write_continue, write_response,
};

/// Limits one connection works under.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_bytes: usize,
    pub(crate) max_headers: usize,
    pub(crate) body_bytes: usize,
    pub(crate) inflated_body_bytes: usize,
    pub(crate) header_timeout: Duration,
    pub(crate) first_request_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) write_timeout: Duration,
}

impl ConnectionLimits {
    /// From the `[limits]` section.
    pub(crate) fn from_config(l: &super::config::LimitsConfig) -> ConnectionLimits {
        ConnectionLimits {
            header_bytes: l.header_bytes,
            max_headers: l.max_headers,
            body_bytes: l.body_bytes,
            inflated_body_bytes: l.inflated_body_bytes,
            header_timeout: Duration::from_millis(l.header_read_timeout_ms),
            first_request_timeout: Duration::from_millis(l.first_request_timeout_ms),
            body_timeout: Duration::from_millis(l.body_read_timeout_ms),
            idle_timeout: Duration::from_millis(l.idle_timeout_ms),
            write_timeout: Duration::from_millis(l.write_timeout_ms),
        }
    }

    /// The most bytes one request may occupy in the read buffer.
    fn max_request_bytes(&self) -> usize {
        self.header_bytes + self.body_bytes
    }
}

/// Buffers reused by every request on the connection.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Joined chunked body.
    pub(crate) chunks: Vec<u8>,
    /// Inflated gzip body.
    pub(crate) inflated: Vec<u8>,
    /// Response body being written by the router.
    pub(crate) body: Vec<u8>,
}

/// What one pass over the read buffer achieved.
pub(crate) enum Step {
    /// A request was answered; `consumed` bytes of the buffer were used.
    Answered { consumed: usize, close: bool },
    /// The next request is incomplete.
    NeedMore {
        head_complete: bool,
        expect_continue: bool,
    },
}

/// Serves `stream` until the client closes, a limit is hit, or the worker drains.
pub(crate) async fn serve<R: Router>(
    mut stream: TcpStream,
    router: Rc<R>,
    limits: Rc<ConnectionLimits>,
    drain: Rc<Drain>,
) {
    let mut inbuf: Vec<u8> = Vec::with_capacity(4096);
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    let mut scratch = Scratch::default();
    let mut first_byte_at: Option<Instant> = None;
    let mut head_done_at: Option<Instant> = None;
    let mut continue_sent = false;
    let mut last_read_at = Instant::now();
    // Until its first request is answered, a connection waits under the
    // first-request timeout, not the keep-alive idle timeout: a flood of
    // connections that never send a byte must not hold a worker's slots for long.
    let mut first_wait = limits.first_request_timeout;
    loop {
        let mut close = false;
        let mut head_complete = false;
        while !inbuf.is_empty() {
            let received_at = *first_byte_at.get_or_insert(last_read_at);
            let draining = drain.is_draining();
            match step(
                &inbuf,
                &*router,
                &limits,
                &mut scratch,
                &mut out,
                received_at,
                draining,
            )
            .await
            {
                Step::Answered {
                    consumed,
                    close: must_close,
                } => {
                    inbuf.drain(..consumed);
                    first_wait = limits.idle_timeout;
                    first_byte_at = None;
                    head_done_at = None;
                    continue_sent = false;
                    if must_close {
                        close = true;
                        break;
                    }
                }
                Step::NeedMore {
                    head_complete: complete,
                    expect_continue,
                } => {
                    head_complete = complete;
                    if complete && head_done_at.is_none() {
                        head_done_at = Some(Instant::now());
                    }
                    if expect_continue && !continue_sent {
                        write_continue(&mut out);
                        continue_sent = true;
                    }
                    break;
                }
            }
        }
        if !out.is_empty() {
            let (result, written) =
                match monoio::time::timeout(limits.write_timeout, stream.write_all(out)).await {
                    Ok(done) => done,
                    Err(_) => return,
                };
            if result.is_err() {
                return;
            }
            out = written;
            out.clear();
        }
        if close {
            return;
        }

        // Read more: an idle wait between requests, or the rest of a started one.
        if inbuf.len() == inbuf.capacity() {
            let max = limits.max_request_bytes();
            if inbuf.len() >= max {
                let error = if head_complete {
                    HttpError::new(Status::CONTENT_TOO_LARGE, "request body too large")
                } else {
                    HttpError::new(
                        Status::HEADER_FIELDS_TOO_LARGE,
                        "request header fields too large",
                    )
                };
                answer_error(&mut stream, &*router, &limits, error, first_byte_at).await;
                return;
            }
            inbuf.reserve(inbuf.len().clamp(4096, max - inbuf.len()));
        }
        let len = inbuf.len();
        let capacity = inbuf.capacity();
        let (result, buf) = if inbuf.is_empty() {
            if drain.is_draining() {
                return;
            }
            let read =
                stream.cancelable_read(inbuf.slice_mut(len..capacity), drain.cancel_handle());
            match monoio::time::timeout(first_wait, read).await {
                Ok(done) => done,
                Err(_) => return,
            }
        } else {
            let deadline = match head_done_at {
                Some(at) => at + limits.body_timeout,
                None => first_byte_at.unwrap_or(last_read_at) + limits.header_timeout,
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            let read = stream.read(inbuf.slice_mut(len..capacity));
            match monoio::time::timeout(remaining, read).await {
                Ok(done) => done,
                Err(_) => {
                    let error =
                        HttpError::new(Status::REQUEST_TIMEOUT, "request not received in time");
                    answer_error(&mut stream, &*router, &limits, error, first_byte_at).await;
                    return;
                }
            }
        };
        inbuf = buf.into_inner();
        match result {
            Ok(0) | Err(_) => return,
            Ok(_) => last_read_at = Instant::now(),
        }
    }
}

/// Frames and answers the first request in `inbuf`, appending the response to `out`.
pub(crate) async fn step<R: Router>(
    inbuf: &[u8],
    router: &R,
    limits: &ConnectionLimits,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    received_at: Instant,
    draining: bool,
) -> Step {
    let fail = |error: HttpError, out: &mut Vec<u8>| {
        write_error(out, router, error, received_at);
        Step::Answered {
            consumed: inbuf.len(),
            close: true,
        }
    };
    let head = match parse_head(inbuf, limits.max_headers, limits.header_bytes) {
        Ok(Some(head)) => head,
        Ok(None) => {
            return Step::NeedMore {
                head_complete: false,
                expect_continue: false,
            };
        }
        Err(error) => return fail(error, out),
    };
    let Scratch {
        chunks,
        inflated,
        body: response_body,
    } = scratch;
    let (location, consumed) = match frame_body(inbuf, &head, limits.body_bytes, chunks) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Step::NeedMore {
                head_complete: true,
                expect_continue: head.expect_continue,
            };
        }
        Err(error) => return fail(error, out),
    };
    let mut body: &[u8] = match location {
        BodyLocation::InBuffer(range) => &inbuf[range],
        BodyLocation::Decoded => chunks,
    };
    if head.gzip {
        if let Err(error) = inflate_gzip(body, limits.inflated_body_bytes, inflated) {
            return fail(error, out);
        }
        body = inflated;
    }
    // httparse only accepts visible ASCII in the request target.
    let text = |range: std::ops::Range<usize>| std::str::from_utf8(&inbuf[range]).unwrap_or("");
    let request = Request {
        method: head.method,
        path: text(head.path.clone()),
        query: text(head.query.clone()),
        body,
        json_content_type: head.json_content_type,
        received_at,
    };
    response_body.clear();
    let routed = AssertUnwindSafe(router.route(&request, response_body))
        .catch_unwind()
        .await;
    let (reply, panicked) = match routed {
        Ok(reply) => (reply, false),
        Err(_) => {
            router.on_panic();
            response_body.clear();
            response_body.extend_from_slice(b"internal error\n");
            (Reply::text(Status::INTERNAL_SERVER_ERROR), true)
        }
    };
    let close = !head.keep_alive || draining || panicked;
    write_response(
        out,
        &reply,
        response_body,
        head.method == Method::Head,
        close,
    );
    router.on_response(reply.status, received_at);
    Step::Answered { consumed, close }
}

fn write_error<R: Router>(out: &mut Vec<u8>, router: &R, error: HttpError, received_at: Instant) {
    let mut body = Vec::with_capacity(error.reason.len() + 1);
    body.extend_from_slice(error.reason.as_bytes());
    body.push(b'\n');
    write_response(out, &Reply::text(error.status), &body, false, true);
    router.on_response(error.status, received_at);
}

/// Writes an error response and gives up on the connection.
async fn answer_error<R: Router>(
    stream: &mut TcpStream,
    router: &R,
    limits: &ConnectionLimits,
    error: HttpError,
    first_byte_at: Option<Instant>,
) {
    let mut out = Vec::new();
    write_error(
        &mut out,
        router,
        error,
        first_byte_at.unwrap_or_else(Instant::now),
    );
    let _ = monoio::time::timeout(limits.write_timeout, stream.write_all(out)).await;
}
