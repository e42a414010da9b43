//! Writes `benches/RESULTS.md` and its latency plot from what `benches/run.sh`
//! measured: `loadgen` JSON per server, phase and round, the `engine-probe` JSON,
//! criterion's estimates, and optional instruction counts and profile summary.
//!
//! `bench-report --results DIR --criterion target/criterion --out benches/RESULTS.md
//!  --plot benches/latency.svg [--command "benches/run.sh"]`

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Parser;
use plotters::prelude::*;
use serde_json::Value;

/// Servers in the order the tables list them.
const SERVERS: [(&str, &str); 6] = [
    ("noop-monoio", "no-op monoio (ceiling)"),
    ("noop-glommio", "no-op glommio"),
    ("bidder", "Tern bidder, 1,000 campaigns"),
    (
        "tokio-bidder",
        "tokio + hyper + serde_json, same engine, 1,000 campaigns",
    ),
    ("bidder-6c", "Tern bidder, 6 bundled campaigns"),
    (
        "tokio-bidder-6c",
        "tokio + hyper + serde_json, 6 bundled campaigns",
    ),
];
/// Fixed-rate phases: the issue's two (fractions of the load generator's limit),
/// then one every server can sustain.
const RATE_PHASES: [(&str, &str); 3] = [
    ("rate50", "50% of the load generator's limit"),
    ("rate80", "80% of the load generator's limit"),
    (
        "common",
        "80% of the slowest server's saturation throughput: a rate every server sustains",
    ),
];
/// Plot colors, one per server.
const COLORS: [RGBColor; 6] = [
    RGBColor(90, 90, 90),
    RGBColor(150, 110, 200),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
];

/// Render the benchmark report.
#[derive(Debug, Parser)]
struct Cli {
    /// Directory `benches/run.sh` wrote its measurements to.
    #[arg(long)]
    results: PathBuf,
    /// Criterion's output directory.
    #[arg(long)]
    criterion: Option<PathBuf>,
    /// Markdown file to write.
    #[arg(long)]
    out: PathBuf,
    /// SVG latency plot to write.
    #[arg(long)]
    plot: PathBuf,
    /// The command that produced the results, quoted in the report.
    #[arg(long, default_value = "benches/run.sh")]
    command: String,
}

/// Medians over rounds of one server in one phase.
#[derive(Debug, Default, Clone)]
struct Phase {
    throughput: f64,
    cpu_us: Option<f64>,
    p50: f64,
    p90: f64,
    p99: f64,
    p999: f64,
    max: f64,
    rate: Option<f64>,
    errors: f64,
    unsent: f64,
    bid_share: f64,
    /// The run whose p99 is the median, for the plot.
    percentiles: Vec<(f64, f64)>,
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_f64()
}

fn load_phases(dir: &Path) -> anyhow::Result<BTreeMap<(String, String), Phase>> {
    let mut runs: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let http = dir.join("http");
    if http.is_dir() {
        for entry in std::fs::read_dir(&http)? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            // {server}.{phase}.r{round}
            let parts: Vec<&str> = stem.split('.').collect();
            if parts.len() != 3 {
                continue;
            }
            let value: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
                .with_context(|| format!("reading {}", path.display()))?;
            runs.entry((parts[0].to_owned(), parts[1].to_owned()))
                .or_default()
                .push(value);
        }
    }
    let mut phases = BTreeMap::new();
    for (key, values) in runs {
        let get =
            |path: &[&str]| -> Vec<f64> { values.iter().filter_map(|v| num(v, path)).collect() };
        let cpu = get(&["server_cpu_us_per_request"]);
        let p99s = get(&["latency_us", "p99"]);
        let med_p99 = median(p99s.clone());
        let plotted = values
            .iter()
            .min_by(|a, b| {
                let da = (num(a, &["latency_us", "p99"]).unwrap_or(0.0) - med_p99).abs();
                let db = (num(b, &["latency_us", "p99"]).unwrap_or(0.0) - med_p99).abs();
                da.total_cmp(&db)
            })
            .and_then(|v| v.get("percentiles_us"))
            .and_then(Value::as_array)
            .map(|points| {
                points
                    .iter()
                    .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let bid_share = median(
            values
                .iter()
                .map(|v| {
                    let total = num(v, &["responses"]).unwrap_or(0.0);
                    let bids = num(v, &["statuses", "200"]).unwrap_or(0.0);
                    if total > 0.0 { bids / total } else { 0.0 }
                })
                .collect(),
        );
        let errors = median(
            values
                .iter()
                .map(|v| {
                    ["connect", "read", "write", "parse"]
                        .iter()
                        .filter_map(|k| num(v, &["errors", k]))
                        .sum()
                })
                .collect(),
        );
        phases.insert(
            key,
            Phase {
                throughput: median(get(&["throughput_rps"])),
                cpu_us: (!cpu.is_empty()).then(|| median(cpu)),
                p50: median(get(&["latency_us", "p50"])),
                p90: median(get(&["latency_us", "p90"])),
                p99: med_p99,
                p999: median(get(&["latency_us", "p99.9"])),
                max: median(get(&["latency_us", "max"])),
                rate: values.first().and_then(|v| num(v, &["rate"])),
                errors,
                unsent: median(get(&["unsent"])),
                bid_share,
                percentiles: plotted,
            },
        );
    }
    Ok(phases)
}

/// Criterion mean estimates (ns), keyed by bench id (`group/function/param`).
fn criterion_means(dir: &Path) -> BTreeMap<String, f64> {
    let mut means = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n == "report" || n == "base")
                {
                    continue;
                }
                stack.push(path);
            } else if path.ends_with("new/estimates.json") {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let Some(mean) = num(&value, &["mean", "point_estimate"]) else {
                    continue;
                };
                let id = path
                    .parent()
                    .and_then(Path::parent)
                    .and_then(|p| p.strip_prefix(dir).ok())
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                means.insert(id, mean);
            }
        }
    }
    means
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn fmt_us(us: f64) -> String {
    if !us.is_finite() {
        "–".to_owned()
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else if us >= 10.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.1} µs")
    }
}

fn fmt_rate(rps: f64) -> String {
    if !rps.is_finite() {
        "–".to_owned()
    } else if rps >= 1e6 {
        format!("{:.2}M/s", rps / 1e6)
    } else {
        format!("{:.1}k/s", rps / 1e3)
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "**met**" } else { "**missed**" }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let phases = load_phases(&cli.results)?;
    let probe = read_json(&cli.results.join("engine-probe.json"));
    let callgrind = read_json(&cli.results.join("callgrind.json"));
    let means = cli
        .criterion
        .as_deref()
        .map(criterion_means)
        .unwrap_or_default();
    let phase = |server: &str, name: &str| phases.get(&(server.to_owned(), name.to_owned()));

    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# Tern benchmark results\n");
    let _ = writeln!(
        w,
        "Generated by `{}`{}; every number below was measured in that run on the machine\n\
         described here. Regenerate with the same command.\n",
        cli.command,
        read_text(&cli.results.join("when.txt"))
            .map(|s| format!(" ({s})"))
            .unwrap_or_default()
    );
    let _ = writeln!(w, "## Machine\n");
    let _ = writeln!(
        w,
        "```\n{}\n```\n",
        read_text(&cli.results.join("machine.txt")).unwrap_or_else(|| "(not recorded)".into())
    );
    let _ = writeln!(
        w,
        "{}\n",
        read_text(&cli.results.join("method.md")).unwrap_or_default()
    );

    // Headline: CPU per request at saturation (the server busy, as in production
    // at capacity), median over rounds.
    let cpu = |s: &str| phase(s, "saturation").and_then(|x| x.cpu_us);
    let cpu_bidder = cpu("bidder");
    let cpu_ceiling = cpu("noop-monoio");
    let cpu_tokio = cpu("tokio-bidder");

    let _ = writeln!(w, "## Targets\n");
    let _ = writeln!(w, "| target | measured | verdict |\n| --- | --- | --- |");
    if let Some(p) = &probe {
        let rps = num(p, &["throughput_rps", "1000/sonic-rs"]).unwrap_or(f64::NAN);
        let p99 = num(p, &["latency_ns", "p99"]).unwrap_or(f64::NAN) / 1e3;
        let allocs = num(p, &["allocations", "whole"]).unwrap_or(f64::NAN);
        let _ = writeln!(
            w,
            "| engine alone, 1,000 campaigns: ≥ 1M requests/s per core | {} | {}{} |",
            fmt_rate(rps),
            verdict(rps >= 1e6),
            if rps < 1e6 {
                format!(" ({:.1}× short)", 1e6 / rps)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            w,
            "| engine alone: p99 ≤ 5 µs | {} | {} |",
            fmt_us(p99),
            verdict(p99 <= 5.0)
        );
        let _ = writeln!(
            w,
            "| engine alone: 0 heap allocations per request | {allocs:.2} per request | {} |",
            verdict(allocs == 0.0)
        );
    }
    if let (Some(b), Some(c)) = (cpu_bidder, cpu_ceiling) {
        let ratio = b / c;
        let _ = writeln!(
            w,
            "| HTTP: bidder CPU/request ≤ 1.3× no-op monoio ceiling | {} vs {} = {ratio:.2}× | {}{} |",
            fmt_us(b),
            fmt_us(c),
            verdict(ratio <= 1.3),
            if ratio > 1.3 {
                format!(" (by {:.0}%)", (ratio / 1.3 - 1.0) * 100.0)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            w,
            "| HTTP: ≥ 125k bids/s per core (1 s / CPU per request) | {} | {} |",
            fmt_rate(1e6 / b),
            verdict(1e6 / b >= 125_000.0)
        );
    }
    if let (Some(b), Some(t)) = (cpu_bidder, cpu_tokio) {
        let _ = writeln!(
            w,
            "| HTTP: bidder CPU/request below tokio/hyper/serde_json | {} vs {} ({:.2}×) | {} |",
            fmt_us(b),
            fmt_us(t),
            t / b,
            verdict(b < t)
        );
    }
    for (name, what) in RATE_PHASES {
        if let (Some(b), Some(t)) = (phase("bidder", name), phase("tokio-bidder", name)) {
            let overloaded = if b.unsent > 0.0 {
                format!(
                    " (offered more than the bidder's {} capacity: requests queued)",
                    fmt_rate(b.throughput)
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                w,
                "| HTTP at {} = {}: p99 ≤ 1 ms | {} | {}{overloaded} |",
                what,
                fmt_rate(b.rate.unwrap_or(f64::NAN)),
                fmt_us(b.p99),
                verdict(b.p99 <= 1000.0 && b.unsent == 0.0)
            );
            let _ = writeln!(
                w,
                "| HTTP at {}: p99 no worse than tokio/hyper | {} vs {} | {} |",
                fmt_rate(b.rate.unwrap_or(f64::NAN)),
                fmt_us(b.p99),
                fmt_us(t.p99),
                verdict(b.p99 <= t.p99)
            );
        }
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Over loopback HTTP\n");
    let _ = writeln!(
        w,
        "Server pinned to CPU 0, `loadgen` to CPU 1; medians of the rounds. **CPU/request** is the\n\
         server's user+system time (`/proc/<pid>/stat`) over the measured window divided by the\n\
         responses in it — the headline, because one load-generator core cannot saturate a good\n\
         server core. **Capacity/core** is 1 s divided by it. Throughput is what the pair reached in\n\
         saturation (closed loop), bounded by the load generator. Latencies are from the fixed-rate\n\
         phases, corrected for coordinated omission.\n"
    );
    let _ = writeln!(
        w,
        "| server | CPU/request (saturation) | CPU/request (50% / 80% / common rate) | capacity/core | saturation throughput | server CPU use at saturation | bids |"
    );
    let _ = writeln!(w, "| --- | --- | --- | --- | --- | --- | --- |");
    for (server, label) in SERVERS {
        let Some(sat) = phase(server, "saturation") else {
            continue;
        };
        let fixed: Vec<String> = RATE_PHASES
            .iter()
            .map(|(p, _)| {
                phase(server, p)
                    .and_then(|x| x.cpu_us)
                    .map_or("–".into(), fmt_us)
            })
            .collect();
        let util = sat.cpu_us.map_or(f64::NAN, |c| c * sat.throughput / 1e4);
        let _ = writeln!(
            w,
            "| {label} | {} | {} | {} | {} | {util:.0}% | {:.0}% |",
            sat.cpu_us.map_or("–".into(), fmt_us),
            fixed.join(" / "),
            cpu(server).map_or("–".into(), |c| fmt_rate(1e6 / c)),
            fmt_rate(sat.throughput),
            sat.bid_share * 100.0
        );
    }
    let _ = writeln!(w);
    for (name, what) in RATE_PHASES {
        let rate = SERVERS
            .iter()
            .find_map(|(s, _)| phase(s, name).and_then(|p| p.rate))
            .unwrap_or(f64::NAN);
        let _ = writeln!(w, "**Fixed rate {} ({what})**\n", fmt_rate(rate));
        let _ = writeln!(
            w,
            "| server | p50 | p90 | p99 | p99.9 | max | achieved | unsent | errors |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        );
        for (server, label) in SERVERS {
            if let Some(p) = phase(server, name) {
                let _ = writeln!(
                    w,
                    "| {label} | {} | {} | {} | {} | {} | {} | {:.0} | {:.0} |",
                    fmt_us(p.p50),
                    fmt_us(p.p90),
                    fmt_us(p.p99),
                    fmt_us(p.p999),
                    fmt_us(p.max),
                    fmt_rate(p.throughput),
                    p.unsent,
                    p.errors
                );
            }
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "**Ratios (CPU per request at saturation)**\n");
    let ratio_line = |w: &mut String, what: &str, a: Option<f64>, b: Option<f64>| {
        if let (Some(a), Some(b)) = (a, b) {
            let _ = writeln!(w, "- {what}: {:.2}×", a / b);
        }
    };
    ratio_line(
        w,
        "bidder / no-op monoio ceiling, 1,000 campaigns",
        cpu_bidder,
        cpu_ceiling,
    );
    ratio_line(
        w,
        "bidder / no-op monoio ceiling, 6 bundled campaigns (mostly the HTTP path's own cost)",
        cpu("bidder-6c"),
        cpu_ceiling,
    );
    ratio_line(
        w,
        "bidder / tokio-hyper-serde_json baseline, 1,000 campaigns",
        cpu_bidder,
        cpu_tokio,
    );
    ratio_line(
        w,
        "bidder / tokio-hyper-serde_json baseline, 6 bundled campaigns",
        cpu("bidder-6c"),
        cpu("tokio-bidder-6c"),
    );
    ratio_line(
        w,
        "no-op glommio / no-op monoio",
        cpu("noop-glommio"),
        cpu_ceiling,
    );
    let _ = writeln!(w);
    if let Some(text) = read_text(&cli.results.join("runtime.md")) {
        let _ = writeln!(w, "{text}\n");
    }
    let _ = writeln!(
        w,
        "![latency by percentile at the common rate, every server](latency.svg)\n"
    );

    if let Some(cg) = &callgrind {
        let _ = writeln!(w, "## Instructions per request\n");
        let _ = writeln!(
            w,
            "{}\n",
            cg.get("note").and_then(Value::as_str).unwrap_or_default()
        );
        let _ = writeln!(w, "| what | instructions/request |\n| --- | --- |");
        if let Some(map) = cg.get("per_request").and_then(Value::as_object) {
            for (k, v) in map {
                let _ = writeln!(w, "| {k} | {:.0} |", v.as_f64().unwrap_or(f64::NAN));
            }
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## Engine alone\n");
    if let Some(p) = &probe {
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
                let _ = writeln!(
                    w,
                    "| throughput, {} campaigns, {} | {} ({:.0} ns/request) |",
                    k.split('/').next().unwrap_or(""),
                    k.split('/').nth(1).unwrap_or(""),
                    fmt_rate(rps),
                    1e9 / rps
                );
            }
        }
        for (k, label) in [
            ("p50", "p50"),
            ("p99", "p99"),
            ("p99.9", "p99.9"),
            ("max", "max"),
        ] {
            if let Some(ns) = num(p, &["latency_ns", k]) {
                let _ = writeln!(w, "| latency {label}, 1,000 campaigns | {ns:.0} ns |");
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
    if !means.is_empty() {
        let _ = writeln!(
            w,
            "**Criterion** (`cargo bench -p tern-benches`, mean time per request):\n"
        );
        let _ = writeln!(w, "| bench | mean |\n| --- | --- |");
        for (id, ns) in &means {
            let _ = writeln!(w, "| `{id}` | {} |", fmt_ns(*ns));
        }
        let _ = writeln!(w);
        let pairs: Vec<(String, f64)> = means
            .iter()
            .filter_map(|(id, sonic)| {
                let rest = id.strip_prefix("parse/sonic-rs/")?;
                let serde = means.get(&format!("parse/serde_json/{rest}"))?;
                Some((rest.to_owned(), serde / sonic))
            })
            .collect();
        if !pairs.is_empty() {
            let list: Vec<String> = pairs.iter().map(|(k, r)| format!("{k} {r:.2}×")).collect();
            let _ = writeln!(
                w,
                "sonic-rs parses faster than serde_json by: {}.\n",
                list.join(", ")
            );
        }
    }
    if let Some(text) = read_text(&cli.results.join("redis.md")) {
        let _ = writeln!(w, "## Frequency caps in Redis\n\n{text}\n");
    }
    if let Some(text) = read_text(&cli.results.join("profile.md")) {
        let _ = writeln!(w, "## Where the time goes\n\n{text}\n");
    }
    if let Some(text) = read_text(&cli.results.join("notes.md")) {
        let _ = writeln!(w, "{text}\n");
    }
    std::fs::write(&cli.out, md).with_context(|| format!("writing {}", cli.out.display()))?;
    plot(&phases, &cli.plot)?;
    println!("wrote {} and {}", cli.out.display(), cli.plot.display());
    Ok(())
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Latency by percentile for every server at both fixed rates: x is the
/// percentile on the usual "nines" scale, y the latency in µs (log scale).
fn plot(phases: &BTreeMap<(String, String), Phase>, path: &Path) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let nines = |p: f64| -(1.0 - (p / 100.0).min(0.99999)).log10();
    let mut y_max: f64 = 100.0;
    for ((_, phase), p) in phases {
        if phase == "common" {
            for (_, us) in &p.percentiles {
                y_max = y_max.max(*us);
            }
        }
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Latency by percentile at the common fixed rate (CO-corrected)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..5f64, (5f64..y_max * 1.5).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (µs)")
        .x_labels(6)
        .x_label_formatter(&|x| match x.round() as i64 {
            0 => "0%".into(),
            1 => "90%".into(),
            2 => "99%".into(),
            3 => "99.9%".into(),
            4 => "99.99%".into(),
            _ => "99.999%".into(),
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    for (i, (server, label)) in SERVERS.iter().enumerate() {
        for phase in ["common"] {
            let Some(p) = phases.get(&((*server).to_owned(), phase.to_owned())) else {
                continue;
            };
            let color = COLORS[i % COLORS.len()];
            let style = color.stroke_width(2);
            let points: Vec<(f64, f64)> = p
                .percentiles
                .iter()
                .map(|(pct, us)| (nines(*pct), us.max(5.0)))
                .collect();
            let name = (*label).to_owned();
            chart
                .draw_series(LineSeries::new(points, style))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
