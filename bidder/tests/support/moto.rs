//! A real moto server (AWS emulator) on a free port, and a DynamoDB client for the
//! tests to change the campaigns table with, as an operator or the control plane would.

use std::collections::HashMap;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use bidder::state::dynamodb::item::to_table_item;
use bidder::state::dynamodb::{AwsClients, seed};
use tern_engine::campaign::Campaign;

/// A moto server process; killed on drop.
pub struct Moto {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    /// Starts moto on a free port.
    pub fn start() -> Moto {
        let mut moto = Moto {
            child: None,
            port: free_port(),
        };
        moto.restart();
        moto
    }

    /// Stops the server (all its data is lost, as with a real outage plus a restore).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server on PATH (scripts/test.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Environment that points AWS clients (the bidder's and the tests') at moto.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The campaigns table in moto, driven through the AWS SDK.
pub struct Table {
    runtime: tokio::runtime::Runtime,
    clients: AwsClients,
    /// Table name.
    pub name: String,
}

impl Table {
    /// A client for `name` on `moto` (the table is not created).
    pub fn new(moto: &Moto, name: &str) -> Table {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let shared = runtime.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(format!("http://127.0.0.1:{}", moto.port))
                .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    "test", "test", None, None, "tests",
                ))
                .load(),
        );
        Table {
            runtime,
            clients: AwsClients::from_config(&shared),
            name: name.to_owned(),
        }
    }

    /// Creates the table with its stream.
    pub fn create(&self) {
        self.runtime
            .block_on(seed::create_table(&self.clients, &self.name))
            .unwrap();
    }

    /// Writes campaigns (insert or replace).
    pub fn put(&self, campaigns: &[Campaign]) {
        self.runtime
            .block_on(seed::put_campaigns(&self.clients, &self.name, campaigns))
            .unwrap();
    }

    /// Writes a raw item, e.g. one that is not a valid campaign.
    pub fn put_item(&self, item: HashMap<String, AttributeValue>) {
        self.runtime
            .block_on(
                self.clients
                    .dynamodb
                    .put_item()
                    .table_name(&self.name)
                    .set_item(Some(item))
                    .send(),
            )
            .unwrap();
    }

    /// Deletes a campaign.
    pub fn delete(&self, id: &str) {
        self.runtime
            .block_on(
                self.clients
                    .dynamodb
                    .delete_item()
                    .table_name(&self.name)
                    .key("campaign_id", AttributeValue::S(id.to_owned()))
                    .send(),
            )
            .unwrap();
    }

    /// A campaign as an item, for editing before [`Table::put_item`].
    pub fn item(campaign: &Campaign) -> HashMap<String, AttributeValue> {
        to_table_item(campaign)
    }
}
