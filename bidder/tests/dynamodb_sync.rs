//! The DynamoDB campaign source end to end: a real moto server, the real bidder,
//! changes made through the AWS SDK, and bids checked over HTTP.

mod support;

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use support::moto::{Moto, Table, dynamodb_bidder};
use support::{
    Bidder, banner_winner, eventually, example_campaign, example_campaigns, wait_for_banner_winner,
};
use tern_engine::campaign::{Campaign, CampaignStatus};

const WAIT: Duration = Duration::from_secs(15);

fn wait_for(bidder: &Bidder, want: Option<(&str, f64)>) {
    wait_for_banner_winner(bidder, want, WAIT);
}

#[test]
fn bids_follow_create_update_pause_and_delete() {
    let moto = Moto::start();
    let table = Table::seeded(&moto);
    let bidder = dynamodb_bidder(&moto, "");
    assert!(
        eventually(WAIT, || bidder.admin("/ready").status == 200),
        "never ready"
    );
    wait_for(&bidder, Some(("puzzle-app-install", 2.8)));

    let mut puzzle = example_campaign("puzzle-app-install");
    puzzle.version = 2;
    puzzle.bidding.base_bid = 3.35;
    table.put(&[puzzle.clone()]);
    wait_for(&bidder, Some(("puzzle-app-install", 3.35)));

    puzzle.version = 3;
    puzzle.targeting.os = vec!["Windows".into()];
    table.put(&[puzzle]);
    wait_for(&bidder, Some(("sneakers-na-mobile", 1.5)));

    let mut sneakers = example_campaign("sneakers-na-mobile");
    sneakers.version = 2;
    sneakers.status = CampaignStatus::Paused;
    table.put(&[sneakers]);
    wait_for(&bidder, None);

    let mut fresh = example_campaign("sneakers-na-mobile");
    fresh.id = "fresh-launch".into();
    fresh.version = 1;
    fresh.bidding.base_bid = 1.9;
    table.put(&[fresh]);
    wait_for(&bidder, Some(("fresh-launch", 1.9)));

    table.delete("fresh-launch");
    wait_for(&bidder, None);
    assert_eq!(bidder.state()["campaigns_paused"], 1);
    assert!(bidder.metric("tern_sync_records_applied_total") >= 11.0);
    assert_eq!(bidder.metric("tern_sync_bootstraps_total"), 1.0);
}

#[test]
fn a_change_made_during_the_bootstrap_scan_is_not_lost() {
    let moto = Moto::start();
    let table = Table::seeded(&moto);
    // Enough items that the scan (one segment) takes a while in moto.
    let filler: Vec<Campaign> = (0..1000)
        .map(|i| {
            let mut c = example_campaign("office-desktop-retarget");
            c.id = format!("filler-{i:05}");
            c
        })
        .collect();
    table.put(&filler);

    // moto needs seconds for a 1 MB scan page.
    let bidder = dynamodb_bidder(&moto, "scan_segments = 1\nrequest_timeout_ms = 20000\n");
    // Keep changing one campaign until the bidder has finished its scan.
    let mut puzzle = example_campaign("puzzle-app-install");
    let mut writes_during_bootstrap = 0;
    while bidder.metric("tern_sync_bootstraps_total") < 1.0 && writes_during_bootstrap < 500 {
        puzzle.version += 1;
        // Whole micros, so the price in the response reads back as the same number.
        puzzle.bidding.base_bid = (2_000 + puzzle.version) as f64 / 1000.0;
        table.put(&[puzzle.clone()]);
        writes_during_bootstrap += 1;
    }
    assert!(
        writes_during_bootstrap > 1,
        "the writes overlapped the bootstrap"
    );
    let last = puzzle.bidding.base_bid;
    wait_for(&bidder, Some(("puzzle-app-install", last)));
    let examples = example_campaigns().len();
    assert_eq!(bidder.state()["campaigns_active"], 1000 + examples);
}

#[test]
fn an_outage_keeps_the_last_state_and_recovery_follows_the_new_table() {
    let mut moto = Moto::start();
    let _table = Table::seeded(&moto);
    let bidder = dynamodb_bidder(
        &moto,
        "max_staleness_ms = 1500\nrequest_timeout_ms = 1000\n",
    );
    assert!(eventually(WAIT, || bidder.admin("/ready").status == 200));
    wait_for(&bidder, Some(("puzzle-app-install", 2.8)));

    moto.stop();
    assert!(
        eventually(WAIT, || bidder.admin("/ready").status == 503),
        "stale state stays ready"
    );
    assert!(bidder.metric("tern_sync_lag_seconds") > 1.5);
    assert_eq!(
        banner_winner(&bidder),
        Some(("puzzle-app-install".into(), 2.8)),
        "bids go on"
    );
    assert_eq!(bidder.admin("/health").status, 200);

    // The table comes back (restored, so with a new stream) with a changed campaign.
    moto.restart();
    let table = Table::seeded(&moto);
    let mut puzzle = example_campaign("puzzle-app-install");
    puzzle.version = 5;
    puzzle.bidding.base_bid = 3.1;
    table.put(&[puzzle]);
    wait_for(&bidder, Some(("puzzle-app-install", 3.1)));
    assert!(
        eventually(WAIT, || bidder.admin("/ready").status == 200),
        "never ready again"
    );
    assert!(bidder.metric("tern_sync_bootstraps_total") >= 2.0);
    assert!(bidder.metric("tern_sync_lag_seconds") < 1.5);
}

#[test]
fn invalid_items_are_rejected_and_counted_and_the_rest_applies() {
    let moto = Moto::start();
    let table = Table::seeded(&moto);
    let mut broken = Table::item(&example_campaign("sneakers-na-mobile"));
    broken.insert(
        "campaign_id".into(),
        AttributeValue::S("broken-at-scan".into()),
    );
    broken.insert("bidding".into(), AttributeValue::S("not a map".into()));
    table.put_item(broken);

    let bidder = dynamodb_bidder(&moto, "");
    assert!(eventually(WAIT, || bidder.admin("/ready").status == 200));
    assert_eq!(bidder.metric("tern_sync_records_rejected_total"), 1.0);
    assert_eq!(
        bidder.state()["campaigns_active"],
        example_campaigns().len()
    );
    let error = bidder.state()["last_error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("campaign `broken-at-scan`: field `bidding`"),
        "{error}"
    );

    // Through the stream: an update that breaks a live campaign is refused; it keeps
    // bidding on its last good version.
    let mut bad_update = Table::item(&example_campaign("puzzle-app-install"));
    bad_update.insert("version".into(), AttributeValue::N("9".into()));
    bad_update.insert("creatives".into(), AttributeValue::L(vec![]));
    table.put_item(bad_update);
    let mut no_version = Table::item(&example_campaign("rail-eu-video"));
    no_version.remove("version");
    table.put_item(no_version);
    assert!(eventually(WAIT, || bidder
        .metric("tern_sync_records_rejected_total")
        >= 3.0));
    assert_eq!(
        banner_winner(&bidder),
        Some(("puzzle-app-install".into(), 2.8))
    );
    assert_eq!(bidder.admin("/ready").status, 200);
}
