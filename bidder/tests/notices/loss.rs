//! Loss notices (`lurl`, OpenRTB 2.6 §4.3): the bid's own loss URL, with the
//! exchange's loss reason (`${AUCTION_LOSS}`, list 5.25) and the lowest bid that
//! would have won (`${AUCTION_MIN_TO_WIN}`) in every form they arrive in, is
//! verified like any notice, counted once, recorded as a `loss` event, and a real
//! loss gives the bid's budget hold back at once.

use std::time::Duration;

use serde_json::Value;

use super::get_raw;
use crate::support::{Bidder, Options, eventually};

/// How a loss notice's `r` and `m` arrive, and what the event should say.
struct Form {
    name: &'static str,
    /// `r` as sent; `None` removes the parameter.
    r: Option<&'static str>,
    /// `m` as sent; `None` removes the parameter.
    m: Option<&'static str>,
    loss_reason: Option<u64>,
    min_to_win_micros: Option<u64>,
}

const FORMS: [Form; 8] = [
    Form {
        name: "both substituted",
        r: Some("102"),
        m: Some("2.5"),
        loss_reason: Some(102),
        min_to_win_micros: Some(2_500_000),
    },
    Form {
        name: "percent-encoded values",
        r: Some("%31%30%30"),
        m: Some("2%2E5"),
        loss_reason: Some(100),
        min_to_win_micros: Some(2_500_000),
    },
    Form {
        name: "a price past a micro, rounded up",
        r: Some("1001"),
        m: Some("2.0000001"),
        loss_reason: Some(1001),
        min_to_win_micros: Some(2_000_001),
    },
    Form {
        name: "the macros unsubstituted",
        r: Some("${AUCTION_LOSS}"),
        m: Some("${AUCTION_MIN_TO_WIN}"),
        loss_reason: None,
        min_to_win_micros: None,
    },
    Form {
        name: "the macros encoded",
        r: Some("%24%7BAUCTION_LOSS%7D"),
        m: Some("%24%7BAUCTION_MIN_TO_WIN%7D"),
        loss_reason: None,
        min_to_win_micros: None,
    },
    Form {
        name: "removed (empty), as §4.4 does without a value",
        r: Some(""),
        m: Some(""),
        loss_reason: None,
        min_to_win_micros: None,
    },
    Form {
        name: "garbage and AUDIT",
        r: Some("lost"),
        m: Some("AUDIT"),
        loss_reason: None,
        min_to_win_micros: None,
    },
    Form {
        name: "the parameters left out",
        r: None,
        m: None,
        loss_reason: None,
        min_to_win_micros: None,
    },
];

/// The bid's loss URL with `r` and `m` as given (`None`: left out).
fn with_loss(lurl: &str, r: Option<&str>, m: Option<&str>) -> String {
    let url = match r {
        Some(r) => lurl.replace("${AUCTION_LOSS}", r),
        None => lurl.replace("&r=${AUCTION_LOSS}", ""),
    };
    match m {
        Some(m) => url.replace("${AUCTION_MIN_TO_WIN}", m),
        None => url.replace("&m=${AUCTION_MIN_TO_WIN}", ""),
    }
}

/// One campaign bidding 2.00 CPM (2,000 micros an impression) on 300x250, under
/// `budget` (TOML) if any.
fn campaigns(dir: &std::path::Path, budget: Option<&str>) -> std::path::PathBuf {
    let path = dir.join("campaigns.toml");
    let budget = budget.map_or(String::new(), |b| format!("budget = {b}\n"));
    std::fs::write(
        &path,
        format!(
            r#"
[[campaigns]]
id = "kept"
advertiser_domain = "kept.example"
bidding = {{ max_cpm = 2.0, base_bid = 2.0 }}
{budget}
[[campaigns.creatives]]
id = "kept-300x250"
banner = {{ w = 300, h = 250 }}
adm = "<b>kept</b>"
"#
        ),
    )
    .unwrap();
    path
}

/// A bidder serving [`campaigns`] from `dir`, with `config` appended.
fn start(dir: &std::path::Path, budget: Option<&str>, config: &str) -> Bidder {
    Bidder::start_with(Options {
        campaigns: Some(campaigns(dir, budget)),
        config: config.to_owned(),
        ..Options::default()
    })
}

/// Bids on one 300x250 impression as auction `id` through `path`, with the
/// auction type `at` if given; the bid.
fn bid(bidder: &Bidder, path: &str, id: &str, at: Option<u8>) -> Value {
    let at = at.map_or(String::new(), |at| format!(r#""at":{at},"#));
    let request =
        format!(r#"{{"id":"{id}",{at}"imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}]}}"#);
    let reply = bidder.post_json(path, request.as_bytes());
    assert_eq!(reply.status, 200, "{id}: {}", reply.text());
    reply.json()["seatbid"][0]["bid"][0].clone()
}

fn url(bid: &Value, field: &str) -> String {
    bid[field].as_str().unwrap().to_owned()
}

fn notices(bidder: &Bidder, outcome: &str) -> f64 {
    bidder.metric(&format!(
        "tern_notices_total{{kind=\"loss\",outcome=\"{outcome}\"}}"
    ))
}

#[test]
fn a_loss_notice_is_recorded_with_its_reason_and_price_to_win_whatever_form_they_take() {
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(dir.path(), None, "[events]\nbatch_linger_ms = 20\n");
    for (n, form) in FORMS.iter().enumerate() {
        let bid = bid(&bidder, "/openrtb2/bid/adx", &format!("lost-{n}"), Some(1));
        let lurl = url(&bid, "lurl");
        let token = |u: &str| {
            u.split("t=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_owned()
        };
        assert!(lurl.contains("/notice/loss?t="), "{lurl}");
        assert_eq!(token(&lurl), token(&url(&bid, "burl")), "signed like burl");
        let accepted = notices(&bidder, "accepted");
        let reply = get_raw(&bidder, &with_loss(&lurl, form.r, form.m));
        assert_eq!(
            (reply.status, reply.text().trim()),
            (200, "ok"),
            "{}",
            form.name
        );
        assert_eq!(
            notices(&bidder, "accepted") - accepted,
            1.0,
            "{}",
            form.name
        );
    }
    // Counted once per auction and impression, whatever the repeat says.
    let first = bid(&bidder, "/openrtb2/bid/adx", "lost-again", None);
    let lurl = url(&first, "lurl");
    for r in ["102", "103"] {
        get_raw(&bidder, &with_loss(&lurl, Some(r), Some("3")));
    }
    assert_eq!(notices(&bidder, "duplicate"), 1.0);

    assert!(eventually(Duration::from_secs(5), || {
        let events = bidder.event_lines();
        events.iter().filter(|e| e["type"] == "loss").count() == FORMS.len() + 1
    }));
    let events = bidder.event_lines();
    for (n, form) in FORMS.iter().enumerate() {
        let id = format!("lost-{n}");
        let of_auction: Vec<&Value> = events.iter().filter(|e| e["request_id"] == id).collect();
        let bid_event = of_auction.iter().find(|e| e["type"] == "bid").unwrap();
        assert_eq!(bid_event["auction_type"], 1, "the request's `at`");
        let loss = of_auction.iter().find(|e| e["type"] == "loss").unwrap();
        assert_eq!(
            loss["loss_reason"].as_u64(),
            form.loss_reason,
            "{}: {loss}",
            form.name
        );
        assert_eq!(
            loss["min_to_win_micros"].as_u64(),
            form.min_to_win_micros,
            "{}: {loss}",
            form.name
        );
        for field in ["campaign_id", "creative_id", "bid_price_micros", "currency"] {
            assert_eq!(loss[field], bid_event[field], "{}: {field}", form.name);
        }
        assert_eq!(loss["exchange"], "adx", "the token carries the exchange");
        assert!(loss.get("win_price_micros").is_none(), "{loss}");
    }
    let again: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "loss" && e["request_id"] == "lost-again")
        .collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["loss_reason"], 102, "the first notice counts");
    assert_eq!(bidder.metric("tern_panics_total"), 0.0);
}

#[test]
fn a_forged_or_malformed_loss_notice_is_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(dir.path(), None, "");
    let lurl = with_loss(
        &url(&bid(&bidder, "/openrtb2/bid", "forged", None), "lurl"),
        Some("102"),
        Some("2"),
    );
    let at = lurl.find("t=").unwrap() + 5;
    let mut forged = lurl.into_bytes();
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let reply = get_raw(&bidder, &forged);
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(notices(&bidder, "forged"), 1.0);

    let garbage = get_raw(&bidder, &bidder.url("/notice/loss?t=not-a-token&r=102"));
    assert_eq!(garbage.status, 400);
    let missing = get_raw(&bidder, &bidder.url("/notice/loss?r=102"));
    assert_eq!(missing.status, 400);
    assert_eq!(notices(&bidder, "malformed"), 2.0);
    assert_eq!(notices(&bidder, "accepted"), 0.0);
    let post = bidder.post_json("/notice/loss", b"{}");
    assert_eq!(post.status, 405);
}

#[test]
fn an_expired_loss_notice_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let bidder = start(dir.path(), None, "[notice]\nmax_age_s = 1\n");
    let lurl = url(&bid(&bidder, "/openrtb2/bid", "old", None), "lurl");
    std::thread::sleep(Duration::from_millis(2_100));
    let reply = get_raw(&bidder, &with_loss(&lurl, Some("102"), Some("2")));
    assert_eq!(reply.status, 410, "{}", reply.text());
    assert_eq!(notices(&bidder, "expired"), 1.0);
}

/// A bidder whose campaign has a total budget (no pacing) and holds each bid for
/// a minute, with the budget figures in `/metrics` refreshed every 100 ms;
/// `extra` is appended to the config.
fn budgeted(dir: &std::path::Path, extra: &str) -> Bidder {
    let config = format!(
        "[budget]\nflush_interval_ms = 100\nhold_timeout_s = 60\nlease_ttl_s = 90\n{extra}"
    );
    start(dir, Some("{ total = 10.0 }"), &config)
}

/// Bids as auction `id`; its `lurl` and `burl`.
fn budgeted_bid(bidder: &Bidder, id: &str) -> (String, String) {
    let bid = bid(bidder, "/openrtb2/bid", id, None);
    (url(&bid, "lurl"), url(&bid, "burl"))
}

fn held(bidder: &Bidder) -> f64 {
    bidder.metric("tern_campaign_held_micros{campaign=\"kept\"}")
}

/// Waits for the held budget to read `micros`, then for three more refreshes to
/// show it stays there (nothing more was released).
fn settles_at(bidder: &Bidder, micros: f64) {
    assert!(
        eventually(Duration::from_secs(5), || held(bidder) == micros),
        "held {} instead of {micros}",
        held(bidder)
    );
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(held(bidder), micros, "and stays");
}

#[test]
fn a_real_loss_releases_the_hold_at_once_a_won_or_unknown_one_keeps_it_and_a_bill_after_still_debits()
 {
    let dir = tempfile::tempdir().unwrap();
    let bidder = budgeted(dir.path(), "");
    let (late, released) = (
        "tern_budget_late_notices_total",
        "tern_loss_released_micros_total",
    );
    // Each bid holds one impression at 2.00 CPM.
    let hold = 2_000.0;
    let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|id| budgeted_bid(&bidder, id));
    settles_at(&bidder, 5.0 * hold);

    // Reason 0 is "bid won"; an unknown reason may still be billed: both keep
    // their holds. A real loss gives its hold back.
    for (lurl, r) in [(&b.0, "0"), (&c.0, "${AUCTION_LOSS}"), (&a.0, "102")] {
        let reply = get_raw(&bidder, &with_loss(lurl, Some(r), Some("2.5")));
        assert_eq!(reply.text().trim(), "ok");
    }
    settles_at(&bidder, 4.0 * hold);
    assert_eq!(bidder.metric(released), hold);
    // Released once: the same loss again changes nothing; another loss releases.
    let again = get_raw(&bidder, &with_loss(&a.0, Some("102"), None));
    assert_eq!(again.text().trim(), "already counted");
    get_raw(&bidder, &with_loss(&d.0, Some("100"), None));
    settles_at(&bidder, 3.0 * hold);
    assert_eq!(bidder.metric(released), 2.0 * hold);
    assert_eq!(bidder.metric(late), 0.0);

    // The exchange bills a lost impression anyway: it is debited, counted late
    // (its hold was gone), and frees no other bid's hold.
    let billed = get_raw(&bidder, &a.1.replace("${AUCTION_PRICE}", "1.5"));
    assert_eq!(billed.text().trim(), "ok");
    assert_eq!(bidder.metric("tern_spend_micros_total"), 1_500.0);
    assert_eq!(bidder.metric(late), 1.0);
    settles_at(&bidder, 3.0 * hold);
    // Billing the one reported won (reason 0) converts its hold as usual.
    let billed = get_raw(&bidder, &b.1.replace("${AUCTION_PRICE}", "2"));
    assert_eq!(billed.text().trim(), "ok");
    settles_at(&bidder, 2.0 * hold);
    // A bill before the loss: the loss finds the hold settled and frees nothing.
    let billed = get_raw(&bidder, &e.1.replace("${AUCTION_PRICE}", "2"));
    assert_eq!(billed.text().trim(), "ok");
    get_raw(&bidder, &with_loss(&e.0, Some("102"), None));
    // What is left is the hold of the bid whose loss gave no reason.
    settles_at(&bidder, hold);
    assert_eq!(bidder.metric(released), 2.0 * hold);
    assert_eq!(bidder.metric(late), 1.0, "only the bill after a release");
    assert_eq!(bidder.metric("tern_spend_micros_total"), 5_500.0);
    assert!(eventually(Duration::from_secs(5), || {
        bidder.state()["budgets"][0]["spent_total_micros"] == 5_500
    }));
}

#[test]
fn a_loss_notice_at_another_bidder_releases_nothing_there_or_here() {
    let shared = "[notice]\nsecret = \"one-secret-for-the-fleet\"\n";
    let (one, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let maker = budgeted(one.path(), shared);
    let elsewhere = budgeted(other.path(), shared);
    let (lurl, _) = budgeted_bid(&maker, "a");
    settles_at(&maker, 2_000.0);
    // The same notice at the other bidder: a genuine token, counted there...
    let path = &lurl[lurl.find("/notice/").unwrap()..];
    let reply = get_raw(
        &elsewhere,
        &elsewhere.url(&with_loss(path, Some("102"), None)),
    );
    assert_eq!(reply.text().trim(), "ok");
    assert_eq!(notices(&elsewhere, "accepted"), 1.0);
    // ...but the hold lives in the process that made the bid, which keeps it
    // until its timeout.
    assert_eq!(elsewhere.metric("tern_loss_released_micros_total"), 0.0);
    settles_at(&maker, 2_000.0);
}
