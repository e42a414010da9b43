//! The same no-op server as `noop-monoio`, on glommio: the other thread-per-core
//! io_uring runtime, so the choice of runtime is measured rather than assumed.
//!
//! `noop-glommio [--addr 127.0.0.1:0]`; prints `noop-glommio ready: addr=ADDR`.

use std::net::SocketAddr;

use clap::Parser;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};
use glommio::{LocalExecutorBuilder, Placement};
use tern_benches::http1;

/// No-op HTTP/1.1 server on glommio, one executor.
#[derive(Debug, Parser)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8091")]
    addr: SocketAddr,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .name("noop-glommio")
        .spawn(move || serve(cli.addr))
        .map_err(|e| anyhow::anyhow!("cannot start the glommio executor: {e}"))?;
    handle
        .join()
        .map_err(|e| anyhow::anyhow!("executor failed: {e}"))?
}

async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let fail = |e: glommio::GlommioError<()>| anyhow::anyhow!("{e}");
    let listener = TcpListener::bind(addr).map_err(fail)?;
    println!(
        "noop-glommio ready: addr={}",
        listener.local_addr().map_err(fail)?
    );
    loop {
        let stream = listener.accept().await.map_err(fail)?;
        let _ = stream.set_nodelay(true);
        glommio::spawn_local(connection(stream)).detach();
    }
}

async fn connection(mut stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut filled = 0;
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let used = match http1::answer_all(&buf[..filled], &mut out) {
            Ok(used) => used,
            Err(_) => return,
        };
        buf.copy_within(used..filled, 0);
        filled -= used;
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match stream.read(&mut buf[filled..]).await {
            Ok(n) if n > 0 => filled += n,
            _ => return,
        }
    }
}
