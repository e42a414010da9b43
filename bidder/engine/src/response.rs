//! OpenRTB 2.6 `BidResponse` (§4.2.1–§4.2.3), written straight into the output buffer.
//!
//! The response is assembled from the request (borrowed), the decision and the
//! snapshot without building an intermediate document: every byte goes once into a
//! reused `Vec<u8>`. Strings are escaped by `sonic-rs`.

use crate::decision::ImpBid;
use crate::json_out::{write_str, write_str_list};
use crate::money::{Currency, write_decimal};
use crate::native;
use crate::notice::{BidOrigin, Notice, NoticeSigner};
use crate::openrtb::request::BidRequest;
use crate::snapshot::{CreativeKind, Snapshot};
use crate::user::UserKey;

/// Where billing notices go: `{base_url}/notice/imp?t=<token>&p=${AUCTION_PRICE}`.
#[derive(Debug, Clone, Copy)]
pub struct BillingUrl<'a> {
    /// Scheme, host and port of the bidder as exchanges reach it, without a trailing slash.
    pub base_url: &'a str,
    /// Signs the notice token.
    pub signer: &'a NoticeSigner,
    /// This bidder process, named in each token (see [`BidOrigin`]).
    pub origin: BidOrigin,
}

/// Path of the billing notice endpoint on the bid listener (`burl`).
pub const NOTICE_PATH: &str = "/notice/imp";

/// Path of the win notice endpoint on the bid listener (`nurl`, when the creative
/// has no win URL of its own).
pub const WIN_PATH: &str = "/notice/win";

/// Path of the click tracker on the bid listener: the `burl` URL with this path.
pub const CLICK_PATH: &str = "/notice/click";

/// Path of the loss notice endpoint on the bid listener (`lurl`). The exchange
/// fills `r` with the loss reason (OpenRTB 2.6 list 5.25) and `m` with the lowest
/// bid that would have won, CPM in the bid's currency, where it knows it.
pub const LOSS_PATH: &str = "/notice/loss";

/// The query that follows the token in `lurl`: the 2.6 loss macros (§4.4).
pub const LOSS_MACROS: &str = "&r=${AUCTION_LOSS}&m=${AUCTION_MIN_TO_WIN}";

/// Everything a response is written from.
#[derive(Debug, Clone, Copy)]
pub struct ResponseParts<'r, 'a> {
    /// The request being answered.
    pub request: &'r BidRequest<'a>,
    /// The snapshot the bids were decided on.
    pub snapshot: &'r Snapshot,
    /// The winning bids.
    pub bids: &'r [ImpBid],
    /// Currency of every price.
    pub currency: Currency,
    /// Our seat id.
    pub seat: &'r str,
    /// Billing notice target; `None` omits `burl`.
    pub billing: Option<BillingUrl<'r>>,
    /// Now, seconds since the Unix epoch (stamped into notice tokens).
    pub now_unix_s: u64,
    /// The user, carried in notice tokens so an impression can count against caps.
    pub user: Option<UserKey>,
    /// The supply partner, carried in notice tokens for reporting; may be empty.
    pub exchange: &'r str,
}

/// Appends the JSON `BidResponse` to `out`.
pub fn write_bid_response(out: &mut Vec<u8>, parts: &ResponseParts<'_, '_>) {
    let req = parts.request;
    out.extend_from_slice(b"{\"id\":");
    write_str(out, &req.id);
    out.extend_from_slice(b",\"cur\":\"");
    out.extend_from_slice(parts.currency.as_str().as_bytes());
    out.extend_from_slice(b"\",\"seatbid\":[{\"seat\":");
    write_str(out, parts.seat);
    out.extend_from_slice(b",\"bid\":[");
    for (n, bid) in parts.bids.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_bid(out, parts, bid);
    }
    out.extend_from_slice(b"]}]}");
}

fn write_bid(out: &mut Vec<u8>, parts: &ResponseParts<'_, '_>, bid: &ImpBid) {
    let imp = &parts.request.imp[bid.imp];
    let campaign = &parts.snapshot.campaigns()[bid.campaign as usize];
    let creative = &campaign.creatives[bid.creative];
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(b"{\"id\":\"");
    out.extend_from_slice(num.format(bid.imp + 1).as_bytes());
    out.extend_from_slice(b"\",\"impid\":");
    write_str(out, &imp.id);
    out.extend_from_slice(b",\"price\":");
    write_decimal(out, bid.price);
    out.extend_from_slice(b",\"adid\":");
    write_str(out, &creative.id);
    out.extend_from_slice(b",\"crid\":");
    write_str(out, &creative.id);
    out.extend_from_slice(b",\"cid\":");
    write_str(out, &campaign.id);
    out.extend_from_slice(b",\"adomain\":[");
    write_str(out, &campaign.advertiser_domain);
    out.push(b']');
    // The categories in the taxonomy the exchange's `bcat` uses, where the
    // campaign declares them there; else its IAB 1.0 ones.
    let bcat_cattax = parts.request.bcat_cattax();
    let (cattax, categories) = match campaign.categories_in(bcat_cattax) {
        Some(categories) if !categories.is_empty() => (bcat_cattax, categories),
        _ => (1, campaign.categories.as_slice()),
    };
    if !categories.is_empty() {
        out.extend_from_slice(b",\"cat\":");
        write_str_list(out, categories);
        out.extend_from_slice(b",\"cattax\":");
        out.extend_from_slice(num.format(cattax).as_bytes());
    }
    if !creative.attr.is_empty() {
        out.extend_from_slice(b",\"attr\":[");
        for (n, attr) in creative.attr.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(num.format(*attr).as_bytes());
        }
        out.push(b']');
    }
    if let Some(language) = &creative.language {
        out.extend_from_slice(b",\"language\":");
        write_str(out, language);
    }
    out.extend_from_slice(b",\"mtype\":");
    out.extend_from_slice(num.format(creative.kind.mtype()).as_bytes());
    if let Some(media) = creative.kind.timed() {
        out.extend_from_slice(b",\"dur\":");
        out.extend_from_slice(num.format(media.duration_secs).as_bytes());
        out.extend_from_slice(b",\"protocol\":");
        out.extend_from_slice(num.format(media.protocol).as_bytes());
    }
    if let Some(bundle) = &campaign.app_bundle {
        out.extend_from_slice(b",\"bundle\":");
        write_str(out, bundle);
    }
    if let Some(w) = bid.w {
        out.extend_from_slice(b",\"w\":");
        out.extend_from_slice(num.format(w).as_bytes());
    }
    if let Some(h) = bid.h {
        out.extend_from_slice(b",\"h\":");
        out.extend_from_slice(num.format(h).as_bytes());
    }
    let deal = bid.deal.and_then(|d| imp.pmp.as_ref()?.deals.get(d));
    if let Some(deal) = deal {
        out.extend_from_slice(b",\"dealid\":");
        write_str(out, &deal.id);
    }
    if let Some(adm) = &creative.adm {
        out.extend_from_slice(b",\"adm\":");
        write_str(out, adm);
    } else if let CreativeKind::Native(spec) = &creative.kind
        && let Some(request) = imp.native.as_ref().and_then(|n| n.request.as_deref())
    {
        // Native markup is a JSON document inside a JSON string: built in a
        // buffer the thread reuses, then written escaped.
        out.extend_from_slice(b",\"adm\":");
        MARKUP.with(|markup| {
            let mut markup = markup.borrow_mut();
            markup.clear();
            native::write_markup(&mut markup, spec, request);
            // Built from `&str`s only: always UTF-8.
            write_str(out, std::str::from_utf8(&markup).unwrap_or_default());
        });
    }
    if let Some(nurl) = &creative.nurl {
        out.extend_from_slice(b",\"nurl\":");
        write_str(out, nurl);
    }
    if let Some(billing) = parts.billing {
        let notice = Notice {
            request_id: &parts.request.id,
            imp_id: &imp.id,
            campaign_id: &campaign.id,
            creative_id: &creative.id,
            exchange: parts.exchange,
            price: bid.price,
            currency: parts.currency,
            issued_at_s: parts.now_unix_s,
            user: parts.user,
            origin: Some(billing.origin),
            // Only a campaign with a budget holds (see `Auction::finish`).
            held: if campaign.budget.is_limited() {
                bid.cost
            } else {
                0
            },
        };
        write_notice_urls(out, &billing, &notice, creative.nurl.is_none());
    }
    out.push(b'}');
}

/// Appends `burl`, `lurl` (and `nurl`, when the creative has none of its own)
/// pointing at the bidder's notice endpoints, all carrying one signed token.
/// Writes nothing if the token cannot be made (ids too long to carry).
fn write_notice_urls(out: &mut Vec<u8>, billing: &BillingUrl<'_>, notice: &Notice<'_>, nurl: bool) {
    let start = out.len();
    out.extend_from_slice(b",\"burl\":\"");
    // The base URL is checked at start-up to need no escaping.
    out.extend_from_slice(billing.base_url.as_bytes());
    out.extend_from_slice(NOTICE_PATH.as_bytes());
    out.extend_from_slice(b"?t=");
    let token_start = out.len();
    if !billing.signer.append_token(notice, out) {
        out.truncate(start);
        return;
    }
    let token = token_start..out.len();
    out.extend_from_slice(b"&p=${AUCTION_PRICE}\"");
    out.extend_from_slice(b",\"lurl\":\"");
    out.extend_from_slice(billing.base_url.as_bytes());
    out.extend_from_slice(LOSS_PATH.as_bytes());
    out.extend_from_slice(b"?t=");
    out.extend_from_within(token.clone());
    out.extend_from_slice(LOSS_MACROS.as_bytes());
    out.push(b'"');
    if nurl {
        out.extend_from_slice(b",\"nurl\":\"");
        out.extend_from_slice(billing.base_url.as_bytes());
        out.extend_from_slice(WIN_PATH.as_bytes());
        out.extend_from_slice(b"?t=");
        out.extend_from_within(token);
        out.extend_from_slice(b"&p=${AUCTION_PRICE}\"");
    }
}

thread_local! {
    /// The native markup being written, before it is escaped into `adm`.
    static MARKUP: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}
