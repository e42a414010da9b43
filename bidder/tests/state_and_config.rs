//! Campaign files reloaded while serving, broken files and bad configs refused with
//! messages that name what is wrong.

mod support;

use std::time::Duration;

use support::{Bidder, Options, crate_file, sample};

fn example_text() -> String {
    std::fs::read_to_string(crate_file("campaigns/example.toml")).unwrap()
}

/// The price the banner sample wins at.
fn banner_price(bidder: &Bidder) -> Option<f64> {
    let reply = bidder.bid(&sample("banner"));
    (reply.status == 200).then(|| {
        reply.json()["seatbid"][0]["bid"][0]["price"]
            .as_f64()
            .unwrap()
    })
}

/// Replaces the file atomically, as editors and deploy tools do.
fn replace(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn a_changed_campaigns_file_is_served_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("campaigns.toml");
    std::fs::write(&file, example_text()).unwrap();
    let bidder = Bidder::start_with(Options {
        campaigns: Some(file.clone()),
        config: "[campaigns]\nreload_interval_ms = 100\n".into(),
        ..Options::default()
    });
    assert_eq!(banner_price(&bidder), Some(2.8));

    // Raise the puzzle campaign's base bid in place (written directly, not renamed).
    std::fs::write(
        &file,
        example_text().replace("base_bid = 2.80", "base_bid = 3.35"),
    )
    .unwrap();
    assert!(
        support::eventually(Duration::from_secs(5), || banner_price(&bidder)
            == Some(3.35)),
        "new price not served"
    );

    // Pause every campaign that can win the banner: no bid.
    let paused = example_text().replace("version = 1\n", "version = 2\nstatus = \"paused\"\n");
    replace(&file, &paused);
    assert!(support::eventually(Duration::from_secs(5), || {
        banner_price(&bidder).is_none()
    }));
    assert_eq!(
        bidder.state()["campaigns_paused"],
        support::example_campaigns().len()
    );
    assert!(bidder.metric("tern_state_updates_total") >= 3.0);
}

#[test]
fn a_broken_campaigns_file_keeps_the_last_good_state() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("campaigns.toml");
    std::fs::write(&file, example_text()).unwrap();
    let bidder = Bidder::start_with(Options {
        campaigns: Some(file.clone()),
        config: "[campaigns]\nreload_interval_ms = 100\n".into(),
        ..Options::default()
    });
    let broken = example_text().replace("max_cpm = 6.00", "max_cpm = -6.00");
    replace(&file, &broken);
    assert!(support::eventually(Duration::from_secs(5), || {
        bidder.metric("tern_state_rejects_total") >= 1.0
    }));
    let error = bidder.state()["last_error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("campaign `puzzle-app-install`") && error.contains("`bidding.max_cpm`"),
        "{error}"
    );
    assert_eq!(
        banner_price(&bidder),
        Some(2.8),
        "the old campaigns keep serving"
    );
    assert_eq!(bidder.admin("/ready").status, 200);

    replace(&file, "this is [not toml");
    assert!(support::eventually(Duration::from_secs(5), || {
        bidder.metric("tern_state_rejects_total") >= 2.0
    }));
    assert_eq!(banner_price(&bidder), Some(2.8));

    replace(
        &file,
        &example_text().replace("base_bid = 2.80", "base_bid = 2.90"),
    );
    assert!(support::eventually(
        Duration::from_secs(5),
        || banner_price(&bidder) == Some(2.9)
    ));
}

#[test]
fn a_deeply_nested_campaigns_file_is_refused_and_the_last_good_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let arrays = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let json = serde_json::json!({ "campaigns": support::example_campaigns() }).to_string();
    let cases = [
        (
            "campaigns.json",
            json.clone(),
            json.replace("\"version\":1", &format!("\"x\":{arrays},\"version\":1")),
        ),
        (
            "campaigns.toml",
            example_text(),
            example_text().replace("version = 1\n", &format!("version = 1\nx = {arrays}\n")),
        ),
    ];
    for (name, good, deep) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, good).unwrap();
        let bidder = Bidder::start_with(Options {
            campaigns: Some(file.clone()),
            config: "[campaigns]\nreload_interval_ms = 100\n".into(),
            ..Options::default()
        });
        replace(&file, &deep);
        assert!(
            support::eventually(Duration::from_secs(10), || {
                bidder.metric("tern_state_rejects_total") >= 1.0
            }),
            "{name}"
        );
        assert_eq!(
            banner_price(&bidder),
            Some(2.8),
            "{name}: the old campaigns keep serving"
        );
        assert_eq!(bidder.admin("/ready").status, 200);
    }
}

#[test]
fn a_broken_campaigns_file_stops_the_start_naming_campaign_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("campaigns.json");
    std::fs::write(
        &file,
        r#"{"campaigns":[{"id":"c9","advertiser_domain":"x.example","creatives":[],
            "bidding":{"max_cpm":1,"base_bid":1}}]}"#,
    )
    .unwrap();
    let err = Bidder::try_start(Options {
        campaigns: Some(file),
        ..Options::default()
    })
    .err()
    .expect("start refused");
    assert!(err.contains("campaign `c9`: field `creatives`"), "{err}");
}

#[test]
fn bad_config_stops_the_start_naming_the_key() {
    let unknown = Bidder::try_start(Options {
        config: "[limits]\nbody_bytez = 5\n".into(),
        ..Options::default()
    });
    let err = unknown.err().expect("start refused");
    assert!(err.contains("limits.body_bytez"), "{err}");

    let bad_env = Bidder::try_start(Options {
        env: vec![("TERN_BIDDING__TMAX_MARGIN_MS".into(), "1000".into())],
        ..Options::default()
    });
    let err = bad_env.err().expect("start refused");
    assert!(err.contains("bidding.tmax_margin_ms"), "{err}");
}

#[test]
fn the_check_flag_validates_without_serving() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bidder"))
        .arg("--check")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let ok = format!("{} campaigns ok", support::example_campaigns().len());
    assert!(stdout.contains(&ok), "{stdout}");
}

#[test]
fn the_check_flag_refuses_what_a_start_would() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let cases = [
        (
            "TERN_FREQUENCY_CAP__STORE",
            "redis",
            "TERN_FREQUENCY_CAP__REDIS__ADDR",
            "no-such-host.invalid:6379",
            "frequency_cap.redis.addr",
        ),
        (
            "TERN_FREQUENCY_CAP__STORE",
            "redis",
            "TERN_FREQUENCY_CAP__REDIS__TLS_CA_FILE",
            "/nonexistent/ca.pem",
            "frequency_cap.redis.tls_ca_file",
        ),
        (
            "TERN_EVENTS__SINK",
            "file",
            "TERN_EVENTS__FILE__DIR",
            not_a_dir.to_str().unwrap(),
            "events.file.dir",
        ),
        (
            "TERN_NOTICE__SECRET",
            "",
            "TERN_NOTICE__MAX_AGE_S",
            "100000000000",
            "notice.max_age_s",
        ),
    ];
    for (k1, v1, k2, v2, key) in cases {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bidder"));
        command.arg("--check").env(k1, v1).env(k2, v2);
        if key.ends_with("tls_ca_file") {
            command.env("TERN_FREQUENCY_CAP__REDIS__TLS", "true");
        }
        let output = command.output().unwrap();
        assert!(!output.status.success(), "{key}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("`{key}`")), "{key}: {stderr}");
    }
}

#[test]
fn the_config_file_may_be_named_in_the_environment() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bidder"))
        .arg("--check")
        .env("TERN_CONFIG", crate_file("bidder.example.toml"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_admin_listener_binds_beyond_loopback_only_when_told_to() {
    // It serves campaigns, budgets and leases (`/state`) to whoever reaches it.
    let refused = Bidder::try_start(Options {
        env: vec![("TERN_SERVER__ADMIN_ADDR".into(), "0.0.0.0:0".into())],
        ..Options::default()
    });
    let err = refused.err().expect("start refused");
    assert!(
        err.contains("server.admin_addr") && err.contains("admin_public"),
        "{err}"
    );
    let public = Bidder::start_with(Options {
        env: vec![
            ("TERN_SERVER__ADMIN_ADDR".into(), "0.0.0.0:0".into()),
            ("TERN_SERVER__ADMIN_PUBLIC".into(), "true".into()),
        ],
        ..Options::default()
    });
    assert_eq!(public.bid(&sample("banner")).status, 200);
}

#[test]
fn a_second_bidder_on_a_listener_in_use_refuses_to_start() {
    // Workers share a port through SO_REUSEPORT; a second process on the same
    // address would silently take half of the traffic (and admin requests).
    let first = Bidder::start();
    for (key, addr) in [
        ("TERN_SERVER__BID_ADDR", first.bid),
        ("TERN_SERVER__ADMIN_ADDR", first.admin),
    ] {
        let second = Bidder::try_start(Options {
            env: vec![(key.into(), addr.to_string())],
            ..Options::default()
        });
        let err = second.err().expect("start refused");
        assert!(
            err.contains(&addr.to_string()) && err.contains("in use"),
            "{err}"
        );
    }
    assert_eq!(
        first.bid(&sample("banner")).status,
        200,
        "the first one serves on"
    );
}
