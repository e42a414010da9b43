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

/// moto's own server, with its threads turned off (see [`Moto::start_serialized`]).
const SERIALIZED_MOTO: &str = "import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple('127.0.0.1', int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
";

/// A moto server process; killed on drop.
pub struct Moto {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Whether it answers one request at a time.
    serialized: bool,
}

impl Moto {
    /// Starts moto on a free port.
    pub fn start() -> Moto {
        let mut moto = Moto {
            child: None,
            port: super::free_port(),
            serialized: false,
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

    /// Starts moto on a free port, answering one request at a time. moto applies a
    /// conditional update as a read, a check and a write without a lock, so two
    /// requests at once can both pass one condition; DynamoDB applies each
    /// atomically. Tests whose outcome rests on that (bidders racing for the same
    /// budget) run moto this way, so its conditional updates are atomic too.
    pub fn start_serialized() -> Moto {
        let mut moto = Moto {
            child: None,
            port: super::free_port(),
            serialized: true,
        };
        moto.restart();
        moto
    }

    /// Starts the server again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        let mut command = if self.serialized {
            let mut python = Command::new("python3");
            python.args(["-c", SERIALIZED_MOTO, &port]);
            python
        } else {
            let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
            let mut server = Command::new(program);
            server.args(["-H", "127.0.0.1", "-p", &port]);
            server
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server and python3 with moto on PATH (scripts/test.sh installs them)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A runtime and an AWS configuration pointing at this moto, for the tests' own
    /// SDK clients.
    pub fn sdk_config(&self) -> (tokio::runtime::Runtime, aws_config::SdkConfig) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let shared = runtime.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(format!("http://127.0.0.1:{}", self.port))
                .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    "test", "test", None, None, "tests",
                ))
                .load(),
        );
        (runtime, shared)
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
        let (runtime, shared) = moto.sdk_config();
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

/// A Kinesis stream in moto, for the tests to create and read.
pub struct Stream {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_kinesis::Client,
    /// Stream name.
    pub name: String,
}

impl Stream {
    /// A client for `name` on `moto` (the stream is not created).
    pub fn new(moto: &Moto, name: &str) -> Stream {
        let (runtime, shared) = moto.sdk_config();
        Stream {
            runtime,
            client: aws_sdk_kinesis::Client::new(&shared),
            name: name.to_owned(),
        }
    }

    /// Creates the stream with `shards` shards and waits until it is active.
    pub fn create(&self, shards: i32) {
        self.runtime
            .block_on(
                self.client
                    .create_stream()
                    .stream_name(&self.name)
                    .shard_count(shards)
                    .send(),
            )
            .unwrap();
        for _ in 0..100 {
            let described = self
                .runtime
                .block_on(
                    self.client
                        .describe_stream_summary()
                        .stream_name(&self.name)
                        .send(),
                )
                .unwrap();
            let status = described
                .stream_description_summary
                .map(|d| d.stream_status);
            if status == Some(aws_sdk_kinesis::types::StreamStatus::Active) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("stream {} never became active", self.name);
    }

    /// Every record in every shard, from the start, as text.
    pub fn read_all(&self) -> Vec<String> {
        self.runtime.block_on(async {
            let shards = self
                .client
                .list_shards()
                .stream_name(&self.name)
                .send()
                .await
                .unwrap();
            let mut out = Vec::new();
            for shard in shards.shards.unwrap_or_default() {
                let iterator = self
                    .client
                    .get_shard_iterator()
                    .stream_name(&self.name)
                    .shard_id(shard.shard_id)
                    .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
                    .send()
                    .await
                    .unwrap();
                let mut iterator = iterator.shard_iterator;
                while let Some(it) = iterator {
                    let page = self
                        .client
                        .get_records()
                        .shard_iterator(it)
                        .send()
                        .await
                        .unwrap();
                    if page.records.is_empty() {
                        break;
                    }
                    for record in page.records {
                        out.push(String::from_utf8(record.data.into_inner()).unwrap());
                    }
                    iterator = page.next_shard_iterator;
                }
            }
            out
        })
    }
}
