//! The spend ledger in a file, for one bidder alone (the embedded default): the
//! records in memory, written atomically (a temporary file renamed over the old)
//! at each checkpoint, read at start. The rules of each update are written here
//! once, in [`apply`], which also serves as the reference the DynamoDB store is
//! tested against.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{Flush, Lease, LeaseKey, Ledger, LedgerError, LedgerItem, Update, bidder_key};

/// Seconds an empty, lapsed lease stays before a reclaim removes it.
pub const FORGET_LEASES_AFTER_S: u64 = 86_400;

/// The file-backed ledger.
#[derive(Debug)]
pub struct LocalLedger {
    path: PathBuf,
    records: Mutex<Records>,
}

#[derive(Debug, Default)]
struct Records {
    items: BTreeMap<String, LedgerItem>,
    dirty: bool,
}

impl LocalLedger {
    /// The ledger kept at `path`, read now if it exists.
    pub fn open(path: &Path) -> Result<LocalLedger, String> {
        let items = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{}: not a spend ledger: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Ok(LocalLedger {
            path: path.to_owned(),
            records: Mutex::new(Records {
                items,
                dirty: false,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Ledger for LocalLedger {
    async fn read(&self, campaign_id: &str) -> Result<LedgerItem, LedgerError> {
        Ok(self
            .lock()
            .items
            .get(campaign_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn apply(&self, campaign_id: &str, update: &Update) -> Result<LedgerItem, LedgerError> {
        let mut records = self.lock();
        let item = records.items.entry(campaign_id.to_owned()).or_default();
        apply(item, update)?;
        let after = item.clone();
        records.dirty = true;
        Ok(after)
    }

    async fn checkpoint(&self) -> Result<(), LedgerError> {
        let text = {
            let mut records = self.lock();
            if !records.dirty {
                return Ok(());
            }
            records.dirty = false;
            serde_json::to_vec(&records.items).expect("ledger records serialize")
        };
        let unavailable = |e: std::io::Error| {
            self.lock().dirty = true;
            LedgerError::Unavailable(format!("{}: {e}", self.path.display()))
        };
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, text).map_err(unavailable)?;
        std::fs::File::open(&temporary)
            .and_then(|f| f.sync_all())
            .map_err(unavailable)?;
        std::fs::rename(&temporary, &self.path).map_err(unavailable)?;
        // The rename is durable only once the directory is.
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(unavailable)?;
        }
        Ok(())
    }
}

/// Applies `update` to `item` by the ledger's rules, or leaves it unchanged and
/// fails with [`LedgerError::Conflict`] when a condition does not hold.
pub fn apply(item: &mut LedgerItem, update: &Update) -> Result<(), LedgerError> {
    match update {
        Update::Open { lease, bidder_id } => {
            item.days.entry(lease.date.clone()).or_default();
            item.leases
                .entry(lease.to_string())
                .or_insert_with(|| Lease {
                    bidder_id: bidder_id.clone(),
                    ..Lease::default()
                });
            Ok(())
        }
        Update::Flush(flush) => apply_flush(item, flush),
        Update::Grant {
            lease,
            seq,
            slice,
            total_limit,
            daily_limit,
            expires_s,
        } => {
            own(item, lease, *seq)?;
            let fits = |limit: &Option<u64>, committed: u64| {
                limit.is_none_or(|limit| committed.saturating_add(*slice) <= limit)
            };
            let day = item.day(&lease.date);
            if !fits(total_limit, item.total_committed) || !fits(daily_limit, day.committed) {
                return Err(LedgerError::Conflict);
            }
            let entry = item
                .leases
                .get_mut(&lease.to_string())
                .expect("checked above");
            entry.reserved += slice;
            entry.seq += 1;
            entry.expires_s = *expires_s;
            item.total_committed += slice;
            item.days.entry(lease.date.clone()).or_default().committed += slice;
            Ok(())
        }
        Update::Return { lease, seq, amount } => {
            if own(item, lease, *seq)?.reserved < *amount {
                return Err(LedgerError::Conflict);
            }
            let amount = *amount;
            let entry = item
                .leases
                .get_mut(&lease.to_string())
                .expect("checked above");
            entry.reserved -= amount;
            entry.seq += 1;
            uncommit(item, &lease.date, amount);
            Ok(())
        }
        Update::Reclaim { lease, seq, now_s } => {
            let entry = own(item, lease, *seq)?;
            if entry.expires_s >= *now_s {
                return Err(LedgerError::Conflict);
            }
            let reserved = entry.reserved;
            let forget = reserved == 0 && entry.expires_s + FORGET_LEASES_AFTER_S < *now_s;
            let key = lease.to_string();
            if forget {
                item.leases.remove(&key);
                item.foreign.remove(&key);
            } else {
                let entry = item.leases.get_mut(&key).expect("checked above");
                entry.reserved = 0;
                entry.seq += 1;
                uncommit(item, &lease.date, reserved);
            }
            Ok(())
        }
        Update::Alert { key, bidder_id } => {
            if item.alerts.contains_key(key) {
                return Err(LedgerError::Conflict);
            }
            item.alerts.insert(key.clone(), bidder_id.clone());
            Ok(())
        }
    }
}

/// The lease `key` if its `seq` is `seq`.
fn own<'i>(item: &'i LedgerItem, key: &LeaseKey, seq: u64) -> Result<&'i Lease, LedgerError> {
    item.lease(key)
        .filter(|lease| lease.seq == seq)
        .ok_or(LedgerError::Conflict)
}

fn uncommit(item: &mut LedgerItem, date: &str, amount: u64) {
    item.total_committed = item.total_committed.saturating_sub(amount);
    let day = item.days.entry(date.to_owned()).or_default();
    day.committed = day.committed.saturating_sub(amount);
}

fn apply_flush(item: &mut LedgerItem, flush: &Flush) -> Result<(), LedgerError> {
    let bidder = bidder_key(flush.journal);
    if flush.has_spend()
        && item
            .flushed
            .get(&bidder)
            .is_some_and(|p| *p >= flush.position)
    {
        return Err(LedgerError::Conflict);
    }
    for own_flush in &flush.own {
        own(item, &own_flush.lease, own_flush.seq)?;
    }
    // By day: (spent, change of committed).
    let mut by_day: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
    for o in &flush.own {
        let entry = item
            .leases
            .get_mut(&o.lease.to_string())
            .expect("checked above");
        entry.reserved -= (o.covered + o.absorb_covered).min(entry.reserved);
        entry.absorbed += o.absorb;
        entry.seq += 1;
        entry.expires_s = o.expires_s;
        let day = by_day.entry(&o.lease.date).or_default();
        day.0 += o.spend;
        // Spend beyond the lease commits more; absorbed spend was committed by
        // the bidder that billed it and now leaves the lease.
        day.1 += (o.spend - o.covered) as i64 - o.absorb_covered as i64;
    }
    let elsewhere = flush
        .foreign
        .iter()
        .map(|(lease, micros)| (lease.date.as_str(), *micros))
        .chain(flush.unattributed.iter().map(|(d, m)| (d.as_str(), *m)));
    for (date, micros) in elsewhere {
        let day = by_day.entry(date).or_default();
        day.0 += micros;
        day.1 += micros as i64;
    }
    for (lease, micros) in &flush.foreign {
        *item.foreign.entry(lease.to_string()).or_default() += micros;
    }
    for (date, (spent, committed)) in by_day {
        let day = item.days.entry(date.to_owned()).or_default();
        day.spent += spent;
        day.committed = day.committed.saturating_add_signed(committed);
        item.total_spent += spent;
        item.total_committed = item.total_committed.saturating_add_signed(committed);
    }
    if flush.has_spend() {
        item.flushed.insert(bidder, flush.position);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::ledger::OwnFlush;

    fn key(process: u32) -> LeaseKey {
        LeaseKey {
            bidder: 0xb1,
            process,
            date: "2026-11-30".to_owned(),
        }
    }

    fn opened(processes: &[u32]) -> LedgerItem {
        let mut item = LedgerItem::default();
        for p in processes {
            let open = Update::Open {
                lease: key(*p),
                bidder_id: "b1".to_owned(),
            };
            apply(&mut item, &open).unwrap();
        }
        item
    }

    fn grant(item: &mut LedgerItem, process: u32, slice: u64, daily: u64) -> bool {
        let seq = item.lease(&key(process)).unwrap().seq;
        let update = Update::Grant {
            lease: key(process),
            seq,
            slice,
            total_limit: None,
            daily_limit: Some(daily),
            expires_s: 1_000,
        };
        apply(item, &update).is_ok()
    }

    #[test]
    fn grants_never_commit_past_the_budget() {
        let mut item = opened(&[1, 2]);
        assert!(grant(&mut item, 1, 600, 1_000));
        assert!(!grant(&mut item, 2, 500, 1_000));
        assert!(grant(&mut item, 2, 400, 1_000));
        assert_eq!(item.day("2026-11-30").committed, 1_000);
        assert_eq!(item.total_committed, 1_000);
        let stale = Update::Grant {
            lease: key(1),
            seq: 0,
            slice: 1,
            total_limit: None,
            daily_limit: None,
            expires_s: 1_000,
        };
        assert_eq!(
            apply(&mut item, &stale),
            Err(LedgerError::Conflict),
            "old seq"
        );
    }

    #[test]
    fn spend_converts_a_lease_and_applies_once_per_position() {
        let mut item = opened(&[1]);
        assert!(grant(&mut item, 1, 1_000, 5_000));
        let flush = |position, seq| {
            Update::Flush(Flush {
                journal: 0xb1,
                position,
                own: vec![OwnFlush {
                    lease: key(1),
                    seq,
                    spend: 300,
                    covered: 300,
                    absorb: 0,
                    absorb_covered: 0,
                    expires_s: 2_000,
                }],
                foreign: vec![],
                unattributed: vec![("2026-11-30".to_owned(), 5)],
            })
        };
        apply(&mut item, &flush(10, 1)).unwrap();
        assert_eq!(item.total_spent, 305);
        assert_eq!(
            item.total_committed, 1_005,
            "spend from the lease commits nothing new"
        );
        assert_eq!(item.lease(&key(1)).unwrap().reserved, 700);
        assert_eq!(apply(&mut item, &flush(10, 2)), Err(LedgerError::Conflict));
        assert_eq!(item.total_spent, 305, "a replayed position applies once");
    }

    #[test]
    fn spend_on_another_bidders_lease_is_absorbed_by_it_once() {
        let mut item = opened(&[1, 2]);
        assert!(grant(&mut item, 1, 1_000, 5_000));
        // Process 2 was billed 200 for a bid of process 1.
        let foreign = Update::Flush(Flush {
            journal: 0xb1,
            position: 5,
            own: vec![],
            foreign: vec![(key(1), 200)],
            unattributed: vec![],
        });
        apply(&mut item, &foreign).unwrap();
        assert_eq!(item.total_committed, 1_200, "counted twice until absorbed");
        let absorb = Update::Flush(Flush {
            journal: 0xb1,
            position: 0,
            own: vec![OwnFlush {
                lease: key(1),
                seq: 1,
                spend: 0,
                covered: 0,
                absorb: 200,
                absorb_covered: 200,
                expires_s: 2_000,
            }],
            foreign: vec![],
            unattributed: vec![],
        });
        apply(&mut item, &absorb).unwrap();
        assert_eq!(item.total_committed, 1_000);
        assert_eq!(item.total_spent, 200);
        let lease = item.lease(&key(1)).unwrap();
        assert_eq!((lease.reserved, lease.absorbed), (800, 200));
    }

    #[test]
    fn lapsed_leases_are_reclaimed_once_then_forgotten() {
        let mut item = opened(&[1]);
        assert!(grant(&mut item, 1, 1_000, 5_000));
        let reclaim = |seq, now_s| Update::Reclaim {
            lease: key(1),
            seq,
            now_s,
        };
        assert_eq!(
            apply(&mut item, &reclaim(1, 999)),
            Err(LedgerError::Conflict)
        );
        apply(&mut item, &reclaim(1, 1_001)).unwrap();
        assert_eq!(item.total_committed, 0);
        assert_eq!(
            apply(&mut item, &reclaim(1, 1_002)),
            Err(LedgerError::Conflict)
        );
        apply(&mut item, &reclaim(2, 1_000 + FORGET_LEASES_AFTER_S + 1)).unwrap();
        assert!(item.lease(&key(1)).is_none());
    }

    #[test]
    fn returns_and_alerts() {
        let mut item = opened(&[1]);
        assert!(grant(&mut item, 1, 1_000, 5_000));
        let give_back = |amount| Update::Return {
            lease: key(1),
            seq: 1,
            amount,
        };
        assert_eq!(
            apply(&mut item, &give_back(1_001)),
            Err(LedgerError::Conflict)
        );
        apply(&mut item, &give_back(1_000)).unwrap();
        assert_eq!(
            (item.total_committed, item.lease(&key(1)).unwrap().reserved),
            (0, 0)
        );
        let alert = |who: &str| Update::Alert {
            key: "daily/2026-11-30/50".to_owned(),
            bidder_id: who.to_owned(),
        };
        apply(&mut item, &alert("b1")).unwrap();
        assert_eq!(apply(&mut item, &alert("b2")), Err(LedgerError::Conflict));
        assert_eq!(item.alerts["daily/2026-11-30/50"], "b1");
    }

    #[tokio::test]
    async fn the_file_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.json");
        let ledger = LocalLedger::open(&path).unwrap();
        let open = Update::Open {
            lease: key(1),
            bidder_id: "b1".to_owned(),
        };
        ledger.apply("c1", &open).await.unwrap();
        ledger.checkpoint().await.unwrap();
        let again = LocalLedger::open(&path).unwrap();
        assert!(again.read("c1").await.unwrap().lease(&key(1)).is_some());
        std::fs::write(&path, b"{not json").unwrap();
        assert!(
            LocalLedger::open(&path)
                .unwrap_err()
                .contains("not a spend ledger")
        );
    }
}
