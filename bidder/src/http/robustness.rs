//! Random and mutated bytes at the framer: never a panic, never more memory than
//! the limits allow.

use proptest::prelude::*;

use super::{BodyLocation, frame_body, inflate_gzip, parse_head};

const BODY_LIMIT: usize = 4096;
const INFLATED_LIMIT: usize = 16 * 1024;

const VALID: [&[u8]; 3] = [
    b"POST /openrtb2/bid HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"id\":\"1\"}\r\n",
    b"POST /openrtb2/bid HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n{\"id\"\r\n3\r\n:1}\r\n0\r\nT: v\r\n\r\n",
    b"GET /notice/imp?t=abc&p=1.5 HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n",
];

/// Frames `bytes` like the connection loop does, checking the limits hold.
fn frame(bytes: &[u8]) {
    let Ok(Some(head)) = parse_head(bytes, 64, 8192) else {
        return;
    };
    assert!(head.len <= bytes.len());
    let mut chunks = Vec::new();
    let Ok(Some((location, consumed))) = frame_body(bytes, &head, BODY_LIMIT, &mut chunks) else {
        assert!(chunks.len() <= BODY_LIMIT);
        return;
    };
    assert!(consumed <= bytes.len());
    assert!(chunks.len() <= BODY_LIMIT);
    let body = match location {
        BodyLocation::InBuffer(range) => &bytes[range],
        BodyLocation::Decoded => &chunks,
    };
    let mut inflated = Vec::new();
    let _ = inflate_gzip(body, INFLATED_LIMIT, &mut inflated);
    assert!(inflated.len() <= INFLATED_LIMIT + 1);
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..VALID.len(),
        prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6),
    )
        .prop_map(|(which, edits)| {
            let mut bytes = VALID[which].to_vec();
            for (at, byte, kind) in edits {
                if bytes.is_empty() {
                    break;
                }
                let at = at % bytes.len();
                match kind {
                    0 => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        frame(&bytes);
    }

    #[test]
    fn mutated_requests_never_panic(bytes in mutated()) {
        frame(&bytes);
    }

    #[test]
    fn random_gzip_payloads_stay_within_the_limit(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        gz.extend(bytes);
        let mut out = Vec::new();
        let _ = inflate_gzip(&gz, INFLATED_LIMIT, &mut out);
        prop_assert!(out.len() <= INFLATED_LIMIT + 1);
    }
}

/// A valid request cut anywhere is waited for, never refused; whole, it frames and
/// uses every byte.
#[test]
fn every_prefix_of_a_valid_request_waits_and_the_whole_request_frames() {
    for full in VALID {
        let name = String::from_utf8_lossy(&full[..20]);
        for cut in 0..=full.len() {
            let prefix = &full[..cut];
            let head = match parse_head(prefix, 64, 8192) {
                Ok(Some(head)) => head,
                Ok(None) => {
                    assert!(cut < full.len(), "{name}: the whole head was not seen");
                    continue;
                }
                Err(e) => panic!("{name}: the first {cut} bytes were refused: {e:?}"),
            };
            let mut chunks = Vec::new();
            match frame_body(prefix, &head, BODY_LIMIT, &mut chunks) {
                Ok(Some((_, consumed))) => {
                    assert_eq!(cut, full.len(), "{name}: framed before the end");
                    assert_eq!(consumed, full.len(), "{name}: bytes left over");
                }
                Ok(None) => assert!(cut < full.len(), "{name}: the whole body was not seen"),
                Err(e) => panic!("{name}: the first {cut} bytes were refused: {e:?}"),
            }
        }
    }
}
