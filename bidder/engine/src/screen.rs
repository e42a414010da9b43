//! What invalid-traffic and supply-chain screening found about one request, and
//! what each campaign does about it.
//!
//! The screen itself (bot lists, IP ranges, ads.txt, sellers.json, the scoring
//! model) lives in the `tern-ivt` crate and runs once per request before the
//! auction; it hands the engine a [`Verdict`]: a few bits and a score. Each
//! campaign compiles its `screening` policy ([`crate::campaign::Screening`]) into a
//! [`ScreeningPolicy`], and the walk asks it about every candidate, so checking a
//! campaign costs a mask and two compares (`docs/ivt.md`).

/// Findings about one request, as bits (see the constants).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Findings(u16);

impl Findings {
    /// Nothing found.
    pub const NONE: Findings = Findings(0);
    /// The IP address is in an operator's blocked range: no campaign bids.
    pub const BLOCKED_IP: Findings = Findings(1);
    /// The user agent is a known bot, crawler or non-browser (bot lists).
    pub const BOT: Findings = Findings(1 << 1);
    /// The IP address is in a data-centre range (hosting, cloud, proxies).
    pub const DATACENTER: Findings = Findings(1 << 2);
    /// The request carries no supply chain (`source.schain`).
    pub const SCHAIN_MISSING: Findings = Findings(1 << 3);
    /// The supply chain says it is incomplete (`complete = 0`), is malformed
    /// (a node without `asi` or `sid`, an `sid` over 64 characters, no nodes), or
    /// does not end at the exchange that sent the request.
    pub const SCHAIN_INCOMPLETE: Findings = Findings(1 << 4);
    /// A seller is not authorised: the publisher's ads.txt / app-ads.txt does not
    /// list it, or an ad system's sellers.json does not know a node's `sid`.
    pub const SELLER_UNAUTHORIZED: Findings = Findings(1 << 5);

    /// Every finding with its name, in the order campaigns check them.
    pub const ALL: [(Findings, &'static str); 6] = [
        (Findings::BLOCKED_IP, "blocked_ip"),
        (Findings::BOT, "bot"),
        (Findings::DATACENTER, "datacenter"),
        (Findings::SCHAIN_MISSING, "schain_missing"),
        (Findings::SCHAIN_INCOMPLETE, "schain_incomplete"),
        (Findings::SELLER_UNAUTHORIZED, "seller_unauthorized"),
    ];

    /// Whether any finding of `other` is here.
    pub const fn any(self, other: Findings) -> bool {
        self.0 & other.0 != 0
    }

    /// Both sets of findings.
    #[must_use]
    pub const fn with(self, other: Findings) -> Findings {
        Findings(self.0 | other.0)
    }

    /// Whether nothing was found.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the findings here, in [`Findings::ALL`] order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Findings::ALL
            .into_iter()
            .filter(move |(f, _)| self.any(*f))
            .map(|(_, name)| name)
    }
}

/// The screen's answer about one request: what it found and the scoring model's
/// score. `Copy` and small: it rides in the `BidContext`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// What was found.
    pub findings: Findings,
    /// The scoring model's estimate that the request is invalid traffic, in
    /// thousandths (0–1000, rounded down); 0 without a model.
    pub score_per_mille: u16,
    /// The model's own threshold, thousandths: campaigns without their own
    /// `max_ivt_score` refuse at and above it. Above 1000 without a model.
    pub threshold_per_mille: u16,
}

impl Verdict {
    /// Nothing found and no model: every campaign may bid (callers that run
    /// without a screen: tests, baselines).
    pub const PASS: Verdict = Verdict {
        findings: Findings::NONE,
        score_per_mille: 0,
        threshold_per_mille: Verdict::NO_THRESHOLD,
    };

    /// The threshold when there is no model: above every score.
    pub const NO_THRESHOLD: u16 = 1001;
}

impl Default for Verdict {
    fn default() -> Verdict {
        Verdict::PASS
    }
}

/// Why a campaign's policy refused a request; the walk reports it as the
/// `NoBidReason` of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// [`Findings::BLOCKED_IP`].
    BlockedIp,
    /// [`Findings::BOT`].
    Bot,
    /// [`Findings::DATACENTER`].
    Datacenter,
    /// [`Findings::SCHAIN_MISSING`] or [`Findings::SCHAIN_INCOMPLETE`].
    SupplyChain,
    /// [`Findings::SELLER_UNAUTHORIZED`].
    UnauthorizedSeller,
    /// The score reached the campaign's limit.
    IvtScore,
}

/// A campaign's screening policy in the form the walk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreeningPolicy {
    /// Findings this campaign does not bid on (always including
    /// [`Findings::BLOCKED_IP`]).
    pub(crate) refuse: Findings,
    /// Score (thousandths) at and above which it does not bid; `None` follows
    /// the model's threshold.
    pub(crate) max_score_per_mille: Option<u16>,
    /// Score (thousandths) from which it lowers its price by the score
    /// (`price × (1000 − score) / 1000`); `None`: never.
    pub(crate) lower_price_from_per_mille: Option<u16>,
}

impl Default for ScreeningPolicy {
    /// The safe choice: the defaults of [`crate::campaign::Screening`].
    fn default() -> ScreeningPolicy {
        ScreeningPolicy::compile(&crate::campaign::Screening::default())
    }
}

/// The full price, in thousandths.
pub(crate) const FULL_PRICE_PER_MILLE: u32 = 1000;

impl ScreeningPolicy {
    /// Compiles a campaign's `screening` section (validated already: scores in
    /// 0..=1). Scores become thousandths rounded down, as the request's score is:
    /// a request is refused (or its price lowered) when its score may have reached
    /// the campaign's limit, never admitted when it may have passed it.
    pub fn compile(screening: &crate::campaign::Screening) -> ScreeningPolicy {
        let per_mille = |score: f64| (score * 1000.0).floor().clamp(0.0, 1000.0) as u16;
        let mut refuse = Findings::BLOCKED_IP;
        let mut add = |on: bool, finding: Findings| {
            if on {
                refuse = refuse.with(finding);
            }
        };
        add(screening.block_bots, Findings::BOT);
        add(screening.block_datacenter, Findings::DATACENTER);
        add(screening.require_schain, Findings::SCHAIN_MISSING);
        add(
            screening.require_schain_complete,
            Findings::SCHAIN_INCOMPLETE,
        );
        add(
            screening.require_authorized_seller,
            Findings::SELLER_UNAUTHORIZED,
        );
        ScreeningPolicy {
            refuse,
            max_score_per_mille: screening.max_ivt_score.map(per_mille),
            lower_price_from_per_mille: screening.lower_price_from_ivt_score.map(per_mille),
        }
    }

    /// Whether the campaign may bid on a request with this verdict: the share of
    /// its price it bids, in thousandths (1000 = full price), or the reason it
    /// does not. Findings are checked in [`Findings::ALL`] order, then the score.
    pub(crate) fn admit(&self, verdict: &Verdict) -> Result<u32, Refusal> {
        let refused = Findings(verdict.findings.0 & self.refuse.0);
        if !refused.is_empty() {
            return Err(reason_for(refused));
        }
        if verdict.threshold_per_mille == Verdict::NO_THRESHOLD {
            // No model: no score to judge.
            return Ok(FULL_PRICE_PER_MILLE);
        }
        let score = verdict.score_per_mille;
        let limit = self
            .max_score_per_mille
            .unwrap_or(verdict.threshold_per_mille);
        if score >= limit {
            return Err(Refusal::IvtScore);
        }
        match self.lower_price_from_per_mille {
            Some(from) if score >= from => Ok(FULL_PRICE_PER_MILLE - u32::from(score)),
            _ => Ok(FULL_PRICE_PER_MILLE),
        }
    }
}

/// The reason for the first refused finding, in [`Findings::ALL`] order.
fn reason_for(refused: Findings) -> Refusal {
    if refused.any(Findings::BLOCKED_IP) {
        Refusal::BlockedIp
    } else if refused.any(Findings::BOT) {
        Refusal::Bot
    } else if refused.any(Findings::DATACENTER) {
        Refusal::Datacenter
    } else if refused.any(Findings::SCHAIN_MISSING.with(Findings::SCHAIN_INCOMPLETE)) {
        Refusal::SupplyChain
    } else {
        Refusal::UnauthorizedSeller
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::Screening;

    fn verdict(findings: Findings, score: u16) -> Verdict {
        Verdict {
            findings,
            score_per_mille: score,
            threshold_per_mille: 800,
        }
    }

    #[test]
    fn the_default_policy_refuses_every_finding_but_a_missing_chain() {
        let policy = ScreeningPolicy::default();
        let clean = verdict(Findings::NONE, 0);
        assert_eq!(policy.admit(&clean), Ok(1000));
        assert_eq!(
            policy.admit(&verdict(Findings::SCHAIN_MISSING, 0)),
            Ok(1000)
        );
        for (finding, reason) in [
            (Findings::BLOCKED_IP, Refusal::BlockedIp),
            (Findings::BOT, Refusal::Bot),
            (Findings::DATACENTER, Refusal::Datacenter),
            (Findings::SCHAIN_INCOMPLETE, Refusal::SupplyChain),
            (Findings::SELLER_UNAUTHORIZED, Refusal::UnauthorizedSeller),
        ] {
            assert_eq!(
                policy.admit(&verdict(finding, 0)),
                Err(reason),
                "{finding:?}"
            );
        }
        // The first in check order names the refusal.
        let both = Findings::DATACENTER.with(Findings::BOT);
        assert_eq!(policy.admit(&verdict(both, 0)), Err(Refusal::Bot));
    }

    #[test]
    fn a_campaign_can_allow_each_finding_but_a_blocked_ip() {
        let lax = ScreeningPolicy::compile(&Screening {
            block_bots: false,
            block_datacenter: false,
            require_schain: false,
            require_schain_complete: false,
            require_authorized_seller: false,
            max_ivt_score: Some(1.0),
            lower_price_from_ivt_score: None,
        });
        let all = Findings::ALL
            .iter()
            .fold(Findings::NONE, |a, (f, _)| a.with(*f));
        let without_blocked = Findings(all.0 & !Findings::BLOCKED_IP.0);
        assert_eq!(lax.admit(&verdict(without_blocked, 999)), Ok(1000));
        assert_eq!(lax.admit(&verdict(all, 0)), Err(Refusal::BlockedIp));
        let strict = ScreeningPolicy::compile(&Screening {
            require_schain: true,
            ..Screening::default()
        });
        assert_eq!(
            strict.admit(&verdict(Findings::SCHAIN_MISSING, 0)),
            Err(Refusal::SupplyChain)
        );
    }

    #[test]
    fn the_score_refuses_at_the_limit_and_lowers_the_price_below_it() {
        // The model's threshold (800) unless the campaign sets its own.
        let default = ScreeningPolicy::default();
        assert_eq!(default.admit(&verdict(Findings::NONE, 799)), Ok(1000));
        assert_eq!(
            default.admit(&verdict(Findings::NONE, 800)),
            Err(Refusal::IvtScore)
        );
        let own = ScreeningPolicy::compile(&Screening {
            max_ivt_score: Some(0.9),
            lower_price_from_ivt_score: Some(0.25),
            ..Screening::default()
        });
        assert_eq!(own.admit(&verdict(Findings::NONE, 249)), Ok(1000));
        assert_eq!(own.admit(&verdict(Findings::NONE, 250)), Ok(750));
        assert_eq!(own.admit(&verdict(Findings::NONE, 899)), Ok(101));
        assert_eq!(
            own.admit(&verdict(Findings::NONE, 900)),
            Err(Refusal::IvtScore)
        );
        // Without a model nothing is refused or lowered by score.
        assert_eq!(default.admit(&Verdict::PASS), Ok(1000));
        let no_model = Verdict {
            score_per_mille: 950,
            ..Verdict::PASS
        };
        assert_eq!(own.admit(&no_model), Ok(1000));
    }

    #[test]
    fn score_limits_round_down_to_thousandths() {
        let policy = ScreeningPolicy::compile(&Screening {
            max_ivt_score: Some(0.8009),
            ..Screening::default()
        });
        // 0.8009 → 800: a score of 800 (0.800–0.8009) may have reached the
        // limit, so it is refused.
        assert_eq!(policy.admit(&verdict(Findings::NONE, 799)), Ok(1000));
        assert_eq!(
            policy.admit(&verdict(Findings::NONE, 800)),
            Err(Refusal::IvtScore)
        );
    }
}
