//! Tests of the sellers.json parser, against the example and rules of IAB Tech
//! Lab sellers.json 1.0.

use super::*;

fn parse(text: &str) -> SellersJson {
    SellersJson::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn ids_and_types(file: &SellersJson) -> Vec<(&str, SellerType)> {
    file.sellers()
        .iter()
        .map(|s| (s.seller_id.as_str(), s.seller_type))
        .collect()
}

/// The spec's sample file (its one typo, a curly closing quote after
/// `"PUBLISHER`, fixed), read in full.
#[test]
fn spec_sample_file() {
    let file = parse(
        r#"{
  "contact_email": "adops@advertisingsystem.com",
  "contact_address": "Advertising System Inc., 101 Main Street, New York, NY 10101",
  "version": "1.0",
  "identifiers": [ { "name": "TAG-ID", "value": "28cb65e5bbc0bd5f" } ],
  "sellers": [
    { "seller_id": "1942009976", "name": "Publisher1", "domain": "publisher1.com", "seller_type": "PUBLISHER" },
    { "seller_id": "1397382429", "name": "Exchange1", "domain": "exchange1.com", "seller_type": "INTERMEDIARY" },
    { "seller_id": "20000000", "name": "Seller And Intermediary, Inc", "domain": "sellerandintermediary.com",
      "seller_type": "PUBLISHER", "comment": "NorthAmerica O&O inventory" },
    { "seller_id": "20000001", "name": "Seller And Intermediary, Inc", "domain": "sellerandintermediary.com",
      "seller_type": "PUBLISHER", "comment": "APAC O&O inventory" },
    { "seller_id": "20000002", "name": "Seller And Intermediary, Inc", "domain": "sellerandintermediary.com",
      "seller_type": "INTERMEDIARY", "comment": "Non O&O inventory" },
    { "seller_id": "101010101", "name": "Hybrid Seller", "domain": "hybridseller.com", "seller_type": "BOTH",
      "comment": "Sells both O&O and other sellers' inventory" },
    { "seller_id": "00000001", "seller_type": "INTERMEDIARY", "is_confidential": 1 },
    { "seller_id": "EB_0001", "name": "Passthrough Publisher", "domain": "passthroughpublisher.com",
      "seller_type": "PUBLISHER", "is_passthrough": 1,
      "comment": "direct buyer/seller of this inventory must establish an account relationship with Passthrough Publisher" }
  ]
}"#,
    );
    assert_eq!(file.contact_email(), Some("adops@advertisingsystem.com"));
    assert_eq!(
        file.contact_address(),
        Some("Advertising System Inc., 101 Main Street, New York, NY 10101")
    );
    assert_eq!(file.version(), Some("1.0"));
    assert_eq!(
        file.identifiers(),
        [Identifier {
            name: "TAG-ID".to_owned(),
            value: "28cb65e5bbc0bd5f".to_owned()
        }]
    );
    assert_eq!(
        ids_and_types(&file),
        [
            ("1942009976", SellerType::Publisher),
            ("1397382429", SellerType::Intermediary),
            ("20000000", SellerType::Publisher),
            ("20000001", SellerType::Publisher),
            ("20000002", SellerType::Intermediary),
            ("101010101", SellerType::Both),
            ("00000001", SellerType::Intermediary),
            ("EB_0001", SellerType::Publisher),
        ]
    );
    assert!(file.skipped().is_empty());
    let first = &file.sellers()[0];
    assert_eq!(
        (
            first.name.as_deref(),
            first.domain.as_deref(),
            first.comment.as_deref()
        ),
        (Some("Publisher1"), Some("publisher1.com"), None)
    );
    let confidential = &file.sellers()[6];
    assert!(
        confidential.is_confidential && !confidential.is_passthrough && confidential.name.is_none()
    );
    let passthrough = &file.sellers()[7];
    assert!(passthrough.is_passthrough && !passthrough.is_confidential);
}

/// What real files do: numeric ids, any-case and padded types, boolean or
/// string flags, unknown fields and odd types for optional fields, a BOM, no
/// version, identifiers of the wrong shape.
#[test]
fn tolerant_reads() {
    let file = parse(
        "\u{feff}{\"sellers\": [\
           {\"seller_id\": 12345, \"seller_type\": \"publisher\", \"is_confidential\": true, \"name\": 7},\
           {\"seller_id\": -3, \"seller_type\": \" Intermediary \", \"is_confidential\": \"1\", \"ext\": {\"a\": [1, {\"b\": null}]}},\
           {\"seller_id\": \"  pad-1 \", \"seller_type\": \"Both\", \"is_passthrough\": \"true\", \"domain\": null, \"extra\": [1,2]},\
           {\"seller_id\": \"x\", \"seller_type\": \"BOTH\", \"is_confidential\": 2, \"comment\": {\"k\": 1}, \"seller_id\": \"y\"}\
         ], \"identifiers\": {\"name\": \"TAG-ID\"}, \"contact_email\": 5, \"ext\": {}}",
    );
    assert_eq!(
        ids_and_types(&file),
        [
            ("12345", SellerType::Publisher),
            ("-3", SellerType::Intermediary),
            ("pad-1", SellerType::Both),
            ("y", SellerType::Both),
        ]
    );
    let flags: Vec<_> = file
        .sellers()
        .iter()
        .map(|s| (s.is_confidential, s.is_passthrough))
        .collect();
    assert_eq!(
        flags,
        [(true, false), (true, false), (false, true), (false, false)]
    );
    assert!(
        file.sellers()
            .iter()
            .all(|s| s.name.is_none() && s.domain.is_none() && s.comment.is_none())
    );
    assert!(file.identifiers().is_empty());
    assert_eq!((file.version(), file.contact_email()), (None, None));
    assert!(file.skipped().is_empty());
}

/// Sellers without a usable id or type, repeated ids and non-objects are
/// skipped with their position and reason; the rest load.
#[test]
fn bad_sellers_are_skipped_and_reported() {
    let file = parse(
        r#"{"sellers": [
            {"seller_id": "ok-1", "seller_type": "PUBLISHER"},
            {"seller_type": "PUBLISHER"},
            {"seller_id": null, "seller_type": "PUBLISHER"},
            {"seller_id": 1.5, "seller_type": "PUBLISHER"},
            {"seller_id": ["a"], "seller_type": "PUBLISHER"},
            {"seller_id": "  ", "seller_type": "PUBLISHER"},
            {"seller_id": "no-type"},
            {"seller_id": "bad-type", "seller_type": "RESELLER"},
            {"seller_id": "num-type", "seller_type": 1},
            {"seller_id": "ok-1", "seller_type": "INTERMEDIARY"},
            "not an object",
            null,
            [1, 2],
            {"seller_id": "ok-2", "seller_type": "both"}
        ]}"#,
    );
    assert_eq!(
        ids_and_types(&file),
        [("ok-1", SellerType::Publisher), ("ok-2", SellerType::Both)]
    );
    let skipped: Vec<_> = file
        .skipped()
        .iter()
        .map(|s| (s.index, s.seller_id.as_deref(), s.reason.clone()))
        .collect();
    assert_eq!(
        skipped,
        [
            (1, None, SellerSkipReason::MissingSellerId),
            (2, None, SellerSkipReason::MissingSellerId),
            (3, None, SellerSkipReason::UnreadableSellerId),
            (4, None, SellerSkipReason::UnreadableSellerId),
            (5, None, SellerSkipReason::EmptySellerId),
            (6, Some("no-type"), SellerSkipReason::MissingSellerType),
            (
                7,
                Some("bad-type"),
                SellerSkipReason::UnknownSellerType("RESELLER".to_owned())
            ),
            (
                8,
                Some("num-type"),
                SellerSkipReason::UnknownSellerType("<number>".to_owned())
            ),
            (9, Some("ok-1"), SellerSkipReason::DuplicateSellerId),
            (10, None, SellerSkipReason::NotAnObject),
            (11, None, SellerSkipReason::NotAnObject),
            (12, None, SellerSkipReason::NotAnObject),
        ]
    );
    assert_eq!(
        file.skipped()[6].to_string(),
        "sellers[7] (\"bad-type\"): seller_type \"RESELLER\" is not PUBLISHER, INTERMEDIARY or BOTH"
    );
}

/// Documents that are not JSON, not an object, or have no `sellers` array are
/// refused, with serde_json's description and position.
#[test]
fn unusable_documents_are_refused() {
    let cases = [
        ("", "EOF while parsing a value at line 1 column 0"),
        ("<html>404</html>", "expected value at line 1 column 1"),
        (
            "{\"sellers\": [",
            "EOF while parsing a list at line 1 column 13",
        ),
        (
            "[]",
            "invalid type: sequence, expected a sellers.json object at line 1 column 0",
        ),
        (
            "{\"sellers\": [], \"sellers\": []}",
            "duplicate field `sellers` at line 1 column 25",
        ),
        (
            "{\"version\": \"1.0\"}",
            "missing field `sellers` at line 1 column 18",
        ),
        (
            "{\"sellers\": null}",
            "invalid type: null, expected an array of seller objects at line 1 column 16",
        ),
        (
            "{\"sellers\": {}}",
            "invalid type: map, expected an array of seller objects at line 1 column 12",
        ),
        (
            "{\"sellers\": []} trailing",
            "trailing characters at line 1 column 17",
        ),
    ];
    for (text, message) in cases {
        match SellersJson::parse(text) {
            Err(SellersJsonError::Invalid { message: got, .. }) => {
                assert_eq!(got, message, "{text:?}")
            }
            Ok(file) => panic!("{text:?} was accepted: {file:?}"),
        }
    }
    let error = SellersJson::parse("{\n  \"sellers\": 3\n}").expect_err("not an array");
    assert_eq!(
        error,
        SellersJsonError::Invalid {
            message:
                "invalid type: integer `3`, expected an array of seller objects at line 2 column 14"
                    .to_owned(),
            line: 2,
            column: 14,
        }
    );
    assert!(
        error
            .to_string()
            .starts_with("not a sellers.json document: invalid type")
    );
}

/// Deep nesting cannot exhaust the stack: where it is skipped (unknown
/// fields, non-scalar values) it is read without recursion and the seller
/// still loads; the top level is refused past serde_json's 128 levels.
#[test]
fn deep_nesting_is_harmless() {
    let nest = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let deep = nest(100_000);
    for seller in [
        format!(r#"{{"seller_id": "1", "seller_type": "BOTH", "ext": {deep}}}"#),
        format!(r#"{{"seller_id": "1", "seller_type": "BOTH", "comment": {deep}}}"#),
    ] {
        let file = parse(&format!(
            r#"{{"sellers": [{seller}, {deep}], "ext": {deep}}}"#
        ));
        assert_eq!(ids_and_types(&file), [("1", SellerType::Both)]);
        assert_eq!(file.skipped().len(), 1);
    }
    assert!(SellersJson::parse(&deep).is_err());
}

/// An empty `sellers` array is a valid, empty file.
#[test]
fn empty_sellers_array_is_valid() {
    let file = parse(r#"{"version": "1.0", "sellers": []}"#);
    assert!(file.sellers().is_empty() && file.skipped().is_empty());
}
