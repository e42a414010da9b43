//! A real moto server (AWS emulator, from `tern_testkit`), bidders pointed at it
//! (campaigns from its table, events to its stream), and clients for the tests to
//! change the campaigns table and read Kinesis with, as an operator or the control
//! plane would.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use bidder::state::dynamodb::{AwsClients, seed};
use tern_engine::campaign::Campaign;
use tern_tables::campaigns::to_table_item;
pub use tern_testkit::Moto;

use super::{Bidder, Options, example_campaigns};

/// The campaigns table the DynamoDB tests use.
pub const CAMPAIGNS_TABLE: &str = "tern-campaigns";
/// The Kinesis stream the event tests use.
pub const EVENTS_STREAM: &str = "tern-events";

/// A bidder that takes its campaigns from [`CAMPAIGNS_TABLE`] in `moto`, polling
/// and retrying quickly; `extra` goes into `[campaigns.dynamodb]`.
pub fn dynamodb_bidder(moto: &Moto, extra: &str) -> Bidder {
    Bidder::start_with(Options {
        config: format!(
            "[campaigns]\nsource = \"dynamodb\"\n\
             [campaigns.dynamodb]\ntable = \"{CAMPAIGNS_TABLE}\"\n\
             poll_interval_ms = 50\nretry_initial_ms = 50\nretry_max_ms = 300\n{extra}"
        ),
        env: moto.env(),
        ..Options::default()
    })
}

/// Options for a bidder whose events go to [`EVENTS_STREAM`] in `moto`, in
/// small, quickly retried batches and without no-bid events; `extra` goes into
/// `[events]`.
pub fn kinesis_options(moto: &Moto, extra: &str) -> Options {
    Options {
        config: format!(
            "[events]\nsink = \"kinesis\"\nbatch_linger_ms = 20\nnobid_sample_rate = 0.0\n\
             retry_initial_ms = 20\nretry_max_ms = 200\n{extra}\n\
             [events.kinesis]\nstream = \"{EVENTS_STREAM}\"\nrequest_timeout_ms = 2000\n"
        ),
        env: moto.env(),
        ..Options::default()
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

    /// Creates [`CAMPAIGNS_TABLE`] in `moto` and writes the bundled example
    /// campaigns into it.
    pub fn seeded(moto: &Moto) -> Table {
        let table = Table::new(moto, CAMPAIGNS_TABLE);
        table.create();
        table.put(&example_campaigns());
        table
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
