//! Who a request is about, as a fixed-size key for the user store (frequency caps
//! and first-party segments).
//!
//! The key is a 128-bit hash of the best identifier the request carries: our own id
//! for the user as the exchange maps it (`user.buyeruid`), else the exchange's user
//! id, else the device's advertising id. Hashing keeps raw identifiers out of Redis
//! and out of notice URLs, gives every key the same size, and is stable across the
//! fleet (no random seed).

use std::fmt;

use crate::openrtb::request::BidRequest;

/// A user's identity in the user store (frequency caps, first-party segments).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey(pub [u8; 16]);

/// Which identifier a [`UserKey`] was made from: the same id gives a different
/// key as another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserIdKind {
    /// `user.buyeruid`: our own id for the user, as the exchange maps it.
    Buyeruid,
    /// `user.id`: the exchange's id for the user.
    User,
    /// `device.ifa`: the device's advertising id.
    Ifa,
}

impl UserIdKind {
    fn tag(self) -> &'static [u8] {
        match self {
            UserIdKind::Buyeruid => b"buyeruid",
            UserIdKind::User => b"user",
            UserIdKind::Ifa => b"ifa",
        }
    }
}

impl UserKey {
    /// The key for `req`, or `None` when it carries no usable identifier.
    pub fn from_request(req: &BidRequest<'_>) -> Option<UserKey> {
        let user = req.user.as_ref();
        let candidates = [
            (
                UserIdKind::Buyeruid,
                user.and_then(|u| u.buyeruid.as_deref()),
            ),
            (UserIdKind::User, user.and_then(|u| u.id.as_deref())),
            (
                UserIdKind::Ifa,
                req.device.as_ref().and_then(|d| d.ifa.as_deref()),
            ),
        ];
        // A device limiting tracking sends an all-zero advertising id.
        let zeroed = |kind: UserIdKind, id: &str| {
            kind == UserIdKind::Ifa && id.bytes().all(|b| matches!(b, b'0' | b'-'))
        };
        let usable = |kind: UserIdKind, id: &str| !id.is_empty() && !zeroed(kind, id);
        let (kind, id) = candidates
            .into_iter()
            .find_map(|(kind, id)| id.filter(|id| usable(kind, id)).map(|id| (kind, id)))?;
        Some(UserKey::of(kind, id))
    }

    /// The key of identifier `id` of `kind`: what a request carrying it as its
    /// best identifier is keyed by (for loading the store from outside). An
    /// advertising id is a UUID, whose case means nothing: it is keyed in
    /// lower case.
    pub fn of(kind: UserIdKind, id: &str) -> UserKey {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(kind.tag());
        hasher.update(b":");
        if kind == UserIdKind::Ifa {
            hash_lowercase(&mut hasher, id);
        } else {
            hasher.update(id.as_bytes());
        }
        UserKey(hasher.digest128().to_le_bytes())
    }
}

/// Feeds `text` to `hasher` with ASCII letters lower-cased, in stack-sized
/// pieces: no allocation on the bid path.
pub(crate) fn hash_lowercase(hasher: &mut xxhash_rust::xxh3::Xxh3, text: &str) {
    for chunk in text.as_bytes().chunks(64) {
        let mut lower = [0u8; 64];
        let lower = &mut lower[..chunk.len()];
        lower.copy_from_slice(chunk);
        lower.make_ascii_lowercase();
        hasher.update(lower);
    }
}

impl fmt::Display for UserKey {
    /// Lower-case hex, 32 characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(json: &str) -> Option<UserKey> {
        UserKey::from_request(&BidRequest::parse(json.as_bytes()).unwrap())
    }

    #[test]
    fn prefers_our_id_then_the_exchange_id_then_the_device_id() {
        let ours = key(
            r#"{"id":"r","imp":[{"id":"1"}],"user":{"id":"x","buyeruid":"b"},"device":{"ifa":"d"}}"#,
        );
        let theirs = key(r#"{"id":"r","imp":[{"id":"1"}],"user":{"id":"x"},"device":{"ifa":"d"}}"#);
        let device = key(r#"{"id":"r","imp":[{"id":"1"}],"device":{"ifa":"d"}}"#);
        assert!(ours.is_some() && theirs.is_some() && device.is_some());
        assert_ne!(ours, theirs);
        assert_ne!(theirs, device);
        assert_eq!(
            ours,
            key(r#"{"id":"other","imp":[{"id":"9"}],"user":{"buyeruid":"b"}}"#)
        );
    }

    #[test]
    fn advertising_ids_ignore_case_and_the_zeroed_one_names_nobody() {
        let upper = key(
            r#"{"id":"r","imp":[{"id":"1"}],"device":{"ifa":"6D92078A-8246-4BA4-AE5B-76104861E7DC"}}"#,
        );
        let lower = key(
            r#"{"id":"r","imp":[{"id":"1"}],"device":{"ifa":"6d92078a-8246-4ba4-ae5b-76104861e7dc"}}"#,
        );
        assert!(upper.is_some());
        assert_eq!(upper, lower);
        assert_eq!(
            UserKey::of(UserIdKind::Ifa, "6D92078A-8246-4BA4-AE5B-76104861E7DC"),
            lower.unwrap()
        );
        // A device that limits tracking sends zeros: shared by millions, it is
        // no one's id.
        let zeros = r#"{"id":"r","imp":[{"id":"1"}],"device":{"ifa":"00000000-0000-0000-0000-000000000000"}}"#;
        assert_eq!(key(zeros), None);
        assert!(key(r#"{"id":"r","imp":[{"id":"1"}],"user":{"id":"x"},"device":{"ifa":"00000000-0000-0000-0000-000000000000"}}"#).is_some());
    }

    #[test]
    fn no_identifier_means_no_key() {
        assert_eq!(
            key(r#"{"id":"r","imp":[{"id":"1"}],"user":{"id":""}}"#),
            None
        );
        assert_eq!(key(r#"{"id":"r","imp":[{"id":"1"}]}"#), None);
    }

    const GOLDEN: &str = "fceda164174cbc57435ddecddd2e8d31";

    #[test]
    fn the_key_is_stable_and_prints_as_hex() {
        let k = key(r#"{"id":"r","imp":[{"id":"1"}],"user":{"buyeruid":"tern-5521"}}"#).unwrap();
        let text = k.to_string();
        assert_eq!(text.len(), 32);
        assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
        // The same input must give the same key on every bidder and every release:
        // caps counted by one release are read by the next.
        assert_eq!(text, GOLDEN);
    }
}
