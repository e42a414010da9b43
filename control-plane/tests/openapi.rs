//! The OpenAPI document: valid OpenAPI (checked by `openapi-spec-validator`, the
//! reference validator, from PyPI), and every operation it lists is served.

mod support;

use std::process::Command;

use serde_json::Value;
use support::{BOOTSTRAP_KEY, ControlPlane, Moto};

#[test]
fn the_document_is_valid_openapi_and_every_operation_in_it_is_served() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    let reply = cp.get("/openapi.json");
    assert_eq!(reply.status, 200);
    let document = reply.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, &reply.body).unwrap();
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let checked = Command::new(python)
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))",
        ])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        checked.status.success(),
        "openapi-spec-validator (scripts/test.sh installs it) refused the document:\n{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", "none")
                .replace("{creative_id}", "none")
                .replace("{key_id}", "none");
            let reply = cp.call(
                &method.to_ascii_uppercase(),
                &concrete,
                Some(BOOTSTRAP_KEY),
                &[],
                None,
            );
            let unrouted = reply.status == 405
                || (reply.status == 404
                    && serde_json::from_slice::<Value>(&reply.body)
                        .is_ok_and(|p| p["detail"] == "no such route"));
            assert!(
                !unrouted,
                "{method} {path} is documented but not served: {}",
                reply.status
            );
            operations += 1;
        }
    }
    // Campaigns (9) and their status, creatives (5), keys (3), audit, health,
    // the document itself.
    assert_eq!(operations, 21, "{:?}", paths.keys().collect::<Vec<_>>());
    for undocumented in ["/v1/campaign", "/v2/campaigns", "/metrics"] {
        let reply = cp.get(undocumented);
        assert_eq!(
            reply.status, 404,
            "{undocumented} is served but not documented"
        );
    }
}
