//! The kinds of notice an exchange sends back, and what becomes of each: labels
//! for metrics and events, defined once.

use super::TokenError;
use super::price::PriceSource;

/// Which notice endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// The bid won (`nurl`, OpenRTB 2.6 §4.3).
    Win,
    /// The impression was billed (`burl`, OpenRTB 2.6 §4.3).
    Impression,
    /// The ad was clicked.
    Click,
    /// The bid lost (`lurl`, OpenRTB 2.6 §4.3), with the exchange's loss reason
    /// (list 5.25) and, where it fills it, the minimum bid that would have won.
    Loss,
}

impl NoticeKind {
    /// Every kind, for metric labels.
    pub const ALL: [NoticeKind; 4] = [
        NoticeKind::Win,
        NoticeKind::Impression,
        NoticeKind::Click,
        NoticeKind::Loss,
    ];

    /// The label in metrics: `win`, `imp`, `click`, `loss`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Win => "win",
            NoticeKind::Impression => "imp",
            NoticeKind::Click => "click",
            NoticeKind::Loss => "loss",
        }
    }
}

/// What became of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeOutcome {
    /// Counted (and, for an impression, debited) at the exchange's price.
    Accepted,
    /// Counted at our bid: the exchange's price was above it.
    PriceCapped,
    /// Counted at our bid: the price could not be read (absent, empty, the macro
    /// unsubstituted, encrypted, not a number).
    PriceUnreadable,
    /// Seen before; not counted again.
    Duplicate,
    /// Signature does not match.
    Forged,
    /// Too old (or from the future).
    Expired,
    /// Not a token.
    Malformed,
}

impl NoticeOutcome {
    /// Every outcome, for metric labels.
    pub const ALL: [NoticeOutcome; 7] = [
        NoticeOutcome::Accepted,
        NoticeOutcome::PriceCapped,
        NoticeOutcome::PriceUnreadable,
        NoticeOutcome::Duplicate,
        NoticeOutcome::Forged,
        NoticeOutcome::Expired,
        NoticeOutcome::Malformed,
    ];

    /// The label in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeOutcome::Accepted => "accepted",
            NoticeOutcome::PriceCapped => "price_capped",
            NoticeOutcome::PriceUnreadable => "price_unreadable",
            NoticeOutcome::Duplicate => "duplicate",
            NoticeOutcome::Forged => "forged",
            NoticeOutcome::Expired => "expired",
            NoticeOutcome::Malformed => "malformed",
        }
    }

    /// A counted notice of `kind` whose price came from `source` (clicks and
    /// losses carry no clearing price, so they are simply accepted).
    pub fn counted(kind: NoticeKind, source: PriceSource) -> NoticeOutcome {
        match (kind, source) {
            (NoticeKind::Click | NoticeKind::Loss, _) | (_, PriceSource::Exchange) => {
                NoticeOutcome::Accepted
            }
            (_, PriceSource::Capped) => NoticeOutcome::PriceCapped,
            (_, PriceSource::Bid) => NoticeOutcome::PriceUnreadable,
        }
    }

    /// A notice whose token was refused.
    pub fn refused(error: TokenError) -> NoticeOutcome {
        match error {
            TokenError::Malformed => NoticeOutcome::Malformed,
            TokenError::Forged => NoticeOutcome::Forged,
            TokenError::Expired => NoticeOutcome::Expired,
        }
    }
}
