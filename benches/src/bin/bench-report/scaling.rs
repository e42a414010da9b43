//! The measured part of scaling: the bidder with one and with two workers, not
//! pinned, in saturation. The one step from one core to more that this
//! two-CPU machine can show; NOTES.md carries the reasoning about 64 cores.

use std::fmt::Write as _;
use std::path::Path;

use crate::load::{Results, worker_shares};
use crate::{fmt_rate, fmt_us};

/// Server names `run.sh` gives the two runs, and their worker counts.
const RUNS: [(&str, u32); 2] = [("bidder-1w", 1), ("bidder-2w", 2)];

/// The "Scaling" section; nothing when the phase did not run.
pub(crate) fn write(w: &mut String, r: &Results, dir: &Path) {
    let one = r.phase(RUNS[0].0, "scaling");
    let two = r.phase(RUNS[1].0, "scaling");
    if one.is_none() && two.is_none() {
        return;
    }
    let _ = writeln!(w, "## Scaling: one and two workers\n");
    let _ = writeln!(
        w,
        "The bidder with 1,000 campaigns and `--workers 1`, then `--workers 2`, in saturation (closed\n\
         loop), medians of the rounds (alternating). **Not pinned**: no `taskset`, and\n\
         `TERN_SERVER__PIN_WORKERS=false` (by default the bidder pins worker N to CPU N), so the\n\
         workers, the bidder's other threads and `loadgen` share this machine's CPUs (see Machine)\n\
         as the scheduler sees fit: on two CPUs a second worker competes with the load generator.\n\
         The p99 is the closed loop's: the latency at full load with every connection's request\n\
         in flight. **CPU use** is the bidder's CPU time over the window (1.00 = one CPU busy).\n\
         **Worker split** is each worker thread's share of the workers' CPU time, which shows how\n\
         evenly the kernel spread the connections over the workers' `SO_REUSEPORT` listeners.\n"
    );
    let _ = writeln!(
        w,
        "| workers | connections | throughput | CPU/request | CPU use | p50 | p99 | worker split |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for (server, workers) in RUNS {
        let Some(p) = r.phase(server, "scaling") else {
            continue;
        };
        let split: Vec<String> = worker_shares(dir, server, "scaling")
            .iter()
            .map(|(thread, share)| format!("{thread} {:.0}%", share * 100.0))
            .collect();
        let _ = writeln!(
            w,
            "| {workers} | {:.0} | {} | {} | {} | {} | {} | {} |",
            p.connections,
            fmt_rate(p.throughput),
            p.cpu_us.map_or("–".into(), fmt_us),
            p.cpu_us
                .map_or("–".into(), |c| format!("{:.2}", c * p.throughput / 1e6)),
            fmt_us(p.p50),
            fmt_us(p.p99),
            if split.is_empty() {
                "–".to_owned()
            } else {
                split.join(" / ")
            },
        );
    }
    if let (Some(a), Some(b)) = (one, two) {
        let cpu = match (a.cpu_us, b.cpu_us) {
            (Some(x), Some(y)) => format!("{:.2}×", y / x),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            w,
            "\n2 workers / 1 worker: throughput **{:.2}×**, CPU per request **{cpu}**, p99 {:.2}×.\n",
            b.throughput / a.throughput,
            b.p99 / a.p99
        );
    } else {
        let _ = writeln!(w);
    }
}
