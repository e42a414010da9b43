//! A campaign's segment rules in the form the bid path judges: each segment as
//! its key, marked first-party or not, and the three lists judged in
//! three-valued logic, so that a campaign whose rules the exchange's segments
//! already settle needs no store lookup.

use super::{Audience, Membership, SegmentKey};
use crate::campaign::{SegmentRef, Segments};

/// One segment a rule names.
#[derive(Debug, Clone, Copy)]
struct Named {
    key: SegmentKey,
    first_party: bool,
}

impl Named {
    fn of(segment: &SegmentRef) -> Named {
        let key = match &segment.provider {
            None => SegmentKey::first_party(&segment.id),
            Some(provider) => SegmentKey::exchange(provider, segment.segtax, &segment.id),
        };
        Named {
            key,
            first_party: segment.is_first_party(),
        }
    }
}

/// A campaign's compiled `segments` rules (absent from a campaign without any,
/// which then pays nothing for them).
#[derive(Debug)]
pub struct SegmentRules {
    include_any: Box<[Named]>,
    include_all: Box<[Named]>,
    exclude: Box<[Named]>,
    /// How each `include_any` and `include_all` segment is reported in events:
    /// a first-party id as it is, an exchange's as `provider/id`.
    labels: Box<[String]>,
    /// Whether any rule names a first-party segment (the store must be asked).
    first_party: bool,
}

/// What a campaign's rules say about a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// The user is in the audience.
    Pass,
    /// The user is not (or may not be judged: privacy).
    Fail,
    /// It depends on first-party segments not read yet.
    NeedsFirstParty,
}

impl SegmentRules {
    /// The compiled rules of `segments`, `None` when there are none.
    pub fn compile(segments: &Segments) -> Option<Box<SegmentRules>> {
        if segments.is_empty() {
            return None;
        }
        let named = |list: &[SegmentRef]| list.iter().map(Named::of).collect::<Box<[Named]>>();
        let label = |s: &SegmentRef| match &s.provider {
            None => s.id.clone(),
            Some(provider) => format!("{provider}/{}", s.id),
        };
        Some(Box::new(SegmentRules {
            include_any: named(&segments.include_any),
            include_all: named(&segments.include_all),
            exclude: named(&segments.exclude),
            labels: segments
                .include_any
                .iter()
                .chain(&segments.include_all)
                .map(label)
                .collect(),
            first_party: segments.named().any(|(_, _, s)| s.is_first_party()),
        }))
    }

    /// Whether any rule names a first-party segment.
    pub fn needs_first_party(&self) -> bool {
        self.first_party
    }

    /// Judges the user in `audience`: `NeedsFirstParty` only while first-party
    /// segments are unread and the exchange's do not settle it. A membership
    /// that cannot be known (a partial list) counts against the campaign: it
    /// neither passes an exclusion nor fails an inclusion.
    pub(crate) fn judge(&self, audience: &Audience) -> Judgement {
        if !audience.allowed {
            return Judgement::Fail;
        }
        let of = |n: &Named| audience.membership(n.key, n.first_party);
        // `Unread` waits for the store; `Unknown` counts against the campaign.
        let mut unread = false;
        for named in self.exclude.iter() {
            match of(named) {
                Membership::In | Membership::Unknown => return Judgement::Fail,
                Membership::Out => {}
                Membership::Unread => unread = true,
            }
        }
        for named in self.include_all.iter() {
            match of(named) {
                Membership::In => {}
                Membership::Out | Membership::Unknown => return Judgement::Fail,
                Membership::Unread => unread = true,
            }
        }
        if !self.include_any.is_empty() {
            let mut any_unread = false;
            let mut found = false;
            for named in self.include_any.iter() {
                match of(named) {
                    Membership::In => {
                        found = true;
                        break;
                    }
                    Membership::Out | Membership::Unknown => {}
                    Membership::Unread => any_unread = true,
                }
            }
            if !found {
                if !any_unread {
                    return Judgement::Fail;
                }
                unread = true;
            }
        }
        if unread {
            Judgement::NeedsFirstParty
        } else {
            Judgement::Pass
        }
    }

    /// The include segments the user is in, as reported in events (see
    /// `labels`); ids only, never the user's.
    pub fn matched<'r>(&'r self, audience: &'r Audience) -> impl Iterator<Item = &'r str> {
        let included = self.include_any.iter().chain(self.include_all.iter());
        included
            .zip(self.labels.iter())
            .filter(|(n, _)| audience.membership(n.key, n.first_party) == Membership::In)
            .map(|(_, label)| label.as_str())
    }
}
