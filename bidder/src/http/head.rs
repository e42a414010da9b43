//! The request head: request line and header fields, parsed by `httparse`, then
//! reduced to the few facts the server acts on.

use std::ops::Range;

use super::{HttpError, Status};

/// Request methods the server distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// POST.
    Post,
    /// Anything else.
    Other,
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    /// No body.
    Empty,
    /// `Content-Length` bytes follow the head.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// What the server needs from a parsed head; ranges index the read buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestHead {
    /// The method.
    pub(crate) method: Method,
    /// Path, without the query.
    pub(crate) path: Range<usize>,
    /// Query, without `?`.
    pub(crate) query: Range<usize>,
    /// Whether the client wants the connection kept open.
    pub(crate) keep_alive: bool,
    /// Body delimitation.
    pub(crate) framing: BodyFraming,
    /// `Content-Encoding: gzip`.
    pub(crate) gzip: bool,
    /// `Expect: 100-continue`.
    pub(crate) expect_continue: bool,
    /// Content-Type absent, JSON, or plain text.
    pub(crate) json_content_type: bool,
    /// Bytes of the head, including the blank line.
    pub(crate) len: usize,
}

/// Parses a head at the start of `buf`. `Ok(None)` means more bytes are needed.
pub(crate) fn parse_head(
    buf: &[u8],
    max_headers: usize,
    max_head_bytes: usize,
) -> Result<Option<RequestHead>, HttpError> {
    const TOO_LARGE: HttpError = HttpError::new(
        Status::HEADER_FIELDS_TOO_LARGE,
        "request header fields too large",
    );
    // Left uninitialized: httparse writes only the headers it finds, so a request
    // does not pay for clearing room for 1024 of them (32 KiB) on every parse.
    let mut storage = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; 1024];
    let mut req = httparse::Request::new(&mut []);
    let parsed = req.parse_with_uninit_headers(buf, &mut storage[..max_headers.min(1024)]);
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= max_head_bytes => return Err(TOO_LARGE),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(TOO_LARGE),
        Err(_) => {
            return Err(HttpError::new(
                Status::BAD_REQUEST,
                "malformed request head",
            ));
        }
    };
    if len > max_head_bytes {
        return Err(TOO_LARGE);
    }
    let method = match req.method.unwrap_or_default() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        _ => Method::Other,
    };
    let target = origin_form(req.path.unwrap_or_default());
    let offset = target.as_ptr() as usize - buf.as_ptr() as usize;
    let (path, query) = match target.find('?') {
        Some(q) => (offset..offset + q, offset + q + 1..offset + target.len()),
        None => (offset..offset + target.len(), 0..0),
    };
    let http11 = req.version == Some(1);
    let mut head = RequestHead {
        method,
        path,
        query,
        keep_alive: http11,
        framing: BodyFraming::Empty,
        gzip: false,
        expect_continue: false,
        json_content_type: true,
        len,
    };
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    for header in req.headers.iter() {
        let name = header.name;
        let value = std::str::from_utf8(header.value)
            .map_err(|_| HttpError::new(Status::BAD_REQUEST, "header value is not text"))?
            .trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n = parse_length(value)?;
            if content_length.is_some_and(|prev| prev != n) {
                return Err(HttpError::new(
                    Status::BAD_REQUEST,
                    "conflicting content-length headers",
                ));
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if !value.eq_ignore_ascii_case("chunked") || chunked {
                return Err(HttpError::new(
                    Status::BAD_REQUEST,
                    "unsupported transfer-encoding",
                ));
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    head.keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    head.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("content-encoding") {
            let is = |coding: &str| value.eq_ignore_ascii_case(coding);
            head.gzip = if is("gzip") || is("x-gzip") {
                true
            } else if is("identity") || value.is_empty() {
                false
            } else {
                return Err(HttpError::new(
                    Status::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported content-encoding",
                ));
            };
        } else if name.eq_ignore_ascii_case("expect") {
            head.expect_continue = value.eq_ignore_ascii_case("100-continue");
        } else if name.eq_ignore_ascii_case("content-type") {
            head.json_content_type = is_json_like(value);
        }
    }
    if chunked && !http11 {
        // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing
        // (1.0 has no chunked coding, so a proxy in front may frame it otherwise).
        return Err(HttpError::new(
            Status::BAD_REQUEST,
            "transfer-encoding in an HTTP/1.0 request",
        ));
    }
    head.framing = match (content_length, chunked) {
        (Some(_), true) => {
            return Err(HttpError::new(
                Status::BAD_REQUEST,
                "both content-length and transfer-encoding",
            ));
        }
        (Some(0) | None, false) => BodyFraming::Empty,
        (Some(n), false) => BodyFraming::Length(n),
        (None, true) => BodyFraming::Chunked,
    };
    Ok(Some(head))
}

fn parse_length(value: &str) -> Result<usize, HttpError> {
    const BAD: HttpError = HttpError::new(Status::BAD_REQUEST, "invalid content-length");
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BAD);
    }
    // Lengths too large for usize are certainly over any body limit.
    Ok(value.parse().unwrap_or(usize::MAX))
}

/// JSON (`application/json`, `application/*+json`, `text/json`) or plain text, which
/// some exchanges send for JSON bodies.
fn is_json_like(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    let sub_is = |s: &str| sub.eq_ignore_ascii_case(s);
    (kind.eq_ignore_ascii_case("application")
        && (sub_is("json") || sub.to_ascii_lowercase().ends_with("+json")))
        || (kind.eq_ignore_ascii_case("text") && (sub_is("json") || sub_is("plain")))
}

/// The path and query of a request target. Servers must accept the absolute form
/// (`http://host/path?query`, RFC 9112 §3.2.2), which clients send through proxies.
fn origin_form(target: &str) -> &str {
    let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    else {
        return target;
    };
    // The authority ends at the path, or at the query when the path is empty.
    match rest.find(['/', '?']) {
        Some(at) => &rest[at..],
        None => &rest[rest.len()..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Option<RequestHead>, HttpError> {
        parse_head(text.as_bytes(), 64, 8192)
    }

    #[test]
    fn absolute_targets_are_read_like_origin_ones() {
        let text = "GET http://bidder.example:8080/notice/imp?t=a&p=1 HTTP/1.1\r\n\r\n";
        let h = head(text).unwrap().unwrap();
        assert_eq!(&text[h.path.clone()], "/notice/imp");
        assert_eq!(&text[h.query.clone()], "t=a&p=1");
        let bare = "GET https://bidder.example HTTP/1.1\r\n\r\n";
        let h = head(bare).unwrap().unwrap();
        assert_eq!((&bare[h.path.clone()], &bare[h.query.clone()]), ("", ""));
        let no_path = "GET http://bidder.example?t=a HTTP/1.1\r\n\r\n";
        let h = head(no_path).unwrap().unwrap();
        assert_eq!(
            (&no_path[h.path.clone()], &no_path[h.query.clone()]),
            ("", "t=a")
        );
    }

    #[test]
    fn reads_path_query_and_framing() {
        let text = "POST /openrtb2/bid?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n";
        let h = head(text).unwrap().unwrap();
        assert_eq!(h.method, Method::Post);
        assert_eq!(&text[h.path.clone()], "/openrtb2/bid");
        assert_eq!(&text[h.query.clone()], "x=1");
        assert_eq!(h.framing, BodyFraming::Length(12));
        assert_eq!(h.len, text.len());
        assert!(h.keep_alive);
    }

    #[test]
    fn keep_alive_follows_version_and_connection_header() {
        let h = head("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!h.keep_alive);
        let h = head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.keep_alive);
        let h = head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.keep_alive);
    }

    #[test]
    fn partial_heads_wait_until_the_limit() {
        assert_eq!(head("POST / HTTP/1.1\r\nHost"), Ok(None));
        let long = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(9000));
        assert_eq!(
            head(&long).unwrap_err().status,
            Status::HEADER_FIELDS_TOO_LARGE
        );
        let many: String = (0..70).map(|i| format!("X{i}: y\r\n")).collect();
        assert_eq!(
            head(&format!("GET / HTTP/1.1\r\n{many}\r\n"))
                .unwrap_err()
                .status
                .code(),
            431
        );
    }

    #[test]
    fn refuses_ambiguous_or_unsupported_framing() {
        let status = |text: &str| head(text).unwrap_err().status.code();
        assert_eq!(
            status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
        assert_eq!(status("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
        assert_eq!(
            status("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400
        );
        assert_eq!(
            status("GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
        assert_eq!(
            status("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            400
        );
        assert_eq!(
            status("GET / HTTP/1.1\r\nContent-Encoding: br\r\n\r\n"),
            415
        );
        assert_eq!(status("GARBAGE\r\n\r\n"), 400);
    }

    #[test]
    fn recognises_gzip_expect_and_content_types() {
        let h = head(
            "POST / HTTP/1.1\r\nContent-Encoding: GZIP\r\nExpect: 100-continue\r\n\
             Transfer-Encoding: chunked\r\nContent-Type: application/json; charset=utf-8\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(h.gzip && h.expect_continue && h.json_content_type);
        assert_eq!(h.framing, BodyFraming::Chunked);
        let gzip = |coding: &str| {
            head(&format!(
                "POST / HTTP/1.1\r\nContent-Encoding: {coding}\r\n\r\n"
            ))
            .unwrap()
            .unwrap()
            .gzip
        };
        assert!(gzip("x-gzip") && gzip("Gzip"));
        assert!(!gzip("identity") && !gzip(""));
        assert!(is_json_like("application/vnd.openrtb+json"));
        assert!(is_json_like("text/plain"));
        assert!(!is_json_like("application/x-www-form-urlencoded"));
        assert!(!is_json_like("nonsense"));
    }
}
