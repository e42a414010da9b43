//! The load generator's single-threaded `epoll` loop over non-blocking sockets.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Instant;

use hdrhistogram::Histogram;

use super::report::{Errors, Interval, Report, ServerSample, StatusCounts};
use super::{Config, request_bytes};
use crate::procstat::{CpuTime, cpu_time, own_cpu_time, process_size};

/// Most response header fields read.
const MAX_HEADERS: usize = 24;
/// Events taken per `epoll_wait`.
const EVENTS: usize = 256;
/// Longest a wait blocks, so the end of the run is noticed.
const MAX_WAIT_MS: i32 = 5;
/// Latencies are recorded in nanoseconds, up to a minute.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// A request in flight on a connection.
#[derive(Debug, Clone, Copy)]
struct Flight {
    /// When the schedule wanted it sent (ns since start).
    due_ns: u64,
    /// When it was sent (ns since start).
    sent_ns: u64,
}

struct Conn {
    stream: TcpStream,
    /// Receive buffer; always initialized to its full length, `filled` bytes used.
    buf: Vec<u8>,
    filled: usize,
    /// Which request body is being written, and how much of it is out.
    writing: Option<(usize, usize)>,
    /// Whether the socket is registered for writability (a write was partial).
    wants_out: bool,
    flight: Option<Flight>,
}

/// What the loop measures; reset when the warm-up ends.
struct Tally {
    corrected: Histogram<u64>,
    uncorrected: Histogram<u64>,
    statuses: StatusCounts,
    errors: Errors,
}

impl Tally {
    fn new() -> Tally {
        let hist = || Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds");
        Tally {
            corrected: hist(),
            uncorrected: hist(),
            statuses: StatusCounts::default(),
            errors: Errors::default(),
        }
    }

    fn reset(&mut self) {
        self.corrected.reset();
        self.uncorrected.reset();
        self.statuses = StatusCounts::default();
        self.errors = Errors::default();
    }
}

/// The interval being measured (`Config::interval`): the cumulative tally as it
/// stood when the interval began, so the interval is the difference.
struct Window {
    /// Interval length, ns.
    every_ns: u64,
    /// Index of the interval being measured (1 for the first).
    index: u64,
    /// When it began (ns since start).
    from_ns: u64,
    /// When it is due to end (ns since start): the end of the warm-up plus a
    /// whole number of intervals, so the boundaries do not drift.
    until_ns: u64,
    corrected: Histogram<u64>,
    statuses: StatusCounts,
    errors: Errors,
    /// The server's CPU time when it began.
    server_cpu: CpuTime,
}

struct Loop<'c> {
    config: &'c Config,
    requests: Vec<Vec<u8>>,
    next_body: usize,
    conns: Vec<Option<Conn>>,
    /// Connections with nothing in flight, longest idle first: the open loop uses
    /// them in turn, as an exchange's pool does, so none sits unused for long.
    idle: VecDeque<usize>,
    epoll: i32,
    start: Instant,
    tally: Tally,
}

/// Runs the configured load to completion.
pub(super) fn run(
    config: &Config,
    on_interval: &mut dyn FnMut(&Interval),
) -> anyhow::Result<Report> {
    // SAFETY: plain syscall; the descriptor is closed at the end of this function.
    let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    anyhow::ensure!(
        epoll >= 0,
        "epoll_create1: {}",
        std::io::Error::last_os_error()
    );
    let mut lp = Loop {
        config,
        requests: config
            .bodies
            .iter()
            .map(|b| request_bytes(&config.target, b))
            .collect(),
        next_body: 0,
        conns: Vec::with_capacity(config.connections),
        idle: VecDeque::with_capacity(config.connections),
        epoll,
        start: Instant::now(),
        tally: Tally::new(),
    };
    let result = lp.drive(on_interval);
    // SAFETY: `epoll` is ours and no longer used.
    unsafe { libc::close(epoll) };
    result
}

impl Loop<'_> {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn drive(&mut self, on_interval: &mut dyn FnMut(&Interval)) -> anyhow::Result<Report> {
        for slot in 0..self.config.connections {
            self.conns.push(None);
            self.connect(slot)?;
        }
        let interval_ns = self.config.rate.map(|r| (1e9 / r).max(1.0));
        let warmup_ns = self.config.warmup.as_nanos() as u64;
        let end_ns = warmup_ns + self.config.duration.as_nanos() as u64;
        let mut scheduled: u64 = 0;
        let mut measuring = false;
        let mut measured_from = (Instant::now(), CpuTime::default(), CpuTime::default());
        let mut window: Option<Window> = None;
        if interval_ns.is_none() {
            // Closed loop: every connection starts with one request.
            while let Some(slot) = self.idle.pop_front() {
                let now = self.now_ns();
                self.send(slot, now, now);
            }
        }
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS];
        loop {
            let now = self.now_ns();
            if now >= end_ns {
                break;
            }
            if !measuring && now >= warmup_ns {
                measuring = true;
                self.tally.reset();
                let server = match self.config.server_pid {
                    Some(pid) => cpu_time(pid)?,
                    None => CpuTime::default(),
                };
                measured_from = (Instant::now(), server, own_cpu_time());
                window = self.config.interval.map(|every| {
                    let every_ns = (every.as_nanos() as u64).max(1);
                    Window {
                        every_ns,
                        index: 1,
                        from_ns: now,
                        until_ns: warmup_ns + every_ns,
                        corrected: self.tally.corrected.clone(),
                        statuses: StatusCounts::default(),
                        errors: Errors::default(),
                        server_cpu: server,
                    }
                });
            }
            if let Some(w) = window.as_mut()
                && now >= w.until_ns
            {
                on_interval(&self.close_window(w, now, warmup_ns, interval_ns, scheduled));
            }
            let mut timeout_ms = MAX_WAIT_MS;
            if let Some(interval) = interval_ns {
                // Open loop: send whatever is due on idle connections.
                loop {
                    let due = (scheduled as f64 * interval) as u64;
                    if due > now {
                        if !self.idle.is_empty() {
                            // Sleep through long gaps; spin through short ones.
                            let gap_ms = ((due - now) / 1_000_000) as i32;
                            timeout_ms = (gap_ms - 1).clamp(0, MAX_WAIT_MS);
                        }
                        break;
                    }
                    let Some(slot) = self.idle.pop_front() else {
                        break;
                    };
                    self.send(slot, due, now);
                    scheduled += 1;
                }
            }
            // SAFETY: `events` is a valid buffer of EVENTS entries.
            let ready = unsafe {
                libc::epoll_wait(self.epoll, events.as_mut_ptr(), EVENTS as i32, timeout_ms)
            };
            if ready < 0 {
                let err = std::io::Error::last_os_error();
                if err.kind() == ErrorKind::Interrupted {
                    continue;
                }
                anyhow::bail!("epoll_wait: {err}");
            }
            for event in &events[..ready as usize] {
                let slot = event.u64 as usize;
                if event.events & libc::EPOLLOUT as u32 != 0 {
                    self.write_more(slot);
                }
                if event.events & (libc::EPOLLIN | libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 {
                    self.read(slot, interval_ns.is_none());
                }
            }
        }
        if let Some(w) = window.as_mut() {
            let now = self.now_ns();
            on_interval(&self.close_window(w, now, warmup_ns, interval_ns, scheduled));
        }
        let elapsed = measured_from.0.elapsed();
        let server_cpu = match self.config.server_pid {
            Some(pid) => Some(cpu_time(pid)?.since(&measured_from.1)),
            None => None,
        };
        let own_cpu = own_cpu_time().since(&measured_from.2);
        let unsent = interval_ns.map_or(0, |interval| {
            let due_by_end = (end_ns as f64 / interval) as u64;
            due_by_end.saturating_sub(scheduled)
        });
        Ok(Report::new(
            self.config,
            elapsed,
            std::mem::replace(&mut self.tally.corrected, Histogram::new(1).expect("valid")),
            std::mem::replace(
                &mut self.tally.uncorrected,
                Histogram::new(1).expect("valid"),
            ),
            std::mem::take(&mut self.tally.statuses),
            self.tally.errors,
            server_cpu,
            own_cpu,
            unsent,
        ))
    }

    /// Ends the interval `w` measures at `now`, starts the next, and returns what
    /// the ended one saw. `scheduled` is how many requests went out so far.
    fn close_window(
        &self,
        w: &mut Window,
        now: u64,
        warmup_ns: u64,
        interval_ns: Option<f64>,
        scheduled: u64,
    ) -> Interval {
        let mut corrected = self.tally.corrected.clone();
        // The cumulative histogram only gains counts, so this cannot underflow.
        let _ = corrected.subtract(&w.corrected);
        // Read now, with every connection still open (a script reading the line
        // later could see the run's end instead); not at all once the process is gone.
        let server = self.config.server_pid.and_then(|pid| {
            let size = process_size(pid).ok()?;
            let cpu = cpu_time(pid).ok()?;
            let sample = ServerSample {
                size,
                cpu: cpu.since(&w.server_cpu),
            };
            w.server_cpu = cpu;
            Some(sample)
        });
        let interval = Interval {
            index: w.index,
            end: std::time::Duration::from_nanos(now.saturating_sub(warmup_ns)),
            length: std::time::Duration::from_nanos(now.saturating_sub(w.from_ns)),
            corrected,
            statuses: self.tally.statuses.since(&w.statuses),
            errors: self.tally.errors.since(&w.errors),
            backlog: interval_ns.map_or(0, |every| {
                ((now as f64 / every) as u64).saturating_sub(scheduled)
            }),
            server,
        };
        w.index += 1;
        w.from_ns = now;
        w.until_ns += w.every_ns;
        w.corrected = self.tally.corrected.clone();
        w.statuses = self.tally.statuses.clone();
        w.errors = self.tally.errors;
        interval
    }

    fn connect(&mut self, slot: usize) -> anyhow::Result<()> {
        let stream = match TcpStream::connect(self.config.target.addr) {
            Ok(stream) => stream,
            Err(e) => {
                self.tally.errors.connect += 1;
                anyhow::bail!("connect to {}: {e}", self.config.target.addr);
            }
        };
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: slot as u64,
        };
        // SAFETY: the socket is open and `event` is valid for the call.
        let added = unsafe {
            libc::epoll_ctl(
                self.epoll,
                libc::EPOLL_CTL_ADD,
                stream.as_raw_fd(),
                &mut event,
            )
        };
        anyhow::ensure!(added == 0, "epoll_ctl: {}", std::io::Error::last_os_error());
        self.conns[slot] = Some(Conn {
            stream,
            buf: vec![0; 16 * 1024],
            filled: 0,
            writing: None,
            wants_out: false,
            flight: None,
        });
        self.idle.push_back(slot);
        Ok(())
    }

    /// Drops a broken connection and opens a new one in its place; a request in
    /// flight on it is lost (counted as an error by the caller).
    fn reconnect(&mut self, slot: usize, closed_loop: bool) {
        if let Some(conn) = self.conns[slot].take() {
            // SAFETY: removing a registered descriptor; errors are harmless here.
            unsafe {
                libc::epoll_ctl(
                    self.epoll,
                    libc::EPOLL_CTL_DEL,
                    conn.stream.as_raw_fd(),
                    std::ptr::null_mut(),
                );
            }
        }
        self.idle.retain(|s| *s != slot);
        if self.connect(slot).is_ok() && closed_loop {
            self.idle.retain(|s| *s != slot);
            let now = self.now_ns();
            self.send(slot, now, now);
        }
    }

    fn send(&mut self, slot: usize, due_ns: u64, now_ns: u64) {
        let body = self.next_body;
        self.next_body = (self.next_body + 1) % self.requests.len();
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        conn.flight = Some(Flight {
            due_ns,
            sent_ns: now_ns,
        });
        conn.writing = Some((body, 0));
        self.write_more(slot);
    }

    fn write_more(&mut self, slot: usize) {
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        let Some((body, mut written)) = conn.writing else {
            return;
        };
        let bytes = &self.requests[body];
        let mut failed = false;
        while written < bytes.len() {
            match conn.stream.write(&bytes[written..]) {
                Ok(0) => {
                    failed = true;
                    break;
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            self.tally.errors.write += 1;
            self.reconnect(slot, self.config.rate.is_none());
            return;
        }
        let done = written == bytes.len();
        conn.writing = (!done).then_some((body, written));
        if conn.wants_out != done {
            return;
        }
        conn.wants_out = !done;
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | if done { 0 } else { libc::EPOLLOUT }) as u32,
            u64: slot as u64,
        };
        // SAFETY: the socket is registered and `event` is valid for the call.
        unsafe {
            libc::epoll_ctl(
                self.epoll,
                libc::EPOLL_CTL_MOD,
                conn.stream.as_raw_fd(),
                &mut event,
            );
        }
    }

    fn read(&mut self, slot: usize, closed_loop: bool) {
        let mut broken = false;
        {
            let Some(conn) = self.conns[slot].as_mut() else {
                return;
            };
            // Level-triggered: one read per wake-up unless it filled the buffer.
            loop {
                if conn.filled == conn.buf.len() {
                    let grown = conn.buf.len() * 2;
                    conn.buf.resize(grown, 0);
                }
                match conn.stream.read(&mut conn.buf[conn.filled..]) {
                    Ok(0) => broken = true,
                    Ok(n) => {
                        conn.filled += n;
                        if conn.filled == conn.buf.len() {
                            continue;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => broken = true,
                }
                break;
            }
        }
        let mut consumed = 0;
        let mut close_after = false;
        loop {
            let Some(conn) = self.conns[slot].as_mut() else {
                return;
            };
            let (status, len, close) = match parse_response(&conn.buf[consumed..conn.filled]) {
                Ok(Some(parsed)) => parsed,
                Ok(None) => break,
                Err(()) => {
                    self.tally.errors.parse += 1;
                    broken = true;
                    break;
                }
            };
            consumed += len;
            let Some(flight) = conn.flight.take() else {
                // An answer nobody asked for.
                self.tally.errors.parse += 1;
                broken = true;
                break;
            };
            let done = self.now_ns();
            self.tally.statuses.add(status);
            self.tally
                .corrected
                .saturating_record(done.saturating_sub(flight.due_ns).max(1));
            self.tally
                .uncorrected
                .saturating_record(done.saturating_sub(flight.sent_ns).max(1));
            if close {
                close_after = true;
                break;
            }
            if closed_loop {
                self.send(slot, done, done);
            } else {
                self.idle.push_back(slot);
            }
        }
        if let Some(conn) = self.conns[slot].as_mut() {
            conn.buf.copy_within(consumed..conn.filled, 0);
            conn.filled -= consumed;
            if broken && conn.flight.is_some() {
                self.tally.errors.read += 1;
            }
        }
        if broken || close_after {
            self.reconnect(slot, closed_loop);
        }
    }
}

/// Parses one response at the front of `buf`: its status, length, and whether the
/// server closes the connection after it. `Ok(None)` while incomplete.
fn parse_response(buf: &[u8]) -> Result<Option<(u16, usize, bool)>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    let status = response.code.ok_or(())?;
    let mut body_len = None;
    let mut close = false;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(header.value).map_err(|_| ())?;
            body_len = Some(text.trim().parse::<usize>().map_err(|_| ())?);
        } else if header.name.eq_ignore_ascii_case("connection") {
            close = header.value.eq_ignore_ascii_case(b"close");
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(());
        }
    }
    let body_len = match (status, body_len) {
        (100..=199 | 204 | 304, _) => 0,
        (_, Some(len)) => len,
        (_, None) => return Err(()),
    };
    let total = head_len + body_len;
    Ok((buf.len() >= total).then_some((status, total, close)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_framed_by_length_or_status() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(parse_response(ok), Ok(Some((200, ok.len(), false))));
        assert_eq!(parse_response(&ok[..ok.len() - 1]), Ok(None));
        let none = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        assert_eq!(parse_response(none), Ok(Some((204, none.len(), true))));
        assert_eq!(parse_response(b"HTTP/1.1 200 OK\r\n\r\n"), Err(()));
    }
}
