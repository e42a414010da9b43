use super::*;

#[test]
fn provider_names_ignore_case_and_taxonomies_keep_keys_apart() {
    let key = SegmentKey::exchange;
    assert_eq!(
        key("DataCo.Example", None, "1"),
        key("dataco.example", None, "1")
    );
    assert_ne!(
        key("dataco.example", None, "1"),
        key("dataco.example", Some(4), "1")
    );
    assert_ne!(
        key("dataco.example", Some(4), "1"),
        key("dataco.example", Some(5), "1")
    );
    assert_ne!(
        key("dataco.example", None, "a"),
        key("dataco.example", None, "A")
    );
    // A provider named like our first-party tag is still an exchange's.
    assert_ne!(key("1p", None, "a"), SegmentKey::first_party("a"));
    let long = "P".repeat(200);
    assert_eq!(key(&long, None, "x"), key(&long.to_lowercase(), None, "x"));
}

#[test]
fn requests_name_whether_segments_may_be_used() {
    let privacy = |json: &str| {
        let body = format!(r#"{{"id":"r","imp":[{{"id":"1"}}],{json}}}"#);
        let req = BidRequest::parse(body.as_bytes()).unwrap();
        may_use_segments(&req.privacy(), 755)
    };
    assert!(privacy(r#""user":{"id":"u"}"#));
    assert!(privacy(r#""regs":{"gdpr":0}"#));
    assert!(!privacy(r#""regs":{"coppa":1}"#));
    assert!(!privacy(r#""device":{"lmt":1}"#));
    assert!(!privacy(r#""device":{"dnt":1}"#));
    assert!(
        !privacy(r#""regs":{"gdpr":1}"#),
        "GDPR without a consent string"
    );
    assert!(
        !privacy(r#""regs":{"gdpr":1},"user":{"consent":"not a TC string"}"#),
        "an unreadable consent string is no consent"
    );
}

#[test]
fn at_most_a_bounded_number_of_request_segments_are_read() {
    let segments: Vec<String> = (0..1000).map(|i| format!(r#"{{"id":"s{i}"}}"#)).collect();
    let body = format!(
        r#"{{"id":"r","imp":[{{"id":"1"}}],"user":{{"data":[{{"id":"p","segment":[{}]}}]}}}}"#,
        segments.join(",")
    );
    let req = BidRequest::parse(body.as_bytes()).unwrap();
    let mut audience = Audience::default();
    audience.prepare(&req, 0);
    assert_eq!(audience.exchange.len(), MAX_REQUEST_SEGMENTS);
    let key = |id: &str| SegmentKey::exchange("p", None, id);
    assert_eq!(audience.membership(key("s0"), false), Membership::In);
    assert_eq!(
        audience.membership(key("s999"), false),
        Membership::Unknown,
        "not read: unknown, not absent"
    );
    assert_eq!(
        audience.membership(SegmentKey::first_party("s0"), true),
        Membership::Unread,
        "not read"
    );
}
