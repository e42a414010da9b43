//! Prometheus text exposition (format 0.0.4): each family's `# HELP` and `# TYPE`
//! from the [`catalog`](super::catalog), then its samples.

use std::fmt::{Display, Write};

use super::catalog::{self, Metric};
use super::{Label, MergedMetrics};
use crate::latency::Snapshot;

/// Prometheus text being written.
#[derive(Debug, Default)]
pub(crate) struct Exposition {
    out: String,
}

impl Exposition {
    /// The text written so far.
    pub(crate) fn into_text(self) -> String {
        self.out
    }

    fn header(&mut self, metric: &Metric) {
        let _ = writeln!(
            self.out,
            "# HELP {} {}\n# TYPE {} {}",
            metric.name,
            metric.help,
            metric.name,
            metric.kind.as_str()
        );
    }

    /// A family without labels and its one value.
    pub(crate) fn value(&mut self, metric: &Metric, value: impl Display) {
        debug_assert!(metric.labels.is_empty(), "{} has labels", metric.name);
        self.header(metric);
        let _ = writeln!(self.out, "{} {value}", metric.name);
    }

    /// A family with labels: one sample per set of label values (in the order of
    /// the catalog's label names).
    pub(crate) fn samples<'v, const N: usize, V: Display>(
        &mut self,
        metric: &Metric,
        samples: impl IntoIterator<Item = ([&'v str; N], V)>,
    ) {
        debug_assert_eq!(metric.labels.len(), N, "{} labels", metric.name);
        self.header(metric);
        for (values, value) in samples {
            let _ = write!(self.out, "{}{{", metric.name);
            for (i, (name, label)) in metric.labels.iter().zip(values).enumerate() {
                let comma = if i > 0 { "," } else { "" };
                let _ = write!(self.out, "{comma}{name}=\"");
                escape_label(&mut self.out, label);
                self.out.push('"');
            }
            let _ = writeln!(self.out, "}} {value}");
        }
    }

    /// A family labelled by one [`Label`], one sample per label value.
    pub(crate) fn labeled<L: Label>(&mut self, metric: &Metric, counts: &[(L, u64)]) {
        self.samples(metric, counts.iter().map(|(l, n)| ([l.as_str()], *n)));
    }

    /// A histogram of microseconds, as cumulative buckets in seconds.
    pub(crate) fn histogram(&mut self, metric: &Metric, histogram: &Snapshot) {
        self.header(metric);
        let name = metric.name;
        for (bound_us, count) in histogram.at_or_below_bounds() {
            let bound_s = bound_us as f64 / 1e6;
            let _ = writeln!(self.out, "{name}_bucket{{le=\"{bound_s}\"}} {count}");
        }
        let count = histogram.count();
        let _ = writeln!(self.out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(self.out, "{name}_sum {}", histogram.sum_us() as f64 / 1e6);
        let _ = writeln!(self.out, "{name}_count {count}");
    }

    /// A quantile of a histogram of microseconds, as a gauge in seconds.
    pub(crate) fn quantile(&mut self, metric: &Metric, histogram: &Snapshot, q: f64) {
        self.value(metric, histogram.value_at_quantile(q) as f64 / 1e6);
    }
}

/// Writes a label value with `\`, `"` and line feeds escaped, as the text
/// format requires (campaign ids may hold quotes).
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Appends the bid workers' merged metrics.
pub(crate) fn render_workers(out: &mut Exposition, m: &MergedMetrics) {
    out.value(&catalog::REQUESTS_TOTAL, m.requests);
    out.samples(
        &catalog::RESPONSES_TOTAL,
        m.responses.iter().map(|(status, count)| {
            let code = status.map_or("other", status_text);
            ([code], *count)
        }),
    );
    out.value(&catalog::BIDS_TOTAL, m.bids);
    out.labeled(&catalog::NOBIDS_TOTAL, &m.nobids);
    out.samples(
        &catalog::NOTICES_TOTAL,
        m.notices
            .iter()
            .map(|(kind, outcome, count)| ([kind.as_str(), outcome.as_str()], *count)),
    );
    out.value(&catalog::SPEND_MICROS_TOTAL, m.spend_micros);
    out.value(&catalog::LOSS_RELEASED_MICROS_TOTAL, m.loss_released_micros);
    out.histogram(&catalog::REQUEST_DURATION_SECONDS, &m.latency_total);
    out.quantile(&catalog::REQUEST_DURATION_P50, &m.latency_recent, 0.5);
    out.quantile(&catalog::REQUEST_DURATION_P99, &m.latency_recent, 0.99);
    out.quantile(&catalog::REQUEST_DURATION_P999, &m.latency_recent, 0.999);
    out.labeled(&catalog::FREQ_CAP_CHECKS_TOTAL, &m.cap_checks);
    out.labeled(&catalog::FREQ_CAP_FALLBACKS_TOTAL, &m.cap_fallbacks);
    out.value(&catalog::FREQ_CAPPED_TOTAL, m.capped);
    out.labeled(&catalog::SEGMENT_LOOKUPS_TOTAL, &m.segment_lookups);
    out.value(&catalog::SEGMENTS_WITHHELD_TOTAL, m.segments_withheld);
    out.labeled(&catalog::FREQ_CAP_RECORDS_TOTAL, &m.cap_records);
    out.histogram(&catalog::REDIS_DURATION_SECONDS, &m.redis_latency);
    out.quantile(&catalog::REDIS_DURATION_P99, &m.redis_latency, 0.99);
    out.value(&catalog::CONNECTIONS_OPEN, m.connections_open);
    out.value(&catalog::CONNECTIONS_ACCEPTED_TOTAL, m.connections_accepted);
    out.value(&catalog::CONNECTIONS_REJECTED_TOTAL, m.connections_rejected);
    out.value(&catalog::PANICS_TOTAL, m.panics);
}

/// A counted status code as label text.
fn status_text(code: u16) -> &'static str {
    // The counted codes are few and fixed; their texts are static.
    const TEXTS: [&str; super::STATUSES.len()] = [
        "200", "204", "400", "403", "404", "405", "408", "410", "413", "415", "431", "500", "503",
    ];
    super::STATUSES
        .iter()
        .position(|s| *s == code)
        .map_or("other", |i| TEXTS[i])
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::metrics::{MetricsRegistry, WorkerMetrics};

    #[test]
    fn status_texts_match_the_counted_codes() {
        for code in super::super::STATUSES {
            assert_eq!(status_text(code), code.to_string());
        }
    }

    #[test]
    fn renders_buckets_cumulatively_and_every_family_once() {
        let w = Arc::new(WorkerMetrics::default());
        for us in [50, 100, 400, 2_000_000] {
            // 50 and 100 µs sit exactly on bounds: `le` counts them.
            w.response(200, us, 0);
        }
        let merged = MetricsRegistry { workers: vec![w] }.merge(0);
        let mut out = Exposition::default();
        render_workers(&mut out, &merged);
        let out = out.into_text();
        assert!(
            out.contains("tern_request_duration_seconds_bucket{le=\"0.00005\"} 1\n"),
            "{out}"
        );
        assert!(out.contains("tern_request_duration_seconds_bucket{le=\"0.0001\"} 2\n"));
        assert!(out.contains("tern_request_duration_seconds_bucket{le=\"1\"} 3\n"));
        assert!(out.contains("tern_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
        assert!(out.contains("tern_request_duration_seconds_sum 2.00055\n"));
        assert!(out.contains("tern_responses_total{status=\"200\"} 4\n"));
        assert!(out.contains("tern_notices_total{kind=\"imp\",outcome=\"price_unreadable\"} 0\n"));
        let types = out.lines().filter(|l| l.starts_with("# TYPE")).count();
        let helps = out.lines().filter(|l| l.starts_with("# HELP")).count();
        assert_eq!(types, helps);
        for line in out.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "bad sample line {line}");
        }
    }
}
