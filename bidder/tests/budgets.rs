//! Budgets end to end on one bidder: the DynamoDB spend ledger against the rules
//! (the file ledger's `apply`) on a real moto server, and the embedded default
//! keeping spend across restarts, graceful or SIGKILL.

mod support;

use std::path::Path;
use std::time::Duration;

use bidder::budget::ledger::dynamodb::DynamoLedger;
use bidder::budget::ledger::local::{FORGET_LEASES_AFTER_S, apply};
use bidder::budget::ledger::{Flush, LeaseKey, Ledger, LedgerItem, OwnFlush, Update};
use support::moto::Moto;
use support::{Bidder, Options, eventually};

const DATE: &str = "2026-11-30";

fn key(bidder: u64, process: u32) -> LeaseKey {
    LeaseKey {
        bidder,
        process,
        date: DATE.to_owned(),
    }
}

#[test]
fn the_dynamodb_ledger_applies_each_update_as_the_rules_say() {
    let moto = Moto::start();
    let (runtime, shared) = moto.sdk_config();
    let client = aws_sdk_dynamodb::Client::new(&shared);
    runtime
        .block_on(DynamoLedger::create_table(&client, "tern-spend"))
        .unwrap();
    let ledger = DynamoLedger::new(client, "tern-spend".to_owned());
    let (a, b) = (key(0xa, 1), key(0xb, 2));
    let open = |lease: &LeaseKey, who: &str| Update::Open {
        lease: lease.clone(),
        bidder_id: who.to_owned(),
    };
    let grant = |lease: &LeaseKey, seq, slice| Update::Grant {
        lease: lease.clone(),
        seq,
        slice,
        total_limit: Some(5_000),
        daily_limit: Some(1_000),
        expires_s: 1_000,
    };
    let flush_a = Update::Flush(Flush {
        journal: 0xa,
        position: 10,
        own: vec![OwnFlush {
            lease: a.clone(),
            seq: 1,
            spend: 300,
            covered: 300,
            absorb: 0,
            absorb_covered: 0,
            expires_s: 1_200,
        }],
        foreign: vec![(b.clone(), 50)],
        unattributed: vec![(DATE.to_owned(), 7)],
    });
    let absorb_b = Update::Flush(Flush {
        journal: 0xb,
        position: 0,
        own: vec![OwnFlush {
            lease: b.clone(),
            seq: 1,
            spend: 0,
            covered: 0,
            absorb: 50,
            absorb_covered: 50,
            expires_s: 1_300,
        }],
        foreign: vec![],
        unattributed: vec![],
    });
    // A flush that only renews (no spend: an idle bidder keeps its lease), and one
    // whose spend is zero (notices at a price of 0).
    let own_a = |seq, spend, expires_s| OwnFlush {
        lease: a.clone(),
        seq,
        spend,
        covered: spend,
        absorb: 0,
        absorb_covered: 0,
        expires_s,
    };
    let renew_a = Update::Flush(Flush {
        journal: 0xa,
        position: 0,
        own: vec![own_a(2, 0, 1_400)],
        foreign: vec![],
        unattributed: vec![],
    });
    let zero_spend_a = Update::Flush(Flush {
        journal: 0xa,
        position: 20,
        own: vec![own_a(3, 0, 1_500)],
        foreign: vec![],
        unattributed: vec![(DATE.to_owned(), 0)],
    });
    let steps: Vec<(&str, Update, bool)> = vec![
        ("open a", open(&a, "bidder-a"), true),
        ("open b", open(&b, "bidder-b"), true),
        ("open a again keeps it", open(&a, "bidder-x"), true),
        ("grant a 600", grant(&a, 0, 600), true),
        ("grant b 500 overruns the day", grant(&b, 0, 500), false),
        ("grant b 400", grant(&b, 0, 400), true),
        ("grant with an old seq", grant(&a, 0, 1), false),
        ("flush a", flush_a.clone(), true),
        ("the same position again", flush_a, false),
        ("a renewal alone", renew_a, true),
        ("a flush of zero spend", zero_spend_a, true),
        ("b absorbs what a billed for it", absorb_b, true),
        (
            "return more than reserved",
            Update::Return {
                lease: a.clone(),
                seq: 4,
                amount: 301,
            },
            false,
        ),
        (
            "return what is left",
            Update::Return {
                lease: a.clone(),
                seq: 4,
                amount: 300,
            },
            true,
        ),
        (
            "reclaim a live lease",
            Update::Reclaim {
                lease: b.clone(),
                seq: 2,
                now_s: 1_000,
            },
            false,
        ),
        (
            "reclaim a lapsed lease",
            Update::Reclaim {
                lease: b.clone(),
                seq: 2,
                now_s: 1_301,
            },
            true,
        ),
        (
            "alert",
            Update::Alert {
                key: format!("daily/{DATE}/50"),
                bidder_id: "bidder-a".to_owned(),
            },
            true,
        ),
        (
            "the same alert from another bidder",
            Update::Alert {
                key: format!("daily/{DATE}/50"),
                bidder_id: "bidder-b".to_owned(),
            },
            false,
        ),
        (
            "forget an empty lease lapsed a day",
            Update::Reclaim {
                lease: b.clone(),
                seq: 3,
                now_s: 1_301 + FORGET_LEASES_AFTER_S,
            },
            true,
        ),
    ];
    let mut expected = LedgerItem::default();
    for (what, update, applies) in &steps {
        let by_rules = apply(&mut expected, update);
        assert_eq!(by_rules.is_ok(), *applies, "the rules, at {what}");
        let stored = runtime.block_on(ledger.apply("c1", update));
        assert_eq!(stored.is_ok(), *applies, "DynamoDB, at {what}: {stored:?}");
        let now = runtime.block_on(ledger.read("c1")).unwrap();
        assert_eq!(now, expected, "the item after {what}");
    }
    // What the script leaves, as figures: 300 + 50 + 7 spent, nothing reserved.
    assert_eq!(expected.total_spent, 357);
    assert_eq!(expected.total_committed, 357);
    assert_eq!(expected.day(DATE).spent, 357);
    assert!(expected.lease(&b).is_none());
    assert_eq!(expected.lease(&a).unwrap().reserved, 0);
}

/// A campaigns file with one campaign bidding 2.00 CPM under `budget` (TOML).
fn campaign_file(dir: &Path, budget: &str) -> std::path::PathBuf {
    let path = dir.join("campaigns.toml");
    std::fs::write(
        &path,
        format!(
            r#"
            [[campaigns]]
            id = "kept"
            advertiser_domain = "kept.example"
            bidding = {{ max_cpm = 2.0, base_bid = 2.0 }}
            budget = {budget}
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

fn bid_and_bill(bidder: &Bidder, n: u32) -> u16 {
    let request = format!(r#"{{"id":"r{n}","imp":[{{"id":"1","banner":{{"w":300,"h":250}}}}]}}"#);
    let reply = bidder.bid(request.as_bytes());
    if reply.status != 200 {
        return reply.status;
    }
    let burl = reply.json()["seatbid"][0]["bid"][0]["burl"]
        .as_str()
        .unwrap()
        .replace("${AUCTION_PRICE}", "2.0");
    assert_eq!(bidder.get(&burl).status, 200, "notice for r{n}");
    200
}

fn spent_total(bidder: &Bidder) -> u64 {
    bidder.state()["budgets"][0]["spent_total_micros"]
        .as_u64()
        .unwrap_or(0)
}

fn start(dir: &Path, campaigns: &Path) -> Bidder {
    Bidder::start_with(Options {
        campaigns: Some(campaigns.to_owned()),
        state_dir: Some(dir.join("state")),
        // Short holds and leases: a killed process's lease is reclaimed in seconds.
        config: "[budget]\nflush_interval_ms = 100\nhold_timeout_s = 2\nlease_ttl_s = 6\n"
            .to_owned(),
        ..Options::default()
    })
}

#[test]
fn the_embedded_default_keeps_spend_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    // Five impressions at 2.00 CPM (0.002 each).
    let campaigns = campaign_file(dir.path(), "{ total = 0.010 }");
    let mut bidder = start(dir.path(), &campaigns);
    for n in 0..2 {
        assert_eq!(bid_and_bill(&bidder, n), 200);
    }
    assert!(eventually(Duration::from_secs(5), || spent_total(&bidder) == 4_000));
    bidder.signal(libc::SIGTERM);
    assert!(bidder.wait_exit(Duration::from_secs(15)).success());

    let mut bidder = start(dir.path(), &campaigns);
    assert_eq!(spent_total(&bidder), 4_000, "spend is read back at start");
    assert_eq!(bid_and_bill(&bidder, 2), 200);
    // SIGKILL straight after a billed notice: the journal has it.
    bidder.signal(libc::SIGKILL);
    bidder.wait_exit(Duration::from_secs(5));

    let bidder = start(dir.path(), &campaigns);
    assert!(eventually(Duration::from_secs(5), || spent_total(&bidder) == 6_000));
    // Two impressions are left. The killed process's lease is held until it lapses
    // (its bids' notices could still come): bids wait for the reclaim, not past it.
    let mut won = 0;
    let mut n = 3;
    assert!(eventually(Duration::from_secs(20), || {
        if bid_and_bill(&bidder, n) == 200 {
            won += 1;
        }
        n += 1;
        won == 2
    }));
    assert!(eventually(Duration::from_secs(5), || spent_total(&bidder) == 10_000));
    // Past every lease's life, the budget stays spent.
    std::thread::sleep(Duration::from_secs(7));
    for extra in 0..5 {
        assert_eq!(bid_and_bill(&bidder, 100 + extra), 204);
    }
    assert_eq!(spent_total(&bidder), 10_000);
}

#[test]
fn a_notice_for_a_bid_made_before_a_restart_is_billed_once() {
    let dir = tempfile::tempdir().unwrap();
    let campaigns = campaign_file(dir.path(), "{ daily = 1.0 }");
    let mut bidder = start(dir.path(), &campaigns);
    let request = r#"{"id":"before","imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#;
    let reply = bidder.bid(request.as_bytes());
    assert_eq!(reply.status, 200);
    let burl = reply.json()["seatbid"][0]["bid"][0]["burl"]
        .as_str()
        .unwrap()
        .replace("${AUCTION_PRICE}", "1.5");
    let path = &burl[burl.find("/notice/").unwrap()..];
    assert_eq!(bidder.get(&bidder.url(path)).text().trim(), "ok");
    bidder.signal(libc::SIGTERM);
    assert!(bidder.wait_exit(Duration::from_secs(15)).success());
    let mut bidder = start(dir.path(), &campaigns);
    // The key was kept (the token verifies) and the notice remembered.
    assert_eq!(
        bidder.get(&bidder.url(path)).text().trim(),
        "already counted"
    );
    assert!(eventually(Duration::from_secs(5), || spent_total(&bidder) == 1_500));
    // Remembered for notice.max_age_s, however many restarts: flushed journal
    // files are kept that long.
    std::thread::sleep(Duration::from_millis(500));
    bidder.signal(libc::SIGTERM);
    assert!(bidder.wait_exit(Duration::from_secs(15)).success());
    let bidder = start(dir.path(), &campaigns);
    assert_eq!(
        bidder.get(&bidder.url(path)).text().trim(),
        "already counted"
    );
    assert_eq!(spent_total(&bidder), 1_500);
}

#[test]
fn a_notice_later_than_the_bound_allows_is_billed_and_counted_late() {
    let dir = tempfile::tempdir().unwrap();
    let campaigns = campaign_file(dir.path(), "{ daily = 1.0 }");
    // Holds of 2 s and flushes of 100 ms: notices are late after 1.8 s.
    let bidder = start(dir.path(), &campaigns);
    let late = "tern_budget_late_notices_total";
    assert_eq!(bid_and_bill(&bidder, 1), 200);
    assert_eq!(bidder.metric(late), 0.0, "a prompt notice is not late");
    let reply = bidder.bid(br#"{"id":"slow","imp":[{"id":"1","banner":{"w":300,"h":250}}]}"#);
    assert_eq!(reply.status, 200);
    let burl = reply.json()["seatbid"][0]["bid"][0]["burl"]
        .as_str()
        .unwrap()
        .replace("${AUCTION_PRICE}", "2.0");
    std::thread::sleep(Duration::from_millis(3_000));
    assert_eq!(
        bidder.get(&burl).status,
        200,
        "a late notice is still billed"
    );
    assert_eq!(bidder.metric(late), 1.0);
    assert!(eventually(Duration::from_secs(5), || spent_total(&bidder) == 4_000));
}

#[test]
fn a_bidder_id_used_again_with_a_new_state_directory_loses_no_spend() {
    let moto = Moto::start();
    let (runtime, shared) = moto.sdk_config();
    let client = aws_sdk_dynamodb::Client::new(&shared);
    runtime
        .block_on(DynamoLedger::create_table(&client, "tern-spend"))
        .unwrap();
    let ledger = DynamoLedger::new(client, "tern-spend".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let campaigns = campaign_file(dir.path(), "{ daily = 1.0 }");
    // One id for the fleet's config file, a fresh directory per instance: the
    // replaced instance's journal starts again at position 1.
    let on = |state: &str| Options {
        campaigns: Some(campaigns.clone()),
        state_dir: Some(dir.path().join(state)),
        config: "[budget]\nledger = \"dynamodb\"\nbidder_id = \"one-id-for-all\"\n\
                 flush_interval_ms = 100\nhold_timeout_s = 2\nlease_ttl_s = 6\n"
            .to_owned(),
        env: moto.env(),
        ..Options::default()
    };
    let ledger_total = || {
        runtime
            .block_on(ledger.read("kept"))
            .map_or(0, |item| item.total_spent)
    };
    let mut first = Bidder::start_with(on("first"));
    for n in 0..3 {
        assert_eq!(bid_and_bill(&first, n), 200);
    }
    assert!(eventually(Duration::from_secs(5), || ledger_total() == 6_000));
    first.signal(libc::SIGTERM);
    assert!(first.wait_exit(Duration::from_secs(15)).success());

    let second = Bidder::start_with(on("second"));
    assert_eq!(bid_and_bill(&second, 10), 200);
    assert!(
        eventually(Duration::from_secs(5), || ledger_total() == 8_000),
        "ledger {} after the second instance billed one impression",
        ledger_total()
    );
}

#[test]
fn journal_files_outlive_a_ledger_file_that_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let campaigns = campaign_file(dir.path(), "{ daily = 1.0 }");
    let state = dir.path().join("state");
    let on = || {
        Options {
        campaigns: Some(campaigns.clone()),
        state_dir: Some(state.clone()),
        // Notices are remembered for a second only, so flushed journal files
        // may go at once: only a failed ledger write must keep them.
        config: "[notice]\nmax_age_s = 1\n[budget]\nflush_interval_ms = 100\nhold_timeout_s = 2\nlease_ttl_s = 6\n"
            .to_owned(),
        ..Options::default()
    }
    };
    let mut bidder = Bidder::start_with(on());
    for n in 0..2 {
        assert_eq!(bid_and_bill(&bidder, n), 200);
    }
    assert!(eventually(Duration::from_secs(5), || spent_total(&bidder) == 4_000));
    // From now on ledger.json cannot be replaced. (The bidder's own temporary
    // file may exist for an instant, mid-write: try again until it is gone.)
    assert!(eventually(Duration::from_secs(5), || {
        std::fs::create_dir(state.join("ledger.json.tmp")).is_ok()
    }));
    for n in 2..4 {
        assert_eq!(bid_and_bill(&bidder, n), 200);
    }
    bidder.signal(libc::SIGTERM);
    bidder.wait_exit(Duration::from_secs(15));
    std::thread::sleep(Duration::from_millis(1_500));
    let mut bidder = Bidder::start_with(on());
    assert!(eventually(Duration::from_secs(5), || spent_total(&bidder) == 8_000));
    std::thread::sleep(Duration::from_millis(500));
    bidder.signal(libc::SIGKILL);
    bidder.wait_exit(Duration::from_secs(5));
    std::fs::remove_dir(state.join("ledger.json.tmp")).unwrap();
    let bidder = Bidder::start_with(on());
    assert!(
        eventually(Duration::from_secs(5), || spent_total(&bidder) == 8_000),
        "spent {} after the ledger file could be written again",
        spent_total(&bidder)
    );
}
