//! Screening one request: the bot lists on the user agent, the IP ranges on the
//! device's addresses, the supply-chain check, the features and the model's
//! score, into the [`Verdict`] the auction's campaigns judge. A worker keeps one
//! [`Screener`] (its cache of user-agent verdicts) and screens against the
//! current [`Lists`]; nothing here allocates.

use tern_engine::openrtb::request::BidRequest;
use tern_engine::screen::{Findings, Verdict};

use crate::bots::UaVerdicts;
use crate::ip_ranges::RangeKind;
use crate::lists::Lists;
use crate::model::{FEATURES, Features};
use crate::supply_chain;

/// One worker's screening state: the user-agent verdicts it has seen (a bidder
/// sees the same few thousand user agents over and over).
#[derive(Debug, Default)]
pub struct Screener {
    uas: UaVerdicts,
}

/// What screening one request gave: the verdict for the auction and the
/// feature values (for events, so the model can be retrained from them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Screened {
    /// Findings and score.
    pub verdict: Verdict,
    /// The model's inputs, in [`FEATURES`] order.
    pub features: Features,
}

impl Screener {
    /// Screens `req`, sent by the exchange whose ad system domain is
    /// `exchange_domain` (`None` when the operator did not name it: the chain's
    /// last node is then not compared with it).
    pub fn screen(
        &mut self,
        lists: &Lists,
        req: &BidRequest<'_>,
        exchange_domain: Option<&str>,
    ) -> Screened {
        let device = req.device.as_ref();
        let ua = device
            .and_then(|d| d.ua.as_deref())
            .filter(|ua| !ua.is_empty());
        let bot = ua.is_some_and(|ua| self.uas.is_bot(&lists.bots, ua));
        let addresses = device.map_or([None, None], |d| [d.ip.as_deref(), d.ipv6.as_deref()]);
        let mut findings = Findings::NONE;
        for address in addresses.into_iter().flatten() {
            findings = findings.with(match lists.ip_ranges.lookup_text(address) {
                Some(RangeKind::Blocked) => Findings::BLOCKED_IP,
                Some(RangeKind::DataCenter) => Findings::DATACENTER,
                None => Findings::NONE,
            });
        }
        if bot {
            findings = findings.with(Findings::BOT);
        }
        findings = findings.with(supply_chain::check(req, exchange_domain, lists.supply()));
        let features = features(req, findings, addresses);
        let (score_per_mille, threshold_per_mille) = match lists.model() {
            Some(model) => (
                model.score_per_mille(&features),
                model.threshold_per_mille(),
            ),
            None => (0, Verdict::NO_THRESHOLD),
        };
        Screened {
            verdict: Verdict {
                findings,
                score_per_mille,
                threshold_per_mille,
            },
            features,
        }
    }
}

/// The model's inputs (see [`FEATURES`] for each one's meaning).
fn features(req: &BidRequest<'_>, findings: Findings, addresses: [Option<&str>; 2]) -> Features {
    let flag = |on: bool| if on { 1.0 } else { 0.0 };
    let device = req.device.as_ref();
    let user = req.user.as_ref();
    let app = req.app.is_some() && req.site.is_none();
    let text_missing = |text: Option<&str>| text.is_none_or(str::is_empty);
    let values = [
        flag(text_missing(device.and_then(|d| d.ua.as_deref()))),
        flag(findings.any(Findings::BOT)),
        flag(addresses.iter().all(|a| text_missing(*a))),
        flag(findings.any(Findings::DATACENTER)),
        flag(app && text_missing(device.and_then(|d| d.ifa.as_deref()))),
        flag(
            text_missing(user.and_then(|u| u.id.as_deref()))
                && text_missing(user.and_then(|u| u.buyeruid.as_deref())),
        ),
        flag(app),
        flag(findings.any(Findings::SCHAIN_MISSING)),
        req.schain().map_or(0.0, |chain| chain.nodes.len() as f64),
        flag(findings.any(Findings::SELLER_UNAUTHORIZED)),
        flag(req.privacy().limit_tracking),
        req.imp.len() as f64,
        req.tmax.map_or(0.0, |ms| ms as f64 / 1000.0),
    ];
    const _: () = assert!(FEATURES.len() == 13);
    values
}
