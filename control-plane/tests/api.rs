//! The control plane's API against a real moto, through the real binary over
//! TCP: campaign round trips, problems naming fields, versions, idempotent
//! creates, validate-only, pages, operations.

mod support;

use serde_json::{Value, json};
use support::{BOOTSTRAP_KEY, ControlPlane, Moto, campaign};

const OP: Option<&str> = Some(BOOTSTRAP_KEY);

fn create(cp: &ControlPlane, body: &Value) -> support::Reply {
    cp.call("POST", "/v1/campaigns", OP, &[], Some(body))
}

#[test]
fn a_campaign_goes_through_its_life() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    let created = create(&cp, &campaign("shoes", "acme"));
    assert_eq!(created.status, 201, "{}", created.json());
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(created.header("location"), Some("/v1/campaigns/shoes"));
    assert_eq!(created.json()["version"], 1);
    assert_eq!(created.json()["status"], "active", "defaults are filled in");

    let read = cp.get("/v1/campaigns/shoes");
    assert_eq!(read.status, 200);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.json(), created.json());

    let mut replaced = campaign("shoes", "acme");
    replaced["bidding"]["base_bid"] = json!(3.0);
    let put = cp.call(
        "PUT",
        "/v1/campaigns/shoes",
        OP,
        &[("if-match", "\"1\"")],
        Some(&replaced),
    );
    assert_eq!(put.status, 200, "{}", put.json());
    assert_eq!(put.etag(), "\"2\"");
    assert_eq!(put.json()["bidding"]["base_bid"], 3.0);

    let patch = json!({"categories": ["IAB22"], "frequency_cap": {"max_impressions": 3, "window_secs": 3600}});
    let patched = cp.call(
        "PATCH",
        "/v1/campaigns/shoes",
        OP,
        &[("if-match", "\"2\"")],
        Some(&patch),
    );
    assert_eq!(patched.status, 200, "{}", patched.json());
    assert_eq!(patched.json()["categories"], json!(["IAB22"]));
    assert_eq!(
        patched.json()["bidding"]["base_bid"],
        3.0,
        "the rest is kept"
    );
    let unset = json!({"frequency_cap": null});
    let unset = cp.call(
        "PATCH",
        "/v1/campaigns/shoes",
        OP,
        &[("if-match", "\"3\"")],
        Some(&unset),
    );
    assert!(
        unset.json().get("frequency_cap").is_none_or(Value::is_null),
        "null removes"
    );

    let paused = cp.call(
        "POST",
        "/v1/campaigns/shoes/pause",
        OP,
        &[("if-match", "\"4\"")],
        None,
    );
    assert_eq!(paused.json()["status"], "paused");
    let resumed = cp.call(
        "POST",
        "/v1/campaigns/shoes/resume",
        OP,
        &[("if-match", "*")],
        None,
    );
    assert_eq!(resumed.json()["status"], "active");
    assert_eq!(resumed.etag(), "\"6\"");

    let budget = json!({"daily": 250.0, "timezone": "America/New_York", "pacing": "asap"});
    let funded = cp.call(
        "PUT",
        "/v1/campaigns/shoes/budget",
        OP,
        &[("if-match", "\"6\"")],
        Some(&budget),
    );
    assert_eq!(funded.json()["budget"], budget);

    let creative = json!({"id": "cr-728x90", "banner": {"w": 728, "h": 90}, "adm": "<b>wide</b>"});
    let added = cp.call(
        "POST",
        "/v1/campaigns/shoes/creatives",
        OP,
        &[("if-match", "\"7\"")],
        Some(&creative),
    );
    assert_eq!(added.status, 200, "{}", added.json());
    assert_eq!(added.json()["creatives"].as_array().unwrap().len(), 2);
    let one = cp.get("/v1/campaigns/shoes/creatives/cr-728x90");
    assert_eq!(one.json()["banner"]["w"], 728);
    let taken = cp.call(
        "POST",
        "/v1/campaigns/shoes/creatives",
        OP,
        &[("if-match", "\"8\"")],
        Some(&creative),
    );
    assert_eq!(taken.status, 409);
    let removed = cp.call(
        "DELETE",
        "/v1/campaigns/shoes/creatives/cr-300x250",
        OP,
        &[("if-match", "\"8\"")],
        None,
    );
    assert_eq!(removed.json()["creatives"].as_array().unwrap().len(), 1);
    let last = cp.call(
        "DELETE",
        "/v1/campaigns/shoes/creatives/cr-728x90",
        OP,
        &[("if-match", "\"9\"")],
        None,
    );
    assert_eq!(last.status, 422, "a campaign keeps a creative");
    assert_eq!(last.json()["errors"][0]["field"], "creatives");

    let deleted = cp.call(
        "DELETE",
        "/v1/campaigns/shoes",
        OP,
        &[("if-match", "\"9\"")],
        None,
    );
    assert_eq!(deleted.status, 204);
    assert_eq!(cp.get("/v1/campaigns/shoes").status, 404);
    // The id can be used again, above every version the bidders saw.
    let again = create(&cp, &campaign("shoes", "acme"));
    assert_eq!(again.status, 201);
    assert_eq!(again.etag(), "\"10\"");
}

#[test]
fn invalid_campaigns_get_problems_naming_the_field() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    let problem = |body: &Value| {
        let reply = create(&cp, body);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        (reply.status, reply.json())
    };
    let mut negative = campaign("c1", "acme");
    negative["bidding"]["max_cpm"] = json!(-1.0);
    let (status, body) = problem(&negative);
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "bidding.max_cpm", "{body}");
    assert_eq!(body["errors"][0]["pointer"], "/bidding/max_cpm");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .ends_with("#invalid-campaign")
    );

    let mut bad_size = campaign("c1", "acme");
    bad_size["creatives"][0]["banner"]["w"] = json!("wide");
    let (status, body) = problem(&bad_size);
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("creatives[0].banner.w"))
    );

    let mut unpriced = campaign("c1", "acme");
    unpriced["bidding"]["currency"] = json!("CHF");
    let (status, body) = problem(&unpriced);
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("bidding.currency")),
        "the bidders have no CHF rate"
    );

    let mut zone = campaign("c1", "acme");
    zone["budget"]["timezone"] = json!("Mars/Olympus");
    assert_eq!(problem(&zone).1["errors"][0]["field"], "budget.timezone");

    let mut orphan = campaign("c1", "acme");
    orphan.as_object_mut().unwrap().remove("advertiser_id");
    assert_eq!(problem(&orphan).1["errors"][0]["field"], "advertiser_id");

    let not_json = cp.call(
        "POST",
        "/v1/campaigns",
        OP,
        &[("content-type", "application/json")],
        None,
    );
    assert_eq!(not_json.status, 400);
    let reply = cp.call(
        "POST",
        "/v1/campaigns",
        OP,
        &[("content-type", "text/plain")],
        None,
    );
    assert_eq!(reply.status, 415);
    assert_eq!(cp.get("/v1/campaigns?limit=0").status, 400);
    assert_eq!(cp.get("/v1/campaigns?cursor=%25%25").status, 400);
    assert_eq!(cp.get("/v1/nothing-here").status, 404);
    // Nothing invalid was stored.
    assert_eq!(cp.get("/v1/campaigns").json()["campaigns"], json!([]));
}

#[test]
fn writes_need_the_current_version() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    assert_eq!(create(&cp, &campaign("c1", "acme")).status, 201);
    let body = campaign("c1", "acme");
    let missing = cp.call("PUT", "/v1/campaigns/c1", OP, &[], Some(&body));
    assert_eq!(missing.status, 428);
    let stale = cp.call(
        "PUT",
        "/v1/campaigns/c1",
        OP,
        &[("if-match", "\"7\"")],
        Some(&body),
    );
    assert_eq!(stale.status, 412);
    let stale_delete = cp.call(
        "DELETE",
        "/v1/campaigns/c1",
        OP,
        &[("if-match", "\"2\"")],
        None,
    );
    assert_eq!(stale_delete.status, 412);
    let read = cp.get("/v1/campaigns/c1");
    assert_eq!(read.etag(), "\"1\"", "nothing changed");
    let duplicate = create(&cp, &campaign("c1", "acme"));
    assert_eq!(duplicate.status, 409);
    let wrong_id = cp.call(
        "PUT",
        "/v1/campaigns/c1",
        OP,
        &[("if-match", "\"1\"")],
        Some(&campaign("c2", "acme")),
    );
    assert_eq!(wrong_id.status, 422);
}

#[test]
fn a_retried_create_makes_one_campaign() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    let mut body = campaign("ignored", "acme");
    body.as_object_mut().unwrap().remove("id");
    let key = [("idempotency-key", "order-42")];
    let first = cp.call("POST", "/v1/campaigns", OP, &key, Some(&body));
    assert_eq!(first.status, 201, "{}", first.json());
    let id = first.json()["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("c-"), "an id is made: {id}");
    let retry = cp.call("POST", "/v1/campaigns", OP, &key, Some(&body));
    assert_eq!(retry.status, 201);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
    assert_eq!(retry.etag(), first.etag());
    let all = cp.get("/v1/campaigns").json();
    assert_eq!(all["campaigns"].as_array().unwrap().len(), 1);
    let mut different = body.clone();
    different["bidding"]["base_bid"] = json!(1.0);
    let reused = cp.call("POST", "/v1/campaigns", OP, &key, Some(&different));
    assert_eq!(reused.status, 422);
    assert!(
        reused.json()["type"]
            .as_str()
            .unwrap()
            .ends_with("#idempotency-key-reused")
    );
    // Another key's Idempotency-Key space is its own.
    let made = cp.call(
        "POST",
        "/v1/keys",
        OP,
        &[],
        Some(&json!({"role": "operator"})),
    );
    let other = made.json()["key"].as_str().unwrap().to_owned();
    let theirs = cp.call(
        "POST",
        "/v1/campaigns",
        Some(&other),
        &key,
        Some(&different),
    );
    assert_eq!(theirs.status, 201, "{}", theirs.json());
    assert_ne!(theirs.json()["id"], first.json()["id"]);
}

#[test]
fn validate_only_checks_everything_and_stores_nothing() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    let good = cp.call(
        "POST",
        "/v1/campaigns?validate_only=true",
        OP,
        &[],
        Some(&campaign("c1", "acme")),
    );
    assert_eq!(good.status, 200);
    assert_eq!(good.json()["id"], "c1");
    let mut bad = campaign("c1", "acme");
    bad["bidding"]["currency"] = json!("dollars");
    let refused = cp.call(
        "POST",
        "/v1/campaigns?validate_only=true",
        OP,
        &[],
        Some(&bad),
    );
    assert_eq!(refused.status, 422);
    assert_eq!(refused.json()["errors"][0]["field"], "bidding.currency");
    assert_eq!(cp.get("/v1/campaigns/c1").status, 404);
    assert_eq!(cp.get("/v1/audit").json()["entries"], json!([]));
    assert_eq!(create(&cp, &campaign("c1", "acme")).status, 201);
    let dry = cp.call(
        "POST",
        "/v1/campaigns/c1/pause?validate_only=true",
        OP,
        &[("if-match", "\"1\"")],
        None,
    );
    assert_eq!(dry.json()["status"], "paused", "what it would be");
    let dry = cp.call(
        "DELETE",
        "/v1/campaigns/c1?validate_only=true",
        OP,
        &[("if-match", "\"1\"")],
        None,
    );
    assert_eq!(dry.status, 204);
    let kept = cp.get("/v1/campaigns/c1");
    assert_eq!(
        (kept.etag().as_str(), kept.json()["status"].as_str()),
        ("\"1\"", Some("active"))
    );
}

#[test]
fn listings_page_through_every_campaign_once() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    for i in 0..7 {
        let advertiser = if i % 2 == 0 { "acme" } else { "globex" };
        assert_eq!(
            create(&cp, &campaign(&format!("c{i}"), advertiser)).status,
            201
        );
    }
    let mut seen = Vec::new();
    let mut path = "/v1/campaigns?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let page = cp.get(&path).json();
        pages += 1;
        let items = page["campaigns"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/campaigns?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["c0", "c1", "c2", "c3", "c4", "c5", "c6"]);
    assert!(pages >= 3, "{pages} pages");
    let acme = cp.get("/v1/campaigns?advertiser_id=acme&limit=2");
    let mut ids: Vec<String> = Vec::new();
    let mut page = acme.json();
    loop {
        ids.extend(
            page["campaigns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        page = cp
            .get(&format!(
                "/v1/campaigns?advertiser_id=acme&limit=2&cursor={cursor}"
            ))
            .json();
    }
    ids.sort();
    assert_eq!(ids, ["c0", "c2", "c4", "c6"]);
    cp.call(
        "POST",
        "/v1/campaigns/c3/pause",
        OP,
        &[("if-match", "*")],
        None,
    );
    let paused = cp.get("/v1/campaigns?status=paused").json();
    assert_eq!(paused["campaigns"].as_array().unwrap().len(), 1);
    assert_eq!(paused["campaigns"][0]["id"], "c3");
}

#[test]
fn the_service_reports_ready_counts_requests_and_stops_on_sigterm() {
    let moto = Moto::start();
    let mut cp = ControlPlane::start(&moto);
    assert_eq!(cp.admin("/health").status, 200);
    assert_eq!(cp.admin("/ready").status, 200);
    cp.get("/v1/campaigns/nope");
    let metrics = String::from_utf8(cp.admin("/metrics").body).unwrap();
    assert!(
        metrics.contains(
            "tern_cp_requests_total{method=\"GET\",route=\"/v1/campaigns/{id}\",status=\"404\"} 1"
        ),
        "{metrics}"
    );
    assert!(cp.terminate().success());
}
