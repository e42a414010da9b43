//! The fleet's spend ledger (`tables.spend`), read for campaign status. The
//! bidders write it (see `docs/budgets.md`); this service never does.

use tern_tables::spend::{LedgerItem, from_item};

use super::{Item, Store, StoreError, s};

impl Store {
    /// Campaign `id`'s ledger record (read consistently), `None` before any
    /// bidder has leased or spent for it.
    pub async fn spend(&self, id: &str) -> Result<Option<LedgerItem>, StoreError> {
        let key = Item::from([("campaign_id".to_owned(), s(id))]);
        let item = self.get(&self.tables.spend, key).await?;
        Ok(item.map(|item| from_item(&item)))
    }
}
