//! The per-worker verdict cache and the compiled lists' sharing guarantees.

use super::*;

/// The cache answers exactly as the matcher, on first sight and on repeats, including
/// after other user agents evicted its slots.
#[test]
fn cache_agrees_with_matcher() {
    let (patterns, raw) = bundled();
    let bots = BotPatterns::compile(&patterns, None).expect("compiles");
    let mut cache = UaVerdicts::new();
    let uas: Vec<String> = instances(&raw)
        .into_iter()
        .map(|(_, ua)| ua)
        .chain(HUMAN_UAS.iter().map(|ua| (*ua).to_owned()))
        .chain(
            (0..6000)
                .map(|i| format!("Mozilla/5.0 (X11; Linux x86_64) Chrome/{i}.0 Safari/537.36")),
        )
        .collect();
    assert!(uas.len() > UA_VERDICT_SLOTS, "enough user agents to evict");
    for round in 0..2 {
        for ua in &uas {
            assert_eq!(
                cache.is_bot(&bots, ua),
                bots.is_bot(ua),
                "round {round}: {ua}"
            );
        }
    }
}

/// A verdict made with one compilation is not reused with the next.
#[test]
fn cache_invalidates_on_new_generation() {
    let flags = BotPatterns::compile(&["FooBot".to_owned()], None).expect("compiles");
    let spares = BotPatterns::compile(&["BarBot".to_owned()], None).expect("compiles");
    assert_ne!(flags.generation(), spares.generation());
    assert!(flags.generation() > 0 && spares.generation() > 0);
    let mut cache = UaVerdicts::default();
    let ua = "Mozilla/5.0 (compatible; FooBot/1.0)";
    assert!(cache.is_bot(&flags, ua));
    assert!(cache.is_bot(&flags, ua));
    assert!(!cache.is_bot(&spares, ua));
    assert!(cache.is_bot(&flags, ua));
}

/// The compiled lists can be shared across worker threads, and their `Debug` output is
/// a short summary rather than megabytes of automaton tables.
#[test]
fn bot_patterns_are_send_and_sync() {
    fn shared<T: Send + Sync + std::fmt::Debug>() {}
    shared::<BotPatterns>();
    shared::<IabList>();
    let bots = std::sync::Arc::new(compile(&["FooBot"]));
    let worker = {
        let bots = std::sync::Arc::clone(&bots);
        std::thread::spawn(move || bots.is_bot("FooBot/1"))
    };
    assert!(worker.join().expect("worker ran"));

    let (patterns, _) = bundled();
    let list = IabList::parse(b"mozilla|1|1|\n", b"bot|1|cubot|0|2|0|\n").expect("parses");
    let full = BotPatterns::compile(&patterns, Some(&list)).expect("compiles");
    let shown = format!("{full:?}");
    assert!(
        shown.starts_with("BotPatterns") && shown.contains("exclude_active: 1"),
        "{shown}"
    );
    assert!(shown.len() < 1000, "Debug is {} bytes", shown.len());
}
