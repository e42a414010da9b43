//! Redis Cluster routing: a key's hash slot, the redirects (`MOVED`, `ASK`) a node
//! answers with when another node serves the slot, and the slots a worker has
//! learned live elsewhere.
//!
//! Nothing is fetched up front: a worker sends to the configured endpoint (a single
//! primary, or any node of a cluster) and follows what it is told, remembering
//! `MOVED` answers per slot. So one client serves both topologies, and a resharded
//! or failed-over cluster is followed as it answers.

use std::collections::HashMap;
use std::net::SocketAddr;

use redis::{ServerErrorKind, Value};

/// Hash slots in a Redis Cluster.
const SLOTS: u16 = 16384;

/// The cluster hash slot of `key`: CRC16 of its hash tag (the text between the
/// first `{` and the next `}`, when not empty), else of the whole key.
pub(crate) fn key_slot(key: &[u8]) -> u16 {
    let tag = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        rest.iter()
            .position(|&b| b == b'}')
            .filter(|&close| close > 0)
            .map(|close| &rest[..close])
    });
    crc16::State::<crc16::XMODEM>::calculate(tag.unwrap_or(key)) % SLOTS
}

/// Where a node sent a command instead of running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Redirect {
    /// The slot lives on `to` now: remember it.
    Moved { slot: u16, to: SocketAddr },
    /// The slot is migrating to `to`: ask there once (after `ASKING`), remember
    /// nothing.
    Ask { to: SocketAddr },
}

impl Redirect {
    /// The redirect `reply` is, if it is one; `Err` when it names a node by
    /// something other than an address (nothing to connect to without a lookup).
    pub(crate) fn of(reply: &Value) -> Option<Result<Redirect, String>> {
        let Value::ServerError(error) = reply else {
            return None;
        };
        let moved = match error.kind()? {
            ServerErrorKind::Moved => true,
            ServerErrorKind::Ask => false,
            _ => return None,
        };
        let details = error.details().unwrap_or_default();
        let mut parts = details.split_whitespace();
        let slot = parts.next().and_then(|s| s.parse::<u16>().ok());
        let to = parts.next().and_then(|a| a.parse::<SocketAddr>().ok());
        Some(match (slot, to) {
            (Some(slot), Some(to)) if moved => Ok(Redirect::Moved { slot, to }),
            (Some(_), Some(to)) => Ok(Redirect::Ask { to }),
            _ => Err(format!("cannot follow the redirect {details:?}")),
        })
    }
}

/// The slots one worker learned are served by another node than the endpoint.
#[derive(Debug, Default)]
pub(crate) struct SlotRoutes {
    moved: HashMap<u16, SocketAddr>,
}

impl SlotRoutes {
    /// The node serving `slot`, when a redirect said so.
    pub(crate) fn node(&self, slot: u16) -> Option<SocketAddr> {
        self.moved.get(&slot).copied()
    }

    /// Remembers that `to` serves `slot`.
    pub(crate) fn learn(&mut self, slot: u16, to: SocketAddr) {
        self.moved.insert(slot, to);
    }

    /// Forgets where `slot` lives (its node failed): the endpoint is asked again.
    pub(crate) fn forget(&mut self, slot: u16) {
        self.moved.remove(&slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_hash_tag() {
        // Reference values from the Redis Cluster specification (CRC16/XMODEM).
        assert_eq!(key_slot(b"123456789"), 0x31C3 % SLOTS);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"fc:{ab12}:c1"), key_slot(b"fc:{ab12}:c2"));
        // An empty tag does not count: the whole key is hashed.
        assert_eq!(key_slot(b"foo{}{bar}"), {
            crc16::State::<crc16::XMODEM>::calculate(b"foo{}{bar}") % SLOTS
        });
    }

    #[test]
    fn redirects_are_read_from_error_replies() {
        let reply = |text: &[u8]| redis::parse_redis_value(text).unwrap();
        assert_eq!(
            Redirect::of(&reply(b"-MOVED 3999 127.0.0.1:6381\r\n")),
            Some(Ok(Redirect::Moved {
                slot: 3999,
                to: "127.0.0.1:6381".parse().unwrap()
            }))
        );
        assert_eq!(
            Redirect::of(&reply(b"-ASK 3999 10.0.0.2:6379\r\n")),
            Some(Ok(Redirect::Ask {
                to: "10.0.0.2:6379".parse().unwrap()
            }))
        );
        assert!(matches!(
            Redirect::of(&reply(b"-MOVED 3999 cache.example:6379\r\n")),
            Some(Err(_))
        ));
        assert_eq!(Redirect::of(&reply(b"-ERR unknown command\r\n")), None);
        assert_eq!(Redirect::of(&Value::Okay), None);
    }
}
