//! What a load run measured, and its three outputs: a summary for people, the full
//! percentile distribution (`.hgrm`, as HdrHistogram tools print and plot it) and
//! JSON for scripts; and, with `--interval-s`, one line per interval of the run
//! ([`Interval`]) for scripts that watch a long run (`benches/soak.sh`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::Config;
use crate::procstat::{CpuTime, ProcessSize};

/// Responses by HTTP status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCounts(BTreeMap<u16, u64>);

impl StatusCounts {
    pub(super) fn add(&mut self, status: u16) {
        *self.0.entry(status).or_insert(0) += 1;
    }

    /// Responses with `status`.
    pub fn get(&self, status: u16) -> u64 {
        self.0.get(&status).copied().unwrap_or(0)
    }

    /// All responses.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Responses counted since `earlier`, a copy of these counts taken before.
    pub fn since(&self, earlier: &StatusCounts) -> StatusCounts {
        StatusCounts(
            self.0
                .iter()
                .map(|(status, n)| (*status, n.saturating_sub(earlier.get(*status))))
                .filter(|(_, n)| *n > 0)
                .collect(),
        )
    }
}

/// Failures seen by the load generator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Errors {
    /// Connections that could not be opened.
    pub connect: u64,
    /// Connections that broke with a request in flight.
    pub read: u64,
    /// Writes that failed.
    pub write: u64,
    /// Responses that were not valid HTTP/1.1 (or not asked for).
    pub parse: u64,
}

impl Errors {
    /// All errors.
    pub fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.parse
    }

    /// Errors counted since `earlier`, a copy of these counts taken before.
    pub fn since(&self, earlier: &Errors) -> Errors {
        Errors {
            connect: self.connect.saturating_sub(earlier.connect),
            read: self.read.saturating_sub(earlier.read),
            write: self.write.saturating_sub(earlier.write),
            parse: self.parse.saturating_sub(earlier.parse),
        }
    }
}

/// What one interval of the measured window saw (`Config::interval`): responses
/// received in it, their latency and the errors, for watching a long run as it
/// goes.
#[derive(Debug)]
pub struct Interval {
    /// 1 for the first interval after the warm-up.
    pub index: u64,
    /// When the interval ended, counted from the end of the warm-up.
    pub end: Duration,
    /// How long it lasted (the last one is shorter when the duration is not a
    /// multiple of the interval).
    pub length: Duration,
    /// Latency of the responses received in it, from due time, ns.
    pub corrected: Histogram<u64>,
    /// Its responses by status.
    pub statuses: StatusCounts,
    /// Its failures.
    pub errors: Errors,
    /// Fixed rate only: requests due by its end but not sent yet (every connection
    /// busy); 0 while the server keeps up.
    pub backlog: u64,
    /// The server as the interval ended, when its pid was given and it could be
    /// read (`None` also when the process is gone).
    pub server: Option<ServerSample>,
}

/// The server as an interval ended, read while every connection is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSample {
    /// Memory, descriptors and threads at that moment.
    pub size: ProcessSize,
    /// CPU time it used during the interval.
    pub cpu: CpuTime,
}

impl Interval {
    /// One line of `key=value` pairs (logfmt), latencies in microseconds, e.g.
    /// `interval index=1 end_s=60.000 length_s=60.000 responses=2400000
    /// status_200=1000000 status_204=1400000 status_other=0 errors=0 p50_us=52.1
    /// p99_us=310.3 max_us=2310.1 backlog=0`, then, when the server was read,
    /// `server_rss_kib=37680 server_fds=49 server_threads=5 server_cpu_us=1021500`.
    pub fn line(&self) -> String {
        let us = |q: f64| self.corrected.value_at_quantile(q) as f64 / 1e3;
        let (bids, nobids) = (self.statuses.get(200), self.statuses.get(204));
        let server = self.server.map_or(String::new(), |s| {
            format!(
                " server_rss_kib={} server_fds={} server_threads={} server_cpu_us={}",
                s.size.rss_kib,
                s.size.fds,
                s.size.threads,
                s.cpu.total().as_micros()
            )
        });
        format!(
            "interval index={} end_s={:.3} length_s={:.3} responses={} status_200={bids} \
             status_204={nobids} status_other={} errors={} p50_us={:.1} p99_us={:.1} \
             max_us={:.1} backlog={}{server}",
            self.index,
            self.end.as_secs_f64(),
            self.length.as_secs_f64(),
            self.statuses.total(),
            self.statuses.total() - bids - nobids,
            self.errors.total(),
            us(0.5),
            us(0.99),
            self.corrected.max() as f64 / 1e3,
            self.backlog,
        )
    }
}

/// The result of one load run.
#[derive(Debug)]
pub struct Report {
    /// `saturation` or `fixed-rate`.
    pub mode: &'static str,
    /// Offered rate, for fixed-rate runs.
    pub rate: Option<f64>,
    /// Connections held.
    pub connections: usize,
    /// Length of the measured window.
    pub elapsed: Duration,
    /// Latency from when each request was due (what a caller would see), ns.
    pub corrected: Histogram<u64>,
    /// Latency from when each request was sent, ns.
    pub uncorrected: Histogram<u64>,
    /// Responses by status.
    pub statuses: StatusCounts,
    /// Failures.
    pub errors: Errors,
    /// Server CPU time over the window, when its pid was given.
    pub server_cpu: Option<CpuTime>,
    /// The load generator's own CPU time over the window.
    pub own_cpu: CpuTime,
    /// Fixed rate only: requests that fell due but were never sent because every
    /// connection was busy (the server could not keep up).
    pub unsent: u64,
}

/// Percentiles shown in the summary.
const SUMMARY_PERCENTILES: [(f64, &str); 5] = [
    (50.0, "p50"),
    (90.0, "p90"),
    (99.0, "p99"),
    (99.9, "p99.9"),
    (100.0, "max"),
];

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        config: &Config,
        elapsed: Duration,
        corrected: Histogram<u64>,
        uncorrected: Histogram<u64>,
        statuses: StatusCounts,
        errors: Errors,
        server_cpu: Option<CpuTime>,
        own_cpu: CpuTime,
        unsent: u64,
    ) -> Report {
        Report {
            mode: if config.rate.is_some() {
                "fixed-rate"
            } else {
                "saturation"
            },
            rate: config.rate,
            connections: config.connections,
            elapsed,
            corrected,
            uncorrected,
            statuses,
            errors,
            server_cpu,
            own_cpu,
            unsent,
        }
    }

    /// Responses received in the window.
    pub fn responses(&self) -> u64 {
        self.statuses.total()
    }

    /// Responses per second.
    pub fn throughput(&self) -> f64 {
        self.responses() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Server CPU microseconds per response.
    pub fn server_cpu_us_per_request(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        (self.responses() > 0).then(|| cpu.total().as_secs_f64() * 1e6 / self.responses() as f64)
    }

    /// Latency at `percentile` (0-100), in microseconds, CO-corrected.
    pub fn latency_us(&self, percentile: f64) -> f64 {
        self.corrected.value_at_quantile(percentile / 100.0) as f64 / 1e3
    }

    /// The human summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let secs = self.elapsed.as_secs_f64();
        let _ = match self.rate {
            Some(rate) => writeln!(
                s,
                "loadgen: fixed rate {rate:.0}/s, {} connections, {secs:.2} s measured",
                self.connections
            ),
            None => writeln!(
                s,
                "loadgen: saturation, {} connections, {secs:.2} s measured",
                self.connections
            ),
        };
        let statuses: Vec<String> = self
            .statuses
            .0
            .iter()
            .map(|(status, n)| format!("{status}={n}"))
            .collect();
        let _ = writeln!(
            s,
            "  responses {} ({:.1}/s)  statuses: {}  errors: {} (connect {}, read {}, write {}, parse {})",
            self.responses(),
            self.throughput(),
            if statuses.is_empty() {
                "none".to_owned()
            } else {
                statuses.join(" ")
            },
            self.errors.total(),
            self.errors.connect,
            self.errors.read,
            self.errors.write,
            self.errors.parse,
        );
        let line = |h: &Histogram<u64>| {
            SUMMARY_PERCENTILES
                .iter()
                .map(|(p, name)| format!("{name} {}", format_us(h.value_at_quantile(p / 100.0))))
                .collect::<Vec<_>>()
                .join("  ")
        };
        let _ = writeln!(
            s,
            "  latency (from due time, corrected for coordinated omission): {}",
            line(&self.corrected)
        );
        if self.rate.is_some() {
            let _ = writeln!(
                s,
                "  latency (from send time, uncorrected):                        {}",
                line(&self.uncorrected)
            );
            if self.unsent > 0 {
                let _ = writeln!(
                    s,
                    "  {} requests fell due but were never sent: the server did not keep up",
                    self.unsent
                );
            }
        }
        if let (Some(cpu), Some(per)) = (self.server_cpu, self.server_cpu_us_per_request()) {
            let _ = writeln!(
                s,
                "  server cpu: {per:.2} us/request ({:.0}% of one core; user {:.2} s, system {:.2} s)",
                cpu.total().as_secs_f64() / secs * 100.0,
                cpu.user.as_secs_f64(),
                cpu.system.as_secs_f64()
            );
        }
        let _ = writeln!(
            s,
            "  loadgen cpu: {:.0}% of one core",
            self.own_cpu.total().as_secs_f64() / secs * 100.0
        );
        s
    }

    /// The corrected latency distribution in HdrHistogram's percentile format,
    /// values in milliseconds (as wrk2 and the HdrHistogram plotter read them).
    pub fn hgrm(&self) -> String {
        let h = &self.corrected;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:>12} {:>14} {:>10} {:>14}\n",
            "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
        );
        let mut total = 0u64;
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let ms = v.value_iterated_to() as f64 / 1e6;
            if q < 1.0 {
                let _ = writeln!(s, "{ms:12.3} {q:14.12} {total:10} {:14.2}", 1.0 / (1.0 - q));
            } else {
                let _ = writeln!(s, "{ms:12.3} {q:14.12} {total:10}");
            }
        }
        let _ = writeln!(
            s,
            "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
            h.mean() / 1e6,
            h.stdev() / 1e6
        );
        let _ = writeln!(
            s,
            "#[Max     = {:12.3}, Total count    = {:12}]",
            h.max() as f64 / 1e6,
            h.len()
        );
        let _ = writeln!(s, "#[Buckets = {:12}]", h.buckets());
        s
    }

    /// Everything measured, as JSON (latencies in microseconds).
    pub fn to_json(&self, label: &str) -> Value {
        let percentiles = |h: &Histogram<u64>| {
            let mut points = Vec::new();
            for v in h.iter_quantiles(5) {
                points.push(json!([
                    v.quantile_iterated_to() * 100.0,
                    v.value_iterated_to() as f64 / 1e3
                ]));
            }
            points
        };
        let named = |h: &Histogram<u64>| {
            let mut m = serde_json::Map::new();
            for (p, name) in SUMMARY_PERCENTILES {
                m.insert(
                    name.to_owned(),
                    json!(h.value_at_quantile(p / 100.0) as f64 / 1e3),
                );
            }
            m.insert("mean".to_owned(), json!(h.mean() / 1e3));
            Value::Object(m)
        };
        let statuses: serde_json::Map<String, Value> = self
            .statuses
            .0
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({
            "label": label,
            "mode": self.mode,
            "rate": self.rate,
            "connections": self.connections,
            "seconds": self.elapsed.as_secs_f64(),
            "responses": self.responses(),
            "throughput_rps": self.throughput(),
            "statuses": statuses,
            "errors": {
                "connect": self.errors.connect, "read": self.errors.read,
                "write": self.errors.write, "parse": self.errors.parse,
            },
            "unsent": self.unsent,
            "latency_us": named(&self.corrected),
            "latency_uncorrected_us": named(&self.uncorrected),
            "percentiles_us": percentiles(&self.corrected),
            "server_cpu_s": self.server_cpu.map(|c| c.total().as_secs_f64()),
            "server_cpu_user_s": self.server_cpu.map(|c| c.user.as_secs_f64()),
            "server_cpu_system_s": self.server_cpu.map(|c| c.system.as_secs_f64()),
            "server_cpu_us_per_request": self.server_cpu_us_per_request(),
            "loadgen_cpu_s": self.own_cpu.total().as_secs_f64(),
        })
    }
}

fn format_us(ns: u64) -> String {
    if ns >= 10_000_000 {
        format!("{:.1}ms", ns as f64 / 1e6)
    } else {
        format!("{:.1}us", ns as f64 / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_since_an_earlier_copy_are_the_difference() {
        let mut earlier = StatusCounts::default();
        earlier.add(200);
        earlier.add(204);
        let mut now = earlier.clone();
        now.add(204);
        now.add(500);
        let since = now.since(&earlier);
        assert_eq!((since.get(200), since.get(204), since.get(500)), (0, 1, 1));
        assert_eq!(since.total(), 2);
        let errors = Errors {
            connect: 1,
            read: 3,
            write: 0,
            parse: 2,
        };
        let before = Errors {
            read: 1,
            ..Errors::default()
        };
        assert_eq!(errors.since(&before).total(), 5);
        assert_eq!(errors.since(&errors), Errors::default());
    }

    #[test]
    fn an_interval_is_one_logfmt_line() {
        let mut corrected = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for us in 1..=100 {
            corrected.record(us * 1_000).unwrap();
        }
        let mut statuses = StatusCounts::default();
        for status in [200, 200, 204, 503] {
            statuses.add(status);
        }
        let interval = Interval {
            index: 2,
            end: Duration::from_secs(10),
            length: Duration::from_millis(5_000),
            corrected,
            statuses,
            errors: Errors {
                read: 1,
                ..Errors::default()
            },
            backlog: 0,
            server: None,
        };
        let line = "interval index=2 end_s=10.000 length_s=5.000 responses=4 status_200=2 \
             status_204=1 status_other=1 errors=1 p50_us=50.0 p99_us=99.0 max_us=100.0 backlog=0";
        assert_eq!(interval.line(), line);
        let interval = Interval {
            server: Some(ServerSample {
                size: ProcessSize {
                    rss_kib: 37_680,
                    fds: 49,
                    threads: 5,
                },
                cpu: CpuTime {
                    user: Duration::from_millis(1_000),
                    system: Duration::from_micros(21_500),
                },
            }),
            ..interval
        };
        assert_eq!(
            interval.line(),
            format!(
                "{line} server_rss_kib=37680 server_fds=49 server_threads=5 server_cpu_us=1021500"
            )
        );
    }
}
