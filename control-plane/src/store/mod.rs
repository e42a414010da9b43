//! DynamoDB access: the campaigns table the bidders follow ([`campaigns`]), the
//! control plane's own table ([`records`]: API keys, the audit log, idempotency
//! records, versions of deleted campaigns), and the fleet's spend ledger, read
//! only (`spend`).
//!
//! Every change to a campaign is one `TransactWriteItems`: the campaign written
//! on the condition that its version is the one the caller read, with its audit
//! entry (and, on create, its idempotency record) in the same transaction, so a
//! change is never stored without its audit entry or twice.

pub mod campaigns;
pub mod records;
mod spend;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use tern_tables::sdk::error_text;

use crate::config::TablesConfig;

/// One item's attributes.
pub type Item = HashMap<String, AttributeValue>;

/// Why a store call did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A condition of the transaction failed: the positions of the failed items.
    #[error("condition failed on transaction items {0:?}")]
    Condition(Vec<usize>),
    /// DynamoDB failed or did not answer.
    #[error("{0}")]
    Unavailable(String),
    /// An item could not be read.
    #[error("unreadable item: {0}")]
    Corrupt(String),
}

/// The control plane's tables.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    tables: TablesConfig,
}

impl Store {
    /// The tables named in `tables`, through `client`.
    pub fn new(client: Client, tables: TablesConfig) -> Store {
        Store { client, tables }
    }

    /// The client, for table administration.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table names.
    pub fn tables(&self) -> &TablesConfig {
        &self.tables
    }

    /// Whether both tables this service writes answer (`DescribeTable`).
    pub async fn ready(&self) -> Result<(), StoreError> {
        for table in [&self.tables.campaigns, &self.tables.control] {
            self.client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| StoreError::Unavailable(error_text(&e)))?;
        }
        Ok(())
    }

    /// The item of `table` at `key`, read consistently, if any.
    pub(crate) async fn get(&self, table: &str, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(error_text(&e)))?;
        Ok(output.item)
    }

    /// Applies `items` all or nothing.
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(transaction_error(&e)),
        }
    }
}

/// A failed transaction: which conditions failed, or why it could not run.
fn transaction_error<R: std::fmt::Debug>(
    error: &SdkError<TransactWriteItemsError, R>,
) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        error.as_service_error()
    {
        let failed: Vec<usize> = cancelled
            .cancellation_reasons()
            .iter()
            .enumerate()
            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
            .map(|(i, _)| i)
            .collect();
        if !failed.is_empty() {
            return StoreError::Condition(failed);
        }
    }
    StoreError::Unavailable(error_text(error))
}

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(crate) fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Reads string attribute `name`.
pub(crate) fn get_s<'i>(item: &'i Item, name: &str) -> Option<&'i str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

/// Reads number attribute `name` as a `u64`.
pub(crate) fn get_n(item: &Item, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}
