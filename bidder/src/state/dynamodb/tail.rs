//! One pass over the readable shards.

use super::replica::{Applied, Replica};
use super::shards::ShardTracker;
use super::stream::{ChangeStream, StreamError};
use crate::state::SyncHealth;

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoundOutcome {
    /// The replica changed: publish a snapshot.
    pub(crate) changed: bool,
    /// Records read (applied, stale or rejected).
    pub(crate) records: usize,
    /// Every change made before this time (ms since the Unix epoch) is applied:
    /// the round start for shards that had nothing more, the newest record's
    /// creation time for shards still catching up. `None` when a shard failed.
    pub(crate) fresh_at_ms: Option<u64>,
    /// A shard was read to its end: list shards again to find its children.
    pub(crate) shard_finished: bool,
}

/// Reads one page from every readable shard and applies it. Errors other than an
/// expired iterator end the round; the caller retries or scans again.
pub(crate) async fn poll_round<S: ChangeStream>(
    stream: &S,
    tracker: &mut ShardTracker,
    replica: &mut Replica,
    health: &SyncHealth,
    started_ms: u64,
) -> Result<RoundOutcome, StreamError> {
    let mut outcome = RoundOutcome {
        changed: false,
        records: 0,
        fresh_at_ms: Some(started_ms),
        shard_finished: false,
    };
    for shard in tracker.readable() {
        let iterator = match tracker.iterator(&shard) {
            Some(iterator) => iterator.to_owned(),
            None => {
                let fresh = stream
                    .iterator(&shard, &tracker.resume_position(&shard))
                    .await?;
                tracker.set_iterator(&shard, fresh.clone());
                fresh
            }
        };
        let page = match stream.records(&iterator).await {
            Ok(page) => page,
            Err(StreamError::ExpiredIterator) => {
                tracker.expire(&shard);
                outcome.fresh_at_ms = None;
                continue;
            }
            Err(e) => return Err(e),
        };
        let (mut applied, mut rejected) = (0, 0);
        let last = page.records.last().map(|r| r.sequence.clone());
        outcome.records += page.records.len();
        if let Some(newest) = page
            .records
            .iter()
            .filter_map(|r| r.created_at_s)
            .reduce(f64::max)
        {
            // More records may follow: this shard is only as fresh as what was read.
            let newest_ms = (newest * 1e3) as u64;
            outcome.fresh_at_ms = outcome.fresh_at_ms.map(|f| f.min(newest_ms));
        }
        for record in page.records {
            let result = match record.change {
                Ok(change) => replica.apply(change),
                Err(e) => Applied::Rejected(e.to_string()),
            };
            match result {
                Applied::Changed => {
                    applied += 1;
                    outcome.changed = true;
                }
                Applied::Stale => {}
                Applied::Rejected(reason) => {
                    rejected += 1;
                    tracing::warn!(%reason, sequence = %record.sequence, "campaign record rejected");
                }
            }
        }
        health.count(applied, rejected);
        let finished = page.next.is_none();
        tracker.advance(&shard, last, page.next);
        outcome.shard_finished |= finished;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::{HashMap, VecDeque};
    use std::sync::Arc;

    use serde_json::json;
    use tern_engine::money::FxTable;

    use super::*;
    use crate::state::dynamodb::replica::Change;
    use crate::state::dynamodb::stream::{Page, Position, ShardInfo, StreamRecord};
    use tern_tables::campaigns::ItemDocument;

    /// A scripted stream: per shard, a list of pages; iterators are `shard:page`.
    #[derive(Default)]
    struct ScriptedStream {
        shards: Vec<ShardInfo>,
        pages: HashMap<String, Vec<Vec<StreamRecord>>>,
        /// Errors returned before the next successful `records` call.
        failures: RefCell<VecDeque<StreamError>>,
        calls: RefCell<Vec<String>>,
    }

    fn upsert(id: &str, version: u64, seq: &str) -> StreamRecord {
        StreamRecord {
            sequence: seq.into(),
            created_at_s: None,
            change: Ok(Change::Upsert(ItemDocument {
                id: id.into(),
                version,
                document: json!({
                    "id": id, "version": version, "advertiser_domain": "a.example",
                    "creatives": [{"id": "cr", "banner": {"w": 1, "h": 1}, "adm": "x"}],
                    "bidding": {"max_cpm": version as f64, "base_bid": 0.5}
                }),
            })),
        }
    }

    impl ChangeStream for ScriptedStream {
        async fn shards(&self) -> Result<Vec<ShardInfo>, StreamError> {
            Ok(self.shards.clone())
        }

        async fn iterator(&self, shard: &str, at: &Position) -> Result<String, StreamError> {
            self.calls
                .borrow_mut()
                .push(format!("iterator {shard} {at:?}"));
            let page = match at {
                Position::After(seq) => {
                    let pages = &self.pages[shard];
                    pages
                        .iter()
                        .position(|p| p.iter().any(|r| &r.sequence == seq))
                        .map_or(0, |i| i + 1)
                }
                _ => 0,
            };
            Ok(format!("{shard}:{page}"))
        }

        async fn records(&self, iterator: &str) -> Result<Page, StreamError> {
            if let Some(error) = self.failures.borrow_mut().pop_front() {
                return Err(error);
            }
            self.calls.borrow_mut().push(format!("records {iterator}"));
            let (shard, page) = iterator.split_once(':').unwrap();
            let page: usize = page.parse().unwrap();
            let shard_info = self.shards.iter().find(|s| s.id == shard).unwrap();
            let pages = &self.pages[shard];
            let records = pages.get(page).cloned().unwrap_or_default();
            let at_end = page + 1 >= pages.len();
            let next = if at_end && shard_info.closed {
                None
            } else {
                Some(format!("{shard}:{}", (page + 1).min(pages.len())))
            };
            Ok(Page { records, next })
        }

        async fn is_current(&self) -> Result<bool, StreamError> {
            Ok(true)
        }
    }

    fn replica() -> Replica {
        Replica::new(Arc::new(FxTable::default()))
    }

    fn max_cpm(replica: &Replica, id: &str) -> Option<f64> {
        replica
            .campaigns()
            .find(|c| c.id == id)
            .map(|c| c.bidding.max_cpm)
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn a_split_shard_is_read_to_its_end_before_its_children() {
        let stream = ScriptedStream {
            shards: vec![
                ShardInfo {
                    id: "p".into(),
                    parent: None,
                    closed: true,
                },
                ShardInfo {
                    id: "c".into(),
                    parent: Some("p".into()),
                    closed: false,
                },
            ],
            pages: HashMap::from([
                (
                    "p".to_owned(),
                    vec![vec![upsert("x", 1, "1")], vec![upsert("x", 2, "2")]],
                ),
                ("c".to_owned(), vec![vec![upsert("x", 3, "3")]]),
            ]),
            ..ScriptedStream::default()
        };
        let mut tracker = ShardTracker::default();
        tracker.discover(&stream.shards);
        let mut replica = replica();
        let health = SyncHealth::default();
        block_on(async {
            let first = poll_round(&stream, &mut tracker, &mut replica, &health, 0)
                .await
                .unwrap();
            assert!(first.changed && !first.shard_finished);
            assert_eq!(
                max_cpm(&replica, "x"),
                Some(1.0),
                "child not read before parent ends"
            );
            let second = poll_round(&stream, &mut tracker, &mut replica, &health, 0)
                .await
                .unwrap();
            assert!(second.shard_finished);
            assert_eq!(max_cpm(&replica, "x"), Some(2.0));
            poll_round(&stream, &mut tracker, &mut replica, &health, 0)
                .await
                .unwrap();
            assert_eq!(max_cpm(&replica, "x"), Some(3.0), "then the child");
        });
        assert_eq!(health.report().applied, 3);
    }

    #[test]
    fn an_expired_iterator_resumes_after_the_last_record_read() {
        let stream = ScriptedStream {
            shards: vec![ShardInfo {
                id: "s".into(),
                parent: None,
                closed: false,
            }],
            pages: HashMap::from([(
                "s".to_owned(),
                vec![vec![upsert("x", 1, "10")], vec![upsert("y", 1, "11")]],
            )]),
            ..ScriptedStream::default()
        };
        let mut tracker =
            ShardTracker::before_scan(&stream.shards, vec![("s".into(), "s:0".into())]);
        let mut replica = replica();
        let health = SyncHealth::default();
        block_on(async {
            poll_round(&stream, &mut tracker, &mut replica, &health, 0)
                .await
                .unwrap();
            stream
                .failures
                .borrow_mut()
                .push_back(StreamError::ExpiredIterator);
            let expired = poll_round(&stream, &mut tracker, &mut replica, &health, 0)
                .await
                .unwrap();
            assert_eq!(
                expired.fresh_at_ms, None,
                "an expired shard leaves the round incomplete"
            );
            let resumed = poll_round(&stream, &mut tracker, &mut replica, &health, 0)
                .await
                .unwrap();
            assert!(resumed.fresh_at_ms.is_some() && resumed.changed);
        });
        assert!(
            stream
                .calls
                .borrow()
                .contains(&"iterator s After(\"10\")".to_owned())
        );
        assert_eq!(replica.len(), 2, "nothing lost, nothing twice");
    }

    #[test]
    fn throttling_ends_the_round_and_nothing_is_skipped() {
        let stream = ScriptedStream {
            shards: vec![ShardInfo {
                id: "s".into(),
                parent: None,
                closed: false,
            }],
            pages: HashMap::from([("s".to_owned(), vec![vec![upsert("x", 1, "1")]])]),
            ..ScriptedStream::default()
        };
        stream
            .failures
            .borrow_mut()
            .push_back(StreamError::Throttled("slow down".into()));
        let mut tracker =
            ShardTracker::before_scan(&stream.shards, vec![("s".into(), "s:0".into())]);
        let mut replica = replica();
        let health = SyncHealth::default();
        block_on(async {
            let error = poll_round(&stream, &mut tracker, &mut replica, &health, 0)
                .await
                .unwrap_err();
            assert!(matches!(error, StreamError::Throttled(_)));
            poll_round(&stream, &mut tracker, &mut replica, &health, 0)
                .await
                .unwrap();
        });
        assert_eq!(
            replica.len(),
            1,
            "the same iterator was read again after the throttle"
        );
    }

    #[test]
    fn freshness_is_the_oldest_of_what_each_shard_has_reached() {
        let mut old = upsert("x", 1, "1");
        old.created_at_s = Some(1_000.0);
        let stream = ScriptedStream {
            shards: vec![
                ShardInfo {
                    id: "a".into(),
                    parent: None,
                    closed: false,
                },
                ShardInfo {
                    id: "b".into(),
                    parent: None,
                    closed: false,
                },
            ],
            pages: HashMap::from([
                ("a".to_owned(), vec![vec![old]]),
                ("b".to_owned(), vec![vec![]]),
            ]),
            ..ScriptedStream::default()
        };
        let mut tracker = ShardTracker::default();
        tracker.discover(&stream.shards);
        let mut replica = replica();
        let health = SyncHealth::default();
        let round = block_on(poll_round(
            &stream,
            &mut tracker,
            &mut replica,
            &health,
            5_000_000,
        ));
        assert_eq!(
            round.unwrap().fresh_at_ms,
            Some(1_000_000),
            "shard a is still catching up"
        );
        let round = block_on(poll_round(
            &stream,
            &mut tracker,
            &mut replica,
            &health,
            5_000_000,
        ));
        assert_eq!(
            round.unwrap().fresh_at_ms,
            Some(5_000_000),
            "both shards drained"
        );
    }

    #[test]
    fn invalid_records_are_counted_and_skipped() {
        let mut bad = upsert("x", 2, "2");
        if let Ok(Change::Upsert(item)) = &mut bad.change {
            item.document["bidding"]["max_cpm"] = json!(-1);
        }
        let stream = ScriptedStream {
            shards: vec![ShardInfo {
                id: "s".into(),
                parent: None,
                closed: false,
            }],
            pages: HashMap::from([(
                "s".to_owned(),
                vec![vec![upsert("x", 1, "1"), bad, upsert("y", 1, "3")]],
            )]),
            ..ScriptedStream::default()
        };
        let mut tracker =
            ShardTracker::before_scan(&stream.shards, vec![("s".into(), "s:0".into())]);
        let mut replica = replica();
        let health = SyncHealth::default();
        block_on(poll_round(&stream, &mut tracker, &mut replica, &health, 0)).unwrap();
        assert_eq!((health.report().applied, health.report().rejected), (2, 1));
        assert_eq!(max_cpm(&replica, "x"), Some(1.0));
    }
}
