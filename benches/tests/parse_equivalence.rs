//! The engine's own JSON reader (`tern_engine::json_in`, behind
//! `BidRequest::parse`) against serde_json reading the same types, on every request
//! the project holds: the generated bench corpus, the conformance corpus and the
//! bundled samples, each whole and mutated.
//!
//! - A body serde_json accepts, the reader accepts, with every field equal (the
//!   parsed requests' `Debug` text, which prints every field the engine reads).
//! - A body the reader refuses, serde_json refuses too.
//! - A body only the reader accepts must be malformed only inside a value the
//!   engine does not read (skipped as `json_in::blocks` documents): reading the
//!   whole body as a `serde_json::Value` with the reader refuses it.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tern_benches::corpus;
use tern_benches::engine::parse_serde_json;
use tern_engine::json_in;
use tern_engine::openrtb::BidRequest;

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Every held request body: generated, conformance (object or raw text), samples.
fn held_bodies() -> Vec<(String, Vec<u8>)> {
    let mut bodies: Vec<(String, Vec<u8>)> = corpus::requests(200, 1, corpus::deal_pool(1_000))
        .into_iter()
        .enumerate()
        .map(|(i, s)| (format!("corpus #{i} ({})", s.kind.name()), s.body))
        .collect();
    for dir in ["bidder/tests/conformance/requests", "bidder/samples"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(repo_file(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let case: Value = serde_json::from_str(&text).unwrap();
            let body = match (&case["request"], &case["body"]) {
                (Value::Object(_), _) => serde_json::to_vec(&case["request"]).unwrap(),
                (_, Value::String(raw)) => raw.clone().into_bytes(),
                // A sample is the request itself.
                _ => text.into_bytes(),
            };
            bodies.push((name, body));
        }
    }
    bodies
}

/// serde_json's reading of the engine's types, with the same checks after it (the
/// tokio baseline's path).
fn serde_json_reading(body: &[u8]) -> Result<String, String> {
    parse_serde_json(body).map(|request| format!("{request:?}"))
}

fn tern_reading(body: &[u8]) -> Result<String, String> {
    BidRequest::parse(body)
        .map(|request| format!("{request:?}"))
        .map_err(|e| e.to_string())
}

/// What one body showed.
#[derive(Debug, Default)]
struct Tally {
    both_read: usize,
    both_refused: usize,
    only_tern_read: usize,
}

fn compare(name: &str, body: &[u8], tally: &mut Tally) {
    let theirs = serde_json_reading(body);
    let ours = tern_reading(body);
    match (&theirs, &ours) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{name}: fields differ");
            tally.both_read += 1;
        }
        (Err(_), Err(_)) => tally.both_refused += 1,
        (Ok(_), Err(e)) => panic!("{name}: serde_json reads it, the reader refuses it: {e}"),
        (Err(e), Ok(_)) => {
            // Accepted past a malformation only because it lies in a skipped value,
            // or because serde_json refused what the reader tolerates by design: a
            // rule of the engine's types (then both refuse once all is read).
            let text = std::str::from_utf8(body).expect("the reader accepted it as UTF-8");
            let all_read = json_in::from_str::<Value>(text);
            let json_error = serde_json::from_slice::<Value>(body).is_err();
            assert!(
                all_read.is_err() && json_error,
                "{name}: only the reader reads it, serde_json says {e}"
            );
            tally.only_tern_read += 1;
        }
    }
}

#[test]
fn every_held_request_reads_the_same_with_both() {
    let mut tally = Tally::default();
    for (name, body) in held_bodies() {
        compare(&name, &body, &mut tally);
    }
    // The corpus is mostly requests that bid, a few refused on purpose.
    assert!(tally.both_read >= 250, "{tally:?}");
    assert_eq!(tally.only_tern_read, 0, "{tally:?}");
}

/// Bytes a mutation puts in: JSON's structure, and what breaks strings and numbers.
const MUTATION_BYTES: &[u8] = b"{}[],:\"\\ 0-.eE+tfnu\x01x";

#[test]
fn mutated_requests_are_refused_or_read_the_same() {
    // A fixed xorshift stream: the same mutations every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut tally = Tally::default();
    for (name, body) in held_bodies() {
        for round in 0..40 {
            let mut mutated = body.clone();
            let at = next(mutated.len());
            let byte = MUTATION_BYTES[next(MUTATION_BYTES.len())];
            match round % 4 {
                0 => mutated.truncate(at),
                1 => mutated.insert(at, byte),
                2 => mutated[at] = byte,
                _ => {
                    mutated.remove(at);
                }
            }
            compare(&format!("{name} mutated at {at}"), &mutated, &mut tally);
        }
    }
    assert!(tally.both_refused > 1_000, "{tally:?}");
    assert!(tally.both_read > 1_000, "{tally:?}");
    eprintln!("{tally:?}");
}
