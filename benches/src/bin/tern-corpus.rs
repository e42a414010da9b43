//! Writes the benchmark corpus to disk for `loadgen` and the servers:
//! `OUT/bodies/NNNN-KIND.json` (request bodies) and `OUT/campaigns.json` (a
//! campaigns file the bidder and the tokio baseline both load).
//!
//! `tern-corpus --out DIR [--requests 200] [--campaigns 1000] [--seed 1]`

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use tern_benches::corpus;

/// Generate request bodies and a campaigns file.
#[derive(Debug, Parser)]
struct Cli {
    /// Output directory (created).
    #[arg(long)]
    out: PathBuf,
    /// Request bodies to write.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Campaigns to write.
    #[arg(long, default_value_t = 1000)]
    campaigns: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let bodies = cli.out.join("bodies");
    std::fs::create_dir_all(&bodies).with_context(|| format!("creating {}", bodies.display()))?;
    let deals = corpus::deal_pool(cli.campaigns);
    let samples = corpus::requests(cli.requests, cli.seed, deals);
    let mut bytes = 0;
    for (n, sample) in samples.iter().enumerate() {
        bytes += sample.body.len();
        std::fs::write(
            bodies.join(format!("{n:04}-{}.json", sample.kind.name())),
            &sample.body,
        )?;
    }
    let campaigns = corpus::campaigns(cli.campaigns, cli.seed);
    std::fs::write(
        cli.out.join("campaigns.json"),
        corpus::campaigns_json(&campaigns),
    )?;
    println!(
        "wrote {} bodies (mean {} bytes) and {} campaigns to {}",
        samples.len(),
        bytes / samples.len().max(1),
        campaigns.len(),
        cli.out.display()
    );
    Ok(())
}
