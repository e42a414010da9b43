//! Reading what `benches/run.sh` measured: loadgen runs per server, phase and round
//! (medians over rounds), criterion's estimates, and the other JSON and text files.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

/// Medians over rounds of one server in one phase.
#[derive(Debug, Default, Clone)]
pub(crate) struct Phase {
    pub(crate) throughput: f64,
    pub(crate) cpu_us: Option<f64>,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
    pub(crate) max: f64,
    pub(crate) rate: Option<f64>,
    pub(crate) errors: f64,
    pub(crate) unsent: f64,
    pub(crate) bid_share: f64,
    /// The run whose p99 is the median, for the plot.
    pub(crate) percentiles: Vec<(f64, f64)>,
}

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

pub(crate) fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_f64()
}

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

pub(crate) fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

pub(crate) fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}
