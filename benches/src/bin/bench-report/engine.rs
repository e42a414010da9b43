//! The "Engine alone" section: `engine-probe`'s throughput, latency and
//! allocations, and criterion's means, which show the engine's own cost apart
//! from HTTP and the kernel.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::load::{num, parser_label};
use crate::{fmt_ns, fmt_rate};

/// Writes the section from `engine-probe.json` and criterion's means (either may
/// be missing).
pub(crate) fn write(w: &mut String, probe: Option<&Value>, means: &BTreeMap<String, f64>) {
    let _ = writeln!(w, "## Engine alone\n");
    if let Some(p) = probe {
        probe_table(w, p);
    }
    if !means.is_empty() {
        criterion_table(w, means);
    }
}

fn probe_table(w: &mut String, p: &Value) {
    let _ = writeln!(
        w,
        "`engine-probe` pinned to one core: the mixed corpus ({} generated requests, mean {} bytes;\n\
         outcomes with 1,000 campaigns: {}), parse + decide + response with signed billing URL.\n",
        num(p, &["corpus_requests"]).unwrap_or(0.0),
        num(p, &["corpus_mean_bytes"]).unwrap_or(0.0),
        p.get("outcomes").map(Value::to_string).unwrap_or_default()
    );
    let _ = writeln!(w, "| measurement | value |\n| --- | --- |");
    if let Some(map) = p.get("throughput_rps").and_then(Value::as_object) {
        for (k, v) in map {
            let rps = v.as_f64().unwrap_or(f64::NAN);
            let (campaigns, parser) = k.split_once('/').unwrap_or((k, ""));
            let _ = writeln!(
                w,
                "| throughput, {campaigns} campaigns, {} | {} ({:.0} ns/request) |",
                parser_label(parser),
                fmt_rate(rps),
                1e9 / rps
            );
        }
    }
    for k in ["p50", "p99", "p99.9", "max"] {
        if let Some(ns) = num(p, &["latency_ns", k]) {
            let _ = writeln!(w, "| latency {k}, 1,000 campaigns | {ns:.0} ns |");
        }
    }
    if let Some(a) = p.get("allocations") {
        let _ = writeln!(
            w,
            "| heap allocations per request: parse / decide / write / whole (max) | {:.2} / {:.2} / {:.2} / {:.2} ({:.0}) |",
            num(a, &["parse"]).unwrap_or(f64::NAN),
            num(a, &["decide"]).unwrap_or(f64::NAN),
            num(a, &["write"]).unwrap_or(f64::NAN),
            num(a, &["whole"]).unwrap_or(f64::NAN),
            num(a, &["whole_max"]).unwrap_or(f64::NAN),
        );
        let _ = writeln!(
            w,
            "| heap allocations per request with serde_json parsing | {:.2} |",
            num(a, &["whole_serde_json"]).unwrap_or(f64::NAN)
        );
    }
    let _ = writeln!(w);
}

fn criterion_table(w: &mut String, means: &BTreeMap<String, f64>) {
    let _ = writeln!(
        w,
        "**Criterion** (`cargo bench -p tern-benches`, mean time per request):\n"
    );
    let _ = writeln!(w, "| bench | mean |\n| --- | --- |");
    for (id, ns) in means {
        let _ = writeln!(w, "| `{id}` | {} |", fmt_ns(*ns));
    }
    let _ = writeln!(w);
    // Tern's reader against serde_json per kind of traffic; `sonic-rs` in results
    // from before the reader.
    for reader in ["tern", "sonic-rs"] {
        let pairs: Vec<String> = means
            .iter()
            .filter_map(|(id, ours)| {
                let rest = id.strip_prefix(&format!("parse/{reader}/"))?;
                let serde = means.get(&format!("parse/serde_json/{rest}"))?;
                Some(format!("{rest} {:.2}×", serde / ours))
            })
            .collect();
        if !pairs.is_empty() {
            let _ = writeln!(
                w,
                "serde_json's parse time over {}'s, per kind of traffic: {}.\n",
                parser_label(reader),
                pairs.join(", ")
            );
        }
    }
}
