//! Reading what `benches/run.sh` measured: loadgen runs per server, phase and round
//! (medians over rounds), criterion's estimates, and the other JSON and text files.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

/// What one run measured, as the report's sections read it.
#[derive(Debug)]
pub(crate) struct Results {
    /// Medians per (server, phase).
    pub(crate) phases: BTreeMap<(String, String), Phase>,
    /// `engine-probe.json`.
    pub(crate) probe: Option<Value>,
    /// `wire.json`: bytes on the wire per request and response.
    pub(crate) wire: Option<Wire>,
}

impl Results {
    /// Reads the results directory `run.sh` wrote.
    pub(crate) fn load(dir: &Path) -> anyhow::Result<Results> {
        Ok(Results {
            phases: load_phases(dir)?,
            probe: read_json(&dir.join("engine-probe.json")),
            wire: read_json(&dir.join("wire.json")).and_then(|v| {
                Some(Wire {
                    request: num(&v, &["request_bytes_mean"])?,
                    response: num(&v, &["response_bytes_mean"])?,
                })
            }),
        })
    }

    /// One server in one phase, if it ran.
    pub(crate) fn phase(&self, server: &str, phase: &str) -> Option<&Phase> {
        self.phases.get(&(server.to_owned(), phase.to_owned()))
    }

    /// A server's CPU time per request at saturation, µs: the headline figure.
    pub(crate) fn cpu(&self, server: &str) -> Option<f64> {
        self.phase(server, "saturation").and_then(|p| p.cpu_us)
    }
}

/// Mean bytes of one exchange over the bidder's connection, HTTP heads included
/// (measured once over the whole corpus): what the NLB and the NIC carry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wire {
    /// Request as loadgen sends it: head and body.
    pub(crate) request: f64,
    /// The bidder's response: head and body (none for a 204 no-bid).
    pub(crate) response: f64,
}

/// Engine throughput through Tern's reader with `campaigns` campaigns, and the
/// reader's name: `{campaigns}/tern`, or `{campaigns}/sonic-rs` in results from
/// before Tern had its own reader.
pub(crate) fn probe_reader_rps(probe: &Value, campaigns: u32) -> Option<(f64, &'static str)> {
    for (key, label) in [("tern", "Tern's reader"), ("sonic-rs", "sonic-rs")] {
        if let Some(rps) = num(probe, &["throughput_rps", &format!("{campaigns}/{key}")]) {
            return Some((rps, label));
        }
    }
    None
}

/// The report's name for a parser key of `engine-probe.json` or criterion.
pub(crate) fn parser_label(key: &str) -> &str {
    match key {
        "tern" => "Tern's reader",
        other => other,
    }
}

/// Each worker thread's share of the CPU time the bid workers of `server` used in
/// `phase`, summed over rounds (`{server}.{phase}.r{N}.workers.txt`, lines
/// "NAME TICKS"), by thread name.
pub(crate) fn worker_shares(dir: &Path, server: &str, phase: &str) -> Vec<(String, f64)> {
    let prefix = format!("{server}.{phase}.r");
    let mut ticks: BTreeMap<String, f64> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir.join("http")) else {
        return Vec::new();
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(&prefix) && name.ends_with(".workers.txt")) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            if let (Some(thread), Some(Ok(t))) =
                (fields.next(), fields.next().map(str::parse::<f64>))
            {
                *ticks.entry(thread.to_owned()).or_default() += t;
            }
        }
    }
    let total: f64 = ticks.values().sum();
    if total <= 0.0 {
        return Vec::new();
    }
    ticks.into_iter().map(|(k, t)| (k, t / total)).collect()
}

/// Medians over rounds of one server in one phase.
#[derive(Debug, Default, Clone)]
pub(crate) struct Phase {
    /// Responses per second over the measured window.
    pub(crate) throughput: f64,
    /// The server's user+system CPU time per response, µs (when its pid was given).
    pub(crate) cpu_us: Option<f64>,
    /// Latency percentiles, µs (corrected for coordinated omission at fixed rates).
    pub(crate) p50: f64,
    /// See `p50`.
    pub(crate) p90: f64,
    /// See `p50`.
    pub(crate) p99: f64,
    /// See `p50`.
    pub(crate) p999: f64,
    /// Largest latency, µs.
    pub(crate) max: f64,
    /// Offered rate (fixed-rate phases); `None` in saturation.
    pub(crate) rate: Option<f64>,
    /// Connection, read, write and parse errors.
    pub(crate) errors: f64,
    /// Requests due that never went out (the server could not keep up).
    pub(crate) unsent: f64,
    /// Share of responses that were 200 (a bid).
    pub(crate) bid_share: f64,
    /// Keep-alive connections loadgen held.
    pub(crate) connections: f64,
    /// The run whose p99 is the median, for the plot.
    pub(crate) percentiles: Vec<(f64, f64)>,
}

/// The median (mean of the middle two for an even count); NaN for none.
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
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

/// The number at `path` in a JSON value.
pub(crate) fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_f64()
}

/// Medians over rounds per (server, phase) of every loadgen JSON in `DIR/http`.
pub(crate) fn load_phases(dir: &Path) -> anyhow::Result<BTreeMap<(String, String), Phase>> {
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
                connections: median(get(&["connections"])),
                percentiles: plotted,
            },
        );
    }
    Ok(phases)
}

/// Criterion mean estimates (ns), keyed by bench id (`group/function/param`).
pub(crate) fn criterion_means(dir: &Path) -> BTreeMap<String, f64> {
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

/// A JSON file, if it exists and parses.
pub(crate) fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// A text file, trimmed, if it exists and is not empty.
pub(crate) fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}
