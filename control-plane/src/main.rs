//! The `control-plane` binary: serves the API until SIGTERM/SIGINT; `create-tables`
//! makes the fleet's tables for local and test setups.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use control_plane::config::{Config, Overrides};
use control_plane::service;
use tern_tables::schema::{self, Table};

/// Tern's control plane: campaigns, budgets, API keys and the audit log of a
/// bidder fleet, over REST, in DynamoDB.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Config file (TOML); env TERN_CP_<SECTION>__<KEY> overrides it.
    #[arg(long, env = "TERN_CP_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// API listener address (server.listen).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Admin listener address (server.admin_listen).
    #[arg(long)]
    admin_listen: Option<std::net::SocketAddr>,
    /// Check the config, print a summary, and exit.
    #[arg(long)]
    check: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create the campaigns, control and spend tables (on demand) if missing, for
    /// local and test setups; Terraform creates them in AWS.
    CreateTables,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let overrides = Overrides {
        listen: cli.listen,
        admin_listen: cli.admin_listen,
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    tern_service::init_logging(&config.log.level);
    if cli.check {
        println!(
            "config ok; api={} admin={} tables={}, {}, {}",
            config.server.listen,
            config.server.admin_listen,
            config.tables.campaigns,
            config.tables.control,
            config.tables.spend
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let client = service::dynamodb_client(&config).await?;
        if let Some(Command::CreateTables) = cli.command {
            for (table, name) in [
                (Table::Campaigns, &config.tables.campaigns),
                (Table::Control, &config.tables.control),
                (Table::Spend, &config.tables.spend),
            ] {
                schema::create(&client, table, name).await?;
                println!("table {name} ready");
            }
            return Ok(());
        }
        serve(&config, client).await
    })
}

async fn serve(config: &Config, client: aws_sdk_dynamodb::Client) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("installing SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing SIGINT")?;
    let running = service::start(config, client).await?;
    println!(
        "tern control plane ready: api=http://{} admin=http://{}",
        running.api_addr, running.admin_addr
    );
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
    if running.shutdown().await {
        tracing::info!("drained; exiting");
    } else {
        tracing::warn!("drain timeout reached with requests still open; exiting");
    }
    Ok(())
}
