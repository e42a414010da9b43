//! The supply-chain check: is the chain whole, and is every seller in it
//! authorised? After the IAB Tech Lab "Supply Chain Validation" guidance for
//! buyers (SupplyChain Object 1.0 with ads.txt 1.1 and sellers.json 1.0):
//!
//! - a chain must say it is complete (`complete = 1`), have nodes, and every node
//!   an `asi` and an `sid` of at most 64 characters (SupplyChain 1.0 §"sid");
//! - its last node must be the exchange that sent the request (when the operator
//!   told the bidder that exchange's ad system domain);
//! - each node's `sid` must be in its `asi`'s sellers.json (where the operator
//!   loaded that file), and the first node of a complete chain must be a
//!   `PUBLISHER` (or `BOTH`) there;
//! - the first node of a complete chain must be listed `DIRECT` in the
//!   publisher's ads.txt (site domain, or a parent domain) or app-ads.txt (app
//!   bundle), where the operator loaded it. Without a chain the seller is the
//!   exchange itself, selling `publisher.id`: that pair must be listed.
//!
//! A publisher or ad system whose file was not loaded is not judged.

use tern_engine::openrtb::request::{BidRequest, SupplyChain};
use tern_engine::screen::Findings;

use crate::ads_txt::{AuthorizedSellers, PublisherSellers, Relationship};
use crate::sellers_json::{SellerType, Sellers};

/// Longest `sid` SupplyChain 1.0 allows.
const MAX_SID_CHARS: usize = 64;

/// The lists the check reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SupplyLists<'l> {
    pub(crate) ads_txt: &'l AuthorizedSellers,
    pub(crate) app_ads_txt: &'l AuthorizedSellers,
    pub(crate) sellers: &'l Sellers,
}

/// The supply-chain findings about `req`, sent by the exchange whose ad system
/// domain is `exchange` (unknown: `None`).
pub(crate) fn check(
    req: &BidRequest<'_>,
    exchange: Option<&str>,
    lists: SupplyLists<'_>,
) -> Findings {
    let publisher = publisher_sellers(req, lists);
    let Some(chain) = req.schain() else {
        // The exchange sells the publisher's inventory itself.
        let authorised = match (publisher, exchange, req.publisher_id()) {
            (None, _, _) => true,
            (Some(p), Some(exchange), Some(account)) => p.relationship(exchange, account).is_some(),
            (Some(_), _, _) => false,
        };
        return Findings::SCHAIN_MISSING.with(unauthorised_if(!authorised));
    };
    let complete = chain.complete == Some(1) && is_well_formed(chain);
    let from_exchange = match (exchange, chain.nodes.last().and_then(|n| n.asi.as_deref())) {
        (Some(exchange), Some(last)) => last.eq_ignore_ascii_case(exchange),
        (Some(_), None) => false,
        (None, _) => true,
    };
    let mut findings = Findings::NONE;
    if !complete || !from_exchange {
        findings = findings.with(Findings::SCHAIN_INCOMPLETE);
    }
    let known_sellers = chain.nodes.iter().enumerate().all(|(i, node)| {
        let (Some(asi), Some(sid)) = (node.asi.as_deref(), node.sid.as_deref()) else {
            return true; // malformed: found above
        };
        let Some(directory) = lists.sellers.ad_system(asi) else {
            return true; // not loaded: not judged
        };
        match directory.seller_type(sid) {
            None => false,
            Some(SellerType::Intermediary) => !(i == 0 && complete),
            Some(SellerType::Publisher | SellerType::Both) => true,
        }
    });
    let listed = publisher.is_none_or(|p| {
        let first = chain.nodes.first();
        let pair = first.and_then(|n| Some((n.asi.as_deref()?, n.sid.as_deref()?)));
        complete
            && pair.is_some_and(|(asi, sid)| p.relationship(asi, sid) == Some(Relationship::Direct))
    });
    findings.with(unauthorised_if(!known_sellers || !listed))
}

/// Whether every node has its ids, within the spec's limits.
fn is_well_formed(chain: &SupplyChain<'_>) -> bool {
    !chain.nodes.is_empty()
        && chain.nodes.iter().all(|node| {
            let asi = node.asi.as_deref().unwrap_or_default();
            let sid = node.sid.as_deref().unwrap_or_default();
            !asi.is_empty() && !sid.is_empty() && sid.chars().count() <= MAX_SID_CHARS
        })
}

/// The authorised sellers of the request's site (by domain, or a parent domain)
/// or app (by bundle), if the operator loaded its file.
fn publisher_sellers<'l>(
    req: &BidRequest<'_>,
    lists: SupplyLists<'l>,
) -> Option<PublisherSellers<'l>> {
    if let Some(site) = &req.site {
        return lists
            .ads_txt
            .publisher_or_parent(host_of(site.domain.as_deref()?));
    }
    let app = req.app.as_ref()?;
    lists.app_ads_txt.publisher(app.bundle.as_deref()?)
}

/// The host a `site.domain` names, however it is written: surrounding spaces,
/// a scheme, a port, a path and a trailing dot dropped (`https://News.example.:443/a`
/// is `News.example`; case is ignored by the lookup), so no spelling of a listed
/// domain escapes its ads.txt.
fn host_of(domain: &str) -> &str {
    let domain = domain.trim();
    let after_scheme = domain.split_once("://").map_or(domain, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(after_scheme);
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    host.trim_end_matches('.')
}

fn unauthorised_if(condition: bool) -> Findings {
    if condition {
        Findings::SELLER_UNAUTHORIZED
    } else {
        Findings::NONE
    }
}
