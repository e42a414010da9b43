//! Clients a well-behaved exchange never is: connections that send nothing, and
//! slow-loris ones that trickle a request head and never finish it. For the tests
//! of the bid listener's limits and timeouts under a flood.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Connections that never send a byte.
pub fn silent_clients(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect()
}

/// Reads from `stream` until the server closes it (EOF or reset) or `timeout`
/// passes; returns the bytes it sent and whether it closed.
pub fn read_until_closed(stream: &mut TcpStream, timeout: Duration) -> (Vec<u8>, bool) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (got, false);
            }
            Err(_) => return (got, true),
        }
    }
}

/// Slow-loris clients: each sends a request head one byte every 50 ms and never
/// finishes it. Returns, for each, how long after its first byte the server ended
/// the connection (`None`: still open after `limit`).
pub fn slow_loris(addr: SocketAddr, count: usize, limit: Duration) -> Vec<Option<Duration>> {
    let mut clients: Vec<(TcpStream, Instant, Option<Duration>)> = (0..count)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream
                .write_all(b"POST /openrtb2/bid HTTP/1.1\r\n")
                .unwrap();
            stream.set_nonblocking(true).unwrap();
            (stream, Instant::now(), None)
        })
        .collect();
    let mut buf = [0u8; 1024];
    while clients
        .iter()
        .any(|c| c.2.is_none() && c.1.elapsed() < limit)
    {
        for (stream, first_byte, ended) in clients.iter_mut().filter(|c| c.2.is_none()) {
            let closed = match stream.read(&mut buf) {
                Ok(_) => true, // an answer (408) or the close
                Err(e) if e.kind() == ErrorKind::WouldBlock => stream.write_all(b"X").is_err(),
                Err(_) => true,
            };
            if closed {
                *ended = Some(first_byte.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    clients.into_iter().map(|c| c.2).collect()
}
