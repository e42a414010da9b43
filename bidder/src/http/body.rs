//! Request bodies: Content-Length and chunked framing, and gzip inflation.

use std::io::Read;
use std::ops::Range;

use super::{BodyFraming, HttpError, RequestHead, Status};

/// Where a complete body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyLocation {
    /// These bytes of the read buffer.
    InBuffer(Range<usize>),
    /// The scratch buffer, where chunked data was joined.
    Decoded,
}

const TOO_LARGE: HttpError = HttpError::new(Status::CONTENT_TOO_LARGE, "request body too large");
const BAD_CHUNKS: HttpError = HttpError::new(Status::BAD_REQUEST, "malformed chunked body");

/// Finds the body of the request whose head starts `buf`. Returns where it is and
/// how many bytes of `buf` the whole request used, or `Ok(None)` when more bytes are
/// needed. Chunked bodies are joined into `scratch`.
pub(crate) fn frame_body(
    buf: &[u8],
    head: &RequestHead,
    body_limit: usize,
    scratch: &mut Vec<u8>,
) -> Result<Option<(BodyLocation, usize)>, HttpError> {
    match head.framing {
        BodyFraming::Empty => Ok(Some((BodyLocation::InBuffer(head.len..head.len), head.len))),
        BodyFraming::Length(n) if n > body_limit => Err(TOO_LARGE),
        BodyFraming::Length(n) => {
            let end = head.len + n;
            Ok((buf.len() >= end).then_some((BodyLocation::InBuffer(head.len..end), end)))
        }
        BodyFraming::Chunked => join_chunks(buf, head.len, body_limit, scratch),
    }
}

fn join_chunks(
    buf: &[u8],
    start: usize,
    body_limit: usize,
    scratch: &mut Vec<u8>,
) -> Result<Option<(BodyLocation, usize)>, HttpError> {
    scratch.clear();
    let mut pos = start;
    loop {
        let (size_len, size) = match httparse::parse_chunk_size(&buf[pos..]) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(BAD_CHUNKS),
        };
        pos += size_len;
        if size == 0 {
            return Ok(skip_trailers(buf, pos)?.map(|end| (BodyLocation::Decoded, end)));
        }
        let size = usize::try_from(size).map_err(|_| TOO_LARGE)?;
        if scratch.len().saturating_add(size) > body_limit {
            return Err(TOO_LARGE);
        }
        let Some(data) = buf.get(pos..pos + size + 2) else {
            return Ok(None);
        };
        if &data[size..] != b"\r\n" {
            return Err(BAD_CHUNKS);
        }
        scratch.extend_from_slice(&data[..size]);
        pos += size + 2;
    }
}

/// Skips trailer fields up to the blank line; returns the end of the request.
fn skip_trailers(buf: &[u8], mut pos: usize) -> Result<Option<usize>, HttpError> {
    loop {
        let rest = &buf[pos..];
        let Some(line_len) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        if line_len == 0 {
            return Ok(Some(pos + 2));
        }
        if !rest[..line_len].contains(&b':') {
            return Err(BAD_CHUNKS);
        }
        pos += line_len + 2;
    }
}

/// Inflates a gzip body into `out`, refusing more than `limit` bytes of output.
pub(crate) fn inflate_gzip(body: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), HttpError> {
    out.clear();
    let decoder = flate2::read::GzDecoder::new(body);
    let read = decoder
        .take(limit as u64 + 1)
        .read_to_end(out)
        .map_err(|_| HttpError::new(Status::BAD_REQUEST, "malformed gzip body"))?;
    if read > limit {
        return Err(HttpError::new(
            Status::CONTENT_TOO_LARGE,
            "inflated request body too large",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::http::parse_head;

    fn frame(text: &[u8], limit: usize) -> Result<Option<(Vec<u8>, usize)>, HttpError> {
        let head = parse_head(text, 64, 8192)?.expect("complete head");
        let mut scratch = Vec::new();
        Ok(
            frame_body(text, &head, limit, &mut scratch)?.map(|(loc, used)| {
                let body = match loc {
                    BodyLocation::InBuffer(r) => text[r].to_vec(),
                    BodyLocation::Decoded => scratch,
                };
                (body, used)
            }),
        )
    }

    #[test]
    fn content_length_bodies() {
        let text = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET";
        assert_eq!(
            frame(text, 100).unwrap(),
            Some((b"hello".to_vec(), text.len() - 3))
        );
        assert_eq!(frame(&text[..text.len() - 5], 100).unwrap(), None);
        assert_eq!(
            frame(text, 4).unwrap_err().status,
            Status::CONTENT_TOO_LARGE
        );
    }

    #[test]
    fn chunked_bodies_with_extensions_and_trailers() {
        let text = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                     4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\nNEXT";
        let (body, used) = frame(text, 100).unwrap().unwrap();
        assert_eq!(body, b"Wikipedia");
        assert_eq!(&text[used..], b"NEXT");
        for cut in 48..text.len() - 4 {
            assert_eq!(frame(&text[..cut], 100).unwrap(), None, "cut at {cut}");
        }
    }

    #[test]
    fn chunked_bodies_are_checked() {
        let head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let with = |chunks: &[u8]| [head.as_slice(), chunks].concat();
        assert_eq!(
            frame(&with(b"zz\r\n"), 100).unwrap_err().status,
            Status::BAD_REQUEST
        );
        assert_eq!(
            frame(&with(b"3\r\nabcX\r\n"), 100).unwrap_err().status,
            Status::BAD_REQUEST
        );
        assert_eq!(
            frame(&with(b"8\r\n12345678\r\n"), 4)
                .unwrap_err()
                .status
                .code(),
            413
        );
        assert_eq!(
            frame(&with(b"ffffffffffffffff\r\n"), 4)
                .unwrap_err()
                .status
                .code(),
            413
        );
    }

    #[test]
    fn gzip_is_inflated_up_to_the_limit() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[b'a'; 10_000]).unwrap();
        let gz = enc.finish().unwrap();
        let mut out = Vec::new();
        inflate_gzip(&gz, 10_000, &mut out).unwrap();
        assert_eq!(out.len(), 10_000);
        assert_eq!(
            inflate_gzip(&gz, 9_999, &mut out).unwrap_err().status,
            Status::CONTENT_TOO_LARGE
        );
        assert_eq!(
            inflate_gzip(b"not gzip", 100, &mut out)
                .unwrap_err()
                .status
                .code(),
            400
        );
        assert_eq!(
            inflate_gzip(&gz[..gz.len() / 2], 100_000, &mut out)
                .unwrap_err()
                .status
                .code(),
            400
        );
    }
}
