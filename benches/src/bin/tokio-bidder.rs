//! The usual stack: the Tern engine behind tokio + hyper + serde_json, as most teams
//! would write a bidder. It parses with serde_json into the engine's own types,
//! then decides and writes the response with the same engine code as the bidder.
//! One current-thread runtime (one core), like one bidder worker.
//!
//! `tokio-bidder [--addr 127.0.0.1:0] [--campaigns FILE]`; prints
//! `tokio-bidder ready: bid=http://ADDR/openrtb2/bid campaigns=N`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tern_benches::engine::{Engine, Outcome, Parser as JsonParser};
use tern_engine::campaign::FileFormat;
use tern_engine::decision::Auction;

/// The Tern engine behind tokio + hyper + serde_json.
#[derive(Debug, Parser)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8092")]
    addr: SocketAddr,
    /// Campaigns file (TOML or JSON, as the bidder reads); default: the bidder's examples.
    #[arg(long)]
    campaigns: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let engine = match &cli.campaigns {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Engine::from_document(&text, FileFormat::from_path(path))?
        }
        None => Engine::from_document(
            include_str!("../../../bidder/campaigns/example.toml"),
            FileFormat::Toml,
        )?,
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?
        .block_on(serve(cli.addr, Arc::new(engine)))
}

async fn serve(addr: SocketAddr, engine: Arc<Engine>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!(
        "tokio-bidder ready: bid=http://{}/openrtb2/bid campaigns={}",
        listener.local_addr()?,
        engine.snapshot().campaigns().len()
    );
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let engine = Arc::clone(&engine);
        tokio::spawn(async move {
            let service = service_fn(move |req| bid(Arc::clone(&engine), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn bid(
    engine: Arc<Engine>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != "/openrtb2/bid" {
        return Ok(status(StatusCode::NOT_FOUND));
    }
    if req.method() != Method::POST {
        return Ok(status(StatusCode::METHOD_NOT_ALLOWED));
    }
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(status(StatusCode::BAD_REQUEST)),
    };
    let now_unix_s = tern_engine::clock::now_unix_s();
    let mut auction = Auction::default();
    let mut out = Vec::new();
    let response = match engine.handle(
        JsonParser::SerdeJson,
        &body,
        now_unix_s,
        &mut auction,
        &mut out,
    ) {
        Outcome::Bid => Response::builder()
            .status(StatusCode::OK)
            .header("Content-Type", "application/json")
            .header("X-OpenRTB-Version", "2.6")
            .body(Full::new(Bytes::from(out)))
            .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR)),
        Outcome::NoBid => {
            let mut r = status(StatusCode::NO_CONTENT);
            r.headers_mut().insert(
                "X-OpenRTB-Version",
                hyper::header::HeaderValue::from_static("2.6"),
            );
            r
        }
        Outcome::Invalid => status(StatusCode::BAD_REQUEST),
    };
    Ok(response)
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}
