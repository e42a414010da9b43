//! The conformance corpus: requests shaped like those exchanges send (modelled on
//! prebid-server's and the IAB's public examples, written for Tern), each with
//! its expected outcome, sent over HTTP to the real bidder serving
//! `tests/conformance/campaigns.toml`. Every 200 is checked against the OpenRTB
//! 2.6 BidResponse schema (and native markup against Native 1.2).
//!
//! A case is one file in `tests/conformance/requests/`:
//! `{"about": .., "request": {..} | "body": "raw text", "expect": ..}` where
//! `expect` is one of
//! - `{"status": 200, "bids": [{"impid": .., "price_min": .., "price_max": .., <field>: <value>}]}`:
//!   exactly these impressions get a bid, each with the fields given equal to
//!   those of the bid and its price within the bounds;
//! - `{"status": 204, "nobid_reason": ..}`: no bid, counted under that reason;
//! - `{"status": 400, "reason": ..}`: refused, the body containing the reason.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::openrtb_schema::check_bid_response;
use support::{Bidder, Options, crate_file};

/// One corpus file.
struct Case {
    name: String,
    body: Vec<u8>,
    expect: Value,
}

fn cases() -> Vec<Case> {
    let dir = crate_file("tests/conformance/requests");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let case: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(case["about"].is_string(), "{name}: says what it is about");
            let body = match (&case["request"], &case["body"]) {
                (Value::Object(_), _) => serde_json::to_vec(&case["request"]).unwrap(),
                (_, Value::String(raw)) => raw.clone().into_bytes(),
                _ => panic!("{name}: needs `request` or `body`"),
            };
            Case {
                name,
                body,
                expect: case["expect"].clone(),
            }
        })
        .collect()
}

/// Checks a 200 against the bids the case expects; returns what is wrong.
fn check_bids(expect: &Value, response: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    let bids: Vec<&Value> = response["seatbid"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|seat| seat["bid"].as_array().into_iter().flatten())
        .collect();
    let expected = expect["bids"].as_array().expect("`bids` to expect");
    if bids.len() != expected.len() {
        wrong.push(format!("{} bids, expected {}", bids.len(), expected.len()));
    }
    for want in expected {
        let Some(bid) = bids.iter().find(|b| b["impid"] == want["impid"]) else {
            wrong.push(format!("no bid for impid {}", want["impid"]));
            continue;
        };
        let price = bid["price"].as_f64().unwrap_or(f64::NAN);
        for (field, value) in want.as_object().unwrap() {
            let ok = match field.as_str() {
                "price_min" => price >= value.as_f64().unwrap(),
                "price_max" => price <= value.as_f64().unwrap(),
                _ => bid[field] == *value,
            };
            if !ok {
                wrong.push(format!(
                    "impid {}: {field} is {} (price {price}), expected {value}",
                    want["impid"], bid[field]
                ));
            }
        }
    }
    let mut impids: Vec<&Value> = bids.iter().map(|b| &b["impid"]).collect();
    impids.sort_by_key(|v| v.to_string());
    impids.dedup();
    if impids.len() != bids.len() {
        wrong.push("two bids for one impid".to_owned());
    }
    wrong
}

fn nobids(bidder: &Bidder, reason: &str) -> f64 {
    bidder.metric(&format!("tern_nobids_total{{reason=\"{reason}\"}}"))
}

/// Every case of the corpus gets its expected outcome.
#[test]
fn the_corpus_gets_its_expected_outcomes() {
    let bidder = Bidder::start_with(Options {
        campaigns: Some(crate_file("tests/conformance/campaigns.toml")),
        ..Options::default()
    });
    let cases = cases();
    assert!(cases.len() >= 30, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let status = case.expect["status"].as_u64().expect("`status` to expect");
        let reason = case.expect["nobid_reason"].as_str();
        let before = reason.map(|r| nobids(&bidder, r));
        let reply = bidder.bid(&case.body);
        let mut wrong = Vec::new();
        if u64::from(reply.status) != status {
            wrong.push(format!("status {}: {}", reply.status, reply.text()));
        } else if status == 200 {
            let response: Value = reply.json();
            check_bid_response(&response);
            wrong.extend(check_bids(&case.expect, &response));
        } else if let (Some(reason), Some(before)) = (reason, before) {
            if nobids(&bidder, reason) != before + 1.0 {
                wrong.push(format!("no bid, but not counted as `{reason}`"));
            }
        } else if let Some(reason) = case.expect["reason"].as_str() {
            let text = reply.text();
            if !text.contains(reason) {
                wrong.push(format!("refused with {text:?}, expected {reason:?}"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}", case.name, wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
