//! `loadgen` against a tiny blocking HTTP server in this process: both modes count
//! every answer by status and lose nothing. It checks counts, never speed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use tern_benches::http1;
use tern_benches::loadgen::{self, Config, Target};

/// Serves every connection on its own thread: 200 with a small body to requests
/// whose body ends in "yes", 204 to the rest.
fn server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    while let Ok(Some(len)) = http1::request_len(&buf) {
                        let bid = buf[..len].ends_with(b"yes");
                        let answer: &[u8] = if bid {
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
                        } else {
                            http1::NO_CONTENT
                        };
                        if stream.write_all(answer).is_err() {
                            return;
                        }
                        buf.drain(..len);
                    }
                    match stream.read(&mut chunk) {
                        Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                        _ => return,
                    }
                }
            });
        }
    });
    addr
}

fn config(rate: Option<f64>) -> Config {
    Config {
        target: Target::parse(&format!("http://{}/openrtb2/bid", server())).unwrap(),
        bodies: vec![b"yes".to_vec(), b"no".to_vec()],
        connections: 3,
        warmup: Duration::from_millis(50),
        duration: Duration::from_millis(300),
        rate,
        server_pid: Some(std::process::id()),
        interval: None,
    }
}

#[test]
fn saturation_counts_bids_and_no_bids() {
    let report = loadgen::run(&config(None)).unwrap();
    assert_eq!(report.errors.total(), 0);
    assert!(report.statuses.get(200) > 0 && report.statuses.get(204) > 0);
    assert_eq!(report.corrected.len(), report.responses());
    assert!(report.server_cpu_us_per_request().is_some());
    assert!(report.hgrm().contains("Percentile"));
    assert_eq!(report.to_json("t")["responses"], report.responses());
}

#[test]
fn fixed_rate_sends_on_schedule() {
    let report = loadgen::run(&config(Some(400.0))).unwrap();
    assert_eq!(report.errors.total(), 0);
    // 400/s over 0.3 s is about 120 requests; allow for scheduling slack.
    assert!(
        (60..=180).contains(&report.responses()),
        "{}",
        report.responses()
    );
    assert_eq!(report.mode, "fixed-rate");
}

#[test]
fn intervals_add_up_to_the_whole_window() {
    let config = Config {
        duration: Duration::from_millis(500),
        interval: Some(Duration::from_millis(200)),
        ..config(Some(400.0))
    };
    let mut intervals = Vec::new();
    let report = loadgen::run_with_intervals(&config, &mut |i| {
        assert!(
            i.server
                .is_some_and(|s| s.size.rss_kib > 0 && s.size.fds > 0)
        );
        intervals.push((
            i.index,
            i.end,
            i.statuses.total(),
            i.errors.total(),
            i.backlog,
        ));
    })
    .unwrap();
    // 0.5 s in intervals of 0.2 s: two whole ones and a last one of 0.1 s, ending
    // with the run; together they hold every response of the window, and each one
    // read the server (this process).
    let indices: Vec<u64> = intervals.iter().map(|i| i.0).collect();
    assert_eq!(indices, [1, 2, 3]);
    let ends: Vec<f64> = intervals.iter().map(|i| i.1.as_secs_f64()).collect();
    assert!(
        (0.2..0.25).contains(&ends[0]) && (0.4..0.45).contains(&ends[1]) && ends[2] >= 0.5,
        "{ends:?}"
    );
    assert_eq!(
        intervals.iter().map(|i| i.2).sum::<u64>(),
        report.responses()
    );
    assert!(intervals.iter().all(|i| i.2 > 0 && i.3 == 0 && i.4 <= 3));
}
