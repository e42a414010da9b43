//! The crawler-user-agents list: bundled examples, planning, errors, scale.

use std::time::Instant;

use super::*;

/// Every `instances` example in the bundled list is flagged, and each pattern on its
/// own flags its own examples (so planning never loses a pattern).
#[test]
fn bundled_instances_all_match() {
    let (patterns, raw) = bundled();
    assert_eq!(patterns.len(), raw.as_array().map_or(0, Vec::len));
    let started = Instant::now();
    let bots = BotPatterns::compile(&patterns, None).expect("bundled list compiles");
    println!(
        "compiled {} patterns in {:?}: {:?}",
        patterns.len(),
        started.elapsed(),
        bots.stats()
    );
    let examples = instances(&raw);
    assert!(examples.len() > 1000, "only {} instances", examples.len());
    for (i, ua) in &examples {
        assert!(
            bots.is_bot(ua),
            "pattern {i} `{}` instance not flagged: {ua}",
            patterns[*i]
        );
    }
    for (i, pattern) in patterns.iter().enumerate() {
        let alone = BotPatterns::compile(std::slice::from_ref(pattern), None).expect("compiles");
        for (_, ua) in examples.iter().filter(|(owner, _)| *owner == i) {
            assert!(
                alone.is_bot(ua),
                "pattern {i} `{pattern}` alone misses {ua}"
            );
        }
    }
}

/// The matcher agrees with a reference regex engine (one multi-pattern
/// `meta::Regex`) on every instance, browser and app user agent.
#[test]
fn bundled_agrees_with_reference_engine() {
    let (patterns, raw) = bundled();
    let bots = BotPatterns::compile(&patterns, None).expect("compiles");
    let reference = regex_automata::meta::Regex::new_many(&patterns).expect("reference compiles");
    let examples = instances(&raw);
    let all = examples
        .iter()
        .map(|(_, ua)| ua.as_str())
        .chain(HUMAN_UAS.iter().copied())
        .chain(FLAGGED_APP_UAS.iter().copied());
    for ua in all {
        assert_eq!(bots.is_bot(ua), reference.is_match(ua), "disagree on {ua}");
    }
}

/// Browsers, web views, native app stacks and CTV devices are not flagged; the app
/// agents the list does name are.
#[test]
fn bundled_spares_browsers_and_flags_listed_apps() {
    let (patterns, _) = bundled();
    let bots = BotPatterns::compile(&patterns, None).expect("compiles");
    for ua in HUMAN_UAS {
        assert!(!bots.is_bot(ua), "browser/app flagged: {ua}");
    }
    for ua in FLAGGED_APP_UAS {
        assert!(bots.is_bot(ua), "expected the list to flag: {ua}");
    }
    assert!(
        !bots.is_bot(""),
        "empty user agent is not in the crawler list"
    );
}

/// The bundled list compiles mostly to pure literals, with nothing run on every call
/// and no meta-regex fallback.
#[test]
fn bundled_plan_shape() {
    let (patterns, _) = bundled();
    let s = BotPatterns::compile(&patterns, None)
        .expect("compiles")
        .stats();
    assert_eq!(s.crawler_patterns, patterns.len());
    assert_eq!(
        s.pure_literal + s.confirmed + s.always_checked,
        s.crawler_patterns
    );
    assert!(s.pure_literal > 1300, "{s:?}");
    assert_eq!(s.always_checked, 0, "{s:?}");
    assert_eq!(s.meta_fallback, 0, "{s:?}");
}

/// Literal sets need no confirmation; anchors, classes too wide to expand and digit
/// runs do; a pattern with no literal runs always; a Unicode word boundary falls back.
#[test]
fn patterns_are_planned_by_what_they_require() {
    let pure = compile(&[
        r"Googlebot\/",
        "[wW]get",
        "(sistrix|SISTRIX) [cC]rawler",
        "Automaton|Newsify",
    ]);
    assert_eq!(pure.stats().pure_literal, 4);
    assert!(
        pure.is_bot("x SISTRIX crawler y") && pure.is_bot("Wget/1.21") && pure.is_bot("Newsify 2")
    );
    assert!(
        !pure.is_bot("googlebot/2.1") && !pure.is_bot("WGET") && !pure.is_bot("sistrixcrawler")
    );

    let confirmed = compile(&[
        "^curl",
        "AdsBot-Google([^-]|$)",
        r"BlogTraffic\/\d\.\d+ Feed-Fetcher",
    ]);
    assert_eq!(confirmed.stats().confirmed, 3);
    assert!(confirmed.is_bot("curl/8.4.0") && !confirmed.is_bot("Mozilla curl/8.4.0"));
    assert!(confirmed.is_bot("AdsBot-Google") && confirmed.is_bot("AdsBot-Google (+http)"));
    assert!(!confirmed.is_bot("AdsBot-Google-Mobile"));
    assert!(
        confirmed.is_bot("BlogTraffic/1.23 Feed-Fetcher")
            && !confirmed.is_bot("BlogTraffic/x.2 Feed-Fetcher")
    );

    let always = compile(&[r"\d{4}[a-z]\d"]);
    assert_eq!(always.stats().always_checked, 1);
    assert!(always.is_bot("build 2024x7") && !always.is_bot("build 2024X7"));

    let meta = compile(&[r"\bzgrab\b"]);
    assert_eq!(meta.stats().meta_fallback, 1);
    assert!(meta.is_bot("Mozilla zgrab/0.x") && meta.is_bot("é zgrab é") && !meta.is_bot("xzgrab"));
}

/// A literal overlapping an earlier literal's occurrence is still found: `abc` (only a
/// candidate for `^abc`) ends first, and `bcd` starts inside it.
#[test]
fn overlapping_literals_are_all_seen() {
    let bots = compile(&["^abc", "bcd"]);
    assert!(bots.is_bot("xabcd"));
    assert!(!bots.is_bot("xabc"));
}

/// Case matters in crawler patterns, as in Python `re.search` without flags.
#[test]
fn crawler_patterns_are_case_sensitive() {
    let bots = compile(&["bingbot"]);
    assert!(bots.is_bot("Mozilla/5.0 (compatible; bingbot/2.0)"));
    assert!(!bots.is_bot("Mozilla/5.0 (compatible; BingBot/2.0)"));
}

/// A regex that does not parse, or that matches everything, is refused with its
/// position and text.
#[test]
fn bad_patterns_are_refused_by_position() {
    let patterns: Vec<String> = ["ok", "also ok", "bad(regex"].map(str::to_owned).to_vec();
    let err = BotPatterns::compile(&patterns, None).expect_err("must refuse");
    match &err {
        ListError::BadPattern { index, pattern, .. } => {
            assert_eq!((*index, pattern.as_str()), (2, "bad(regex"));
        }
        other => panic!("wrong error {other:?}"),
    }
    assert!(
        err.to_string().contains("crawler pattern 2 `bad(regex`"),
        "{err}"
    );

    let everything = vec!["fine".to_owned(), "x*".to_owned()];
    let err = BotPatterns::compile(&everything, None).expect_err("must refuse");
    assert!(
        matches!(err, ListError::BadPattern { index: 1, .. }),
        "{err:?}"
    );
}

/// A pattern whose automaton would be huge (a nested Unicode repetition that
/// parses fine) is refused by its size, not built until memory runs out.
#[test]
fn patterns_with_huge_automata_are_refused() {
    let patterns = vec!["fine".to_owned(), r"\w{1000}{1000}".to_owned()];
    let err = BotPatterns::compile(&patterns, None).expect_err("must refuse");
    assert!(
        matches!(err, ListError::BadPattern { index: 1, .. }),
        "{err:?}"
    );
}

/// The JSON must be an array of objects with a string `pattern`.
#[test]
fn bad_crawler_json_is_refused() {
    assert!(matches!(
        parse_crawler_user_agents("{}"),
        Err(ListError::CrawlerJson { .. })
    ));
    assert!(matches!(
        parse_crawler_user_agents(r#"[{"url": "x"}]"#),
        Err(ListError::CrawlerJson { .. })
    ));
    let ok = parse_crawler_user_agents(r#"[{"pattern": "a\\/b", "instances": [], "extra": 1}]"#);
    assert_eq!(ok.expect("parses"), vec![r"a\/b".to_owned()]);
}

/// Lists of 10,000 patterns compile in seconds and match each pattern's own user
/// agent and nothing else nearby.
#[test]
fn ten_thousand_synthetic_patterns() {
    let patterns = synthetic_patterns(10_000);
    let started = Instant::now();
    let bots = BotPatterns::compile(&patterns, None).expect("compiles");
    println!(
        "compiled 10k synthetic patterns in {:?}: {:?}",
        started.elapsed(),
        bots.stats()
    );
    assert_eq!(bots.pattern_count(), 10_000);
    for i in 0..10_000 {
        assert!(
            bots.is_bot(&synthetic_bot_user_agent(i)),
            "synthetic {i} missed"
        );
    }
    for ua in HUMAN_UAS {
        assert!(!bots.is_bot(ua), "browser flagged by synthetic list: {ua}");
    }
    for near_miss in [
        "SyntheticBot10 (no slash)",
        "x SynthAgent90 late",
        "SynthSpider95",
        "SynthFetch99/x.1",
    ] {
        assert!(!bots.is_bot(near_miss), "{near_miss}");
    }
}
