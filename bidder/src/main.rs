//! The `bidder` binary: parse flags, load config, start, wait for SIGTERM/SIGINT,
//! drain, exit 0.

use std::path::PathBuf;

use anyhow::Context as _;
use bidder::config::{Config, Overrides};
use bidder::state::CampaignSource;
use bidder::state::dynamodb::{AwsClients, seed};
use bidder::{Bidder, bid_api::BID_PATH};
use clap::Parser;
use signal_hook::consts::{SIGINT, SIGTERM};

/// Tern: an OpenRTB 2.6 bidder that answers in microseconds.
#[derive(Debug, Parser)]
#[command(name = "bidder", version, about)]
struct Cli {
    /// TOML config file (every option: bidder/bidder.example.toml).
    #[arg(long, env = "TERN_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Bid listener address (server.bid_addr).
    #[arg(long)]
    bid_addr: Option<std::net::SocketAddr>,
    /// Admin listener address (server.admin_addr).
    #[arg(long)]
    admin_addr: Option<std::net::SocketAddr>,
    /// Worker threads, 0 for one per core (server.workers).
    #[arg(long)]
    workers: Option<usize>,
    /// Campaigns file to serve and watch (campaigns.path); default: bundled examples.
    #[arg(long, global = true)]
    campaigns: Option<PathBuf>,
    /// Check the config and campaigns, print a summary, and exit.
    #[arg(long)]
    check: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Write campaigns (the bundled examples, or --campaigns) into a DynamoDB table.
    /// Endpoint, region and credentials come from the standard AWS configuration.
    Seed {
        /// Table to write to (default: campaigns.dynamodb.table).
        #[arg(long)]
        table: Option<String>,
        /// Create the table (on-demand, with a NEW_AND_OLD_IMAGES stream) if missing.
        #[arg(long)]
        create_table: bool,
    },
    /// Print bids, wins, win rate, clicks and spend per campaign from the local
    /// event files (events.sink = "file").
    Report {
        /// Directory of the event files (default: events.file.dir).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// First-party audience segments (docs/segments.md).
    Segments {
        #[command(subcommand)]
        command: SegmentsCommand,
    },
}

#[derive(Debug, clap::Subcommand)]
enum SegmentsCommand {
    /// Write user→segments files (JSON Lines, `.gz` read through gzip) into Redis
    /// (frequency_cap.redis): a file, or every object under an S3 prefix not loaded
    /// before. Prints a summary per source; exits 1 if a line was refused or a
    /// user not written.
    Load {
        /// A file, or s3://bucket/prefix/ (default: segments.s3_uri).
        source: Option<String>,
        /// Lifetime of segments whose line gives no ttl_s, seconds (default:
        /// segments.default_ttl_s).
        #[arg(long)]
        ttl_s: Option<u64>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let overrides = Overrides {
        bid_addr: cli.bid_addr,
        admin_addr: cli.admin_addr,
        workers: cli.workers,
        campaigns: cli.campaigns.clone(),
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    tern_service::init_logging(&config.log.level);
    if cli.check {
        return check(&config);
    }
    match cli.command {
        Some(Command::Seed {
            table,
            create_table,
        }) => {
            let table = table.unwrap_or_else(|| config.campaigns.dynamodb.table.clone());
            return seed_table(&config, &table, create_table);
        }
        Some(Command::Report { dir }) => {
            let dir = dir.unwrap_or_else(|| config.events.file.dir.clone());
            let report = bidder::report::Report::from_dir(&dir)
                .with_context(|| format!("reading events in {}", dir.display()))?;
            print!("{}", report.render());
            return Ok(());
        }
        Some(Command::Segments {
            command: SegmentsCommand::Load { source, ttl_s },
        }) => return load_segments(&config, source.as_deref(), ttl_s),
        None => {}
    }

    // Block the signals before any thread starts, so only the waiter below sees them.
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .context("installing signal handlers")?;
    let bidder = Bidder::start(&config)?;
    let (workers, on_uring) = bidder.workers();
    let driver = match on_uring {
        0 => "epoll",
        n if n == workers => "io_uring",
        _ => "io_uring+epoll",
    };
    println!(
        "tern bidder ready: bid=http://{}{BID_PATH} admin=http://{} workers={workers} driver={driver} campaigns={}",
        bidder.bid_addr(),
        bidder.admin_addr(),
        bidder.campaigns_at_start(),
    );
    let signal = signals.forever().next().unwrap_or(SIGTERM);
    tracing::info!(
        signal,
        "shutting down: not ready, draining in-flight requests"
    );
    let report = bidder.shutdown();
    if let Some(events) = report.events {
        tracing::info!(
            accepted = events.accepted,
            sent = events.sent,
            dropped_queue_full = events.dropped_queue_full,
            dropped_sink = events.dropped_sink,
            "events flushed"
        );
    }
    if report.clean {
        tracing::info!(took_ms = report.took.as_millis() as u64, "drained; exiting");
    } else {
        tracing::warn!("drain timeout reached with connections still open; exiting");
    }
    Ok(())
}

fn check(config: &Config) -> anyhow::Result<()> {
    let count = bidder::app::check(config)?;
    println!(
        "config ok; {count} campaigns ok; {} workers",
        config.server.worker_count()
    );
    Ok(())
}

fn load_segments(config: &Config, source: Option<&str>, ttl_s: Option<u64>) -> anyhow::Result<()> {
    let counts = bidder::segments::load::run(
        config.segment_load_settings(),
        source,
        ttl_s,
        &mut std::io::stdout().lock(),
    )?;
    anyhow::ensure!(
        counts.clean(),
        "{} lines refused, {} users not written, {} sources stopped",
        counts.refused_lines,
        counts.failed_users,
        counts.sources_failed
    );
    Ok(())
}

fn seed_table(config: &Config, table: &str, create: bool) -> anyhow::Result<()> {
    let campaigns = CampaignSource::from_config(&config.campaigns).campaigns()?;
    let timeout = std::time::Duration::from_millis(config.campaigns.dynamodb.request_timeout_ms);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let clients = AwsClients::load(timeout).await?;
        if create {
            seed::create_table(&clients, table).await?;
        }
        seed::put_campaigns(&clients, table, &campaigns).await
    })?;
    println!("seeded {} campaigns into {table}", campaigns.len());
    Ok(())
}
