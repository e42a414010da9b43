//! The 64-bit keys the ads.txt and sellers.json tables are looked up by.
//!
//! Both tables are read on the bid path, so a key is computed without the heap:
//! text that must match whatever its ASCII case (domains, app bundle ids) is
//! lowercased into a stack buffer and hashed with xxh3-64; text longer than the
//! buffer goes through xxh3's streaming state a buffer at a time (also on the
//! stack), which yields the same value as hashing the whole lowercased text at
//! once. Text that must match exactly (account and seller ids) is hashed as is.
//!
//! The tables keep these keys instead of the text, so two different texts that
//! hash alike (a 64-bit collision, about one chance in 2^64 per pair) are taken
//! for one another; that is the only way a lookup can answer wrongly.

use xxhash_rust::xxh3::{Xxh3Default, xxh3_64, xxh3_64_with_seed};

/// Bytes lowercased and hashed per step. Domains are at most 253 bytes (RFC 1035
/// §2.3.4), so every real domain or bundle id takes the one-step path.
const STEP_BYTES: usize = 256;

/// xxh3-64 of `text` with ASCII `A`–`Z` lowercased (other bytes unchanged):
/// the key of a domain or app bundle id, equal to `xxh3_64` of the lowercased
/// text. Never allocates.
pub(crate) fn caseless(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut buffer = [0_u8; STEP_BYTES];
    if let Some(lowered) = buffer.get_mut(..bytes.len()) {
        lowercase_into(lowered, bytes);
        return xxh3_64(lowered);
    }
    let mut hasher = Xxh3Default::new();
    for chunk in bytes.chunks(STEP_BYTES) {
        if let Some(lowered) = buffer.get_mut(..chunk.len()) {
            lowercase_into(lowered, chunk);
            hasher.update(lowered);
        }
    }
    hasher.digest()
}

/// xxh3-64 of `text` as it is: the key of an id compared exactly.
pub(crate) fn exact(text: &str) -> u64 {
    xxh3_64(text.as_bytes())
}

/// The key of an (ad system domain, account id) pair: the account id hashed
/// exactly, seeded with the domain's [`caseless`] key, so the pair needs no
/// separator and no buffer big enough for both.
pub(crate) fn seller_account(ad_system_domain: &str, account_id: &str) -> u64 {
    xxh3_64_with_seed(account_id.as_bytes(), caseless(ad_system_domain))
}

fn lowercase_into(out: &mut [u8], bytes: &[u8]) {
    for (slot, byte) in out.iter_mut().zip(bytes) {
        *slot = byte.to_ascii_lowercase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key is the hash of the lowercased text at every length, including
    /// the streaming path past one step and its chunk boundaries.
    #[test]
    fn caseless_equals_hash_of_lowercased_text_at_every_length() {
        for len in [
            0, 1, 15, 16, 17, 128, 240, 241, 255, 256, 257, 511, 512, 513, 4000,
        ] {
            let mixed: String = (0..len)
                .map(|i| if i % 3 == 0 { 'A' } else { 'b' })
                .collect();
            let lower = mixed.to_ascii_lowercase();
            assert_eq!(caseless(&mixed), xxh3_64(lower.as_bytes()), "length {len}");
            assert_eq!(caseless(&mixed), caseless(&lower), "length {len}");
        }
    }

    /// Only ASCII letters fold: non-ASCII bytes keep their identity.
    #[test]
    fn caseless_folds_ascii_only() {
        assert_eq!(caseless("ExAmple.COM"), caseless("example.com"));
        assert_ne!(caseless("É.com"), caseless("é.com"));
    }

    /// Account ids keep their case, and the domain and id do not run together.
    #[test]
    fn seller_account_is_exact_on_the_id_and_unambiguous() {
        assert_eq!(
            seller_account("SSP.example", "Pub-1"),
            seller_account("ssp.example", "Pub-1")
        );
        assert_ne!(
            seller_account("ssp.example", "Pub-1"),
            seller_account("ssp.example", "pub-1")
        );
        assert_ne!(seller_account("ab.c", "d"), seller_account("a", "b.cd"));
        assert_ne!(exact("X1"), exact("x1"));
    }
}
