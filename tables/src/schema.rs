//! The fleet's tables as local and test setups create them (on demand). In AWS,
//! Terraform creates them (`terraform/modules/dynamodb` and the control plane's
//! module), encrypted, with point-in-time recovery, to the same key schemas.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
};

use crate::sdk::error_text;

/// One of the fleet's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Campaigns: key `campaign_id`, a stream of new and old images the bidders follow.
    Campaigns,
    /// The spend ledger: key `campaign_id`, no stream (spend writes reach no reader).
    Spend,
    /// The control plane's records: keys `pk` and `sk`, items expiring at `expires_at`.
    Control,
}

/// Why a table could not be made ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("table {table}: {reason}")]
pub struct TableError {
    /// The table's name.
    pub table: String,
    /// What went wrong.
    pub reason: String,
}

/// Creates table `name` as `table` describes (an existing table is left as it
/// is) and waits, up to a minute, until it is active.
pub async fn create(client: &Client, table: Table, name: &str) -> Result<(), TableError> {
    let fail = |reason: String| TableError {
        table: name.to_owned(),
        reason,
    };
    let keys: &[(&str, KeyType)] = match table {
        Table::Campaigns | Table::Spend => &[("campaign_id", KeyType::Hash)],
        Table::Control => &[("pk", KeyType::Hash), ("sk", KeyType::Range)],
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attribute, key_type) in keys {
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(*attribute)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| fail(e.to_string()))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(*attribute)
                    .key_type(key_type.clone())
                    .build()
                    .map_err(|e| fail(e.to_string()))?,
            );
    }
    if table == Table::Campaigns {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(|e| fail(e.to_string()))?,
        );
    }
    if let Err(e) = request.send().await {
        let exists = e
            .as_service_error()
            .is_some_and(|s| s.is_resource_in_use_exception());
        if !exists {
            return Err(fail(error_text(&e)));
        }
    }
    wait_active(client, name).await.map_err(fail)?;
    if table == Table::Control {
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name("expires_at")
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let set = client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl)
            .send()
            .await;
        // Enabling TTL twice is refused; that it is enabled is what matters.
        if let Err(e) = set
            && !error_text(&e).contains("already enabled")
        {
            return Err(fail(error_text(&e)));
        }
    }
    Ok(())
}

async fn wait_active(client: &Client, name: &str) -> Result<(), String> {
    for _ in 0..600 {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| error_text(&e))?;
        if described.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("did not become active within a minute".to_owned())
}
