//! The campaigns table (`tables.campaigns`): the items the bidders follow through
//! its stream, in the format of `tern_tables::campaigns`. This service is their
//! only writer; every write is conditional on the version read (see the module
//! above) and bumps it, so the bidders, which apply a change only over a lower
//! version, see every change once and in order.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use tern_engine::campaign::{Campaign, CampaignStatus};
use tern_tables::campaigns::{
    ItemDocument, KEY_ATTRIBUTE, VERSION_ATTRIBUTE, from_table_item, to_table_item,
};
use tern_tables::sdk::error_text;

use super::records::{AuditEntry, IdempotencyRecord};
use super::{Item, Store, StoreError, n, s};

/// The version a write expects to replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// No campaign of this id may exist, and the version it was last deleted at
    /// (its tombstone) must still be this one: a delete racing the create would
    /// otherwise let it start below what the bidders saw.
    Absent {
        /// The tombstone's version as read, `None` if it had none.
        deleted_at: Option<u64>,
    },
    /// The campaign must be at this version.
    Version(u64),
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    /// Only campaigns with this status.
    pub status: Option<CampaignStatus>,
    /// Only campaigns of this advertiser.
    pub advertiser_id: Option<String>,
}

/// A page of campaigns.
#[derive(Debug, Clone, Default)]
pub struct CampaignPage {
    /// The campaigns, as stored.
    pub items: Vec<ItemDocument>,
    /// The id to continue after, if there may be more.
    pub next: Option<String>,
}

/// A create's idempotency record, written in the same transaction.
#[derive(Debug, Clone)]
pub struct IdempotentCreate<'a> {
    /// The key that made the request.
    pub key_id: &'a str,
    /// Its `Idempotency-Key`.
    pub key: &'a str,
    /// What to answer a retry with.
    pub record: IdempotencyRecord,
}

impl Store {
    /// Campaign `id` as stored (read consistently), if any.
    pub async fn campaign(&self, id: &str) -> Result<Option<ItemDocument>, StoreError> {
        let key = Item::from([(KEY_ATTRIBUTE.to_owned(), s(id))]);
        self.get(&self.tables.campaigns, key)
            .await?
            .map(|item| from_table_item(&item).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    /// Up to `limit` campaigns matching `filter`, after campaign `after`.
    pub async fn campaigns(
        &self,
        filter: &CampaignFilter,
        limit: u32,
        after: Option<&str>,
    ) -> Result<CampaignPage, StoreError> {
        let mut request = self
            .client
            .scan()
            .table_name(&self.tables.campaigns)
            .consistent_read(true);
        let mut filters = Vec::new();
        if let Some(status) = filter.status {
            filters.push("#status = :status");
            request = request
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status_text(status)));
        }
        if let Some(advertiser) = &filter.advertiser_id {
            filters.push("advertiser_id = :advertiser");
            request = request.expression_attribute_values(":advertiser", s(advertiser));
        }
        if !filters.is_empty() {
            request = request.filter_expression(filters.join(" AND "));
        }
        let mut page = CampaignPage::default();
        let mut start = after.map(|id| Item::from([(KEY_ATTRIBUTE.to_owned(), s(id))]));
        loop {
            let output = request
                .clone()
                .set_exclusive_start_key(start)
                .limit(limit as i32)
                .send()
                .await
                .map_err(|e| StoreError::Unavailable(error_text(&e)))?;
            for item in output.items() {
                let document =
                    from_table_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                page.items.push(document);
                if page.items.len() == limit as usize {
                    page.next = page.items.last().map(|d| d.id.clone());
                    return Ok(page);
                }
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(page);
            }
        }
    }

    /// Writes `campaign` (its `version` already the new one) if the stored one is
    /// as `expected`, with its audit entry and, on create, its idempotency record.
    /// A failed condition on the campaign is `Condition([0])`; on a create, on the
    /// tombstone `Condition([2])`, on the idempotency record `Condition([3])`.
    pub async fn put_campaign(
        &self,
        campaign: &Campaign,
        expected: Expected,
        audit: &AuditEntry,
        idempotent: Option<&IdempotentCreate<'_>>,
    ) -> Result<(), StoreError> {
        let put = Put::builder()
            .table_name(&self.tables.campaigns)
            .set_item(Some(to_table_item(campaign)));
        let put = match expected {
            Expected::Absent { .. } => put
                .condition_expression("attribute_not_exists(#key)")
                .expression_attribute_names("#key", KEY_ATTRIBUTE),
            Expected::Version(version) => put
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", VERSION_ATTRIBUTE)
                .expression_attribute_values(":expected", n(version)),
        };
        let put = put.build().expect("table and item are set");
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            self.audit_put(audit),
        ];
        if let Expected::Absent { deleted_at } = expected {
            items.push(self.tombstone_check(&campaign.id, deleted_at));
        }
        if let Some(create) = idempotent {
            items.push(self.idempotency_put(create.key_id, create.key, &create.record));
        }
        self.transact(items).await
    }

    /// Deletes campaign `id` if it is at `version`, keeping the version (so a
    /// campaign made later with this id starts above it) and the audit entry.
    pub async fn delete_campaign(
        &self,
        id: &str,
        version: u64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.tables.campaigns)
            .key(KEY_ATTRIBUTE, s(id))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", VERSION_ATTRIBUTE)
            .expression_attribute_values(":expected", AttributeValue::N(version.to_string()))
            .build()
            .expect("table and key are set");
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.audit_put(audit),
            self.tombstone_put(id, version),
        ])
        .await
    }
}

/// A status as items store it.
fn status_text(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Active => "active",
        CampaignStatus::Paused => "paused",
    }
}
