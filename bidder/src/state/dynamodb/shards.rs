//! Which shards to read, from where, in what order.
//!
//! DynamoDB Streams splits shards over time; a child holds changes made after its
//! parent closed, so a child is read only once its parent is read to its end. A
//! parent the stream no longer lists (trimmed after 24 hours) counts as read.

use std::collections::BTreeMap;

use super::stream::{Position, ShardInfo};

#[derive(Debug, Clone)]
struct ShardState {
    parent: Option<String>,
    /// Where to start when there is no iterator and no record was read yet.
    start: Position,
    iterator: Option<String>,
    last_sequence: Option<String>,
    finished: bool,
}

/// The read state of every shard.
#[derive(Debug, Default)]
pub(crate) struct ShardTracker {
    shards: BTreeMap<String, ShardState>,
}

impl ShardTracker {
    /// Starts tracking before a bootstrap scan: shards closed now hold only changes
    /// the scan will see; open shards are read from `open_iterators` (taken at
    /// `Latest` before the scan began).
    pub(crate) fn before_scan(shards: &[ShardInfo], open_iterators: Vec<(String, String)>) -> Self {
        let mut tracker = ShardTracker::default();
        for shard in shards {
            tracker.shards.insert(
                shard.id.clone(),
                ShardState {
                    parent: shard.parent.clone(),
                    start: Position::TrimHorizon,
                    iterator: None,
                    last_sequence: None,
                    finished: shard.closed,
                },
            );
        }
        for (id, iterator) in open_iterators {
            if let Some(state) = tracker.shards.get_mut(&id) {
                state.iterator = Some(iterator);
            }
        }
        tracker
    }

    /// Adds shards that appeared since (split children), read from their start.
    pub(crate) fn discover(&mut self, shards: &[ShardInfo]) -> usize {
        let mut added = 0;
        for shard in shards {
            self.shards.entry(shard.id.clone()).or_insert_with(|| {
                added += 1;
                ShardState {
                    parent: shard.parent.clone(),
                    start: Position::TrimHorizon,
                    iterator: None,
                    last_sequence: None,
                    finished: false,
                }
            });
        }
        added
    }

    /// Shards to read now: not finished, and whose parent is finished or unknown.
    pub(crate) fn readable(&self) -> Vec<String> {
        self.shards
            .iter()
            .filter(|(_, s)| !s.finished)
            .filter(|(_, s)| {
                s.parent
                    .as_ref()
                    .and_then(|p| self.shards.get(p))
                    .is_none_or(|parent| parent.finished)
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The shard's current iterator, if it has a usable one.
    pub(crate) fn iterator(&self, shard: &str) -> Option<&str> {
        self.shards.get(shard)?.iterator.as_deref()
    }

    /// Where a new iterator for the shard must start: after the last record read,
    /// else the shard's start.
    pub(crate) fn resume_position(&self, shard: &str) -> Position {
        match self.shards.get(shard) {
            Some(ShardState {
                last_sequence: Some(seq),
                ..
            }) => Position::After(seq.clone()),
            Some(state) => state.start.clone(),
            None => Position::TrimHorizon,
        }
    }

    /// Stores a fresh iterator.
    pub(crate) fn set_iterator(&mut self, shard: &str, iterator: String) {
        if let Some(state) = self.shards.get_mut(shard) {
            state.iterator = Some(iterator);
        }
    }

    /// Drops an expired iterator; the next read resumes from the last record.
    pub(crate) fn expire(&mut self, shard: &str) {
        if let Some(state) = self.shards.get_mut(shard) {
            state.iterator = None;
        }
    }

    /// Records a page read: its last sequence number and the next iterator; no next
    /// iterator means the shard is closed and fully read.
    pub(crate) fn advance(&mut self, shard: &str, last: Option<String>, next: Option<String>) {
        if let Some(state) = self.shards.get_mut(shard) {
            if last.is_some() {
                state.last_sequence = last;
            }
            state.finished = next.is_none();
            state.iterator = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(id: &str, parent: Option<&str>, closed: bool) -> ShardInfo {
        ShardInfo {
            id: id.into(),
            parent: parent.map(Into::into),
            closed,
        }
    }

    #[test]
    fn closed_shards_at_bootstrap_are_covered_by_the_scan() {
        let t = ShardTracker::before_scan(
            &[shard("a", None, true), shard("b", Some("a"), false)],
            vec![("b".into(), "it-b".into())],
        );
        assert_eq!(t.readable(), ["b"]);
        assert_eq!(t.iterator("b"), Some("it-b"));
    }

    #[test]
    fn children_wait_for_their_parent_to_be_read_to_its_end() {
        let mut t =
            ShardTracker::before_scan(&[shard("a", None, false)], vec![("a".into(), "it".into())]);
        assert_eq!(
            t.discover(&[
                shard("a", None, true),
                shard("b", Some("a"), false),
                shard("c", Some("a"), false)
            ]),
            2
        );
        assert_eq!(t.readable(), ["a"], "children wait");
        t.advance("a", Some("10".into()), Some("it-2".into()));
        assert_eq!(t.readable(), ["a"]);
        t.advance("a", Some("12".into()), None);
        assert_eq!(t.readable(), ["b", "c"], "parent done: both children");
        assert_eq!(
            t.resume_position("b"),
            Position::TrimHorizon,
            "new shards read from their start"
        );
    }

    #[test]
    fn parents_trimmed_from_the_stream_do_not_block() {
        let mut t = ShardTracker::default();
        t.discover(&[shard("orphan", Some("long-gone"), false)]);
        assert_eq!(t.readable(), ["orphan"]);
    }

    #[test]
    fn expired_iterators_resume_after_the_last_record() {
        let mut t =
            ShardTracker::before_scan(&[shard("a", None, false)], vec![("a".into(), "it".into())]);
        t.expire("a");
        assert_eq!(t.iterator("a"), None);
        assert_eq!(
            t.resume_position("a"),
            Position::TrimHorizon,
            "nothing read yet: from the start, by version"
        );
        t.set_iterator("a", "it-2".into());
        t.advance("a", Some("42".into()), Some("it-3".into()));
        t.expire("a");
        assert_eq!(t.resume_position("a"), Position::After("42".into()));
        t.advance("a", None, Some("it-4".into()));
        assert_eq!(
            t.resume_position("a"),
            Position::After("42".into()),
            "empty pages keep the position"
        );
    }
}
