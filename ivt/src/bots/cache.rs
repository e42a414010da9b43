//! A per-worker cache of bot verdicts.
//!
//! Real traffic repeats a small set of user agents (a few thousand browser/OS/app
//! builds carry most requests), so a direct-mapped table in front of
//! [`BotPatterns::is_bot`] turns most screens into one hash and one compare.

use std::hash::{BuildHasher, RandomState};

use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::BotPatterns;

/// Slots in a [`UaVerdicts`] table (a power of two: the slot is the hash's low bits).
/// 4,096 × 16 bytes = 64 KiB per worker.
pub const UA_VERDICT_SLOTS: usize = 4096;

/// One slot: the full 64-bit hash of the user agent and `generation << 1 | verdict`
/// (`0` = empty, since generations start at 1).
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    hash: u64,
    tag: u64,
}

/// A worker's cache of [`BotPatterns::is_bot`] verdicts, keyed by user agent.
///
/// Direct-mapped: [`UA_VERDICT_SLOTS`] slots indexed by the low bits of the user
/// agent's seeded `xxh3_64`; a slot keeps the full hash, the
/// [`generation`](BotPatterns::generation) of the patterns that produced the verdict,
/// and the verdict. A hit needs both to agree, so swapping in new lists invalidates
/// every slot at once without touching them. Two different user agents with the same
/// 64-bit hash would share a verdict; the seed is drawn per cache from the process's
/// random hasher keys, so such a collision cannot be precomputed from the public
/// hash alone.
///
/// Not `Sync` by design of use: one per worker thread, borrowed mutably per request.
/// Never allocates after [`UaVerdicts::new`].
pub struct UaVerdicts {
    slots: Box<[Slot]>,
    seed: u64,
}

impl std::fmt::Debug for UaVerdicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let used = self.slots.iter().filter(|s| s.tag != 0).count();
        f.debug_struct("UaVerdicts")
            .field("slots", &self.slots.len())
            .field("used", &used)
            .finish()
    }
}

impl Default for UaVerdicts {
    fn default() -> Self {
        Self::new()
    }
}

impl UaVerdicts {
    /// An empty cache of [`UA_VERDICT_SLOTS`] slots (allocates 64 KiB once).
    pub fn new() -> Self {
        Self {
            slots: vec![Slot::default(); UA_VERDICT_SLOTS].into_boxed_slice(),
            seed: RandomState::new().hash_one(0x7e4e_u64),
        }
    }

    /// [`BotPatterns::is_bot`] for `ua`, answered from the cache when the slot holds
    /// this user agent's hash under `patterns`' generation, else computed and stored.
    pub fn is_bot(&mut self, patterns: &BotPatterns, ua: &str) -> bool {
        let hash = xxh3_64_with_seed(ua.as_bytes(), self.seed);
        let generation = patterns.generation();
        // Masked to the table size, so the index is always in bounds.
        let Some(slot) = self.slots.get_mut(hash as usize & (UA_VERDICT_SLOTS - 1)) else {
            return patterns.is_bot(ua);
        };
        if slot.hash == hash && slot.tag >> 1 == generation {
            return slot.tag & 1 == 1;
        }
        let verdict = patterns.is_bot(ua);
        *slot = Slot {
            hash,
            tag: generation << 1 | u64::from(verdict),
        };
        verdict
    }
}
