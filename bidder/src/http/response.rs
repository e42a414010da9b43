//! Writing response heads and bodies.

use super::Status;

/// A response's status and the headers that vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Status code.
    pub(crate) status: Status,
    /// Content-Type of the body, if it has one.
    pub(crate) content_type: Option<&'static str>,
    /// One extra header, e.g. `Allow` on a 405.
    pub(crate) header: Option<(&'static str, &'static str)>,
}

impl Reply {
    /// A response with a body of this type.
    pub(crate) const fn new(status: Status, content_type: &'static str) -> Reply {
        Reply {
            status,
            content_type: Some(content_type),
            header: None,
        }
    }

    /// A response with no body (204).
    pub(crate) const fn empty(status: Status) -> Reply {
        Reply {
            status,
            content_type: None,
            header: None,
        }
    }

    /// A plain-text response; the caller writes the reason into the body.
    pub(crate) const fn text(status: Status) -> Reply {
        Reply::new(status, "text/plain; charset=utf-8")
    }

    /// A plain-text response whose body is `message` and a newline, written into
    /// `body`.
    pub(crate) fn plain(body: &mut Vec<u8>, status: Status, message: &str) -> Reply {
        body.extend_from_slice(message.as_bytes());
        body.push(b'\n');
        Reply::text(status)
    }

    /// The same response with one extra header.
    pub(crate) const fn with_header(mut self, name: &'static str, value: &'static str) -> Reply {
        self.header = Some((name, value));
        self
    }
}

/// Appends a whole response to `out`. `head_only` answers a HEAD request (length
/// but no body); `close` adds `Connection: close`.
pub(crate) fn write_response(
    out: &mut Vec<u8>,
    reply: &Reply,
    body: &[u8],
    head_only: bool,
    close: bool,
) {
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(num.format(reply.status.code()).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reply.status.reason().as_bytes());
    out.extend_from_slice(b"\r\n");
    let has_body = reply.status != Status::NO_CONTENT && reply.status.code() >= 200;
    if has_body {
        if let Some(content_type) = reply.content_type {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(content_type.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"Content-Length: ");
        out.extend_from_slice(num.format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some((name, value)) = reply.header {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if has_body && !head_only {
        out.extend_from_slice(body);
    }
}

/// Appends the interim answer to `Expect: 100-continue`.
pub(crate) fn write_continue(out: &mut Vec<u8>) {
    out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(reply: Reply, body: &str, head_only: bool, close: bool) -> String {
        let mut out = Vec::new();
        write_response(&mut out, &reply, body.as_bytes(), head_only, close);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn bodies_carry_type_and_length() {
        assert_eq!(
            text(
                Reply::new(Status::OK, "application/json"),
                "{}",
                false,
                false
            ),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
    }

    #[test]
    fn no_content_has_no_length_and_close_is_announced() {
        assert_eq!(
            text(Reply::empty(Status::NO_CONTENT), "", false, true),
            "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn head_requests_get_the_length_only() {
        assert_eq!(
            text(Reply::text(Status::OK), "ok", true, false),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\n"
        );
    }
}
