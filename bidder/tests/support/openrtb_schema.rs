//! Every bid response checked against the OpenRTB 2.6 BidResponse schema, and
//! every native bid's markup against the Native 1.2 response schema (both in
//! `tests/conformance/schema/`, written from the specs' text).

use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

fn load(name: &str) -> Validator {
    let path = super::crate_file(&format!("tests/conformance/schema/{name}"));
    let text = std::fs::read_to_string(&path).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

static BID_RESPONSE: LazyLock<Validator> = LazyLock::new(|| load("bid-response-2.6.json"));
static NATIVE_RESPONSE: LazyLock<Validator> = LazyLock::new(|| load("native-response-1.2.json"));

/// Panics, listing every violation, unless `response` is a valid 2.6
/// BidResponse whose native bids carry valid Native 1.2 markup (or, for a
/// request in the 1.0 wrapper, the same object wrapped in `native`).
pub fn check_bid_response(response: &Value) {
    let errors: Vec<String> = BID_RESPONSE
        .iter_errors(response)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a 2.6 BidResponse: {errors:#?}\n{response:#}"
    );
    let bids = response["seatbid"].as_array().into_iter().flatten();
    for bid in bids.flat_map(|seat| seat["bid"].as_array().into_iter().flatten()) {
        if bid["mtype"] != 4 {
            continue;
        }
        let adm = bid["adm"].as_str().expect("a native bid has inline markup");
        let mut markup: Value = serde_json::from_str(adm).expect("native markup is JSON");
        if let Some(inner) = markup.get_mut("native") {
            // The answer to a 1.0 request: the same object, wrapped, saying 1.0.
            let ver = inner.as_object_mut().and_then(|o| o.remove("ver"));
            assert_eq!(ver, Some(Value::from("1.0")), "{adm}");
            markup = inner.take();
        }
        let errors: Vec<String> = NATIVE_RESPONSE
            .iter_errors(&markup)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "not Native 1.2 markup: {errors:#?}\n{markup:#}"
        );
    }
}
