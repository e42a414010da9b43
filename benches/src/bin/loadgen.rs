//! `loadgen`: HTTP/1.1 load against any bidder; see [`tern_benches::loadgen`].
//!
//! ```text
//! loadgen --url http://127.0.0.1:8080/openrtb2/bid --bodies DIR \
//!         [--connections 32] [--duration-s 10] [--warmup-s 2] [--rate 40000] \
//!         [--server-pid PID] [--hgrm out.hgrm] [--json out.json] [--label NAME] \
//!         [--interval-s 60]
//! ```
//!
//! With `--interval-s`, one `interval key=value ...` line per interval is printed
//! as each interval ends (see `Interval::line`), before the summary.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tern_benches::loadgen::{self, Config, Target};

/// HTTP/1.1 keep-alive load generator: saturation (closed loop) or fixed rate (open
/// loop, latency corrected for coordinated omission).
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about)]
struct Cli {
    /// Where to POST, e.g. http://127.0.0.1:8080/openrtb2/bid.
    #[arg(long)]
    url: String,
    /// A directory of *.json request bodies (sent in turn), or one file.
    #[arg(long)]
    bodies: PathBuf,
    /// Keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 1.0)]
    warmup_s: f64,
    /// Requests per second (open loop); without it, saturation (closed loop).
    #[arg(long)]
    rate: Option<f64>,
    /// Pid of the server, to report its CPU time per request.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Write the latency percentile distribution (.hgrm) here.
    #[arg(long)]
    hgrm: Option<PathBuf>,
    /// Write every measurement as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Name stored in the JSON (e.g. the server's).
    #[arg(long, default_value = "")]
    label: String,
    /// Print one line per interval of this many seconds while measuring (responses,
    /// statuses, errors, latency percentiles of that interval).
    #[arg(long)]
    interval_s: Option<f64>,
    /// Exit non-zero unless at least this many 200 responses arrived.
    #[arg(long, default_value_t = 0)]
    min_bids: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config {
        target: Target::parse(&cli.url)?,
        bodies: loadgen::read_bodies(&cli.bodies)
            .with_context(|| format!("reading bodies from {}", cli.bodies.display()))?,
        connections: cli.connections,
        warmup: Duration::from_secs_f64(cli.warmup_s),
        duration: Duration::from_secs_f64(cli.duration_s),
        rate: cli.rate,
        server_pid: cli.server_pid,
        interval: cli.interval_s.map(Duration::from_secs_f64),
    };
    // println! flushes each line, so a script reading the pipe sees every interval
    // as it ends.
    let report = loadgen::run_with_intervals(&config, &mut |interval| {
        println!("{}", interval.line());
    })?;
    print!("{}", report.summary());
    if let Some(path) = &cli.hgrm {
        std::fs::write(path, report.hgrm())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &cli.json {
        let text = serde_json::to_string_pretty(&report.to_json(&cli.label))?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let bids = report.statuses.get(200);
    anyhow::ensure!(
        bids >= cli.min_bids,
        "expected at least {} bids (200 responses), got {bids}",
        cli.min_bids
    );
    Ok(())
}
