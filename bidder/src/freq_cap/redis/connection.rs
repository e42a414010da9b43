//! One Redis connection on a worker's executor. Commands are packed and replies
//! parsed by the `redis` crate; the bytes travel over monoio's TCP stream, in TLS
//! when configured.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use monoio::buf::{IoBufMut, SliceMut};
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use monoio_rustls::ClientTlsStream;
use redis::Value;

use super::tls::RedisTls;
use crate::freq_cap::CapError;

/// Reply bytes kept between reads of one round trip.
const READ_CHUNK: usize = 4096;

/// The bytes' way to Redis.
enum Transport {
    Plain(TcpStream),
    Tls(Box<ClientTlsStream<TcpStream>>),
}

impl Transport {
    async fn write_all(&mut self, out: Vec<u8>) -> (std::io::Result<usize>, Vec<u8>) {
        match self {
            Transport::Plain(stream) => stream.write_all(out).await,
            Transport::Tls(stream) => stream.write_all(out).await,
        }
    }

    async fn read(
        &mut self,
        buf: SliceMut<Vec<u8>>,
    ) -> (std::io::Result<usize>, SliceMut<Vec<u8>>) {
        match self {
            Transport::Plain(stream) => stream.read(buf).await,
            Transport::Tls(stream) => stream.read(buf).await,
        }
    }
}

/// An open connection, owned by one request at a time.
pub(crate) struct Connection {
    stream: Transport,
    /// Request bytes, reused.
    out: Vec<u8>,
    /// Reply bytes of the current round trip.
    input: Vec<u8>,
}

fn remaining(deadline: Instant) -> Result<Duration, CapError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(CapError::Timeout)
    } else {
        Ok(left)
    }
}

impl Connection {
    /// Connects, runs the TLS handshake (when `tls` is set) and authenticates (when a
    /// password is set) before `deadline`.
    pub(crate) async fn open(
        addr: SocketAddr,
        tls: Option<&RedisTls>,
        username: &str,
        password: &str,
        deadline: Instant,
    ) -> Result<Connection, CapError> {
        let stream =
            match monoio::time::timeout(remaining(deadline)?, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return Err(CapError::Unavailable(format!("connect {addr}: {e}"))),
                Err(_) => return Err(CapError::Timeout),
            };
        let _ = stream.set_nodelay(true);
        let stream = match tls {
            None => Transport::Plain(stream),
            Some(tls) => {
                match monoio::time::timeout(remaining(deadline)?, tls.connect(stream)).await {
                    Ok(Ok(stream)) => Transport::Tls(Box::new(stream)),
                    Ok(Err(e)) => {
                        return Err(CapError::Unavailable(format!("TLS with {addr}: {e}")));
                    }
                    Err(_) => return Err(CapError::Timeout),
                }
            }
        };
        let mut connection = Connection {
            stream,
            out: Vec::with_capacity(512),
            input: Vec::with_capacity(READ_CHUNK),
        };
        if !password.is_empty() {
            let mut auth = redis::cmd("AUTH");
            if !username.is_empty() {
                auth.arg(username);
            }
            auth.arg(password);
            let reply = connection
                .round_trip(|out| auth.write_packed_command(out), 1, deadline)
                .await?;
            if !matches!(reply.first(), Some(Value::Okay)) {
                return Err(CapError::Unavailable(format!("AUTH refused: {reply:?}")));
            }
        }
        Ok(connection)
    }

    /// Sends the commands `write` packs and reads `replies` replies, before `deadline`.
    /// Error replies (e.g. a cluster redirect) come back as values: the connection
    /// is fine after them. On an `Err` the connection must be dropped: its state is
    /// unknown.
    pub(crate) async fn round_trip(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>),
        replies: usize,
        deadline: Instant,
    ) -> Result<Vec<Value>, CapError> {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        write(&mut out);
        let (written, out) =
            match monoio::time::timeout(remaining(deadline)?, self.stream.write_all(out)).await {
                Ok(done) => done,
                Err(_) => return Err(CapError::Timeout),
            };
        self.out = out;
        written.map_err(|e| CapError::Unavailable(format!("write: {e}")))?;

        self.input.clear();
        loop {
            let mut input = std::mem::take(&mut self.input);
            input.reserve(READ_CHUNK);
            let (len, capacity) = (input.len(), input.capacity());
            let read = self.stream.read(input.slice_mut(len..capacity));
            let (result, buf) = match monoio::time::timeout(remaining(deadline)?, read).await {
                Ok(done) => done,
                Err(_) => return Err(CapError::Timeout),
            };
            self.input = buf.into_inner();
            match result {
                Ok(0) => return Err(CapError::Unavailable("connection closed".into())),
                Ok(_) => {}
                Err(e) => return Err(CapError::Unavailable(format!("read: {e}"))),
            }
            if let Some(values) = parse_replies(&self.input, replies)? {
                return Ok(values);
            }
        }
    }
}

/// Parses `count` replies from `input`; `None` while they are incomplete.
pub(super) fn parse_replies(input: &[u8], count: usize) -> Result<Option<Vec<Value>>, CapError> {
    let mut parser = redis::Parser::new();
    let mut reader = input;
    let mut values = Vec::with_capacity(count);
    for _ in 0..count {
        match parser.parse_value(&mut reader) {
            Ok(value) => values.push(value),
            Err(e) if e.is_io_error() => return Ok(None),
            Err(e) => return Err(CapError::Unavailable(format!("protocol error: {e}"))),
        }
    }
    Ok(Some(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_only_when_complete() {
        let full = b"*2\r\n$1\r\n3\r\n_\r\n+OK\r\n";
        for cut in 0..full.len() {
            assert_eq!(
                parse_replies(&full[..cut], 2).unwrap(),
                None,
                "cut at {cut}"
            );
        }
        let values = parse_replies(full, 2).unwrap().unwrap();
        assert_eq!(values[1], Value::Okay);
        let refused = parse_replies(b"-NOAUTH Authentication required.\r\n", 1);
        assert!(
            matches!(&refused.unwrap().unwrap()[0], Value::ServerError(e) if e.code() == "NOAUTH")
        );
        assert!(parse_replies(b"?junk\r\n", 1).is_err());
    }

    #[test]
    fn deeply_nested_replies_are_a_protocol_error_not_a_crash() {
        // The redis crate stops at 100 levels; a reply that deep is never ours.
        for levels in [1_000, 100_000] {
            for aggregate in ["*1\r\n", "%1\r\n+k\r\n", "~1\r\n"] {
                let mut reply = aggregate.repeat(levels).into_bytes();
                reply.extend_from_slice(b":1\r\n");
                assert!(
                    parse_replies(&reply, 1).is_err(),
                    "{levels} of {aggregate:?}"
                );
            }
        }
    }
}
