//! The event pipeline end to end: events written by the real bidder, read back from
//! its NDJSON files or from a moto Kinesis stream, with failures and shutdown.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use support::moto::{EVENTS_STREAM, Moto, Stream, kinesis_options};
use support::{Bidder, Options, eventually, raw_bid, read_response, sample};

fn by_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[test]
fn bids_notices_and_sampled_no_bids_are_written_as_documented_and_reported() {
    let mut bidder = Bidder::start_with(Options {
        config: "[events]\nbatch_linger_ms = 20\nnobid_sample_rate = 1.0\ninstance = \"test-1\"\n"
            .into(),
        ..Options::default()
    });
    let reply = bidder.post_json("/openrtb2/bid/adx", &sample("banner"));
    assert_eq!(reply.status, 200);
    let bid = reply.json()["seatbid"][0]["bid"][0].clone();
    let burl = bid["burl"]
        .as_str()
        .unwrap()
        .replace("${AUCTION_PRICE}", "1.75");
    let nurl = bid["nurl"]
        .as_str()
        .expect("a win URL for an inline creative")
        .replace("${AUCTION_PRICE}", "1.75");
    assert!(nurl.contains("/notice/win?t="), "{nurl}");
    let click = burl.replace("/notice/imp?", "/notice/click?");
    for url in [&nurl, &burl, &click] {
        assert_eq!(bidder.get(url).status, 200, "{url}");
    }
    assert_eq!(
        bidder
            .bid(br#"{"id":"nb-1","imp":[{"id":"1","banner":{"w":1,"h":1}}]}"#)
            .status,
        204
    );
    assert!(eventually(Duration::from_secs(5), || bidder
        .event_lines()
        .len()
        >= 5));

    let events = bidder.event_lines();
    let bid_event = by_type(&events, "bid")[0];
    assert_eq!(bid_event["v"], 1);
    assert_eq!(bid_event["request_id"], "req-banner-1");
    assert_eq!(bid_event["imp_id"], "1");
    assert_eq!(bid_event["campaign_id"], bid["cid"]);
    assert_eq!(bid_event["creative_id"], bid["crid"]);
    assert_eq!(
        bid_event["bid_price_micros"].as_f64(),
        bid["price"].as_f64().map(|p| (p * 1e6).round())
    );
    assert_eq!(bid_event["currency"], "USD");
    assert_eq!(bid_event["exchange"], "adx");
    assert_eq!(bid_event["publisher_id"], "pub-1001");
    assert_eq!(bid_event["country"], "USA");
    assert_eq!(bid_event["device_type"], 4);
    assert_eq!(bid_event["instance"], "test-1");
    assert!(bid_event["core"].as_u64().unwrap() < 2);
    assert!(bid_event["latency_us"].as_u64().is_some());
    assert_eq!(
        bid_event["auction_type"], 2,
        "a request without `at` is second price"
    );
    for kind in ["win", "imp", "click"] {
        let notice = by_type(&events, kind);
        assert_eq!(notice.len(), 1, "{kind}");
        assert_eq!(notice[0]["request_id"], "req-banner-1");
        assert_eq!(notice[0]["campaign_id"], bid["cid"]);
        assert_eq!(
            notice[0]["exchange"], "adx",
            "the token carries the exchange"
        );
    }
    assert_eq!(by_type(&events, "imp")[0]["win_price_micros"], 1_750_000);
    let nobid = by_type(&events, "nobid");
    assert_eq!(nobid[0]["nobid_reason"], "no_match");

    bidder.signal(libc::SIGTERM);
    assert!(bidder.wait_exit(Duration::from_secs(10)).success());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bidder"))
        .args(["report", "--dir"])
        .arg(bidder.events_dir())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    let campaign = bid["cid"].as_str().unwrap();
    let row = table
        .lines()
        .find(|l| l.starts_with(campaign))
        .unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    // campaign, exchange, currency, bids, wins, losses, win rate, impressions,
    // clicks, spend
    assert_eq!(
        cells[1..],
        ["adx", "USD", "1", "1", "0", "100.0%", "1", "1", "0.001750"],
        "{table}"
    );
}

#[test]
fn events_arrive_in_kinesis_intact() {
    let moto = Moto::start();
    let stream = Stream::new(&moto, EVENTS_STREAM);
    stream.create(2);
    let bidder = Bidder::start_with(kinesis_options(&moto, ""));
    let mut sent_ids = Vec::new();
    for n in 0..40 {
        let mut json: Value = serde_json::from_slice(&sample("banner")).unwrap();
        json["id"] = format!("k-{n}").into();
        assert_eq!(bidder.bid(&serde_json::to_vec(&json).unwrap()).status, 200);
        sent_ids.push(format!("k-{n}"));
    }
    assert!(eventually(Duration::from_secs(10), || stream
        .read_all()
        .len()
        >= 40));
    let records = stream.read_all();
    assert!(
        records
            .iter()
            .all(|r| r.ends_with('\n') && r.matches('\n').count() == 1),
        "one line per record"
    );
    let mut got: Vec<String> = records
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r).unwrap()["request_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    got.sort();
    sent_ids.sort();
    assert_eq!(got, sent_ids, "every bid event once");
    assert_eq!(bidder.metric("tern_events_sent_total"), 40.0);
}

#[test]
fn while_kinesis_is_away_memory_stays_bounded_and_drops_are_counted() {
    let mut moto = Moto::start();
    Stream::new(&moto, EVENTS_STREAM).create(1);
    let bidder = Bidder::start_with(kinesis_options(
        &moto,
        "queue_capacity = 50\nmax_buffered_records = 100\nbatch_records = 50\n",
    ));
    moto.stop();
    let body = raw_bid(&sample("banner"), "");
    let mut conn = bidder.connect();
    for _ in 0..600 {
        support::send(&mut conn, &body);
        assert_eq!(read_response(&mut conn).unwrap().status, 200);
    }
    let pending = bidder.metric("tern_events_pending");
    let queued = bidder.metric("tern_events_queue_depth");
    assert!(
        pending <= 100.0 && queued <= 2.0 * 50.0,
        "bounded: pending {pending}, queued {queued}"
    );
    assert!(bidder.metric("tern_events_dropped_total{stage=\"queue_full\"}") > 0.0);
    assert!(eventually(Duration::from_secs(10), || bidder
        .metric("tern_events_retried_total")
        > 0.0));

    moto.restart();
    let stream = Stream::new(&moto, EVENTS_STREAM);
    stream.create(1);
    assert!(
        eventually(Duration::from_secs(15), || bidder
            .metric("tern_events_pending")
            == 0.0
            && bidder.metric("tern_events_queue_depth") == 0.0),
        "the backlog never drained"
    );
    let accepted = bidder.metric("tern_events_accepted_total");
    assert_eq!(bidder.metric("tern_events_sent_total"), accepted);
    assert_eq!(
        stream.read_all().len() as f64,
        accepted,
        "the backlog arrived after the outage"
    );
}

#[test]
fn sigterm_under_load_accounts_for_every_event() {
    let moto = Moto::start();
    let stream = Stream::new(&moto, EVENTS_STREAM);
    stream.create(2);
    let mut bidder = Bidder::start_with(kinesis_options(&moto, "queue_capacity = 2000\n"));
    let stop = Arc::new(AtomicBool::new(false));
    let bids_seen = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (addr, stop, bids_seen) = (bidder.bid, Arc::clone(&stop), Arc::clone(&bids_seen));
            std::thread::spawn(move || {
                let body = raw_bid(&sample("banner"), "");
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut conn) = std::net::TcpStream::connect(addr) else {
                        break;
                    };
                    loop {
                        if std::io::Write::write_all(&mut conn, &body).is_err() {
                            break;
                        }
                        let Some(reply) = read_response(&mut conn) else {
                            break;
                        };
                        if reply.status == 200 {
                            bids_seen.fetch_add(1, Ordering::Relaxed);
                        }
                        if reply.header("connection") == Some("close") {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    assert!(eventually(Duration::from_secs(10), || bids_seen
        .load(Ordering::Relaxed)
        > 1000));
    bidder.signal(libc::SIGTERM);
    assert!(bidder.wait_exit(Duration::from_secs(15)).success());
    stop.store(true, Ordering::Relaxed);
    clients.into_iter().for_each(|c| c.join().unwrap());

    let log = bidder.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("events flushed"))
        .unwrap_or_else(|| panic!("{log}"));
    let field = |name: &str| -> u64 {
        let start = line.find(&format!("{name}=")).unwrap() + name.len() + 1;
        line[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (accepted, sent) = (field("accepted"), field("sent"));
    let (dropped_full, dropped_sink) = (field("dropped_queue_full"), field("dropped_sink"));
    assert_eq!(
        accepted,
        sent + dropped_sink,
        "every accepted event was sent or counted as dropped"
    );
    assert_eq!(
        bids_seen.load(Ordering::Relaxed),
        accepted + dropped_full,
        "one event per bid answered"
    );
    assert_eq!(
        stream.read_all().len() as u64,
        sent,
        "what was counted as sent is in the stream"
    );
}
