//! The fleet's spend ledger (`tables.spend`), read for campaign status. The
//! bidders write it (see `docs/budgets.md`); this service never does.

use tern_tables::sdk::error_text;
use tern_tables::spend::{LedgerItem, from_item};

use super::{Store, StoreError, s};

impl Store {
    /// Campaign `id`'s ledger record (read consistently), `None` before any
    /// bidder has leased or spent for it.
    pub async fn spend(&self, id: &str) -> Result<Option<LedgerItem>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.spend)
            .key("campaign_id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(error_text(&e)))?;
        Ok(output.item.map(|item| from_item(&item)))
    }
}
