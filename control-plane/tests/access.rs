//! Who may do what, and the record of what was done: API keys and their scopes,
//! and the audit log, through the real binary on a real moto.

mod support;

use serde_json::{Value, json};
use support::{BOOTSTRAP_KEY, ControlPlane, Moto, campaign};

const OP: Option<&str> = Some(BOOTSTRAP_KEY);

fn create(cp: &ControlPlane, body: &Value) -> support::Reply {
    cp.call("POST", "/v1/campaigns", OP, &[], Some(body))
}

#[test]
fn keys_are_needed_and_scoped_to_their_advertiser() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    let anonymous = cp.call("GET", "/v1/campaigns", None, &[], None);
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    let forged = "tern_0123456789abcdef_not-the-secret";
    assert_eq!(
        cp.call("GET", "/v1/campaigns", Some(forged), &[], None)
            .status,
        401
    );
    assert_eq!(
        cp.call("GET", "/health", None, &[], None).status,
        200,
        "only /health is open"
    );
    assert_eq!(cp.call("GET", "/openapi.json", None, &[], None).status, 401);

    let made = cp.call(
        "POST",
        "/v1/keys",
        OP,
        &[],
        Some(
            &json!({"role": "advertiser", "advertiser_id": "acme", "description": "acme's agency"}),
        ),
    );
    assert_eq!(made.status, 201, "{}", made.json());
    let acme_key = made.json()["key"].as_str().unwrap().to_owned();
    let acme = Some(acme_key.as_str());
    let listed = cp.get("/v1/keys").json();
    assert_eq!(listed[0]["role"], "advertiser");
    assert!(
        listed[0].get("key").is_none() && listed[0].get("hash").is_none(),
        "no secrets listed"
    );

    assert_eq!(create(&cp, &campaign("theirs", "globex")).status, 201);
    // An advertiser key creates for its advertiser, even without naming it.
    let mut own = campaign("mine", "acme");
    own.as_object_mut().unwrap().remove("advertiser_id");
    let mine = cp.call("POST", "/v1/campaigns", acme, &[], Some(&own));
    assert_eq!(mine.status, 201, "{}", mine.json());
    assert_eq!(mine.json()["advertiser_id"], "acme");
    let foreign = cp.call(
        "POST",
        "/v1/campaigns",
        acme,
        &[],
        Some(&campaign("sneaky", "globex")),
    );
    assert_eq!(foreign.status, 403);
    assert_eq!(
        cp.call("GET", "/v1/campaigns/theirs", acme, &[], None)
            .status,
        403
    );
    let pause = cp.call(
        "POST",
        "/v1/campaigns/theirs/pause",
        acme,
        &[("if-match", "*")],
        None,
    );
    assert_eq!(pause.status, 403);
    let seen = cp.call("GET", "/v1/campaigns", acme, &[], None).json();
    let ids: Vec<&str> = seen["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mine"]);
    assert_eq!(
        cp.call("GET", "/v1/campaigns?advertiser_id=globex", acme, &[], None)
            .status,
        403
    );
    assert_eq!(cp.call("GET", "/v1/keys", acme, &[], None).status, 403);
    let escalate = cp.call(
        "POST",
        "/v1/keys",
        acme,
        &[],
        Some(&json!({"role": "operator"})),
    );
    assert_eq!(escalate.status, 403);

    let key_id = made.json()["key_id"].as_str().unwrap().to_owned();
    assert_eq!(
        cp.call("DELETE", &format!("/v1/keys/{key_id}"), OP, &[], None)
            .status,
        204
    );
    assert_eq!(
        cp.call("GET", "/v1/campaigns", acme, &[], None).status,
        401,
        "revoked at once"
    );
}

#[test]
fn every_change_is_in_the_audit_log() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    create(&cp, &campaign("c1", "acme"));
    cp.call(
        "POST",
        "/v1/campaigns/c1/pause",
        OP,
        &[("if-match", "\"1\"")],
        None,
    );
    create(&cp, &campaign("c2", "globex"));
    cp.call(
        "DELETE",
        "/v1/campaigns/c2",
        OP,
        &[("if-match", "\"1\"")],
        None,
    );

    let all = cp.get("/v1/audit").json();
    let actions: Vec<&str> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "campaign.delete",
            "campaign.create",
            "campaign.pause",
            "campaign.create"
        ],
        "newest first"
    );
    let pause = &all["entries"][2];
    assert_eq!(pause["actor"], "bootstrap");
    assert_eq!(
        (pause["old_version"].as_u64(), pause["new_version"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(pause["old"]["status"], "active");
    assert_eq!(pause["new"]["status"], "paused");
    assert!(pause["at"].as_str().unwrap().ends_with('Z'));

    let c1 = cp.get("/v1/audit?campaign_id=c1").json();
    assert_eq!(c1["entries"].as_array().unwrap().len(), 2);
    let deletes = cp.get("/v1/audit?action=campaign.delete").json();
    assert_eq!(deletes["entries"][0]["campaign_id"], "c2");
    let page = cp.get("/v1/audit?limit=3").json();
    assert_eq!(page["entries"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = cp.get(&format!("/v1/audit?limit=3&cursor={cursor}")).json();
    assert_eq!(rest["entries"][0]["action"], "campaign.create");
    assert_eq!(rest["entries"][0]["campaign_id"], "c1");
    let future = cp.get("/v1/audit?since=2100-01-01T00:00:00Z").json();
    assert_eq!(future["entries"], json!([]));
    assert_eq!(cp.get("/v1/audit?since=yesterday").status, 400);

    let made = cp.call(
        "POST",
        "/v1/keys",
        OP,
        &[],
        Some(&json!({"role": "advertiser", "advertiser_id": "acme"})),
    );
    let acme = made.json()["key"].as_str().unwrap().to_owned();
    let theirs = cp.call("GET", "/v1/audit", Some(&acme), &[], None).json();
    let campaigns: Vec<&str> = theirs["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["campaign_id"].as_str())
        .collect();
    assert_eq!(
        campaigns,
        ["c1", "c1"],
        "an advertiser sees its own changes only"
    );
}
