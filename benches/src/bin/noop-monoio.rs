//! The ceiling: a no-op HTTP/1.1 server on monoio (the bidder's runtime, same
//! driver choice) that frames each request and answers `204`. Whatever it costs per
//! request is what the runtime, the kernel and HTTP framing cost before any bidding.
//!
//! `noop-monoio [--addr 127.0.0.1:0] [--io-driver auto|epoll]`; prints
//! `noop-monoio ready: addr=ADDR driver=D`.

use std::net::SocketAddr;

use clap::Parser;
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{TcpListener, TcpStream};
use tern_benches::http1;

/// No-op HTTP/1.1 server on monoio, one thread.
#[derive(Debug, Parser)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    addr: SocketAddr,
    /// `auto` (io_uring, else epoll, as the bidder's default) or `epoll`.
    #[arg(long, default_value = "auto")]
    io_driver: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.io_driver.as_str() {
        "auto" => monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
            .build()?
            .block_on(serve(cli.addr)),
        "epoll" => monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .build()?
            .block_on(serve(cli.addr)),
        other => anyhow::bail!("unknown --io-driver {other}: use auto or epoll"),
    }
}

async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)?;
    let driver = if monoio::utils::is_legacy() {
        "epoll"
    } else {
        "io_uring"
    };
    println!(
        "noop-monoio ready: addr={} driver={driver}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        monoio::spawn(connection(stream));
    }
}

async fn connection(mut stream: TcpStream) {
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let used = match http1::answer_all(&buf, &mut out) {
            Ok(used) => used,
            Err(_) => return,
        };
        buf.drain(..used);
        if !out.is_empty() {
            let (result, written) = stream.write_all(out).await;
            if result.is_err() {
                return;
            }
            out = written;
            out.clear();
        }
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity());
        }
        let (len, capacity) = (buf.len(), buf.capacity());
        let (result, slice) = stream.read(buf.slice_mut(len..capacity)).await;
        buf = slice.into_inner();
        if !matches!(result, Ok(n) if n > 0) {
            return;
        }
    }
}
