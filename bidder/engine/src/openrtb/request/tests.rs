use super::*;

#[test]
fn borrows_plain_strings_and_ignores_unknown_fields() {
    let body = br#"{"id":"a1","imp":[{"id":"1","banner":{"w":300,"h":250},"zz":[1,2]}],
        "site":{"publisher":{"id":"pub-1"},"cat":["IAB1"]},"future":{"x":1},"ext":{"k":"v"}}"#;
    let req = BidRequest::parse(body).unwrap();
    assert_eq!(req.id, "a1");
    assert!(req.id.is_borrowed());
    let publisher = req.site.as_ref().unwrap().publisher.as_ref().unwrap();
    assert!(publisher.id.as_ref().unwrap().is_borrowed());
    assert!(
        req.site.as_ref().unwrap().cat[0].is_borrowed(),
        "borrowed inside a Vec too"
    );
    assert_eq!(req.publisher_id(), Some("pub-1"));
    assert_eq!(req.content_categories().collect::<Vec<_>>(), ["IAB1"]);
    assert_eq!(req.ext.unwrap().as_raw_str(), r#"{"k":"v"}"#);
}

#[test]
fn impressions_past_the_bound_are_skipped() {
    let imps: Vec<String> = (0..MAX_IMPS + 10)
        .map(|i| format!(r#"{{"id":"{i}"}}"#))
        .collect();
    let body = format!(r#"{{"id":"r","imp":[{}],"tmax":90}}"#, imps.join(","));
    let req = BidRequest::parse(body.as_bytes()).unwrap();
    assert_eq!(req.imp.len(), MAX_IMPS);
    assert_eq!(&*req.imp[MAX_IMPS - 1].id, (MAX_IMPS - 1).to_string());
    assert_eq!(req.tmax, Some(90), "what follows the array is still read");
    // Skipped impressions are checked as far as finding their end needs (see
    // `json_in::blocks`): an invalid escape or control character is refused, a
    // missing value (grammar nobody reads) is not.
    let skipped = format!(r#"{{"id":"{}"}}"#, MAX_IMPS + 5);
    let bad = body.replace(&skipped, r#"{"id":"\q"}"#);
    assert!(BidRequest::parse(bad.as_bytes()).is_err());
    let bad = body.replace(&skipped, "{\"id\":\"\u{1}\"}");
    assert!(BidRequest::parse(bad.as_bytes()).is_err());
    let tolerated = body.replace(&skipped, r#"{"id":}"#);
    assert_eq!(
        BidRequest::parse(tolerated.as_bytes()).unwrap().tmax,
        Some(90)
    );
}

#[test]
fn escaped_strings_are_unescaped() {
    let req = BidRequest::parse(br#"{"id":"a\"1","imp":[{"id":"1"}]}"#).unwrap();
    assert_eq!(req.id, "a\"1");
    assert!(!req.id.is_borrowed());
}

#[test]
fn rejects_missing_imp_and_empty_ids() {
    assert_eq!(
        BidRequest::parse(br#"{"id":"a"}"#).unwrap_err(),
        RequestError::Invalid("request has no imp")
    );
    assert_eq!(
        BidRequest::parse(br#"{"id":"a","imp":[{"id":""}]}"#).unwrap_err(),
        RequestError::Invalid("imp id is empty")
    );
    assert!(matches!(
        BidRequest::parse(br#"{"imp":[{"id":"1"}]}"#).unwrap_err(),
        RequestError::Json(_)
    ));
    assert!(matches!(
        BidRequest::parse(b"{\"id\":").unwrap_err(),
        RequestError::Json(_)
    ));
}

#[test]
fn invalid_utf8_is_refused_even_inside_lazy_ext() {
    let mut body = br#"{"id":"a","imp":[{"id":"1","ext":{"k":"XX"}}]}"#.to_vec();
    let at = body.windows(2).position(|w| w == b"XX").unwrap();
    body[at] = 0xff;
    body[at + 1] = 0xfe;
    assert_eq!(
        BidRequest::parse(&body).unwrap_err(),
        RequestError::Invalid("body is not UTF-8")
    );
}

#[test]
fn parsing_into_a_used_slot_leaves_nothing_of_the_previous_request() {
    let full = br#"{"id":"a","tmax":90,"imp":[{"id":"1","bidfloor":2.5},{"id":"2"}],
        "site":{"id":"s","cat":["IAB1"]},"bcat":["IAB25"],"cur":["EUR"],"test":1}"#;
    let small = br#"{"id":"b","imp":[{"id":"9"}]}"#;
    let mut place = BidRequest::default();
    BidRequest::parse_into(full, &mut place).unwrap();
    assert_eq!((place.imp.len(), place.tmax), (2, Some(90)));
    BidRequest::parse_into(small, &mut place).unwrap();
    assert_eq!(&*place.id, "b");
    assert_eq!(place.imp.len(), 1);
    assert_eq!((&*place.imp[0].id, place.imp[0].bidfloor), ("9", 0.0));
    assert!(place.site.is_none() && place.bcat.is_empty() && place.cur.is_empty());
    assert_eq!((place.tmax, place.test), (None, 0));
    assert!(BidRequest::parse_into(b"{\"id\":\"c\"}", &mut place).is_err());
}

#[test]
fn reads_app_device_and_deals() {
    let body = br#"{"id":"r","imp":[{"id":"1","video":{"mimes":["video/mp4"],"protocols":[2,3]},
        "pmp":{"private_auction":1,"deals":[{"id":"d1","bidfloor":4.5,"bidfloorcur":"EUR"}]}}],
        "app":{"bundle":"com.x","publisher":{"id":"p9"}},
        "device":{"geo":{"country":"USA","region":"US-CA"},"devicetype":4,"os":"iOS"},
        "regs":{"coppa":1,"gdpr":0},"source":{"schain":{"ver":"1.0"}},"tmax":120,"cur":["EUR"]}"#;
    let req = BidRequest::parse(body).unwrap();
    assert_eq!(req.publisher_id(), Some("p9"));
    assert_eq!(req.country(), Some("USA"));
    assert_eq!(req.region(), Some("US-CA"));
    assert_eq!(req.device_type(), Some(4));
    assert_eq!(req.os(), Some("iOS"));
    assert_eq!(req.tmax, Some(120));
    let pmp = req.imp[0].pmp.as_ref().unwrap();
    assert_eq!(pmp.private_auction, 1);
    assert_eq!(pmp.deals[0].bidfloorcur.as_deref(), Some("EUR"));
    assert!(req.source.unwrap().schain.is_some());
    assert_eq!(req.regs.unwrap().coppa, 1);
}

#[test]
fn null_means_absent_at_any_depth() {
    let body = br#"{"id":"r","imp":[{"id":"1","bidfloor":null,"bidfloorcur":null,"secure":null,
        "banner":{"w":null,"h":null,"format":null,"battr":null},"pmp":null,"ext":null,
        "video":{"mimes":null,"protocols":null,"minduration":null,"rqddurs":null,"podid":null},
        "native":{"request":null,"ver":null}}],
        "site":{"cat":null,"publisher":null,"cattax":null},"app":null,"device":{"geo":null,"ua":null},
        "user":{"id":null,"ext":null},"bseat":null,"wseat":null,"cur":null,"bcat":null,"badv":null,
        "bapp":null,"regs":{"coppa":null,"gdpr":null,"ext":null},"source":{"schain":null},
        "tmax":null,"test":null,"at":null,"ext":null}"#;
    let req = BidRequest::parse(body).unwrap();
    let imp = &req.imp[0];
    assert_eq!((imp.bidfloor, imp.secure), (0.0, None));
    assert!(imp.video.as_ref().unwrap().mimes.is_empty());
    assert!(req.bseat.is_empty() && req.tmax.is_none() && req.test == 0);
    assert_eq!(req.privacy(), Privacy::default());
}

#[test]
fn duplicate_imp_ids_are_refused_in_short_and_long_requests() {
    let dup = br#"{"id":"r","imp":[{"id":"1"},{"id":"2"},{"id":"1"}]}"#;
    assert_eq!(
        BidRequest::parse(dup).unwrap_err(),
        RequestError::Invalid("imp ids are not unique")
    );
    let mut imps: Vec<String> = (0..40).map(|i| format!(r#"{{"id":"{i}"}}"#)).collect();
    let unique = format!(r#"{{"id":"r","imp":[{}]}}"#, imps.join(","));
    assert!(BidRequest::parse(unique.as_bytes()).is_ok());
    imps.push(r#"{"id":"7"}"#.to_owned());
    let long = format!(r#"{{"id":"r","imp":[{}]}}"#, imps.join(","));
    assert!(BidRequest::parse(long.as_bytes()).is_err());
    // Numbers and strings with the same text are the same id.
    let mixed = br#"{"id":"r","imp":[{"id":1},{"id":"1"}]}"#;
    assert!(BidRequest::parse(mixed).is_err());
}

#[test]
fn alpha_2_countries_read_as_alpha_3() {
    for (sent, read) in [("US", "USA"), ("de", "DEU"), ("USA", "USA"), ("XX", "XX")] {
        let body = format!(
            r#"{{"id":"r","imp":[{{"id":"1"}}],"device":{{"geo":{{"country":"{sent}"}}}}}}"#
        );
        assert_eq!(
            BidRequest::parse(body.as_bytes()).unwrap().country(),
            Some(read)
        );
    }
}

#[test]
fn privacy_and_schain_fall_back_to_their_2_5_locations() {
    let old = br#"{"id":"r","imp":[{"id":"1"}],"regs":{"ext":{"gdpr":1,"us_privacy":"1YNN"}},
        "user":{"ext":{"consent":"CO-old","eids":[{"source":"x"}]}},
        "source":{"ext":{"schain":{"ver":"1.0","complete":1,"nodes":[]}}},"device":{"lmt":1}}"#;
    let req = BidRequest::parse(old).unwrap();
    let privacy = req.privacy();
    assert_eq!(privacy.gdpr, Some(true));
    assert_eq!(privacy.consent, Some("CO-old"));
    assert_eq!(privacy.us_privacy, Some("1YNN"));
    assert!(privacy.limit_tracking);
    assert_eq!(req.schain().unwrap().complete, Some(1));
    let both = br#"{"id":"r","imp":[{"id":"1"}],"regs":{"gdpr":0,"us_privacy":"1NNN",
        "gpp":"DBABMA~x","gpp_sid":[7,6],"ext":{"gdpr":1,"us_privacy":"1YNN"}},
        "user":{"consent":"CO-new","ext":{"consent":"CO-old"}},
        "source":{"schain":{"ver":"1.0"},"ext":{"schain":{"ver":"old"}}}}"#;
    let req = BidRequest::parse(both).unwrap();
    let privacy = req.privacy();
    assert_eq!(privacy.gdpr, Some(false), "the 2.6 field wins");
    assert_eq!(privacy.consent, Some("CO-new"));
    assert_eq!(privacy.us_privacy, Some("1NNN"));
    assert_eq!(
        (privacy.gpp, privacy.gpp_sid),
        (Some("DBABMA~x"), &[7, 6][..])
    );
    assert_eq!(req.schain().unwrap().ver.as_deref(), Some("1.0"));
    // The EU TCF section in force (GPP section 2) says GDPR applies, whatever
    // the flag.
    let gpp = br#"{"id":"r","imp":[{"id":"1"}],"regs":{"gdpr":0,"gpp_sid":[7,2]}}"#;
    assert_eq!(BidRequest::parse(gpp).unwrap().privacy().gdpr, Some(true));
}

#[test]
fn schain_nodes_are_read_tolerantly_and_garbage_is_kept_as_an_empty_node() {
    let body = br#"{"id":"r","imp":[{"id":"1"}],"source":{"schain":{"complete":"1","ver":"1.0",
        "nodes":[{"asi":"exchange.example","sid":12345,"hp":1,"rid":"r1","name":"x",
        "ext":{"k":[1]}},"garbage",{"asi":["x"],"sid":{"a":1},"hp":7},null]}}}"#;
    let req = BidRequest::parse(body).unwrap();
    let chain = req.schain().unwrap();
    assert_eq!(chain.complete, Some(1));
    assert_eq!(chain.nodes.len(), 4);
    let first = &chain.nodes[0];
    assert_eq!(first.asi.as_deref(), Some("exchange.example"));
    assert_eq!(
        first.sid.as_deref(),
        Some("12345"),
        "a numeric sid reads as text"
    );
    assert_eq!((first.hp, first.rid.as_deref()), (Some(1), Some("r1")));
    for node in &chain.nodes[1..] {
        assert!(node.asi.is_none() && node.sid.is_none() && node.hp.is_none());
    }
    // A chain that is not an object is absent; a bad `complete` is unknown.
    let odd = br#"{"id":"r","imp":[{"id":"1"}],"source":{"schain":"yes","ext":{"schain":
        {"complete":"maybe","nodes":{"asi":"a.example","sid":"1"}}}}}"#;
    let req = BidRequest::parse(odd).unwrap();
    let chain = req
        .schain()
        .expect("the 2.5 location, the 2.6 one being unreadable");
    assert_eq!(chain.complete, None);
    assert_eq!(
        chain.nodes.len(),
        1,
        "a lone node object is read as a list of one"
    );
}

#[test]
fn strings_for_numbers_and_single_values_for_lists_are_read() {
    let body = br#"{"id":"r","imp":[{"id":"1","bidfloor":"0.5","secure":true,
        "banner":{"w":"300","h":250.0,"format":{"w":728,"h":90}}}],
        "bcat":"IAB25,IAB26","cur":"EUR","tmax":"120","at":"1"}"#;
    let req = BidRequest::parse(body).unwrap();
    let imp = &req.imp[0];
    assert_eq!((imp.bidfloor, imp.secure), (0.5, Some(1)));
    let banner = imp.banner.as_ref().unwrap();
    assert_eq!((banner.w, banner.h), (Some(300), Some(250)));
    assert_eq!(&*banner.format, &[Format { w: 728, h: 90 }]);
    assert_eq!(req.bcat.len(), 2);
    assert_eq!((req.tmax, req.auction_type()), (Some(120), 1));
    assert_eq!(&*req.cur[0], "EUR");
}

#[test]
fn negative_deal_floors_and_floors_per_second_are_refused() {
    for (body, why) in [
        (
            r#"{"id":"r","imp":[{"id":"1","pmp":{"deals":[{"id":"d","bidfloor":-5}]}}]}"#,
            "deal bidfloor is negative",
        ),
        (
            r#"{"id":"r","imp":[{"id":"1","video":{"mincpmpersec":-1}}]}"#,
            "mincpmpersec is negative",
        ),
        (
            r#"{"id":"r","imp":[{"id":"1","pmp":{"deals":[{"id":"d","mincpmpersec":-0.1}]}}]}"#,
            "mincpmpersec is negative",
        ),
    ] {
        assert_eq!(
            BidRequest::parse(body.as_bytes()).unwrap_err(),
            RequestError::Invalid(why)
        );
    }
}

#[test]
fn fields_only_recorded_never_cost_the_request() {
    let body = br#"{"id":"r","imp":[{"id":"1","instl":"yes","banner":{"w":300,"h":250}}],
        "user":{"consent":{"v":2},"ext":"x"},"regs":{"gdpr":2,"us_privacy":7,"gpp":[1],
        "ext":{"gdpr":"yes","us_privacy":{}}},"device":{"dnt":-1,"lmt":1.5,"language":["en"]},
        "source":{"ext":[1,2]},"at":"first"}"#;
    let req = BidRequest::parse(body).unwrap();
    let privacy = req.privacy();
    // Privacy flags fail closed: a value there but unclear counts as set.
    assert_eq!(
        privacy.gdpr,
        Some(true),
        "2 is neither yes nor no: taken as yes"
    );
    assert_eq!(privacy.consent, None);
    assert_eq!(privacy.us_privacy, Some("7"));
    assert_eq!((privacy.gpp, privacy.limit_tracking), (None, true));
    assert_eq!((req.at, req.imp[0].instl), (None, None));
    let regs_ext = br#"{"id":"r","imp":[{"id":"1"}],"regs":{"ext":{"gdpr":"1","x":{"y":[1]}}}}"#;
    assert_eq!(
        BidRequest::parse(regs_ext).unwrap().privacy().gdpr,
        Some(true)
    );
}
