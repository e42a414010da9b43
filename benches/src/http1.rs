//! Just enough HTTP/1.1 for the no-op comparison servers: find where one request
//! ends (head plus `Content-Length` body) so it can be answered, in order, on a
//! keep-alive connection. No chunked bodies: the load generator never sends them.

/// The no-op servers' answer to every request.
pub const NO_CONTENT: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";

/// Most header fields a request may carry.
const MAX_HEADERS: usize = 32;

/// Why a request cannot be framed; the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The head does not parse.
    BadHead,
    /// `Content-Length` is missing a number, or the body is chunked.
    BadLength,
}

/// Bytes taken by the first complete request in `buf`, or `None` if it is not
/// complete yet.
pub fn request_len(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(FrameError::BadHead),
    };
    let mut body_len = 0;
    for header in request.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            body_len = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or(FrameError::BadLength)?;
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(FrameError::BadLength);
        }
    }
    let total = head_len + body_len;
    Ok((buf.len() >= total).then_some(total))
}

/// Appends one [`NO_CONTENT`] per complete request at the front of `buf` to `out`
/// and returns the bytes those requests took.
pub fn answer_all(buf: &[u8], out: &mut Vec<u8>) -> Result<usize, FrameError> {
    let mut used = 0;
    while let Some(len) = request_len(&buf[used..])? {
        used += len;
        out.extend_from_slice(NO_CONTENT);
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_pipelined_requests_and_waits_for_partial_ones() {
        let one = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}";
        let mut buf = one.repeat(2);
        buf.extend_from_slice(&one[..20]);
        let mut out = Vec::new();
        assert_eq!(answer_all(&buf, &mut out), Ok(one.len() * 2));
        assert_eq!(out, NO_CONTENT.repeat(2));
        assert_eq!(request_len(&one[..one.len() - 1]), Ok(None));
        assert_eq!(
            request_len(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(FrameError::BadLength)
        );
    }
}
