//! The document targets (campaign files, DynamoDB items) and the check every bid
//! response passes.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue as TableValue;
use aws_sdk_dynamodbstreams::types::AttributeValue as StreamValue;
use serde_json::Value;
use tern_engine::campaign::{Campaign, FileFormat, parse_campaigns};
use tern_engine::snapshot::Snapshot;
use tern_tables::campaigns::{from_stream_image, from_table_item};
use tern_tables::spend::{LeaseKey, from_item};

use crate::http::Status;
use crate::state::BidderState;

/// Samples every accepted campaigns document must answer without panicking.
const SAMPLES: [&[u8]; 3] = [
    include_bytes!("../../samples/banner.json"),
    include_bytes!("../../samples/video.json"),
    include_bytes!("../../samples/native.json"),
];

/// Reads `data` as a TOML and as a JSON campaigns document; an accepted one is
/// compiled into `state` and bid on with the samples through `bid`, then the
/// bundled campaigns are put back.
pub(super) fn campaigns(
    state: &BidderState,
    bundled: &[Campaign],
    data: &[u8],
    mut bid: impl FnMut(&[u8]) -> (Status, Vec<u8>),
) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [FileFormat::Toml, FileFormat::Json] {
        let Ok(campaigns) = parse_campaigns(text, format) else {
            continue;
        };
        if state.replace_campaigns(&campaigns).is_err() {
            continue;
        }
        for sample in SAMPLES {
            let (status, body) = bid(sample);
            assert!(
                [Status::OK, Status::NO_CONTENT].contains(&status),
                "a valid sample answered {status:?}"
            );
            if status == Status::OK {
                check_bid_response(sample, &body);
            }
        }
        state
            .replace_campaigns(bundled)
            .expect("bundled campaigns compile");
    }
}

/// Reads `data` as one DynamoDB item in the wire's JSON form: as a campaign from a
/// table scan and from a stream image (both must agree), and as a spend ledger
/// item. An accepted campaign is compiled into a snapshot of its own.
pub(super) fn dynamodb_item(state: &BidderState, data: &[u8]) {
    let Ok(Value::Object(attributes)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let table: Option<HashMap<String, TableValue>> = attributes
        .iter()
        .map(|(k, v)| Some((k.clone(), table_value(v)?)))
        .collect();
    let stream: Option<HashMap<String, StreamValue>> = attributes
        .iter()
        .map(|(k, v)| Some((k.clone(), stream_value(v)?)))
        .collect();
    let (Some(table), Some(stream)) = (table, stream) else {
        return;
    };
    let scanned = from_table_item(&table);
    assert_eq!(
        scanned,
        from_stream_image(&stream),
        "a scan and a stream image of one item read alike"
    );
    if let Ok(document) = scanned
        && let Ok(campaign) = document.campaign()
    {
        let _ = Snapshot::build([&campaign], Arc::clone(state.fx()), state.budgets());
    }
    let ledger = from_item(&table);
    for key in ledger.leases.keys() {
        if let Some(parsed) = LeaseKey::parse(key) {
            assert_eq!(&parsed.to_string(), key, "lease keys read back as written");
        }
    }
}

macro_rules! wire_value {
    ($name:ident, $ty:ty) => {
        /// One attribute in DynamoDB's wire JSON (`{"S": "x"}`, `{"N": "1"}`,
        /// `{"M": {..}}`, ...); `None` for anything else.
        fn $name(value: &Value) -> Option<$ty> {
            type V = $ty;
            let Value::Object(typed) = value else {
                return None;
            };
            let (kind, inner) = typed.iter().next()?;
            let strings = || -> Option<Vec<String>> {
                inner
                    .as_array()?
                    .iter()
                    .map(|s| s.as_str().map(str::to_owned))
                    .collect()
            };
            Some(match kind.as_str() {
                "S" => V::S(inner.as_str()?.to_owned()),
                "N" => V::N(inner.as_str()?.to_owned()),
                "BOOL" => V::Bool(inner.as_bool()?),
                "NULL" => V::Null(inner.as_bool()?),
                "SS" => V::Ss(strings()?),
                "NS" => V::Ns(strings()?),
                "B" => V::B(Blob::new(inner.as_str()?.as_bytes())),
                "L" => V::L(inner.as_array()?.iter().map($name).collect::<Option<_>>()?),
                "M" => V::M(
                    inner
                        .as_object()?
                        .iter()
                        .map(|(k, v)| Some((k.clone(), $name(v)?)))
                        .collect::<Option<_>>()?,
                ),
                _ => return None,
            })
        }
    };
}

wire_value!(table_value, TableValue);
wire_value!(stream_value, StreamValue);

/// Checks a 200 answer to `request` against OpenRTB 2.6 §4.2: JSON whose `id`
/// echoes the request's, with at least one bid, each naming one of the request's
/// impressions and priced above zero and at or above the floor it answers (when
/// the floor is in the response's currency).
///
/// # Panics
/// When the response breaks any of these.
pub(super) fn check_bid_response(request: &[u8], response: &[u8]) {
    let answer: Value = serde_json::from_slice(response).expect("a bid response is JSON");
    let bids: Vec<&Value> = answer["seatbid"]
        .as_array()
        .expect("seatbid is an array")
        .iter()
        .flat_map(|seat| seat["bid"].as_array().expect("bid is an array"))
        .collect();
    assert!(!bids.is_empty(), "a 200 carries a bid");
    let currency = answer["cur"].as_str().unwrap_or("USD");
    // A body Tern reads but serde_json refuses (malformed only inside a skipped
    // value) has no reference reading to compare against.
    let Ok(request) = serde_json::from_slice::<Value>(request) else {
        return;
    };
    if let Some(id) = request["id"].as_str() {
        assert_eq!(
            answer["id"].as_str(),
            Some(id),
            "the response echoes the id"
        );
    }
    let imps = request["imp"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for bid in bids {
        let price = bid["price"].as_f64().expect("a bid has a price");
        assert!(price > 0.0 && price.is_finite(), "price {price}");
        let impid = bid["impid"].as_str().expect("a bid names its impression");
        let Some(imp) = imps.iter().find(|imp| imp["id"].as_str() == Some(impid)) else {
            // Duplicate or non-string ids read tolerantly: nothing to compare.
            continue;
        };
        let floor_currency = imp["bidfloorcur"].as_str().unwrap_or("USD");
        let floor = match bid["dealid"].as_str() {
            Some(deal) => imp["pmp"]["deals"]
                .as_array()
                .and_then(|deals| deals.iter().find(|d| d["id"].as_str() == Some(deal)))
                .and_then(|d| d["bidfloor"].as_f64()),
            None => imp["bidfloor"].as_f64(),
        };
        if let Some(floor) = floor
            && floor_currency.eq_ignore_ascii_case(currency)
        {
            assert!(price >= floor, "bid {price} under the floor {floor}");
        }
    }
}
