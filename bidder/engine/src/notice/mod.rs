//! Signed billing notices.
//!
//! Each bid carries a `burl` pointing back at the bidder with a token that says, in
//! a form only the bidder fleet can produce, which auction, impression, campaign and
//! creative won and at what price ceiling. When the exchange fires the notice the
//! bidder checks the signature and age, counts the notice once, and debits spend.

mod dedup;
mod kind;
mod price;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use dedup::NoticeDedup;
pub use kind::{NoticeKind, NoticeOutcome};
pub use price::{ClearingPrice, PriceSource, clearing_price};

use crate::money::{Currency, Micros};
use crate::user::UserKey;

/// Bytes of the HMAC-SHA256 tag kept in a token (128 bits).
const TAG_BYTES: usize = 16;
/// Token layout version: 4 adds the bid's origin and hold. Version 3 tokens (from
/// bidders before it, still in flight during a rolling deploy) are read too.
const VERSION: u8 = 4;
/// The layout before the origin and hold.
const VERSION_WITHOUT_ORIGIN: u8 = 3;
/// Largest encoded payload: ids are bounded by request and campaign validation.
const MAX_PAYLOAD: usize = 1024;
/// Seconds a token's issue time may lie ahead of our clock (fleet clock skew).
const CLOCK_SKEW_S: u64 = 60;

/// What a billing notice vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice<'a> {
    /// Auction (bid request) id.
    pub request_id: &'a str,
    /// Impression id within the auction.
    pub imp_id: &'a str,
    /// Winning campaign.
    pub campaign_id: &'a str,
    /// Winning creative.
    pub creative_id: &'a str,
    /// The supply partner the auction came from; empty when not named.
    pub exchange: &'a str,
    /// Our bid, CPM micros of `currency`: the most the notice may bill.
    pub price: Micros,
    /// Currency of `price`.
    pub currency: Currency,
    /// When the bid was made, seconds since the Unix epoch.
    pub issued_at_s: u64,
    /// The user the impression is shown to, for frequency caps.
    pub user: Option<UserKey>,
    /// Which bidder process made the bid; `None` in tokens from before origins.
    pub origin: Option<BidOrigin>,
    /// Micros of the campaign's currency the bid holds of its bidder's lease.
    pub held: Micros,
}

/// Which bidder process made a bid: its notice settles the bid's hold in that
/// process, and anywhere else books the spend against that bidder's lease.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BidOrigin {
    /// Digest of the bidder's id in the fleet, which names its leases.
    pub bidder: u64,
    /// Random number drawn when the bidder process started: holds live in it only.
    pub process: u32,
}

/// The identity of a notice for counting it once: a digest of its exchange,
/// auction and impression ids, so every notice for one impression of one auction
/// counts once, and two exchanges that happen to use the same auction ids each
/// count.
pub type NoticeId = [u8; 16];

impl Notice<'_> {
    /// This notice's identity: the same for every notice about this impression.
    pub fn id(&self) -> NoticeId {
        use sha2::Digest as _;
        let mut digest = Sha256::new();
        // Length-prefixed, so no two different triples run together alike.
        for part in [self.exchange, self.request_id] {
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part.as_bytes());
        }
        digest.update(self.imp_id.as_bytes());
        let full = digest.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&full[..16]);
        id
    }
}

/// Why a notice token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not base64, too short, or fields that do not parse.
    #[error("malformed notice token")]
    Malformed,
    /// The signature does not match: forged or altered.
    #[error("notice token signature does not match")]
    Forged,
    /// Older than the accepted age, or issued in the future.
    #[error("notice token expired")]
    Expired,
}

/// Signs and verifies notice tokens with a fleet-wide secret.
#[derive(Clone)]
pub struct NoticeSigner {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for NoticeSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoticeSigner(..)")
    }
}

impl NoticeSigner {
    /// A signer keyed with `secret` (any length; 32 random bytes is right).
    pub fn new(secret: &[u8]) -> NoticeSigner {
        NoticeSigner {
            mac: Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length"),
        }
    }

    /// Appends the URL-safe token for `notice` to `out`. Allocation-free apart from
    /// `out` growing. Returns false (appending nothing) if an id is too long to carry.
    pub fn append_token(&self, notice: &Notice<'_>, out: &mut Vec<u8>) -> bool {
        let mut raw = [0u8; MAX_PAYLOAD + TAG_BYTES];
        let Some(len) = encode(notice, &mut raw[..MAX_PAYLOAD]) else {
            return false;
        };
        let mut mac = self.mac.clone();
        mac.update(&raw[..len]);
        raw[len..len + TAG_BYTES].copy_from_slice(&mac.finalize().into_bytes()[..TAG_BYTES]);
        let mut text = [0u8; (MAX_PAYLOAD + TAG_BYTES) * 4 / 3 + 4];
        let written = URL_SAFE_NO_PAD
            .encode_slice(&raw[..len + TAG_BYTES], &mut text)
            .expect("buffer sized for the largest payload");
        out.extend_from_slice(&text[..written]);
        true
    }

    /// Checks a token's signature and age (`max_age_s`) and decodes it; the notice
    /// borrows from `scratch`.
    pub fn verify<'s>(
        &self,
        token: &str,
        now_unix_s: u64,
        max_age_s: u64,
        scratch: &'s mut Vec<u8>,
    ) -> Result<Notice<'s>, TokenError> {
        scratch.clear();
        if token.len() > (MAX_PAYLOAD + TAG_BYTES) * 4 / 3 + 4 {
            return Err(TokenError::Malformed);
        }
        URL_SAFE_NO_PAD
            .decode_vec(token, scratch)
            .map_err(|_| TokenError::Malformed)?;
        if scratch.len() <= TAG_BYTES {
            return Err(TokenError::Malformed);
        }
        let (payload, tag) = scratch.split_at(scratch.len() - TAG_BYTES);
        let mut mac = self.mac.clone();
        mac.update(payload);
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenError::Forged)?;
        let notice = decode(payload).ok_or(TokenError::Malformed)?;
        let too_old = notice.issued_at_s.saturating_add(max_age_s) < now_unix_s;
        let from_future = notice.issued_at_s > now_unix_s + CLOCK_SKEW_S;
        if too_old || from_future {
            return Err(TokenError::Expired);
        }
        Ok(notice)
    }
}

/// Writes the payload: version, issue time, price, currency, the user key (a flag
/// byte, then 16 bytes when present), the origin's bidder digest and process (a
/// flag byte, then 8 and 4 bytes when present), the micros held, then five
/// length-prefixed ids (u16 little-endian lengths): request, impression,
/// campaign, creative, exchange. Integers are little-endian.
fn encode(n: &Notice<'_>, buf: &mut [u8]) -> Option<usize> {
    let mut at = 0;
    let mut put = |bytes: &[u8]| -> Option<()> {
        buf.get_mut(at..at + bytes.len())?.copy_from_slice(bytes);
        at += bytes.len();
        Some(())
    };
    put(&[VERSION])?;
    put(&n.issued_at_s.to_le_bytes())?;
    put(&n.price.to_le_bytes())?;
    put(n.currency.as_str().as_bytes())?;
    match n.user {
        Some(user) => {
            put(&[1])?;
            put(&user.0)?;
        }
        None => put(&[0])?,
    }
    match n.origin {
        Some(origin) => {
            put(&[1])?;
            put(&origin.bidder.to_le_bytes())?;
            put(&origin.process.to_le_bytes())?;
        }
        None => put(&[0])?,
    }
    put(&n.held.to_le_bytes())?;
    for id in [
        n.request_id,
        n.imp_id,
        n.campaign_id,
        n.creative_id,
        n.exchange,
    ] {
        put(&u16::try_from(id.len()).ok()?.to_le_bytes())?;
        put(id.as_bytes())?;
    }
    Some(at)
}

fn decode(payload: &[u8]) -> Option<Notice<'_>> {
    let mut rest = payload;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let version = take(1)?[0];
    if version != VERSION && version != VERSION_WITHOUT_ORIGIN {
        return None;
    }
    let issued_at_s = u64::from_le_bytes(take(8)?.try_into().ok()?);
    let price = u64::from_le_bytes(take(8)?.try_into().ok()?);
    let currency = Currency::parse(std::str::from_utf8(take(3)?).ok()?)?;
    let user = match take(1)? {
        [0] => None,
        [1] => Some(UserKey(take(16)?.try_into().ok()?)),
        _ => return None,
    };
    let (origin, held) = if version == VERSION {
        let origin = match take(1)? {
            [0] => None,
            [1] => Some(BidOrigin {
                bidder: u64::from_le_bytes(take(8)?.try_into().ok()?),
                process: u32::from_le_bytes(take(4)?.try_into().ok()?),
            }),
            _ => return None,
        };
        (origin, u64::from_le_bytes(take(8)?.try_into().ok()?))
    } else {
        (None, 0)
    };
    let mut ids = [""; 5];
    for id in &mut ids {
        let len = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
        *id = std::str::from_utf8(take(len)?).ok()?;
    }
    if !rest.is_empty() {
        return None;
    }
    let [request_id, imp_id, campaign_id, creative_id, exchange] = ids;
    Some(Notice {
        request_id,
        imp_id,
        campaign_id,
        creative_id,
        exchange,
        price,
        currency,
        issued_at_s,
        user,
        origin,
        held,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice<'static> {
        Notice {
            request_id: "auction-1",
            imp_id: "1",
            campaign_id: "c1",
            creative_id: "cr1",
            exchange: "adx",
            price: 2_500_000,
            currency: Currency::USD,
            issued_at_s: 1_000_000,
            user: Some(UserKey([7; 16])),
            origin: Some(BidOrigin {
                bidder: 0x0123_4567_89ab_cdef,
                process: 42,
            }),
            held: 2_500,
        }
    }

    fn token(signer: &NoticeSigner, n: &Notice<'_>) -> String {
        let mut out = Vec::new();
        assert!(signer.append_token(n, &mut out));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn round_trips_and_is_url_safe() {
        let signer = NoticeSigner::new(b"secret");
        let t = token(&signer, &notice());
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let mut scratch = Vec::new();
        let n = signer.verify(&t, 1_000_010, 3600, &mut scratch).unwrap();
        assert_eq!(n, notice());
    }

    #[test]
    fn tokens_without_a_user_round_trip_too() {
        let signer = NoticeSigner::new(b"secret");
        let anonymous = Notice {
            user: None,
            ..notice()
        };
        let t = token(&signer, &anonymous);
        let mut scratch = Vec::new();
        assert_eq!(
            signer.verify(&t, 1_000_010, 3600, &mut scratch).unwrap(),
            anonymous
        );
    }

    #[test]
    fn tokens_from_before_origins_still_verify() {
        // A version 3 payload, as bidders before origins wrote it.
        let mut payload = vec![VERSION_WITHOUT_ORIGIN];
        payload.extend_from_slice(&1_000_000u64.to_le_bytes());
        payload.extend_from_slice(&2_500_000u64.to_le_bytes());
        payload.extend_from_slice(b"USD");
        payload.push(0);
        for id in ["auction-1", "1", "c1", "cr1", "adx"] {
            payload.extend_from_slice(&(id.len() as u16).to_le_bytes());
            payload.extend_from_slice(id.as_bytes());
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(&payload);
        payload.extend_from_slice(&mac.finalize().into_bytes()[..TAG_BYTES]);
        let token = URL_SAFE_NO_PAD.encode(&payload);
        let signer = NoticeSigner::new(b"secret");
        let mut scratch = Vec::new();
        let n = signer
            .verify(&token, 1_000_010, 3600, &mut scratch)
            .unwrap();
        let expected = Notice {
            user: None,
            origin: None,
            held: 0,
            ..notice()
        };
        assert_eq!(n, expected);
    }

    #[test]
    fn identity_is_per_auction_and_impression() {
        let first = notice();
        let later = Notice {
            issued_at_s: first.issued_at_s + 90,
            price: 1,
            ..first
        };
        assert_eq!(first.id(), later.id());
        assert_ne!(
            first.id(),
            Notice {
                imp_id: "2",
                ..first
            }
            .id()
        );
        assert_ne!(
            first.id(),
            Notice {
                request_id: "auction-2",
                ..first
            }
            .id()
        );
        // Length-prefixed: ("ab", "c") and ("a", "bc") differ.
        let ab_c = Notice {
            request_id: "ab",
            imp_id: "c",
            ..first
        };
        let a_bc = Notice {
            request_id: "a",
            imp_id: "bc",
            ..first
        };
        assert_ne!(ab_c.id(), a_bc.id());
        // Two exchanges may run auctions with the same ids: each counts.
        let elsewhere = Notice {
            exchange: "exchange-b",
            ..first
        };
        assert_ne!(first.id(), elsewhere.id());
        let shifted = Notice {
            exchange: "x1",
            request_id: "req",
            ..first
        };
        let unshifted = Notice {
            exchange: "x",
            request_id: "1req",
            ..first
        };
        assert_ne!(shifted.id(), unshifted.id());
    }

    #[test]
    fn other_keys_and_altered_tokens_are_forged() {
        let t = token(&NoticeSigner::new(b"secret"), &notice());
        let mut scratch = Vec::new();
        let other = NoticeSigner::new(b"other");
        assert_eq!(
            other.verify(&t, 1_000_010, 3600, &mut scratch).unwrap_err(),
            TokenError::Forged
        );
        let mut bytes = t.into_bytes();
        bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        let signer = NoticeSigner::new(b"secret");
        assert_eq!(
            signer
                .verify(&altered, 1_000_010, 3600, &mut scratch)
                .unwrap_err(),
            TokenError::Forged
        );
    }

    #[test]
    fn old_future_and_garbage_tokens_are_refused() {
        let signer = NoticeSigner::new(b"secret");
        let t = token(&signer, &notice());
        let mut scratch = Vec::new();
        assert_eq!(
            signer
                .verify(&t, 1_003_601, 3600, &mut scratch)
                .unwrap_err(),
            TokenError::Expired
        );
        assert_eq!(
            signer.verify(&t, 999_000, 3600, &mut scratch).unwrap_err(),
            TokenError::Expired
        );
        for garbage in ["", "!!!", "AAAA", &"A".repeat(5000)] {
            assert_eq!(
                signer
                    .verify(garbage, 1_000_010, 3600, &mut scratch)
                    .unwrap_err(),
                TokenError::Malformed
            );
        }
    }
}
