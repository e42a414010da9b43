//! Writing campaigns into a table: the `bidder seed` command, for demos and tests.

use std::time::Duration;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use tern_engine::campaign::Campaign;

use super::AwsClients;
use crate::aws::call_error;
use crate::backoff::Backoff;
use crate::error::AwsError;
use tern_tables::campaigns::to_table_item;
use tern_tables::schema;

/// Items per `BatchWriteItem` call (the service's limit).
const BATCH: usize = 25;

/// Creates the campaigns table as the bidder expects it (on-demand, key
/// `campaign_id`, stream with new and old images) and waits until it is active.
/// An existing table is left as it is.
pub async fn create_table(clients: &AwsClients, table: &str) -> Result<(), AwsError> {
    schema::create(&clients.dynamodb, schema::Table::Campaigns, table)
        .await
        .map_err(|e| AwsError::Call {
            operation: format!("create table {table}"),
            text: e.reason,
        })
}

/// Writes every campaign as an item, replacing items with the same id.
pub async fn put_campaigns(
    clients: &AwsClients,
    table: &str,
    campaigns: &[Campaign],
) -> Result<(), AwsError> {
    for chunk in campaigns.chunks(BATCH) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|c| {
                let put = PutRequest::builder()
                    .set_item(Some(to_table_item(c)))
                    .build()
                    .expect("an item is set");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(3));
        for _ in 0..10 {
            let answer = clients
                .dynamodb
                .batch_write_item()
                .request_items(table, requests)
                .send()
                .await
                .map_err(|e| call_error(format!("write to {table}"), &e))?;
            requests = answer
                .unprocessed_items
                .and_then(|mut left| left.remove(table))
                .unwrap_or_default();
            if requests.is_empty() {
                break;
            }
            tokio::time::sleep(backoff.next_delay()).await;
        }
        if !requests.is_empty() {
            return Err(AwsError::Call {
                operation: format!("write to {table}"),
                text: format!("{} items left unprocessed", requests.len()),
            });
        }
    }
    Ok(())
}
