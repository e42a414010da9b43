//! Screening list sets for the benchmarks and the allocation count: the bundled
//! set, and one of realistic size for a fleet (10,000 bot patterns, 100,000
//! data-centre ranges, 10,000 sellers, an ads.txt for every publisher the corpus
//! names) in which the corpus's own chains are found, so every lookup of the
//! screen runs to its end.

use serde_json::{Value, json};
use tern_ivt::{ListFile, Lists};

use crate::corpus::Sample;

/// Bot patterns in the realistic set, the bundled 1,500 included.
pub const REALISTIC_BOT_PATTERNS: usize = 10_000;
/// Data-centre ranges in the realistic set.
pub const REALISTIC_RANGES: usize = 100_000;
/// Sellers over the realistic set's sellers.json files.
pub const REALISTIC_SELLERS: usize = 10_000;

/// The realistic set, with the publishers and sellers `samples` name listed.
pub fn realistic(samples: &[Sample]) -> Lists {
    let mut files = Lists::bundled_files();
    let patterns = tern_ivt::bots::synthetic_patterns(REALISTIC_BOT_PATTERNS - 1_500);
    let crawler: Vec<Value> = patterns.iter().map(|p| json!({ "pattern": p })).collect();
    files.push(file(
        "bots/synthetic.json",
        Value::Array(crawler).to_string(),
    ));
    files.push(file(
        "ip/datacenter/synthetic.txt",
        tern_ivt::ip_ranges::synthetic_ranges(REALISTIC_RANGES),
    ));
    let mut sellers: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    let mut publishers: Vec<(String, String)> = Vec::new();
    for sample in samples {
        let request: Value = serde_json::from_slice(&sample.body).expect("corpus is JSON");
        let nodes = request["source"]["schain"]["nodes"].as_array().cloned();
        for node in nodes.unwrap_or_default() {
            let asi = node["asi"].as_str().unwrap_or_default().to_owned();
            let sid = node["sid"].as_str().unwrap_or_default();
            let seller = json!({ "seller_id": sid, "seller_type": "BOTH" });
            sellers.entry(asi).or_default().push(seller);
        }
        let first_sid = request["source"]["schain"]["nodes"][0]["sid"].as_str();
        let key = request["site"]["domain"]
            .as_str()
            .map(|d| format!("ads.txt/{d}.txt"))
            .or_else(|| {
                request["app"]["bundle"]
                    .as_str()
                    .map(|b| format!("app-ads.txt/{b}.txt"))
            });
        if let (Some(key), Some(sid)) = (key, first_sid) {
            publishers.push((key, sid.to_owned()));
        }
    }
    let listed: usize = sellers.values().map(Vec::len).sum();
    let filler = (listed..REALISTIC_SELLERS)
        .map(|i| json!({ "seller_id": format!("filler-{i}"), "seller_type": "PUBLISHER" }));
    sellers
        .entry("filler.example".to_owned())
        .or_default()
        .extend(filler);
    for (domain, list) in sellers {
        let document = json!({ "version": "1.0", "sellers": list });
        files.push(file(
            &format!("sellers.json/{domain}.json"),
            document.to_string(),
        ));
    }
    publishers.sort();
    for group in publishers.chunk_by(|a, b| a.0 == b.0) {
        let mut text = tern_ivt::ads_txt::synthetic_ads_txt(100);
        for (_, sid) in group {
            text.push_str(&format!("exchange.example, {sid}, DIRECT\n"));
        }
        files.push(file(&group[0].0, text));
    }
    Lists::compile(&files).expect("the realistic set compiles")
}

fn file(path: &str, text: String) -> ListFile {
    ListFile::new(path, text)
}
