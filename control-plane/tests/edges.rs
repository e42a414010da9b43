//! What a careless or hostile client sends, through the real binary on a real
//! moto: every refusal is a problem document, nothing is stored by a refused or
//! validate-only write, and nothing a client sends becomes a 503 or an
//! unbounded metric.

mod support;

use serde_json::{Value, json};
use support::{BOOTSTRAP_KEY, ControlPlane, Moto, campaign};

const OP: Option<&str> = Some(BOOTSTRAP_KEY);

fn is_problem(reply: &support::Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    reply.json()
}

fn audit_len(cp: &ControlPlane) -> usize {
    cp.get("/v1/audit").json()["entries"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn validate_only_writes_store_and_audit_nothing_on_every_route() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    let mut two = campaign("vo", "acme");
    two["creatives"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "cr2", "banner": {"w": 728, "h": 90}, "adm": "x"}));
    assert_eq!(
        cp.call("POST", "/v1/campaigns", OP, &[], Some(&two)).status,
        201
    );
    let entries = audit_len(&cp);
    let m = [("if-match", "\"1\"")];
    for (method, path, body) in [
        (
            "PUT",
            "/v1/campaigns/vo?validate_only=true",
            Some(two.clone()),
        ),
        (
            "PATCH",
            "/v1/campaigns/vo?validate_only=true",
            Some(json!({"categories": ["IAB1"]})),
        ),
        ("POST", "/v1/campaigns/vo/pause?validate_only=true", None),
        (
            "PUT",
            "/v1/campaigns/vo/budget?validate_only=true",
            Some(json!({"daily": 5.0})),
        ),
        (
            "POST",
            "/v1/campaigns/vo/creatives?validate_only=true",
            Some(json!({"id": "cr3", "native": {"title": "T", "link": "https://vo.example/"}})),
        ),
        (
            "PUT",
            "/v1/campaigns/vo/creatives/cr2?validate_only=true",
            Some(json!({"banner": {"w": 320, "h": 50}, "adm": "y"})),
        ),
        (
            "DELETE",
            "/v1/campaigns/vo/creatives/cr2?validate_only=true",
            None,
        ),
        ("DELETE", "/v1/campaigns/vo?validate_only=true", None),
    ] {
        let reply = cp.call(method, path, OP, &m, body.as_ref());
        assert!(
            reply.status == 200 || reply.status == 204,
            "{method} {path}: {}",
            reply.text()
        );
    }
    let kept = cp.get("/v1/campaigns/vo");
    assert_eq!(kept.etag(), "\"1\"");
    assert_eq!(kept.json(), cp.get("/v1/campaigns/vo").json());
    assert_eq!(kept.json()["creatives"].as_array().unwrap().len(), 2);
    let key = cp.call(
        "POST",
        "/v1/keys?validate_only=true",
        OP,
        &[],
        Some(&json!({"role": "operator"})),
    );
    assert_eq!(key.status, 200);
    assert_eq!(cp.get("/v1/keys").json(), json!([]), "no key made");
    assert_eq!(audit_len(&cp), entries, "nothing audited");
    // A retried create with validate_only checks again rather than replaying.
    let k = [("idempotency-key", "k1")];
    assert_eq!(
        cp.call(
            "POST",
            "/v1/campaigns",
            OP,
            &k,
            Some(&campaign("c2", "acme"))
        )
        .status,
        201
    );
    let dry = cp.call(
        "POST",
        "/v1/campaigns?validate_only=true",
        OP,
        &k,
        Some(&campaign("c2", "acme")),
    );
    assert_eq!(dry.header("idempotent-replayed"), None);
    let replay = cp.call(
        "POST",
        "/v1/campaigns",
        OP,
        &k,
        Some(&campaign("c2", "acme")),
    );
    assert_eq!(
        replay.header("location"),
        Some("/v1/campaigns/c2"),
        "a replay is the first answer, Location too"
    );
}

#[test]
fn what_clients_get_wrong_is_a_problem_naming_it_never_a_503() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    for id in [Value::Null, json!(7), json!(""), json!("x".repeat(200))] {
        let mut body = campaign("x", "acme");
        body["id"] = id;
        let problem = is_problem(&cp.call("POST", "/v1/campaigns", OP, &[], Some(&body)), 422);
        assert_eq!(problem["errors"][0]["field"], "id");
    }
    let mut huge = campaign("huge", "acme");
    huge["creatives"][0]["adm"] = json!("a".repeat(200_000));
    is_problem(&cp.call("POST", "/v1/campaigns", OP, &[], Some(&huge)), 422);
    assert_eq!(
        cp.call(
            "POST",
            "/v1/campaigns",
            OP,
            &[],
            Some(&campaign("c1", "acme"))
        )
        .status,
        201
    );
    for budget in [json!([]), json!([7.5, 100.0]), json!("lots")] {
        let reply = cp.call(
            "PUT",
            "/v1/campaigns/c1/budget",
            OP,
            &[("if-match", "*")],
            Some(&budget),
        );
        assert_eq!(
            is_problem(&reply, 422)["errors"][0]["field"],
            "budget",
            "{budget}"
        );
    }
    let mut positional = campaign("c9", "acme");
    positional["bidding"] = json!([3.0, 1.5, "USD"]);
    let problem = is_problem(
        &cp.call("POST", "/v1/campaigns", OP, &[], Some(&positional)),
        422,
    );
    assert_eq!(problem["errors"][0]["field"], "bidding");
    // Records nested deeper are guarded too (serde would read them by position).
    let native = json!({"id": "n", "native": {"title": "T", "link": "https://n.example/",
        "images": [[3, "https://n.example/i.png", 1200, 627]]}});
    for (field, change) in [
        (
            "targeting.video",
            json!({"targeting": {"video": [[1], ["pre"]]}}),
        ),
        (
            "category_taxonomies[0]",
            json!({"category_taxonomies": [[2, ["483"]]]}),
        ),
        ("segments", json!({"segments": [["auto"], [], []]})),
        (
            "creatives[0].native.images[0]",
            json!({"creatives": [native]}),
        ),
    ] {
        let mut nested = campaign("c9", "acme");
        for (key, value) in change.as_object().unwrap() {
            nested[key] = value.clone();
        }
        let reply = cp.call("POST", "/v1/campaigns", OP, &[], Some(&nested));
        assert_eq!(is_problem(&reply, 422)["errors"][0]["field"], field);
    }
    for path in [
        "/v1/campaigns?limit=abc",
        "/v1/campaigns?status=bogus",
        "/v1/campaigns?advertiser=acme",
        "/v1/audit?since=2026-11-30T12:00:00Z&until=2026-11-30T11:00:00Z",
        "/v1/campaigns/%FF",
    ] {
        is_problem(&cp.get(path), 400);
    }
    is_problem(&cp.call("PUT", "/v1/audit", OP, &[], None), 405);
    is_problem(
        &cp.get(&format!("/v1/campaigns/{}", "y".repeat(3_000))),
        404,
    );
    let keys = [
        (json!({"role": "advertiser"}), "advertiser_id"),
        (
            json!({"role": "operator", "advertiser_id": "acme"}),
            "advertiser_id",
        ),
        (
            json!({"role": "advertiser", "advertiser_id": "acme corp"}),
            "advertiser_id",
        ),
        (
            json!({"role": "operator", "descripton": "typo"}),
            "descripton",
        ),
        (json!({"role": "root"}), "role"),
    ];
    for (body, field) in keys {
        let problem = is_problem(&cp.call("POST", "/v1/keys", OP, &[], Some(&body)), 422);
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("#invalid-key-request")
        );
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    // Made-up methods, sent raw (HTTP clients refuse to).
    for _ in 0..5 {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(cp.api).unwrap();
        let request = format!(
            "M{} /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            fastrand::u32(..)
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    }
    let metrics = String::from_utf8(cp.admin("/metrics").body).unwrap();
    assert!(metrics.contains("method=\"other\""), "{metrics}");
    assert!(
        !metrics.contains("method=\"M"),
        "made-up methods are not labels"
    );
}

#[test]
fn ids_are_encoded_in_locations_lists_in_if_match_work_and_no_op_writes_are_not_writes() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    let created = cp.call(
        "POST",
        "/v1/campaigns",
        OP,
        &[],
        Some(&campaign("q?x#y/z", "acme")),
    );
    assert_eq!(created.status, 201);
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(location, "/v1/campaigns/q%3Fx%23y%2Fz");
    assert_eq!(cp.get(&location).json()["id"], "q?x#y/z");
    let entries = audit_len(&cp);
    let same = cp.call(
        "PATCH",
        &location,
        OP,
        &[("if-match", "\"5\", \"1\"")],
        Some(&json!({})),
    );
    assert_eq!(same.status, 200, "{}", same.text());
    assert_eq!(same.etag(), "\"1\"", "nothing changed, no new version");
    assert_eq!(audit_len(&cp), entries, "and no audit entry");
}

#[test]
fn a_create_racing_a_delete_never_starts_below_the_deleted_version() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    for round in 0..6 {
        let id = format!("race-{round}");
        assert_eq!(
            cp.call(
                "POST",
                "/v1/campaigns",
                OP,
                &[],
                Some(&campaign(&id, "acme"))
            )
            .status,
            201
        );
        for _ in 0..3 {
            cp.call(
                "POST",
                &format!("/v1/campaigns/{id}/pause"),
                OP,
                &[("if-match", "*")],
                None,
            );
            cp.call(
                "POST",
                &format!("/v1/campaigns/{id}/resume"),
                OP,
                &[("if-match", "*")],
                None,
            );
        }
        let path = format!("/v1/campaigns/{id}");
        let created = std::thread::scope(|s| {
            let delete = s.spawn(|| cp.call("DELETE", &path, OP, &[("if-match", "*")], None));
            let create = s.spawn(|| {
                cp.call(
                    "POST",
                    "/v1/campaigns",
                    OP,
                    &[],
                    Some(&campaign(&id, "acme")),
                )
            });
            assert_eq!(delete.join().unwrap().status, 204);
            create.join().unwrap()
        });
        if created.status == 201 {
            let version: u64 = created.etag().trim_matches('"').parse().unwrap();
            assert!(
                version > 7,
                "round {round}: created at {version}, below the deleted 7"
            );
        } else {
            assert_eq!(created.status, 409, "{}", created.text());
        }
    }
}
