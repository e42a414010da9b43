//! HTTP/1.1 behaviour of the bid listener under well-formed, malformed, slow and
//! concurrent clients, against the real server, on each I/O driver (io_uring where
//! the kernel allows it, and the epoll fallback).

#[macro_use]
mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use support::{Bidder, Options, raw_bid, read_response, sample, send};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Sends raw bytes on a new connection and reads one response.
fn exchange(bidder: &Bidder, bytes: &[u8]) -> support::Reply {
    let mut stream = bidder.connect();
    send(&mut stream, bytes);
    read_response(&mut stream).expect("a response")
}

on_both_drivers! {
    fn malformed_requests_get_the_right_status_and_a_reason(options: Options) {
        let bidder = Bidder::start_with(options);
        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            ("bad json", raw_bid(b"{\"id\":", ""), 400, "malformed bid request"),
        (
            "bad type",
            raw_bid(br#"{"id":"x","tmax":-5,"imp":[{"id":"1"}]}"#, ""),
            400,
            "malformed bid request",
        ),
            ("no imp", raw_bid(br#"{"id":"x"}"#, ""), 400, "request has no imp"),
            ("empty imp id", raw_bid(br#"{"id":"x","imp":[{"id":""}]}"#, ""), 400, "imp id is empty"),
            (
                "bad gzip",
                raw_bid(b"definitely not gzip", "Content-Encoding: gzip\r\n"),
                400,
                "malformed gzip body",
            ),
            (
                "brotli",
                raw_bid(&sample("banner"), "Content-Encoding: br\r\n"),
                415,
                "unsupported content-encoding",
            ),
            ("garbage head", b"HELLO\r\n\r\n".to_vec(), 400, "malformed request head"),
            (
                "two lengths",
                b"POST /openrtb2/bid HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}".to_vec(),
                400,
                "conflicting content-length",
            ),
            (
                "smuggling",
                b"POST /openrtb2/bid HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}"
                    .to_vec(),
                400,
                "both content-length and transfer-encoding",
            ),
            (
                "form body",
                b"POST /openrtb2/bid HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b"
                    .to_vec(),
                415,
                "content-type must be application/json",
            ),
        ];
        for (name, bytes, status, reason) in cases {
            let reply = exchange(&bidder, &bytes);
            assert_eq!(reply.status, status, "{name}: {}", reply.text());
            assert!(reply.text().contains(reason), "{name}: {:?}", reply.text());
        assert_eq!(reply.text().lines().count(), 1, "{name}: one line: {:?}", reply.text());
        }
        assert_eq!(bidder.metric("tern_responses_total{status=\"400\"}"), 8.0);
        assert_eq!(bidder.metric("tern_responses_total{status=\"415\"}"), 2.0);
        assert_eq!(bidder.metric("tern_panics_total"), 0.0);
    }

    fn wrong_method_and_unknown_path(options: Options) {
        let bidder = Bidder::start_with(options);
        let reply = bidder.get(&bidder.url("/openrtb2/bid"));
        assert_eq!(reply.status, 405);
        assert_eq!(reply.header("allow"), Some("POST"));
        assert_eq!(bidder.get(&bidder.url("/nope")).status, 404);
        assert_eq!(bidder.post_json("/notice/imp", b"{}").status, 405);
    }

    fn oversized_bodies_get_413(options: Options) {
        let bidder = Bidder::start_with(Options {
            config: "[limits]\nbody_bytes = 4096\ninflated_body_bytes = 8192\n".into(),
            ..options
        });
        let big = format!(
            r#"{{"id":"x","pad":"{}","imp":[{{"id":"1"}}]}}"#,
            "a".repeat(5000)
        );
        assert_eq!(exchange(&bidder, &raw_bid(big.as_bytes(), "")).status, 413);
        // Declared too large: refused without waiting for the body.
        let declared = b"POST /openrtb2/bid HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n";
        assert_eq!(exchange(&bidder, declared).status, 413);
        // Chunked past the limit.
        let mut chunked = b"POST /openrtb2/bid HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..5 {
            chunked.extend_from_slice(b"400\r\n");
            chunked.extend_from_slice(&[b' '; 0x400]);
            chunked.extend_from_slice(b"\r\n");
        }
        assert_eq!(exchange(&bidder, &chunked).status, 413);
        // Small on the wire, too large once inflated (a gzip bomb).
        let bomb = gzip(&vec![b' '; 100_000]);
        assert!(bomb.len() < 4096);
        assert_eq!(
            exchange(&bidder, &raw_bid(&bomb, "Content-Encoding: gzip\r\n")).status,
            413
        );
        assert_eq!(bidder.metric("tern_responses_total{status=\"413\"}"), 4.0);
    }

    fn gzip_chunked_and_expect_continue_bodies_are_accepted(options: Options) {
        let bidder = Bidder::start_with(options);
        let body = sample("banner");
        let reply = exchange(
            &bidder,
            &raw_bid(&gzip(&body), "Content-Encoding: gzip\r\n"),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());

        let mut chunked =
            b"POST /openrtb2/bid HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_vec();
        for piece in body.chunks(100) {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            chunked.extend_from_slice(piece);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        assert_eq!(exchange(&bidder, &chunked).status, 200);

        let mut stream = bidder.connect();
        let head = format!(
            "POST /openrtb2/bid HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        );
        send(&mut stream, head.as_bytes());
        assert_eq!(
            read_response(&mut stream).unwrap().status,
            100,
            "interim 100 Continue"
        );
        send(&mut stream, &body);
        assert_eq!(read_response(&mut stream).unwrap().status, 200);
    }

    fn pipelined_requests_are_answered_in_order(options: Options) {
        let bidder = Bidder::start_with(options);
        let with_id = |id: &str| {
            let json: serde_json::Value = serde_json::from_slice(&sample("banner")).unwrap();
            let mut json = json;
            json["id"] = id.into();
            serde_json::to_vec(&json).unwrap()
        };
        let mut batch = Vec::new();
        batch.extend(raw_bid(&with_id("first"), ""));
        batch.extend(raw_bid(
            br#"{"id":"nobid","imp":[{"id":"1","banner":{"w":1,"h":1}}]}"#,
            "",
        ));
        batch.extend(raw_bid(&with_id("third"), ""));
        batch.extend(b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
        batch.extend(raw_bid(&with_id("fifth"), ""));
        let mut stream = bidder.connect();
        send(&mut stream, &batch);
        let mut got = Vec::new();
        for _ in 0..5 {
            let reply = read_response(&mut stream).expect("response");
            let id = match reply.status {
                200 => reply.json()["id"].as_str().unwrap().to_owned(),
                status => status.to_string(),
            };
            got.push(id);
        }
        assert_eq!(got, ["first", "204", "third", "404", "fifth"]);
    }

    fn slow_and_idle_clients_are_cut_off(options: Options) {
        let bidder = Bidder::start_with(Options {
            config: "[limits]\nheader_read_timeout_ms = 300\nidle_timeout_ms = 400\n".into(),
            ..options
        });
        // A slow-loris head: one byte at a time, never finished.
        let mut stream = bidder.connect();
        let started = Instant::now();
        send(&mut stream, b"POST /openrtb2/bid HTTP/1.1\r\n");
        let mut cut = false;
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(50));
            if stream.write_all(b"X").is_err() {
                cut = true;
                break;
            }
            if started.elapsed() > Duration::from_millis(600) {
                break;
            }
        }
        let reply = read_response(&mut stream);
        assert!(cut || reply.is_some(), "slow client was not cut off");
        if let Some(reply) = reply {
            assert_eq!(reply.status, 408);
            assert_eq!(reply.header("connection"), Some("close"));
        }
        assert!(started.elapsed() < Duration::from_secs(3));

        // An idle keep-alive connection is closed after the idle timeout.
        let mut idle = bidder.connect();
        send(&mut idle, &raw_bid(&sample("banner"), ""));
        assert_eq!(read_response(&mut idle).unwrap().status, 200);
        let idle_started = Instant::now();
        let mut byte = [0u8; 1];
        assert_eq!(
            idle.read(&mut byte).unwrap_or(0),
            0,
            "server closes the idle connection"
        );
        let waited = idle_started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
    }

    fn oversized_heads_get_431(options: Options) {
        let bidder = Bidder::start_with(options);
        let long = format!("GET / HTTP/1.1\r\nX-Long: {}\r\n\r\n", "a".repeat(9000));
        assert_eq!(exchange(&bidder, long.as_bytes()).status, 431);
        let many: String = (0..100).map(|i| format!("X-{i}: y\r\n")).collect();
        let reply = exchange(&bidder, format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes());
        assert_eq!(reply.status, 431);
    }

    fn concurrent_connections_spread_over_all_workers(options: Options) {
        let bidder = Bidder::start_with(Options {
            workers: 2,
            ..options
        });
        let body = sample("banner");
        let mut streams: Vec<_> = (0..64).map(|_| bidder.connect()).collect();
        for stream in &mut streams {
            send(stream, &raw_bid(&body, ""));
        }
        for stream in &mut streams {
            assert_eq!(read_response(stream).unwrap().status, 200);
        }
        let state = bidder.state();
        let per_worker: Vec<u64> = state["worker_connections_accepted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        assert_eq!(per_worker.len(), 2);
        assert_eq!(per_worker.iter().sum::<u64>(), 64);
        assert!(
            per_worker.iter().all(|n| *n > 0),
            "every worker took connections: {per_worker:?}"
        );
        assert_eq!(bidder.metric("tern_connections_open"), 64.0);
    }

    fn random_bytes_never_take_a_worker_down(options: Options) {
        let bidder = Bidder::start_with(Options {
            config: "[limits]\nheader_read_timeout_ms = 200\n".into(),
            ..options
        });
        let valid = raw_bid(&sample("banner"), "");
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..300 {
            let mut bytes = valid.clone();
            match round % 3 {
                0 => bytes = (0..(next() % 2048)).map(|_| next() as u8).collect(),
                1 => {
                    for _ in 0..(1 + next() % 8) {
                        let at = (next() as usize) % bytes.len();
                        bytes[at] = next() as u8;
                    }
                }
                _ => bytes.truncate((next() as usize) % bytes.len()),
            }
            let mut stream = bidder.connect();
            let _ = stream.write_all(&bytes);
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut sink = Vec::new();
            let _ = stream.read_to_end(&mut sink);
        }
        let reply = exchange(&bidder, &valid);
        assert_eq!(reply.status, 200, "still bidding after fuzzing");
        assert_eq!(
            bidder.metric("tern_panics_total"),
            0.0,
            "{}",
            bidder.stderr()
        );
        assert_eq!(
            bidder.state()["io_uring_workers"].as_u64().unwrap()
                + bidder.state()["epoll_workers"].as_u64().unwrap(),
            2
        );
    }
}

#[test]
fn each_driver_runs_as_asked() {
    let epoll = Bidder::start_with(support::on_driver("epoll"));
    assert_eq!(epoll.state()["epoll_workers"], 2);
    let auto = Bidder::start_with(support::on_driver("auto"));
    let state = auto.state();
    let (uring, fallback) = (
        state["io_uring_workers"].as_u64().unwrap(),
        state["epoll_workers"].as_u64().unwrap(),
    );
    assert_eq!(uring + fallback, 2, "io_uring where the kernel allows it");
}
