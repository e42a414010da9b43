//! Frequency caps as the tests drive them: a campaign file with one capped and one
//! uncapped campaign, the bidder's Redis settings, bid requests for a user, and
//! impressions counted by firing a bid's billing notice. Shared by the
//! frequency-cap tests and the fault tests that kill Redis under load.

use std::path::PathBuf;

use super::redis_server::RedisServer;
use super::{Bidder, Options, Reply};

/// One capped campaign (2 impressions per `window` seconds) and one without a cap,
/// both for 300x250; the capped one pays more, so it wins while under its cap.
pub fn campaigns(dir: &tempfile::TempDir, window: u64) -> PathBuf {
    let path = dir.path().join("campaigns.toml");
    let text = format!(
        r#"
        [[campaigns]]
        id = "capped"
        advertiser_domain = "capped.example"
        bidding = {{ max_cpm = 5.0, base_bid = 3.0 }}
        frequency_cap = {{ max_impressions = 2, window_secs = {window} }}
        [[campaigns.creatives]]
        id = "capped-300x250"
        banner = {{ w = 300, h = 250 }}
        adm = "<b>capped</b>"

        [[campaigns]]
        id = "uncapped"
        advertiser_domain = "uncapped.example"
        bidding = {{ max_cpm = 2.0, base_bid = 1.0 }}
        [[campaigns.creatives]]
        id = "uncapped-300x250"
        banner = {{ w = 300, h = 250 }}
        adm = "<b>uncapped</b>"
        "#
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A bidder serving [`campaigns`] with `caps_config` appended to its config.
pub fn start(dir: &tempfile::TempDir, window: u64, caps_config: &str) -> Bidder {
    Bidder::start_with(Options {
        campaigns: Some(campaigns(dir, window)),
        config: caps_config.to_owned(),
        ..Options::default()
    })
}

/// `[frequency_cap]` with the Redis store at `redis`, a 50 ms check deadline and
/// quick reconnects; `extra` goes into `[frequency_cap]`.
pub fn redis_config(redis: &RedisServer, extra: &str) -> String {
    format!(
        "[frequency_cap]\nstore = \"redis\"\ntimeout_ms = 50\n{extra}\n\
         [frequency_cap.redis]\naddr = \"{}\"\nretry_initial_ms = 50\nretry_max_ms = 200\n",
        redis.addr()
    )
}

/// A 300x250 request from `user` with id `id` and `tmax_ms`.
pub fn request_with(user: &str, id: &str, tmax_ms: u64) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","tmax":{tmax_ms},"imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}],
            "user":{{"buyeruid":"{user}"}}}}"#
    )
    .into_bytes()
}

/// Request `n` of `user`, with a generous `tmax` (1 s).
pub fn request(user: &str, n: u32) -> Vec<u8> {
    request_with(user, &format!("{user}-{n}"), 1000)
}

/// The winning campaign of an answer (`None` for 204); panics on anything else.
pub fn winner_of(reply: &Reply) -> Option<String> {
    match reply.status {
        204 => None,
        200 => Some(
            reply.json()["seatbid"][0]["bid"][0]["cid"]
                .as_str()?
                .to_owned(),
        ),
        other => panic!("unexpected status {other}: {}", reply.text()),
    }
}

/// Bids for `user`; returns the winning campaign and its billing notice URL.
pub fn bid(bidder: &Bidder, user: &str, n: u32) -> Option<(String, String)> {
    let reply = bidder.bid(&request(user, n));
    let cid = winner_of(&reply)?;
    let burl = reply.json()["seatbid"][0]["bid"][0]["burl"]
        .as_str()
        .unwrap()
        .replace("${AUCTION_PRICE}", "2.5");
    Some((cid, burl))
}

/// The campaign that wins request `n` of `user`.
pub fn winner(bidder: &Bidder, user: &str, n: u32) -> Option<String> {
    bid(bidder, user, n).map(|(cid, _)| cid)
}

/// Wins with the capped campaign and fires its notice (an impression).
pub fn impression(bidder: &Bidder, user: &str, n: u32) {
    let (cid, burl) = bid(bidder, user, n).expect("a bid");
    assert_eq!(cid, "capped");
    assert_eq!(bidder.get(&burl).status, 200);
}
