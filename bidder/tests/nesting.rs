//! Deeply nested JSON in a bid request: refused with 400 (or 413 past a size
//! limit), never a crashed worker, whatever field the nesting hides in, plain or
//! gzip; the bidder keeps answering on the same and other connections.

#[macro_use]
mod support;

use std::io::Write as _;
use std::net::TcpStream;

use support::{Bidder, Options, raw_bid, read_response, sample, send};

/// `limits.body_bytes` and `limits.inflated_body_bytes` at their defaults.
const BODY_LIMIT: usize = 256 * 1024;
const INFLATED_LIMIT: usize = 1024 * 1024;

/// Where the nesting goes in an otherwise ordinary request.
const PLACES: [&str; 3] = ["imp.ext", "unknown", "site.cat"];

/// `levels` levels of arrays, objects, or both alternating.
fn nesting(shape: &str, levels: usize) -> String {
    let (open, close) = match shape {
        "arrays" => ("[".repeat(levels), "]".repeat(levels)),
        "objects" => ("{\"a\":".repeat(levels) + "1", "}".repeat(levels)),
        _ => ("{\"a\":[".repeat(levels / 2), "]}".repeat(levels / 2)),
    };
    format!("{open}{close}")
}

/// The sample banner request with `value` at `place`.
fn request_with(place: &str, value: &str) -> Vec<u8> {
    let mut request: serde_json::Value = serde_json::from_slice(&sample("banner")).unwrap();
    let marker = serde_json::Value::String("@nest@".into());
    match place {
        "imp.ext" => request["imp"][0]["ext"] = marker,
        "unknown" => request["zz_unknown"] = marker,
        _ => request["site"]["cat"] = marker,
    }
    request
        .to_string()
        .replace("\"@nest@\"", value)
        .into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Sends one request on `stream`. A body over the size limit is not sent at all:
/// the head alone earns the 413, and a server that closes with unread bytes
/// resets the connection, which could swallow the answer.
fn post(stream: &mut TcpStream, body: &[u8], gzipped: bool) -> support::Reply {
    let encoding = if gzipped {
        "Content-Encoding: gzip\r\n"
    } else {
        ""
    };
    let mut bytes = raw_bid(body, encoding);
    if body.len() > BODY_LIMIT {
        bytes.truncate(bytes.len() - body.len());
    }
    send(stream, &bytes);
    read_response(stream).expect("an answer")
}

/// The sample banner request is answered with a bid on `stream`.
fn bids(stream: &mut TcpStream) {
    let reply = post(stream, &sample("banner"), false);
    assert_eq!(reply.status, 200, "{}", reply.text());
}

on_both_drivers! {
fn deep_nesting_anywhere_gets_400_or_413_and_the_bidder_keeps_answering(options: Options) {
    let bidder = Bidder::start_with(options);
    let mut refused = 0;
    for levels in [1_000, 100_000, 1_000_000] {
        for shape in ["arrays", "objects", "mixed"] {
            let value = nesting(shape, levels);
            for place in PLACES {
                let plain = request_with(place, &value);
                for gzipped in [false, true] {
                    let body = if gzipped { gzip(&plain) } else { plain.clone() };
                    let too_large = body.len() > BODY_LIMIT || plain.len() > INFLATED_LIMIT;
                    let case = format!("{levels} levels of {shape} in {place}, gzip {gzipped}");
                    let mut stream = bidder.connect();
                    let reply = post(&mut stream, &body, gzipped);
                    if too_large {
                        assert_eq!(reply.status, 413, "{case}: {}", reply.text());
                    } else {
                        assert_eq!(reply.status, 400, "{case}: {}", reply.text());
                        assert!(
                            reply.text().contains("nests deeper than 128 levels"),
                            "{case}: {}",
                            reply.text()
                        );
                        // A 400 leaves the connection open for the next request.
                        bids(&mut stream);
                    }
                    refused += 1;
                    bids(&mut bidder.connect());
                }
            }
        }
    }
    assert_eq!(refused, 54);
    assert_eq!(bidder.metric("tern_panics_total"), 0.0);
}

fn nesting_up_to_the_limit_is_parsed_on_the_workers_stack(options: Options) {
    // The root object, `imp` and its first element are three levels: 125 more in
    // `imp[0].ext` make 128, the deepest accepted. Parsing it needs about 7 MiB of
    // stack in a debug build (the tests'), more than a default thread has.
    let bidder = Bidder::start_with(options);
    let mut stream = bidder.connect();
    for shape in ["arrays", "objects"] {
        let deepest = request_with("imp.ext", &nesting(shape, 125));
        let reply = post(&mut stream, &deepest, false);
        assert_eq!(reply.status, 200, "{shape}: {}", reply.text());
        let reply = post(
            &mut stream,
            &request_with("unknown", &nesting(shape, 127)),
            false,
        );
        assert_eq!(reply.status, 200, "{shape}: {}", reply.text());
        let one_more = request_with("imp.ext", &nesting(shape, 126));
        let reply = post(&mut stream, &one_more, false);
        assert_eq!(reply.status, 400, "{shape}: {}", reply.text());
    }
    bids(&mut stream);
}
}
