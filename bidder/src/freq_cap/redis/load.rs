//! Writing first-party segments into Redis for `bidder segments load`, and the
//! markers that make each dropped file load once across the fleet.
//!
//! A user's segments are the sorted set `sg:{<user>}` (member: segment id,
//! score: the Unix second the membership ends). Writing one user is
//!
//! ```text
//! ZREMRANGEBYSCORE key -inf <now>          drop ended memberships
//! ZADD key <now + ttl_s> <id> ...          add, or refresh the end of, each one
//! EXPIREAT key <latest end> NX             a new key lives as long as its longest
//! EXPIREAT key <latest end> GT             membership; a longer one extends it
//! ```
//!
//! or `DEL key` for an empty list (Redis 7.0 or later, for `NX`/`GT`). Many
//! users go in one pipeline: a batch is split by the node serving each key's
//! slot (learned from `MOVED`, else the endpoint), one pipeline a node. A user
//! answered with a redirect is sent again alone through the client's own round
//! trip, which follows `MOVED`/`ASK` and learns the route, so later batches go
//! straight to the right node.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use redis::Value;

use super::cluster::{Redirect, key_slot};
use super::{RedisCaps, RedisEndpoint, RedisTls};
use crate::error::ConfigError;
use crate::freq_cap::config::RedisConfig;
use crate::freq_cap::{CapError, UserSegments, segments_key};

/// Longest wait for one pipeline's replies.
const ROUND_TRIP_TIMEOUT: Duration = Duration::from_secs(30);
/// Tries of a pipeline whose connection failed before the batch fails.
const ATTEMPTS: u32 = 5;
/// Pause after the first failed try; doubles after each.
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Connections the loader may hold (batches in flight times nodes).
const CONNECTIONS: usize = 128;
/// Shortest wait for a new connection, milliseconds: the bid path's budget is
/// too short for a command-line tool across a network.
const MIN_CONNECT_TIMEOUT_MS: u64 = 2_000;

/// The loader's Redis client: the bidder's own (AUTH, TLS, cluster redirects),
/// made to write many users per round trip.
pub(crate) struct SegmentWriter {
    redis: RedisCaps,
}

/// What one batch wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Written {
    /// Users whose commands all succeeded.
    pub(crate) users: u64,
    /// Memberships those users were given.
    pub(crate) segments: u64,
    /// Users (positions in the batch) a server refused, with its error.
    pub(crate) failed: Vec<(usize, String)>,
}

/// Who holds a source's load marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Nobody did: this run holds it now.
    Claimed,
    /// The source was loaded.
    Done,
    /// Another run holds it (or one that crashed, until the marker expires).
    Held(String),
}

impl SegmentWriter {
    /// A client for `config` (resolved once; TLS and AUTH as the bidder's).
    pub(crate) fn new(config: &RedisConfig) -> Result<SegmentWriter, ConfigError> {
        let addrs = RedisEndpoint::resolve(&config.addr)?;
        let tls = RedisTls::from_config(config)?.map(Arc::new);
        let mut config = config.clone();
        config.connections_per_worker = CONNECTIONS;
        config.connect_timeout_ms = config.connect_timeout_ms.max(MIN_CONNECT_TIMEOUT_MS);
        let endpoint = Arc::new(RedisEndpoint {
            addrs: ArcSwap::from_pointee(addrs),
        });
        Ok(SegmentWriter {
            redis: RedisCaps::new(endpoint, config, tls),
        })
    }

    /// The server's version (`redis_version` of `INFO server`, which Valkey
    /// reports too).
    pub(crate) async fn server_version(&self) -> Result<String, CapError> {
        let mut info = redis::cmd("INFO");
        info.arg("server");
        let (replies, _) = self.redis.round_trip(0, &[info], deadline()).await?;
        let text = match replies.first() {
            Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
            Some(Value::VerbatimString { text, .. }) => text.clone(),
            other => return Err(CapError::Unavailable(format!("INFO answered {other:?}"))),
        };
        text.lines()
            .find_map(|line| line.strip_prefix("redis_version:"))
            .map(|version| version.trim().to_owned())
            .ok_or_else(|| CapError::Unavailable("INFO names no redis_version".into()))
    }

    /// Writes `users`, each membership ending `ttl_s` after `now_s` (Unix
    /// seconds). A user a server refuses is listed in [`Written::failed`]; `Err`
    /// when a node stayed unreachable through every retry (the users already
    /// written stay written: every command can be sent again).
    pub(crate) async fn write(
        &self,
        users: &[UserSegments],
        now_s: u64,
    ) -> Result<Written, CapError> {
        let keys = Keys::of(users);
        let mut written = Written::default();
        let mut todo: Vec<usize> = (0..users.len()).collect();
        let mut pause = FIRST_RETRY_PAUSE;
        for attempt in 1..=ATTEMPTS {
            let mut unsent = Vec::new();
            let mut last_error = None;
            for (node, group) in self.by_node(&keys, &todo)? {
                let write = |out: &mut Vec<u8>| {
                    for &at in &group {
                        write_user(out, keys.key(at), &users[at], now_s);
                    }
                };
                let replies = group.iter().map(|&at| reply_count(&users[at])).sum();
                match self.pipeline(node, write, replies).await {
                    Ok(values) => {
                        self.read_replies(users, &keys, &group, &values, now_s, &mut written)
                            .await;
                    }
                    Err(e) => {
                        let mut routes = self.redis.routes.borrow_mut();
                        for &at in &group {
                            // The node may be gone: ask the endpoint next time.
                            routes.forget(keys.slot(at));
                        }
                        unsent.extend(group);
                        last_error = Some(e);
                    }
                }
            }
            match last_error {
                None => return Ok(written),
                Some(e) if attempt == ATTEMPTS => return Err(e),
                Some(_) => {}
            }
            monoio::time::sleep(pause).await;
            pause *= 2;
            todo = unsent;
        }
        Ok(written)
    }

    /// Marks `marker` held by this run for `ttl_s` seconds unless someone holds
    /// it (`SET NX GET`): says who did.
    pub(crate) async fn claim(&self, marker: &str, ttl_s: u64) -> Result<Claim, CapError> {
        let mut set = redis::cmd("SET");
        set.arg(marker)
            .arg("loading")
            .arg("NX")
            .arg("GET")
            .arg("EX")
            .arg(ttl_s.max(1));
        let (replies, _) = self
            .redis
            .round_trip(key_slot(marker.as_bytes()), &[set], deadline())
            .await?;
        match replies.first() {
            Some(Value::Nil) => Ok(Claim::Claimed),
            Some(Value::BulkString(held)) if held == b"done" => Ok(Claim::Done),
            Some(Value::BulkString(held)) => {
                Ok(Claim::Held(String::from_utf8_lossy(held).into_owned()))
            }
            other => Err(CapError::Unavailable(format!(
                "SET NX GET answered {other:?}"
            ))),
        }
    }

    /// Sets `marker` to `value` for `ttl_s` seconds.
    pub(crate) async fn mark(&self, marker: &str, value: &str, ttl_s: u64) -> Result<(), CapError> {
        let mut set = redis::cmd("SET");
        set.arg(marker).arg(value).arg("EX").arg(ttl_s.max(1));
        self.marker_command(marker, set).await
    }

    /// Keeps `marker` for `ttl_s` more seconds (a long load outliving its claim).
    pub(crate) async fn extend(&self, marker: &str, ttl_s: u64) -> Result<(), CapError> {
        let mut expire = redis::cmd("EXPIRE");
        expire.arg(marker).arg(ttl_s.max(1));
        self.marker_command(marker, expire).await
    }

    /// Removes `marker` (a load that failed gives its source back at once).
    pub(crate) async fn release(&self, marker: &str) -> Result<(), CapError> {
        let mut del = redis::cmd("DEL");
        del.arg(marker);
        self.marker_command(marker, del).await
    }

    async fn marker_command(&self, marker: &str, command: redis::Cmd) -> Result<(), CapError> {
        let slot = key_slot(marker.as_bytes());
        self.redis
            .round_trip(slot, &[command], deadline())
            .await
            .map(|_| ())
    }

    /// `todo` (positions in the batch) grouped by the node serving each key.
    fn by_node(
        &self,
        keys: &Keys,
        todo: &[usize],
    ) -> Result<Vec<(SocketAddr, Vec<usize>)>, CapError> {
        let endpoint = self
            .redis
            .endpoint
            .addr()
            .ok_or_else(|| CapError::Unavailable("address did not resolve".into()))?;
        let routes = self.redis.routes.borrow();
        let mut groups: Vec<(SocketAddr, Vec<usize>)> = Vec::new();
        for &at in todo {
            let node = routes.node(keys.slot(at)).unwrap_or(endpoint);
            match groups.iter_mut().find(|(to, _)| *to == node) {
                Some((_, group)) => group.push(at),
                None => groups.push((node, vec![at])),
            }
        }
        Ok(groups)
    }

    /// Sends what `write` packs to `node` on one connection and reads `replies`
    /// replies.
    async fn pipeline(
        &self,
        node: SocketAddr,
        write: impl FnOnce(&mut Vec<u8>),
        replies: usize,
    ) -> Result<Vec<Value>, CapError> {
        let deadline = deadline();
        let mut connection = self.redis.checkout(node, deadline).await?;
        match connection.round_trip(write, replies, deadline).await {
            Ok(values) => {
                self.redis.failures.set(0);
                self.redis.backoff.borrow_mut().reset();
                self.redis.idle.borrow_mut().push((node, connection));
                Ok(values)
            }
            Err(e) => {
                self.redis.discard(connection);
                Err(e)
            }
        }
    }

    /// Counts each user of `group` by its replies (in `values`, in order); a
    /// user redirected elsewhere is sent again alone.
    async fn read_replies(
        &self,
        users: &[UserSegments],
        keys: &Keys,
        group: &[usize],
        values: &[Value],
        now_s: u64,
        written: &mut Written,
    ) {
        let mut redirected = Vec::new();
        let mut next = 0;
        for &at in group {
            let count = reply_count(&users[at]);
            let replies = values.get(next..next + count).unwrap_or_default();
            next += count;
            match user_outcome(replies) {
                Outcome::Written => written.add(&users[at]),
                Outcome::Redirected => redirected.push(at),
                Outcome::Refused(why) => written.failed.push((at, why)),
            }
        }
        for at in redirected {
            let mut commands: Vec<redis::Cmd> = Vec::with_capacity(4);
            write_user(&mut commands, keys.key(at), &users[at], now_s);
            match self
                .redis
                .round_trip(keys.slot(at), &commands, deadline())
                .await
            {
                Ok(_) => written.add(&users[at]),
                Err(CapError::Unavailable(why)) => written.failed.push((at, why)),
                Err(e) => written.failed.push((at, e.to_string())),
            }
        }
    }
}

impl Written {
    fn add(&mut self, user: &UserSegments) {
        self.users += 1;
        self.segments += user.segments.len() as u64;
    }
}

fn deadline() -> Instant {
    Instant::now() + ROUND_TRIP_TIMEOUT
}

/// The keys of a batch's users, in one buffer, with their slots.
struct Keys {
    bytes: Vec<u8>,
    /// (end in `bytes`, slot) of each user's key.
    ends: Vec<(usize, u16)>,
}

impl Keys {
    fn of(users: &[UserSegments]) -> Keys {
        let mut bytes = Vec::with_capacity(users.len() * 40);
        let mut ends = Vec::with_capacity(users.len());
        for user in users {
            let start = bytes.len();
            segments_key(&user.user, &mut bytes);
            ends.push((bytes.len(), key_slot(&bytes[start..])));
        }
        Keys { bytes, ends }
    }

    fn key(&self, at: usize) -> &[u8] {
        let start = at.checked_sub(1).map_or(0, |before| self.ends[before].0);
        &self.bytes[start..self.ends[at].0]
    }

    fn slot(&self, at: usize) -> u16 {
        self.ends[at].1
    }
}

/// What happened to one user of a pipeline.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Written,
    /// Another node serves (or is importing) the key's slot.
    Redirected,
    /// A server error (or missing replies).
    Refused(String),
}

fn user_outcome(replies: &[Value]) -> Outcome {
    if replies.is_empty() {
        return Outcome::Refused("no reply".to_owned());
    }
    if replies.iter().any(|reply| Redirect::of(reply).is_some()) {
        return Outcome::Redirected;
    }
    match replies.iter().find_map(|reply| match reply {
        Value::ServerError(e) => Some(e),
        _ => None,
    }) {
        Some(e) => Outcome::Refused(format!(
            "server error: {} {}",
            e.code(),
            e.details().unwrap_or_default()
        )),
        None => Outcome::Written,
    }
}

/// Replies the commands of [`write_user`] get.
fn reply_count(user: &UserSegments) -> usize {
    if user.segments.is_empty() { 1 } else { 4 }
}

/// Where [`write_user`] puts commands: packed into a pipeline's bytes, or as
/// commands for the client's round trip.
trait Commands {
    /// Starts a command of `args` arguments (its name included).
    fn command(&mut self, args: usize);
    /// Adds an argument to the command started last.
    fn arg(&mut self, arg: &[u8]);
}

impl Commands for Vec<u8> {
    fn command(&mut self, args: usize) {
        self.push(b'*');
        self.extend_from_slice(itoa::Buffer::new().format(args).as_bytes());
        self.extend_from_slice(b"\r\n");
    }

    fn arg(&mut self, arg: &[u8]) {
        self.push(b'$');
        self.extend_from_slice(itoa::Buffer::new().format(arg.len()).as_bytes());
        self.extend_from_slice(b"\r\n");
        self.extend_from_slice(arg);
        self.extend_from_slice(b"\r\n");
    }
}

impl Commands for Vec<redis::Cmd> {
    fn command(&mut self, _args: usize) {
        self.push(redis::Cmd::new());
    }

    fn arg(&mut self, arg: &[u8]) {
        if let Some(command) = self.last_mut() {
            command.arg(arg);
        }
    }
}

/// The commands that write `user` at `key` (see the module's head).
fn write_user(out: &mut impl Commands, key: &[u8], user: &UserSegments, now_s: u64) {
    if user.segments.is_empty() {
        out.command(2);
        out.arg(b"DEL");
        out.arg(key);
        return;
    }
    let mut number = itoa::Buffer::new();
    out.command(4);
    out.arg(b"ZREMRANGEBYSCORE");
    out.arg(key);
    out.arg(b"-inf");
    out.arg(number.format(now_s).as_bytes());
    out.command(2 + 2 * user.segments.len());
    out.arg(b"ZADD");
    out.arg(key);
    let mut latest_end_s = now_s;
    for (id, ttl_s) in &user.segments {
        let end_s = now_s.saturating_add(*ttl_s);
        latest_end_s = latest_end_s.max(end_s);
        out.arg(number.format(end_s).as_bytes());
        out.arg(id.as_bytes());
    }
    for condition in [&b"NX"[..], b"GT"] {
        out.command(4);
        out.arg(b"EXPIREAT");
        out.arg(key);
        out.arg(number.format(latest_end_s).as_bytes());
        out.arg(condition);
    }
}

#[cfg(test)]
mod tests {
    use tern_engine::user::UserKey;

    use super::*;

    fn user(segments: &[(&str, u64)]) -> UserSegments {
        UserSegments {
            user: UserKey([7; 16]),
            segments: segments
                .iter()
                .map(|(id, t)| ((*id).to_owned(), *t))
                .collect(),
        }
    }

    fn packed(user: &UserSegments) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_user(&mut bytes, b"sg:{k}", user, 1_000);
        bytes
    }

    #[test]
    fn a_user_is_pruned_added_and_given_its_longest_end_as_expiry() {
        let text = String::from_utf8(packed(&user(&[("a", 60), ("b", 500)]))).unwrap();
        let commands: Vec<String> = text
            .split("*")
            .filter(|c| !c.is_empty())
            .map(|c| {
                c.split("\r\n")
                    .skip(1)
                    .filter(|part| !part.starts_with('$') && !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            commands,
            [
                "ZREMRANGEBYSCORE sg:{k} -inf 1000",
                "ZADD sg:{k} 1060 a 1500 b",
                "EXPIREAT sg:{k} 1500 NX",
                "EXPIREAT sg:{k} 1500 GT",
            ]
        );
        assert_eq!(reply_count(&user(&[("a", 60)])), 4);
    }

    #[test]
    fn an_empty_list_deletes_the_key() {
        assert_eq!(packed(&user(&[])), b"*2\r\n$3\r\nDEL\r\n$6\r\nsg:{k}\r\n");
        assert_eq!(reply_count(&user(&[])), 1);
    }

    #[test]
    fn pipelined_bytes_are_the_commands_the_client_would_pack() {
        let user = user(&[("seg-1", 86_400), ("x", 1)]);
        let mut commands: Vec<redis::Cmd> = Vec::new();
        write_user(&mut commands, b"sg:{k}", &user, 1_000);
        let mut expected = Vec::new();
        for command in &commands {
            command.write_packed_command(&mut expected);
        }
        assert_eq!(packed(&user), expected);
        // The RESP the pipeline sends is what a server parses back.
        assert_eq!(commands.len(), 4);
    }

    #[test]
    fn replies_sort_users_into_written_redirected_and_refused() {
        let parse = |text: &[u8]| redis::parse_redis_value(text).unwrap();
        let ok = [Value::Int(0), Value::Int(2), Value::Int(1), Value::Int(0)];
        assert_eq!(user_outcome(&ok), Outcome::Written);
        let moved = parse(b"-MOVED 3999 127.0.0.1:6381\r\n");
        assert_eq!(user_outcome(&[moved.clone(), moved]), Outcome::Redirected);
        let ask = parse(b"-ASK 3999 127.0.0.1:6381\r\n");
        assert_eq!(user_outcome(&[ask]), Outcome::Redirected);
        let wrong =
            parse(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
        let Outcome::Refused(why) = user_outcome(&[Value::Int(0), wrong]) else {
            panic!("a server error refuses the user");
        };
        assert_eq!(
            why,
            "server error: WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        assert_eq!(user_outcome(&[]), Outcome::Refused("no reply".into()));
    }

    #[test]
    fn keys_and_slots_are_kept_per_user() {
        let users = [
            UserSegments {
                user: UserKey([1; 16]),
                segments: vec![],
            },
            UserSegments {
                user: UserKey([2; 16]),
                segments: vec![],
            },
        ];
        let keys = Keys::of(&users);
        for (at, user) in users.iter().enumerate() {
            let mut key = Vec::new();
            segments_key(&user.user, &mut key);
            assert_eq!(keys.key(at), key);
            assert_eq!(keys.slot(at), key_slot(&key));
        }
    }
}
