//! The bidder's copy of the campaigns table, kept by version.
//!
//! Scan results and stream records may overlap and repeat (positions are taken
//! before the scan, iterators are re-read after they expire), so a change applies
//! only when its version is higher than the one held. Deletes leave a tombstone
//! with the deleted version, so a replayed older write cannot bring a campaign back.
//! Versions must therefore only grow, also when a campaign is re-created.

use std::collections::HashMap;
use std::sync::Arc;

use tern_engine::campaign::Campaign;
use tern_engine::money::FxTable;
use tern_engine::snapshot::Snapshot;

use tern_tables::campaigns::ItemDocument;

/// One change to the table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// An item written (inserted or modified).
    Upsert(ItemDocument),
    /// An item deleted; `version` is the deleted image's, when known.
    Delete {
        /// Campaign id.
        id: String,
        /// Version of the deleted item.
        version: Option<u64>,
    },
}

/// What applying a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applied {
    /// The replica changed.
    Changed,
    /// The replica already held this version or a newer one.
    Stale,
    /// The item is not a valid campaign; the replica kept what it had.
    Rejected(String),
}

#[derive(Debug, Clone)]
struct Entry {
    version: u64,
    /// `None` once deleted.
    campaign: Option<Campaign>,
}

/// Campaigns by id, with the version each came from.
#[derive(Debug)]
pub(crate) struct Replica {
    entries: HashMap<String, Entry>,
    fx: Arc<FxTable>,
}

impl Replica {
    /// An empty replica that accepts campaigns priced in currencies `fx` knows.
    pub(crate) fn new(fx: Arc<FxTable>) -> Replica {
        Replica {
            entries: HashMap::new(),
            fx,
        }
    }

    /// Applies one change if it is newer than what is held.
    pub(crate) fn apply(&mut self, change: Change) -> Applied {
        match change {
            Change::Upsert(item) => {
                let held = self.entries.get(&item.id).map(|e| e.version);
                if held.is_some_and(|v| v >= item.version) {
                    return Applied::Stale;
                }
                let checked = item
                    .campaign()
                    .and_then(|c| Snapshot::check(&c, &self.fx).map(|()| c));
                match checked {
                    Ok(campaign) => {
                        let entry = Entry {
                            version: item.version,
                            campaign: Some(campaign),
                        };
                        self.entries.insert(item.id, entry);
                        Applied::Changed
                    }
                    Err(e) => Applied::Rejected(e.to_string()),
                }
            }
            Change::Delete { id, version } => {
                let Some(entry) = self.entries.get_mut(&id) else {
                    // Nothing held: remember the delete so an older write stays out.
                    let version = version.unwrap_or(0);
                    self.entries.insert(
                        id,
                        Entry {
                            version,
                            campaign: None,
                        },
                    );
                    return Applied::Stale;
                };
                let version = version.unwrap_or(entry.version);
                if version < entry.version || entry.campaign.is_none() {
                    return Applied::Stale;
                }
                entry.version = version;
                entry.campaign = None;
                Applied::Changed
            }
        }
    }

    /// Every live campaign.
    pub(crate) fn campaigns(&self) -> impl Iterator<Item = &Campaign> {
        self.entries.values().filter_map(|e| e.campaign.as_ref())
    }

    /// Live campaigns held.
    pub(crate) fn len(&self) -> usize {
        self.campaigns().count()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(id: &str, version: u64, max_cpm: f64) -> ItemDocument {
        ItemDocument {
            id: id.into(),
            version,
            document: json!({
                "id": id, "version": version, "advertiser_domain": "a.example",
                "creatives": [{"id": "cr", "banner": {"w": 1, "h": 1}, "adm": "x"}],
                "bidding": {"max_cpm": max_cpm, "base_bid": 0.5}
            }),
        }
    }

    fn price(replica: &Replica, id: &str) -> Option<f64> {
        replica
            .campaigns()
            .find(|c| c.id == id)
            .map(|c| c.bidding.max_cpm)
    }

    fn replica() -> Replica {
        Replica::new(Arc::new(FxTable::default()))
    }

    #[test]
    fn newer_versions_win_in_any_order() {
        let mut r = replica();
        assert_eq!(r.apply(Change::Upsert(item("c", 2, 2.0))), Applied::Changed);
        assert_eq!(r.apply(Change::Upsert(item("c", 1, 1.0))), Applied::Stale);
        assert_eq!(r.apply(Change::Upsert(item("c", 2, 9.0))), Applied::Stale);
        assert_eq!(price(&r, "c"), Some(2.0));
        assert_eq!(r.apply(Change::Upsert(item("c", 3, 3.0))), Applied::Changed);
        assert_eq!(price(&r, "c"), Some(3.0));
    }

    #[test]
    fn deletes_leave_tombstones_that_older_writes_cannot_pass() {
        let mut r = replica();
        r.apply(Change::Upsert(item("c", 4, 1.0)));
        assert_eq!(
            r.apply(Change::Delete {
                id: "c".into(),
                version: Some(3)
            }),
            Applied::Stale
        );
        assert_eq!(r.len(), 1);
        assert_eq!(
            r.apply(Change::Delete {
                id: "c".into(),
                version: Some(4)
            }),
            Applied::Changed
        );
        assert_eq!(r.len(), 0);
        assert_eq!(
            r.apply(Change::Upsert(item("c", 4, 1.0))),
            Applied::Stale,
            "replayed write"
        );
        assert_eq!(
            r.apply(Change::Upsert(item("c", 5, 1.5))),
            Applied::Changed,
            "re-created"
        );
        assert_eq!(price(&r, "c"), Some(1.5));
        // A delete seen before its item (scan missed it) still blocks the old write.
        assert_eq!(
            r.apply(Change::Delete {
                id: "d".into(),
                version: Some(2)
            }),
            Applied::Stale
        );
        assert_eq!(r.apply(Change::Upsert(item("d", 2, 1.0))), Applied::Stale);
    }

    #[test]
    fn invalid_items_are_rejected_and_the_old_version_kept() {
        let mut r = replica();
        r.apply(Change::Upsert(item("c", 1, 1.0)));
        let bad = item("c", 2, -1.0);
        match r.apply(Change::Upsert(bad)) {
            Applied::Rejected(e) => {
                assert!(e.contains("campaign `c`: field `bidding.max_cpm`"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(price(&r, "c"), Some(1.0));
        assert_eq!(
            r.apply(Change::Upsert(item("c", 2, 2.0))),
            Applied::Changed,
            "fixed item applies"
        );
        let mut unpriced = item("c", 3, 2.0);
        unpriced.document["bidding"]["currency"] = "CHF".into();
        match r.apply(Change::Upsert(unpriced)) {
            Applied::Rejected(e) => assert!(e.contains("bidding.currency"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}
