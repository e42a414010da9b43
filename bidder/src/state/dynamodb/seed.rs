//! Writing campaigns into a table: the `bidder seed` command, for demos and tests.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PutRequest, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, WriteRequest,
};
use tern_engine::campaign::Campaign;

use super::AwsClients;
use super::item::{KEY_ATTRIBUTE, to_table_item};
use crate::aws::call_error;
use crate::backoff::Backoff;
use crate::error::AwsError;

/// Items per `BatchWriteItem` call (the service's limit).
const BATCH: usize = 25;

/// Creates the campaigns table as the bidder expects it (on-demand, key
/// `campaign_id`, stream with new and old images) and waits until it is active.
/// An existing table is left as it is.
pub async fn create_table(clients: &AwsClients, table: &str) -> Result<(), AwsError> {
    let invalid = |e: aws_sdk_dynamodb::error::BuildError| AwsError::Call {
        operation: format!("create table {table}"),
        text: e.to_string(),
    };
    let created = clients
        .dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(KEY_ATTRIBUTE)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(invalid)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(KEY_ATTRIBUTE)
                .key_type(KeyType::Hash)
                .build()
                .map_err(invalid)?,
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(invalid)?,
        )
        .send()
        .await;
    if let Err(e) = created {
        if e.as_service_error()
            .is_some_and(|s| s.is_resource_in_use_exception())
        {
            return Ok(());
        }
        return Err(call_error(format!("create table {table}"), &e));
    }
    for _ in 0..600 {
        let described = clients
            .dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| call_error(format!("describe table {table}"), &e))?;
        if described.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(AwsError::Call {
        operation: format!("create table {table}"),
        text: "the table did not become active within a minute".to_owned(),
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
