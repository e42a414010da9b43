//! The user store in Redis, from each worker's own executor.
//!
//! Every worker keeps a few connections of its own (no cross-core locking); a
//! request takes one for its single round trip (`MGET` of every capped
//! candidate's counter and, when asked, `ZRANGEBYSCORE` of the user's live
//! first-party segments, pipelined) and gives it back. A failed or timed-out round trip drops its connection, and
//! repeated failures mark Redis down for a capped exponential backoff, so a dead
//! Redis costs nothing per request: the policy decides at once. With Redis
//! Cluster, one user's counters share a slot, so a request still makes one round
//! trip, to the node serving that slot (see [`cluster`]).

mod cluster;
mod connection;
pub(crate) mod load;
mod tls;

use std::cell::{Cell, RefCell};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use redis::Value;
use tern_engine::audience::SegmentKey;
use tern_engine::notice::NoticeId;
use tern_engine::user::UserKey;

use self::cluster::{Redirect, SlotRoutes, key_slot};
use self::connection::Connection;
pub(crate) use self::tls::RedisTls;
use super::{CapError, counter_key, notice_key, segments_key};
use crate::backoff::Backoff;
use crate::error::{ConfigError, StartError};
use crate::freq_cap::config::RedisConfig;
use crate::lifecycle::Background;

/// How often the Redis host name is resolved again (endpoints move on failover).
const RESOLVE_EVERY: Duration = Duration::from_secs(10);
/// Redirects followed for one command (a slot moving while it migrates takes two).
const MAX_REDIRECTS: usize = 3;
/// Most first-party segments read for one user; a user in more is judged by
/// these (the loader writes at most this many per line).
pub(crate) const MAX_USER_SEGMENTS: usize = 256;

/// The Redis address, re-resolved in the background and shared by all workers.
#[derive(Debug)]
pub(crate) struct RedisEndpoint {
    addrs: ArcSwap<Vec<SocketAddr>>,
}

impl RedisEndpoint {
    /// Resolves `host:port` now (an error stops the start, naming
    /// `frequency_cap.redis.addr`) and starts the `redis-resolve` service that keeps
    /// resolving it (endpoints move on failover).
    pub(crate) fn start(host_port: &str) -> Result<(Arc<RedisEndpoint>, Background), StartError> {
        let first = RedisEndpoint::resolve(host_port)?;
        let endpoint = Arc::new(RedisEndpoint {
            addrs: ArcSwap::from_pointee(first),
        });
        let shared = Arc::clone(&endpoint);
        let host_port = host_port.to_owned();
        let resolver = Background::spawn("redis-resolve", move |signal| {
            while signal.sleep(RESOLVE_EVERY) {
                if let Ok(addrs) = host_port.to_socket_addrs() {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    if !addrs.is_empty() {
                        shared.addrs.store(Arc::new(addrs));
                    }
                }
            }
        })?;
        Ok((endpoint, resolver))
    }

    /// Resolves `host:port` once; an error names `frequency_cap.redis.addr`.
    pub(crate) fn resolve(host_port: &str) -> Result<Vec<SocketAddr>, ConfigError> {
        let addrs: Vec<SocketAddr> = host_port
            .to_socket_addrs()
            .map_err(|e| {
                ConfigError::new(
                    "frequency_cap.redis.addr",
                    format!("cannot resolve {host_port}: {e}"),
                )
            })?
            .collect();
        if addrs.is_empty() {
            return Err(ConfigError::new(
                "frequency_cap.redis.addr",
                format!("{host_port} resolves to no address"),
            ));
        }
        Ok(addrs)
    }

    fn addr(&self) -> Option<SocketAddr> {
        self.addrs.load().first().copied()
    }
}

/// One worker's Redis client.
pub(crate) struct RedisCaps {
    endpoint: Arc<RedisEndpoint>,
    config: RedisConfig,
    tls: Option<Arc<RedisTls>>,
    /// Open connections not in use, with the node each goes to.
    idle: RefCell<Vec<(SocketAddr, Connection)>>,
    routes: RefCell<SlotRoutes>,
    open: Cell<usize>,
    failures: Cell<u32>,
    backoff: RefCell<Backoff>,
    down_until: Cell<Option<Instant>>,
}

impl RedisCaps {
    pub(crate) fn new(
        endpoint: Arc<RedisEndpoint>,
        config: RedisConfig,
        tls: Option<Arc<RedisTls>>,
    ) -> RedisCaps {
        let backoff = Backoff::new(
            Duration::from_millis(config.retry_initial_ms),
            Duration::from_millis(config.retry_max_ms),
        );
        RedisCaps {
            endpoint,
            config,
            tls,
            idle: RefCell::new(Vec::new()),
            routes: RefCell::new(SlotRoutes::default()),
            open: Cell::new(0),
            failures: Cell::new(0),
            backoff: RefCell::new(backoff),
            down_until: Cell::new(None),
        }
    }

    /// Reads the counters of the campaigns `ids` for `user` (missing counters are
    /// 0) into `counts` and, when `segments` is given, the keys of the user's
    /// first-party segments live at `now_unix_s` into it, in one round trip;
    /// returns how long it took and whether the segments are all of the user's
    /// (at most [`MAX_USER_SEGMENTS`] are read: a full answer may be cut short).
    pub(crate) async fn lookup(
        &self,
        user: &UserKey,
        ids: impl Iterator<Item = &str>,
        segments: Option<&mut Vec<SegmentKey>>,
        now_unix_s: u64,
        deadline: Instant,
        counts: &mut Vec<u32>,
    ) -> Result<(Duration, bool), CapError> {
        let mut commands = Vec::with_capacity(2);
        let mut mget = redis::cmd("MGET");
        let mut key = Vec::with_capacity(64);
        let mut asked = 0;
        for id in ids {
            key.clear();
            counter_key(user, id, &mut key);
            mget.arg(&key[..]);
            asked += 1;
        }
        if asked > 0 {
            commands.push(mget);
        }
        if segments.is_none() && asked == 0 {
            return Ok((Duration::ZERO, true));
        }
        if segments.is_some() {
            key.clear();
            segments_key(user, &mut key);
            // Memberships end at their score: live ones score above now.
            let mut live = redis::cmd("ZRANGEBYSCORE");
            live.arg(&key[..])
                .arg(format!("({now_unix_s}"))
                .arg("+inf")
                .arg("LIMIT")
                .arg(0)
                .arg(MAX_USER_SEGMENTS);
            commands.push(live);
        }
        // Every key carries the user as its hash tag: one slot for all of them.
        let (replies, took) = self.round_trip(key_slot(&key), &commands, deadline).await?;
        let mut replies = replies.into_iter();
        if asked > 0 {
            let Some(Value::Array(values)) = replies.next() else {
                return Err(CapError::Unavailable("MGET did not answer an array".into()));
            };
            counts.extend(values.iter().map(counter_value));
            if counts.len() != asked {
                return Err(CapError::Unavailable(
                    "MGET answered the wrong number of values".into(),
                ));
            }
        }
        if let Some(segments) = segments {
            let Some(Value::Array(members)) = replies.next() else {
                return Err(CapError::Unavailable(
                    "ZRANGEBYSCORE did not answer an array".into(),
                ));
            };
            segments.extend(members.iter().filter_map(|member| match member {
                Value::BulkString(id) => std::str::from_utf8(id).ok().map(SegmentKey::first_party),
                _ => None,
            }));
            return Ok((took, members.len() < MAX_USER_SEGMENTS));
        }
        Ok((took, true))
    }

    /// Counts one impression: creates the counter with its window as expiry when it
    /// does not exist, then increments it (the increment keeps the expiry).
    pub(crate) async fn record(
        &self,
        user: &UserKey,
        campaign_id: &str,
        window_secs: u64,
        deadline: Instant,
    ) -> Result<Duration, CapError> {
        let mut key = Vec::with_capacity(64);
        counter_key(user, campaign_id, &mut key);
        let mut create = redis::cmd("SET");
        create
            .arg(&key[..])
            .arg(0)
            .arg("EX")
            .arg(window_secs.max(1))
            .arg("NX");
        let mut increment = redis::cmd("INCR");
        increment.arg(&key[..]);
        self.round_trip(key_slot(&key), &[create, increment], deadline)
            .await
            .map(|(_, took)| took)
    }

    /// Claims billing notice `id` for this bidder for `ttl_s` seconds (`SET NX`):
    /// true when no bidder of the fleet had claimed it.
    pub(crate) async fn claim_notice(
        &self,
        id: &NoticeId,
        ttl_s: u64,
        deadline: Instant,
    ) -> Result<bool, CapError> {
        let mut key = Vec::with_capacity(40);
        notice_key(id, &mut key);
        let mut claim = redis::cmd("SET");
        claim
            .arg(&key[..])
            .arg(1)
            .arg("EX")
            .arg(ttl_s.max(1))
            .arg("NX");
        let (replies, _) = self.round_trip(key_slot(&key), &[claim], deadline).await?;
        match replies.first() {
            Some(Value::Okay) => Ok(true),
            Some(Value::Nil) => Ok(false),
            other => Err(CapError::Unavailable(format!("SET NX answered {other:?}"))),
        }
    }

    /// Sends `commands` (all on keys of `slot`) in one round trip to the node
    /// serving the slot, following cluster redirects; returns their replies and
    /// how long it all took.
    async fn round_trip(
        &self,
        slot: u16,
        commands: &[redis::Cmd],
        deadline: Instant,
    ) -> Result<(Vec<Value>, Duration), CapError> {
        let started = Instant::now();
        let mut node = self.routes.borrow().node(slot);
        let mut asking = false;
        for _ in 0..=MAX_REDIRECTS {
            let addr = match node {
                Some(addr) => addr,
                None => self
                    .endpoint
                    .addr()
                    .ok_or_else(|| CapError::Unavailable("address did not resolve".into()))?,
            };
            // A node importing the slot serves a command only right after `ASKING`.
            let write = |out: &mut Vec<u8>| {
                for command in commands {
                    if asking {
                        redis::cmd("ASKING").write_packed_command(out);
                    }
                    command.write_packed_command(out);
                }
            };
            let replies = commands.len() * if asking { 2 } else { 1 };
            let mut connection = match self.checkout(addr, deadline).await {
                Ok(connection) => connection,
                Err(e) => {
                    // A node learned from a redirect may be gone: ask the endpoint next.
                    self.routes.borrow_mut().forget(slot);
                    return Err(e);
                }
            };
            let sent = connection.round_trip(write, replies, deadline).await;
            let mut values = match sent {
                Ok(values) => values,
                Err(e) => {
                    self.discard(connection);
                    self.routes.borrow_mut().forget(slot);
                    return Err(e);
                }
            };
            self.failures.set(0);
            self.backoff.borrow_mut().reset();
            self.idle.borrow_mut().push((addr, connection));
            if asking {
                // Drop each `ASKING`'s own `OK`.
                values = values.into_iter().skip(1).step_by(2).collect();
            }
            match values.first().and_then(Redirect::of) {
                None => {}
                Some(Ok(Redirect::Moved { slot: moved, to })) => {
                    self.routes.borrow_mut().learn(moved, to);
                    (node, asking) = (Some(to), false);
                    continue;
                }
                Some(Ok(Redirect::Ask { to })) => {
                    (node, asking) = (Some(to), true);
                    continue;
                }
                Some(Err(reason)) => return Err(CapError::Unavailable(reason)),
            }
            if let Some(Value::ServerError(e)) =
                values.iter().find(|v| matches!(v, Value::ServerError(_)))
            {
                return Err(CapError::Unavailable(format!("server error: {e:?}")));
            }
            return Ok((values, started.elapsed()));
        }
        Err(CapError::Unavailable(format!(
            "more than {MAX_REDIRECTS} redirects for slot {slot}"
        )))
    }

    /// An idle connection to `addr`, or a new one.
    async fn checkout(&self, addr: SocketAddr, deadline: Instant) -> Result<Connection, CapError> {
        {
            let mut idle = self.idle.borrow_mut();
            if let Some(at) = idle.iter().rposition(|(to, _)| *to == addr) {
                return Ok(idle.swap_remove(at).1);
            }
            if self.open.get() >= self.config.connections_per_worker && !idle.is_empty() {
                // Room for this node: close the longest idle one to another node.
                drop(idle.remove(0));
                self.open.set(self.open.get() - 1);
            }
        }
        if let Some(until) = self.down_until.get() {
            if Instant::now() < until {
                return Err(CapError::Unavailable(
                    "marked down after recent failures".into(),
                ));
            }
            self.down_until.set(None);
        }
        if self.open.get() >= self.config.connections_per_worker {
            return Err(CapError::Busy);
        }
        let connect_deadline =
            deadline.min(Instant::now() + Duration::from_millis(self.config.connect_timeout_ms));
        self.open.set(self.open.get() + 1);
        match Connection::open(
            addr,
            self.tls.as_deref(),
            &self.config.username,
            &self.config.password,
            connect_deadline,
        )
        .await
        {
            Ok(connection) => Ok(connection),
            Err(e) => {
                self.open.set(self.open.get() - 1);
                self.mark_failure();
                Err(e)
            }
        }
    }

    fn discard(&self, connection: Connection) {
        drop(connection);
        self.open.set(self.open.get() - 1);
        self.mark_failure();
    }

    /// After failures in a row, Redis is not tried again for a while; the pause
    /// backs off from `retry_initial_ms` up to `retry_max_ms`.
    fn mark_failure(&self) {
        let failures = self.failures.get().saturating_add(1);
        self.failures.set(failures);
        if failures < 2 {
            // One failure (e.g. one slow reply) retries at once with a new connection.
            return;
        }
        let pause = self.backoff.borrow_mut().next_delay();
        self.down_until.set(Some(Instant::now() + pause));
    }
}

/// Reads `data[1..]` as a server's answer to `1 + data[0] % 3` pipelined
/// commands, as the client does: parsed by the `redis` crate, then each reply
/// looked at as a redirect, a server error, a counter and a notice claim. The
/// fuzz target of Redis replies (`bidder::fuzzing`); sockets, deadlines and
/// redirects between real nodes are tested against redis-server.
pub(crate) fn read_replies(data: &[u8]) {
    let Some((&count, input)) = data.split_first() else {
        return;
    };
    let count = 1 + usize::from(count % 3);
    let Ok(Some(values)) = connection::parse_replies(input, count) else {
        return;
    };
    let mut routes = SlotRoutes::default();
    for value in &values {
        if let Some(Ok(Redirect::Moved { slot, to })) = Redirect::of(value) {
            routes.learn(slot, to);
            assert_eq!(routes.node(slot), Some(to));
        }
        if let Value::Array(items) = value {
            let _ = items.iter().map(counter_value).max();
        }
        let _ = counter_value(value);
        let _ = format!("{value:?}");
    }
}

/// A counter as stored: absent (nil) is 0; unreadable values count as 0 too.
fn counter_value(value: &Value) -> u32 {
    match value {
        Value::Int(n) => u32::try_from(*n).unwrap_or(u32::MAX),
        Value::BulkString(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        Value::SimpleString(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_read_as_numbers_and_missing_ones_as_zero() {
        assert_eq!(counter_value(&Value::Nil), 0);
        assert_eq!(counter_value(&Value::BulkString(b"7".to_vec())), 7);
        assert_eq!(counter_value(&Value::Int(3)), 3);
        assert_eq!(
            counter_value(&Value::BulkString(b"99999999999".to_vec())),
            u32::MAX
        );
    }
}
