//! The in-process first-party segment store of the embedded default: loaded
//! once at start from `segments.file`, read by every worker without locks.

use std::collections::HashMap;

use tern_engine::audience::SegmentKey;
use tern_engine::user::UserKey;

/// Each user's segments with when each membership ends.
#[derive(Debug, Default)]
pub(crate) struct LocalSegments {
    users: HashMap<UserKey, Vec<Membership>>,
}

/// One segment of one user.
#[derive(Debug, Clone, Copy)]
struct Membership {
    segment: SegmentKey,
    /// When the membership ends, Unix seconds.
    ends_at_s: u64,
}

impl LocalSegments {
    /// Adds `user` to `segments` (ids with their time to live, seconds, from
    /// `now_unix_s`), or refreshes the end of a membership an earlier line gave,
    /// as the Redis loader does; an empty list removes the user from every
    /// segment.
    pub(crate) fn set(&mut self, user: UserKey, segments: &[(String, u64)], now_unix_s: u64) {
        if segments.is_empty() {
            self.users.remove(&user);
            return;
        }
        let memberships = self.users.entry(user).or_default();
        for (id, ttl_s) in segments {
            let segment = SegmentKey::first_party(id);
            let ends_at_s = now_unix_s.saturating_add(*ttl_s);
            match memberships.iter_mut().find(|m| m.segment == segment) {
                Some(known) => known.ends_at_s = ends_at_s,
                None => memberships.push(Membership { segment, ends_at_s }),
            }
        }
    }

    /// Users with segments.
    pub(crate) fn users(&self) -> usize {
        self.users.len()
    }

    /// Appends the keys of `user`'s segments live at `now_unix_s` to `out`.
    pub(crate) fn read(&self, user: &UserKey, now_unix_s: u64, out: &mut Vec<SegmentKey>) {
        if let Some(memberships) = self.users.get(user) {
            out.extend(
                memberships
                    .iter()
                    .filter(|m| m.ends_at_s > now_unix_s)
                    .map(|m| m.segment),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_live_memberships_only() {
        let mut store = LocalSegments::default();
        let (alice, bob) = (UserKey([1; 16]), UserKey([2; 16]));
        store.set(alice, &[("auto".into(), 60), ("sports".into(), 10)], 1_000);
        let mut out = Vec::new();
        store.read(&alice, 1_005, &mut out);
        assert_eq!(
            out,
            [
                SegmentKey::first_party("auto"),
                SegmentKey::first_party("sports")
            ]
        );
        out.clear();
        store.read(&alice, 1_010, &mut out);
        assert_eq!(out, [SegmentKey::first_party("auto")], "sports has ended");
        out.clear();
        store.read(&bob, 1_005, &mut out);
        assert!(out.is_empty());
        // A later line adds segments and refreshes ends; it drops none.
        store.set(
            alice,
            &[("sports".into(), 100), ("news".into(), 100)],
            1_000,
        );
        out.clear();
        store.read(&alice, 1_050, &mut out);
        assert_eq!(out.len(), 3, "auto, sports (refreshed) and news");
        store.set(alice, &[], 1_000);
        assert_eq!(store.users(), 0, "an empty line removes the user");
    }
}
