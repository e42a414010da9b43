//! The user store: frequency caps (how many times one user has seen each
//! campaign in its window) and first-party segments (the audiences we know the
//! user is in, `docs/segments.md`).
//!
//! The bid path asks once per request, for every candidate campaign whose cap or
//! first-party segment rules can change the outcome, inside a deadline carved
//! out of the request's `tmax`: counters and segments come back in one round
//! trip. An impression notice counts one more. Two stores answer the same
//! questions: an in-process one for the embedded default (segments loaded from
//! `segments.file`), and Redis (ElastiCache in production) shared by the fleet
//! (segments written by `bidder segments load`).
//!
//! Keys are `fc:{<user>}:<campaign>`: the braces are a Redis Cluster hash tag, so
//! every counter of one user lives in one slot and one `MGET` reads them all. A
//! counter is created with its window as expiry and incremented after that, so a
//! window starts with the first impression and ends `window_secs` later.
//!
//! Being the state the fleet shares per user and impression, the store also
//! decides which bidder counts a billing notice sent to several of them
//! ([`CapStore::claim_notice`], keys `bn:<notice id>`): each impression is
//! billed once fleet-wide, not once per bidder that received a copy.

pub mod config;
mod local;
mod local_segments;
pub(crate) mod redis;

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use tern_engine::decision::StoreQuery;
use tern_engine::notice::NoticeId;
use tern_engine::snapshot::Snapshot;
use tern_engine::user::UserKey;

pub(crate) use local::LocalCaps;
pub(crate) use local_segments::LocalSegments;
pub(crate) use redis::{RedisCaps, RedisEndpoint, RedisTls, read_replies};

/// One user's first-party segments as the stores take them (a line of a
/// segments file, `segments::file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserSegments {
    /// Who: the key of the line's identifier.
    pub(crate) user: UserKey,
    /// (segment id, lifetime in seconds from now), each id once (the last
    /// mention wins); empty: remove every segment of the user.
    pub(crate) segments: Vec<(String, u64)>,
}

/// Why a store could not answer in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CapError {
    /// The deadline passed first.
    #[error("frequency cap store timed out")]
    Timeout,
    /// The store is unreachable (or marked down after recent failures).
    #[error("frequency cap store unavailable: {0}")]
    Unavailable(String),
    /// Every connection of this worker is in use.
    #[error("no free connection to the frequency cap store")]
    Busy,
}

/// How long the store took to answer: the Redis round trip, or `None` for the
/// in-process store.
pub(crate) type RoundTrip = Option<std::time::Duration>;

/// What a [`CapStore::lookup`] did besides filling its buffers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lookup {
    /// How long it took.
    pub(crate) round_trip: RoundTrip,
    /// Whether the segments read are all of the user's (Redis answers at most
    /// `redis::MAX_USER_SEGMENTS`: an answer that long may be cut short).
    pub(crate) segments_complete: bool,
}

/// The store a worker uses.
pub(crate) enum CapStore {
    /// In this process (the embedded default).
    Local(Arc<LocalCaps>, Arc<LocalSegments>),
    /// Redis, through this worker's own connections.
    Redis(Rc<RedisCaps>),
}

impl CapStore {
    /// Answers `query` about `user`: the impressions seen, in its current
    /// window, of each queried campaign (positions in `snapshot`), in order, and
    /// when asked, the user's first-party segments live at `now_unix_s` — in one
    /// round trip.
    pub(crate) async fn lookup(
        &self,
        user: &UserKey,
        snapshot: &Snapshot,
        query: StoreQuery<'_>,
        now_unix_s: u64,
        deadline: Instant,
    ) -> Result<Lookup, CapError> {
        let StoreQuery {
            caps,
            counts,
            segments,
        } = query;
        counts.clear();
        let ids = caps
            .iter()
            .map(|&position| snapshot.campaigns()[position as usize].id.as_str());
        match self {
            CapStore::Local(local, local_segments) => {
                counts.extend(ids.map(|id| local.count(user, id)));
                if let Some(segments) = segments {
                    local_segments.read(user, now_unix_s, segments);
                }
                Ok(Lookup {
                    round_trip: None,
                    segments_complete: true,
                })
            }
            CapStore::Redis(redis) => redis
                .lookup(user, ids, segments, now_unix_s, deadline, counts)
                .await
                .map(|(took, segments_complete)| Lookup {
                    round_trip: Some(took),
                    segments_complete,
                }),
        }
    }

    /// Whether this bidder is the first of the fleet to count billing notice `id`
    /// (claimed for `ttl_s`). The in-process store has no fleet to ask: the
    /// bidder's own de-duplication has already answered.
    pub(crate) async fn claim_notice(
        &self,
        id: &NoticeId,
        ttl_s: u64,
        deadline: Instant,
    ) -> Result<bool, CapError> {
        match self {
            CapStore::Local(..) => Ok(true),
            CapStore::Redis(redis) => redis.claim_notice(id, ttl_s, deadline).await,
        }
    }

    /// Counts one impression of `campaign_id` for `user`.
    pub(crate) async fn record(
        &self,
        user: &UserKey,
        campaign_id: &str,
        window_secs: u64,
        deadline: Instant,
    ) -> Result<RoundTrip, CapError> {
        match self {
            CapStore::Local(local, _) => {
                local.record(user, campaign_id, window_secs);
                Ok(None)
            }
            CapStore::Redis(redis) => redis
                .record(user, campaign_id, window_secs, deadline)
                .await
                .map(Some),
        }
    }
}

/// Appends the claim key of billing notice `id` to `out`.
pub(crate) fn notice_key(id: &NoticeId, out: &mut Vec<u8>) {
    use std::io::Write as _;
    let _ = out.write_all(b"bn:");
    for byte in id {
        let _ = write!(out, "{byte:02x}");
    }
}

/// Appends the counter key of (`user`, `campaign_id`) to `out`.
pub(crate) fn counter_key(user: &UserKey, campaign_id: &str, out: &mut Vec<u8>) {
    use std::io::Write as _;
    let _ = write!(out, "fc:{{{user}}}:{campaign_id}");
}

/// Appends the key of `user`'s first-party segments to `out`: `sg:{<user>}`, a
/// sorted set of segment ids scored by when each membership ends (Unix
/// seconds). The hash tag is the counters' (`counter_key`): one slot, one round
/// trip for both.
pub(crate) fn segments_key(user: &UserKey, out: &mut Vec<u8>) {
    use std::io::Write as _;
    let _ = write!(out, "sg:{{{user}}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_put_one_user_in_one_cluster_slot() {
        let user = UserKey([0xab; 16]);
        let mut a = Vec::new();
        let mut b = Vec::new();
        counter_key(&user, "c1", &mut a);
        counter_key(&user, "c2", &mut b);
        let tag = |key: &[u8]| {
            let text = std::str::from_utf8(key).unwrap().to_owned();
            let open = text.find('{').unwrap();
            let close = text.find('}').unwrap();
            text[open + 1..close].to_owned()
        };
        assert_eq!(
            std::str::from_utf8(&a).unwrap(),
            format!("fc:{{{user}}}:c1")
        );
        assert_eq!(tag(&a), tag(&b), "same hash tag, same slot");
        assert_eq!(tag(&a).len(), 32);
    }
}
