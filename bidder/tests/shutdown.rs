//! SIGTERM: not ready first, then no new connections, in-flight requests answered,
//! idle keep-alive connections closed, exit 0 inside the drain time.

mod support;

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::{Bidder, Options, raw_bid, read_response, sample, send};

#[test]
fn a_request_being_received_at_sigterm_is_answered() {
    let mut bidder = Bidder::start();
    // A generous tmax, so the slow upload below still leaves time to bid.
    let mut json: serde_json::Value = serde_json::from_slice(&sample("banner")).unwrap();
    json["tmax"] = 5000.into();
    let body = serde_json::to_vec(&json).unwrap();
    let request = raw_bid(&body, "");
    let split = request.len() - body.len() / 2;

    let mut in_flight = bidder.connect();
    send(&mut in_flight, &request[..split]);
    let mut idle = bidder.connect();
    send(&mut idle, &request);
    assert_eq!(read_response(&mut idle).unwrap().status, 200);
    std::thread::sleep(Duration::from_millis(100));

    bidder.signal(libc::SIGTERM);
    // The idle keep-alive connection is closed by the server.
    let mut byte = [0u8; 1];
    assert_eq!(idle.read(&mut byte).unwrap_or(0), 0);
    // The half-received request is still answered, with Connection: close.
    std::thread::sleep(Duration::from_millis(200));
    send(&mut in_flight, &request[split..]);
    let reply = read_response(&mut in_flight).expect("an answer for the in-flight request");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(bidder.wait_exit(Duration::from_secs(5)).success());
    assert!(
        std::net::TcpStream::connect(bidder.bid).is_err(),
        "no longer accepting"
    );
}

#[test]
fn readiness_turns_false_before_the_listener_closes() {
    let mut bidder = Bidder::start_with(Options {
        config: "[shutdown]\nunready_delay_ms = 1500\n".into(),
        ..Options::default()
    });
    assert_eq!(bidder.admin("/ready").status, 200);
    bidder.signal(libc::SIGTERM);
    assert!(support::eventually(Duration::from_secs(1), || bidder
        .admin("/ready")
        .status
        == 503));
    assert_eq!(bidder.metric("tern_ready"), 0.0);
    assert_eq!(bidder.admin("/health").status, 200, "alive while draining");
    assert_eq!(
        bidder.bid(&sample("banner")).status,
        200,
        "still serving while unready"
    );
    assert!(bidder.wait_exit(Duration::from_secs(10)).success());
}

/// What one client saw: the ids of the requests answered, and of the one request
/// (at most) its connection was closed on.
#[derive(Default)]
struct Seen {
    answered: Vec<String>,
    unanswered: Vec<String>,
}

/// Sends the banner sample with fresh auction ids, one after another on keep-alive
/// connections, until `stop` or the server closes a connection before answering.
fn client(
    addr: std::net::SocketAddr,
    name: usize,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
) -> Seen {
    let mut request: serde_json::Value = serde_json::from_slice(&sample("banner")).unwrap();
    let mut seen = Seen::default();
    let mut n = 0;
    'client: while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
            break;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        loop {
            n += 1;
            let id = format!("client-{name}-{n}");
            request["id"] = id.clone().into();
            let bytes = raw_bid(request.to_string().as_bytes(), "");
            if std::io::Write::write_all(&mut stream, &bytes).is_err() {
                seen.unanswered.push(id);
                break 'client;
            }
            match read_response(&mut stream) {
                Some(reply) => {
                    // A bid, or a no-bid when a slow machine let the request's tmax
                    // run out: both are complete, valid answers.
                    assert!(
                        matches!(reply.status, 200 | 204),
                        "complete, valid answers only, got {}",
                        reply.status
                    );
                    seen.answered.push(id);
                    answered.fetch_add(1, Ordering::Relaxed);
                    if reply.header("connection") == Some("close") {
                        break;
                    }
                }
                None => {
                    // Closed without an answer. Allowed only if the server closed an
                    // idle connection while draining, before it read this request;
                    // the events tell (below). The client stops: a new connection now
                    // would sit in the backlog of a listener that no longer accepts.
                    seen.unanswered.push(id);
                    break 'client;
                }
            }
        }
    }
    seen
}

#[test]
fn sigterm_under_load_leaves_no_received_request_unanswered() {
    // Every decision, bid or no-bid, is an event: what the bidder received and
    // decided is in the event files it flushes at exit.
    let mut bidder = Bidder::start_with(Options {
        config: "[events]\nnobid_sample_rate = 1.0\n".into(),
        ..Options::default()
    });
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..8)
        .map(|name| {
            let (addr, stop, answered) = (bidder.bid, Arc::clone(&stop), Arc::clone(&answered));
            std::thread::spawn(move || client(addr, name, stop, answered))
        })
        .collect();
    assert!(support::eventually(Duration::from_secs(10), || answered
        .load(Ordering::Relaxed)
        > 2000));
    let signalled = Instant::now();
    bidder.signal(libc::SIGTERM);
    let status = bidder.wait_exit(Duration::from_secs(10));
    let drained_in = signalled.elapsed();
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<Seen> = clients
        .into_iter()
        .map(|c| c.join().expect("client saw only complete answers"))
        .collect();
    assert!(status.success(), "exit status {status}");
    assert!(drained_in < Duration::from_secs(10));
    let log = bidder.stderr();
    assert!(log.contains("drained; exiting"), "{log}");

    let decided: std::collections::HashSet<String> = bidder
        .event_lines()
        .iter()
        .filter(|e| e["type"] == "bid" || e["type"] == "nobid")
        .map(|e| e["request_id"].as_str().unwrap().to_owned())
        .collect();
    let answered_ids: Vec<&String> = seen.iter().flat_map(|s| &s.answered).collect();
    assert!(
        answered_ids.iter().all(|id| decided.contains(*id)),
        "every answered request is in the events, so they show what was received"
    );
    for s in &seen {
        assert!(s.unanswered.len() <= 1);
        for id in &s.unanswered {
            assert!(
                !decided.contains(id),
                "{id} was received and decided but never answered"
            );
        }
    }
}
