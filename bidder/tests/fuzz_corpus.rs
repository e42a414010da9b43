//! Replays what the fuzzers found: every file of `fuzz/corpus/<target>/` (the
//! minimised corpus) and `fuzz/crashes/<target>/` (each input that once crashed,
//! kept after its fix) through the same harness the AFL++ binary runs, so CI
//! re-checks them without the fuzzer (fuzz/README.md).

use std::path::{Path, PathBuf};

use bidder::fuzzing::{Harness, Target};

fn inputs(kind: &str, target: Target) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(kind)
        .join(target.name());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable corpus directory").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: Target) {
    let corpus = inputs("corpus", target);
    assert!(
        corpus.len() >= 10,
        "fuzz/corpus/{} holds {} inputs: the corpus is committed",
        target.name(),
        corpus.len()
    );
    let mut harness = Harness::new();
    for file in corpus.iter().chain(&inputs("crashes", target)) {
        let data = std::fs::read(file).expect("a readable input");
        let replayed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            harness.run(target, &data);
        }));
        assert!(replayed.is_ok(), "{} fails again", file.display());
    }
}

#[test]
fn http_corpus_replays() {
    replay(Target::Http);
}

#[test]
fn bid_corpus_replays() {
    replay(Target::Bid);
}

#[test]
fn notice_corpus_replays() {
    replay(Target::Notice);
}

#[test]
fn campaigns_corpus_replays() {
    replay(Target::Campaigns);
}

#[test]
fn dynamodb_item_corpus_replays() {
    replay(Target::DynamodbItem);
}

#[test]
fn redis_reply_corpus_replays() {
    replay(Target::RedisReply);
}
