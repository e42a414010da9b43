//! The status codes the bidder answers with (RFC 9110 §15), by name.

/// An HTTP status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Status(u16);

impl Status {
    /// 200.
    pub(crate) const OK: Status = Status(200);
    /// 204: no bid (OpenRTB 2.6 §4.1), or nothing to say.
    pub(crate) const NO_CONTENT: Status = Status(204);
    /// 400: malformed HTTP, JSON, gzip or notice.
    pub(crate) const BAD_REQUEST: Status = Status(400);
    /// 403: a forged notice.
    pub(crate) const FORBIDDEN: Status = Status(403);
    /// 404.
    pub(crate) const NOT_FOUND: Status = Status(404);
    /// 405, with `Allow`.
    pub(crate) const METHOD_NOT_ALLOWED: Status = Status(405);
    /// 408: head or body too slow.
    pub(crate) const REQUEST_TIMEOUT: Status = Status(408);
    /// 410: an expired notice.
    pub(crate) const GONE: Status = Status(410);
    /// 413: a body over its limit, as sent or inflated.
    pub(crate) const CONTENT_TOO_LARGE: Status = Status(413);
    /// 415: a content type or encoding the bidder does not read.
    pub(crate) const UNSUPPORTED_MEDIA_TYPE: Status = Status(415);
    /// 431: a head over its limit.
    pub(crate) const HEADER_FIELDS_TOO_LARGE: Status = Status(431);
    /// 500: handling panicked.
    pub(crate) const INTERNAL_SERVER_ERROR: Status = Status(500);
    /// 503: not ready.
    pub(crate) const SERVICE_UNAVAILABLE: Status = Status(503);

    /// The number.
    pub(crate) const fn code(self) -> u16 {
        self.0
    }

    /// The reason phrase of the status line.
    pub(crate) fn reason(self) -> &'static str {
        match self.0 {
            200 => "OK",
            204 => "No Content",
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            410 => "Gone",
            413 => "Content Too Large",
            415 => "Unsupported Media Type",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Unknown",
        }
    }
}
