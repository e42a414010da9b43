//! The control plane's own table (`tables.control`, keys `pk` and `sk`, both
//! strings), one item kind per partition key:
//!
//! | `pk` | `sk` | item |
//! | --- | --- | --- |
//! | `apikey` | key id | an API key: its hash, role, who made it, when revoked |
//! | `audit` | `<ms since epoch, 13 digits>#<random>` | one change, newest last |
//! | `idempotency#<key id>` | the `Idempotency-Key` | a create's request hash and answer, kept 24 h (`expires_at`, the table's TTL) |
//! | `tombstone` | campaign id | the version a deleted campaign had, so a new campaign of that id starts above it |
//!
//! All audit entries share one partition: the control plane changes campaigns
//! at the pace of people and scripts, far below a partition's 1,000 writes a
//! second, and one partition keeps them in time order for `GET /v1/audit`.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tern_tables::sdk::error_text;
use utoipa::ToSchema;

use super::{Item, Store, StoreError, get_n, get_s, n, s};
use crate::auth::Role;

/// Seconds an idempotency record is kept.
pub const IDEMPOTENCY_TTL_S: u64 = 24 * 3_600;

/// A stored API key (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct KeyRecord {
    /// The key's id (the part of the key before its secret).
    pub key_id: String,
    /// The secret's hash (see `auth`); never returned by the API.
    #[serde(skip)]
    pub hash: String,
    /// What it may do.
    #[serde(flatten)]
    pub role: Role,
    /// What it is for, in the words of whoever made it.
    pub description: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// The key that made it.
    pub created_by: String,
    /// When it was revoked (RFC 3339), if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// One change, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The key that made the change (`bootstrap` for the bootstrap key).
    pub actor: String,
    /// What was done: `campaign.create`, `campaign.replace`, `campaign.update`,
    /// `campaign.pause`, `campaign.resume`, `campaign.budget`, `campaign.delete`,
    /// `creative.create`, `creative.replace`, `creative.delete`, `key.create`,
    /// `key.revoke`.
    pub action: String,
    /// The campaign changed, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    /// The advertiser of the campaign or key changed, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertiser_id: Option<String>,
    /// The key made or revoked, for key actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The campaign's version before the change (absent on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_version: Option<u64>,
    /// Its version after (absent on delete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_version: Option<u64>,
    /// The campaign before the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The campaign after the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// The answer a create gave, kept under its `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// SHA-256 of the request (method, path, body), hex.
    pub request_hash: String,
    /// The status answered.
    pub status: u16,
    /// The body answered.
    pub body: String,
    /// The `ETag` answered.
    pub etag: String,
}

/// A page of audit entries, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The `sk` to continue after, if there may be more.
    pub next: Option<String>,
}

/// What `GET /v1/audit` asks for.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Entries at or after this instant, ms since the epoch.
    pub since_ms: Option<u64>,
    /// Entries before this instant, ms since the epoch.
    pub until_ms: Option<u64>,
    /// Only this campaign's.
    pub campaign_id: Option<String>,
    /// Only this key's.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this advertiser's (forced for advertiser keys).
    pub advertiser_id: Option<String>,
    /// Most entries.
    pub limit: u32,
    /// Continue after this `sk`.
    pub after: Option<String>,
}

impl AuditEntry {
    /// The entry as an item with a fresh `sk` at `at_ms`.
    fn to_item(&self, at_ms: u64, nonce: u32) -> Item {
        let mut item = Item::new();
        item.insert("pk".to_owned(), s("audit"));
        item.insert("sk".to_owned(), s(format!("{at_ms:013}#{nonce:08x}")));
        let document = serde_json::to_value(self).expect("audit entries serialize");
        if let Value::Object(map) = document {
            for (name, value) in map {
                let attribute = match value {
                    Value::String(text) => s(text),
                    Value::Number(number) => {
                        aws_sdk_dynamodb::types::AttributeValue::N(number.to_string())
                    }
                    // Campaign documents are kept as JSON text: one attribute, read back whole.
                    other => s(other.to_string()),
                };
                item.insert(name, attribute);
            }
        }
        item
    }

    fn from_item(item: &Item) -> Result<AuditEntry, StoreError> {
        let text = |name: &str| get_s(item, name).map(str::to_owned);
        let document = |name: &str| -> Result<Option<Value>, StoreError> {
            text(name)
                .map(|t| serde_json::from_str(&t))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("audit `{name}`: {e}")))
        };
        Ok(AuditEntry {
            at: text("at").unwrap_or_default(),
            actor: text("actor").unwrap_or_default(),
            action: text("action").unwrap_or_default(),
            campaign_id: text("campaign_id"),
            advertiser_id: text("advertiser_id"),
            key_id: text("key_id"),
            old_version: get_n(item, "old_version"),
            new_version: get_n(item, "new_version"),
            old: document("old")?,
            new: document("new")?,
        })
    }
}

impl Store {
    fn control_put(&self, item: Item, condition: Option<&str>) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.tables.control)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .expect("table and item are set");
        TransactWriteItem::builder().put(put).build()
    }

    /// The transaction item writing `entry` to the audit log now.
    pub(crate) fn audit_put(&self, entry: &AuditEntry) -> TransactWriteItem {
        let at_ms = tern_engine::clock::now_ms();
        // The random part keeps two changes in one millisecond apart.
        self.control_put(entry.to_item(at_ms, fastrand::u32(..)), None)
    }

    async fn get_control(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let key = Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))]);
        self.get(&self.tables.control, key).await
    }

    /// The stored key `key_id`, if any.
    pub async fn key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let item = self.get_control("apikey", key_id).await?;
        item.map(|i| key_from_item(&i)).transpose()
    }

    /// Stores a new key with its audit entry.
    pub async fn put_key(&self, key: &KeyRecord, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut item = Item::new();
        item.insert("pk".to_owned(), s("apikey"));
        item.insert("sk".to_owned(), s(&key.key_id));
        item.insert("hash".to_owned(), s(&key.hash));
        item.insert("description".to_owned(), s(&key.description));
        item.insert("created_at".to_owned(), s(&key.created_at));
        item.insert("created_by".to_owned(), s(&key.created_by));
        match &key.role {
            Role::Operator => {
                item.insert("role".to_owned(), s("operator"));
            }
            Role::Advertiser(advertiser) => {
                item.insert("role".to_owned(), s("advertiser"));
                item.insert("advertiser_id".to_owned(), s(advertiser));
            }
        }
        let put = self.control_put(item, Some("attribute_not_exists(pk)"));
        self.transact(vec![put, self.audit_put(audit)]).await
    }

    /// Every stored key, revoked ones included.
    pub async fn keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.tables.control)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s("apikey"))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| StoreError::Unavailable(error_text(&e)))?;
            for item in output.items() {
                keys.push(key_from_item(item)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(keys);
            }
        }
    }

    /// Marks key `key_id` revoked at `at` (if it is not already), with its audit entry.
    pub async fn revoke_key(
        &self,
        key_id: &str,
        at: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.tables.control)
            .key("pk", s("apikey"))
            .key("sk", s(key_id))
            .update_expression("SET revoked_at = :at")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":at", s(at))
            .build()
            .expect("table, key and expression are set");
        let update = TransactWriteItem::builder().update(update).build();
        self.transact(vec![update, self.audit_put(audit)]).await
    }

    /// A page of the audit log, newest first.
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let low = format!("{:013}", query.since_ms.unwrap_or(0));
        let high = format!("{:013}", query.until_ms.unwrap_or(9_999_999_999_999));
        let mut filters = Vec::new();
        let mut request = self
            .client
            .query()
            .table_name(&self.tables.control)
            .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
            .expression_attribute_values(":pk", s("audit"))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
            .scan_index_forward(false);
        for (attribute, value) in [
            ("campaign_id", &query.campaign_id),
            ("actor", &query.actor),
            ("action", &query.action),
            ("advertiser_id", &query.advertiser_id),
        ] {
            if let Some(value) = value {
                filters.push(format!("#{attribute} = :{attribute}"));
                request = request
                    .expression_attribute_names(format!("#{attribute}"), attribute)
                    .expression_attribute_values(format!(":{attribute}"), s(value));
            }
        }
        if !filters.is_empty() {
            request = request.filter_expression(filters.join(" AND "));
        }
        let mut page = AuditPage::default();
        let mut start = query.after.as_ref().map(|sk| {
            [("pk".to_owned(), s("audit")), ("sk".to_owned(), s(sk))]
                .into_iter()
                .collect::<Item>()
        });
        loop {
            let output = request
                .clone()
                .set_exclusive_start_key(start)
                .limit(query.limit as i32)
                .send()
                .await
                .map_err(|e| StoreError::Unavailable(error_text(&e)))?;
            for item in output.items() {
                page.entries.push(AuditEntry::from_item(item)?);
                if page.entries.len() == query.limit as usize {
                    page.next = get_s(item, "sk").map(str::to_owned);
                    return Ok(page);
                }
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(page);
            }
        }
    }

    /// The answer kept for `key` of the key `key_id`, if any.
    pub async fn idempotency(
        &self,
        key_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let Some(item) = self
            .get_control(&format!("idempotency#{key_id}"), key)
            .await?
        else {
            return Ok(None);
        };
        let expired =
            get_n(&item, "expires_at").is_some_and(|t| t < tern_engine::clock::now_unix_s());
        if expired {
            return Ok(None);
        }
        Ok(Some(IdempotencyRecord {
            request_hash: get_s(&item, "request_hash").unwrap_or_default().to_owned(),
            status: get_n(&item, "status").unwrap_or(201) as u16,
            body: get_s(&item, "body").unwrap_or_default().to_owned(),
            etag: get_s(&item, "etag").unwrap_or_default().to_owned(),
        }))
    }

    /// The transaction item keeping `record` for `key` of the key `key_id`, on
    /// the condition that none is kept yet.
    pub(crate) fn idempotency_put(
        &self,
        key_id: &str,
        key: &str,
        record: &IdempotencyRecord,
    ) -> TransactWriteItem {
        let mut item = Item::new();
        item.insert("pk".to_owned(), s(format!("idempotency#{key_id}")));
        item.insert("sk".to_owned(), s(key));
        item.insert("request_hash".to_owned(), s(&record.request_hash));
        item.insert("status".to_owned(), n(u64::from(record.status)));
        item.insert("body".to_owned(), s(&record.body));
        item.insert("etag".to_owned(), s(&record.etag));
        let expires = tern_engine::clock::now_unix_s() + IDEMPOTENCY_TTL_S;
        item.insert("expires_at".to_owned(), n(expires));
        // A record past its time may linger until the TTL sweep: it counts as none.
        let put = Put::builder()
            .table_name(&self.tables.control)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", n(tern_engine::clock::now_unix_s()));
        TransactWriteItem::builder()
            .put(put.build().expect("table and item are set"))
            .build()
    }

    /// The version campaign `id` had when it was last deleted, if it ever was.
    pub async fn tombstone(&self, id: &str) -> Result<Option<u64>, StoreError> {
        let item = self.get_control("tombstone", id).await?;
        Ok(item.and_then(|i| get_n(&i, "version")))
    }

    /// The transaction item checking that campaign `id`'s tombstone is still at
    /// `deleted_at` (absent when `None`).
    pub(crate) fn tombstone_check(&self, id: &str, deleted_at: Option<u64>) -> TransactWriteItem {
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.tables.control)
            .key("pk", s("tombstone"))
            .key("sk", s(id));
        let check = match deleted_at {
            None => check.condition_expression("attribute_not_exists(pk)"),
            Some(version) => check
                .condition_expression("#version = :seen")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":seen", n(version)),
        };
        TransactWriteItem::builder()
            .condition_check(check.build().expect("table, key and condition are set"))
            .build()
    }

    /// The transaction item recording that campaign `id` was deleted at `version`.
    pub(crate) fn tombstone_put(&self, id: &str, version: u64) -> TransactWriteItem {
        let mut item = Item::new();
        item.insert("pk".to_owned(), s("tombstone"));
        item.insert("sk".to_owned(), s(id));
        item.insert("version".to_owned(), n(version));
        self.control_put(item, None)
    }
}

fn key_from_item(item: &Item) -> Result<KeyRecord, StoreError> {
    let text = |name: &str| get_s(item, name).unwrap_or_default().to_owned();
    let role = match get_s(item, "role") {
        Some("operator") => Role::Operator,
        Some("advertiser") => Role::Advertiser(text("advertiser_id")),
        other => return Err(StoreError::Corrupt(format!("key role {other:?}"))),
    };
    Ok(KeyRecord {
        key_id: text("sk"),
        hash: text("hash"),
        role,
        description: text("description"),
        created_at: text("created_at"),
        created_by: text("created_by"),
        revoked_at: get_s(item, "revoked_at").map(str::to_owned),
    })
}
