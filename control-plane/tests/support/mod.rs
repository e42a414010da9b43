//! The real control-plane binary on free ports against a real moto, and an HTTP
//! client for the tests.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
pub use tern_testkit::{Moto, Reply};
use tern_testkit::{free_port, to_reply};

/// The bootstrap operator key every test's control plane accepts.
pub const BOOTSTRAP_KEY: &str = "test-bootstrap-operator-key-0123456789";

/// A running control plane; killed on drop.
pub struct ControlPlane {
    child: Child,
    /// The API's address.
    pub api: SocketAddr,
    /// The admin listener's address.
    pub admin: SocketAddr,
    agent: ureq::Agent,
}

/// The environment pointing the binary at `moto`, with the bootstrap key.
pub fn env(moto: &Moto) -> Vec<(String, String)> {
    let mut env = moto.env();
    env.push((
        "TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY".to_owned(),
        BOOTSTRAP_KEY.to_owned(),
    ));
    env.push(("TERN_CP_AUTH__PEPPER".to_owned(), "test-pepper".to_owned()));
    env
}

/// Creates the tables with the binary's own `create-tables`.
pub fn create_tables(moto: &Moto) {
    let output = Command::new(env!("CARGO_BIN_EXE_control-plane"))
        .arg("create-tables")
        .envs(env(moto))
        .output()
        .expect("control-plane runs");
    assert!(
        output.status.success(),
        "create-tables failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl ControlPlane {
    /// Creates the tables and starts the service on free ports.
    pub fn start(moto: &Moto) -> ControlPlane {
        create_tables(moto);
        ControlPlane::start_with(moto, &[])
    }

    /// Starts the service with extra environment (tables already made).
    pub fn start_with(moto: &Moto, extra: &[(&str, &str)]) -> ControlPlane {
        let api = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let admin = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_control-plane"))
            .envs(env(moto))
            .envs(extra.iter().map(|(k, v)| (*k, *v)))
            .args([
                "--listen",
                &api.to_string(),
                "--admin-listen",
                &admin.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("control-plane runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let (ready, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("tern control plane ready") {
                    let _ = ready.send(());
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the control plane reports ready");
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        ControlPlane {
            child,
            api,
            admin,
            agent,
        }
    }

    /// Sends `method path` with `key` (if any), extra `headers` and a JSON `body`.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.api));
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let bytes = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                serde_json::to_vec(body).unwrap()
            }
            None => Vec::new(),
        };
        let response = self
            .agent
            .run(request.body(bytes).unwrap())
            .expect("the control plane answers");
        to_reply(response)
    }

    /// `GET path` with the bootstrap key.
    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, Some(BOOTSTRAP_KEY), &[], None)
    }

    /// `GET path` on the admin listener.
    pub fn admin(&self, path: &str) -> Reply {
        let response = self
            .agent
            .get(format!("http://{}{path}", self.admin))
            .call()
            .expect("the admin listener answers");
        to_reply(response)
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().expect("the child exits")
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A campaign document the model accepts, of advertiser `advertiser`.
pub fn campaign(id: &str, advertiser: &str) -> Value {
    serde_json::json!({
        "id": id,
        "advertiser_id": advertiser,
        "advertiser_domain": "shoes.example",
        "bidding": { "max_cpm": 4.0, "base_bid": 2.0 },
        "budget": { "daily": 100.0 },
        "creatives": [{
            "id": "cr-300x250",
            "banner": { "w": 300, "h": 250 },
            "adm": "<a href=\"https://shoes.example\">shoes</a>"
        }]
    })
}
