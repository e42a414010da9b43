//! The control plane and the bidder together, as in production: campaigns made
//! and changed through the control plane's API (the real binary) reach a real
//! bidder on the DynamoDB source through the table's stream, and the spend the
//! bidder keeps in the DynamoDB ledger reaches the control plane's status, on
//! one moto.

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::moto::Moto;
use support::{Bidder, Options, eventually, free_port};
use tern_testkit::workspace_binary;

const KEY: &str = "cross-component-bootstrap-key-0123456789";
const WAIT: Duration = Duration::from_secs(15);

/// The control-plane binary on free ports; killed on drop.
struct ControlPlane {
    child: Child,
    api: SocketAddr,
    agent: ureq::Agent,
}

impl ControlPlane {
    fn start(moto: &Moto) -> ControlPlane {
        let binary = workspace_binary("control-plane");
        let env = moto.env();
        let made = Command::new(&binary)
            .arg("create-tables")
            .envs(env.clone())
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let api = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let admin = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut child = Command::new(&binary)
            .envs(env)
            .env("TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY", KEY)
            .args([
                "--listen",
                &api.to_string(),
                "--admin-listen",
                &admin.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        assert!(
            lines.any(|l| l.is_ok_and(|l| l.starts_with("tern control plane ready"))),
            "the control plane starts"
        );
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        ControlPlane { child, api, agent }
    }

    /// Sends a write and returns the campaign it answers.
    fn write(
        &self,
        method: &str,
        path: &str,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.api))
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", "application/json");
        if let Some(version) = if_match {
            request = request.header("if-match", version);
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut response = self.agent.run(request.body(body).unwrap()).unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        assert!(status < 300, "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

impl ControlPlane {
    /// `GET path` as JSON.
    fn read(&self, path: &str) -> Value {
        let mut response = self
            .agent
            .get(format!("http://{}{path}", self.api))
            .header("authorization", format!("Bearer {KEY}"))
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The only campaign, bidding 2.00 CPM on 300x250 banners, with `budget`.
fn campaign(budget: Value) -> Value {
    json!({
        "id": "via-api",
        "advertiser_id": "acme",
        "advertiser_domain": "acme.example",
        "bidding": { "max_cpm": 2.0, "base_bid": 2.0 },
        "budget": budget,
        "creatives": [{ "id": "via-api-300x250", "banner": { "w": 300, "h": 250 }, "adm": "<b>acme</b>" }]
    })
}

const REQUEST: &[u8] = br#"{"id":"r1","imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#;

fn bids(bidder: &Bidder) -> bool {
    bidder.bid(REQUEST).status == 200
}

#[test]
fn campaigns_changed_through_the_control_plane_reach_the_fleet_in_seconds() {
    let moto = Moto::start();
    let cp = ControlPlane::start(&moto);
    let bidder = Bidder::start_with(Options {
        config: "[campaigns]\nsource = \"dynamodb\"\n[campaigns.dynamodb]\n\
                 poll_interval_ms = 50\nretry_initial_ms = 50\nretry_max_ms = 300\n\
                 [budget]\nledger = \"dynamodb\"\nflush_interval_ms = 100\nhold_timeout_s = 2\nlease_ttl_s = 6\n"
            .to_owned(),
        env: moto.env(),
        ..Options::default()
    });
    assert!(!bids(&bidder), "no campaigns yet");

    // One impression's worth of budget: 2.00 CPM is 0.002 an impression.
    let created = cp.write(
        "POST",
        "/v1/campaigns",
        None,
        Some(campaign(json!({ "total": 0.002 }))),
    );
    assert_eq!(created["version"], 1);
    assert!(
        eventually(WAIT, || bids(&bidder)),
        "a created campaign is bid on"
    );

    cp.write("POST", "/v1/campaigns/via-api/pause", Some("\"1\""), None);
    assert!(
        eventually(WAIT, || !bids(&bidder)),
        "a paused campaign is not"
    );
    cp.write("POST", "/v1/campaigns/via-api/resume", Some("\"2\""), None);
    assert!(eventually(WAIT, || bids(&bidder)), "a resumed one is again");

    // Spend the budget: one billed impression (once the holds of the bids above
    // have timed out, a bid is made again).
    let mut burl = None;
    assert!(eventually(WAIT, || {
        let reply = bidder.bid(REQUEST);
        if reply.status == 200 {
            burl = reply.json()["seatbid"][0]["bid"][0]["burl"]
                .as_str()
                .map(|u| u.replace("${AUCTION_PRICE}", "2.0"));
        }
        burl.is_some()
    }));
    assert_eq!(bidder.get(&burl.unwrap()).status, 200);
    assert!(
        eventually(WAIT, || !bids(&bidder)),
        "a spent campaign is not bid on"
    );
    // The control plane reads the spend from the fleet's ledger.
    assert!(eventually(WAIT, || {
        cp.read("/v1/campaigns/via-api/status")["spent_total_micros"] == 2_000
    }));
    let status = cp.read("/v1/campaigns/via-api/status");
    assert_eq!(status["total_budget_micros"], 2_000);
    assert_eq!(status["currency"], "USD");

    let funded = cp.write(
        "PUT",
        "/v1/campaigns/via-api/budget",
        Some("\"3\""),
        Some(json!({ "total": 0.010 })),
    );
    assert_eq!(funded["budget"]["total"], 0.01);
    assert!(
        eventually(WAIT, || bids(&bidder)),
        "a raised budget lets it bid again"
    );

    cp.write("DELETE", "/v1/campaigns/via-api", Some("\"4\""), None);
    assert!(
        eventually(WAIT, || !bids(&bidder)),
        "a deleted campaign is gone"
    );
}
