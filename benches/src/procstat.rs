//! CPU time of a process, from `/proc/<pid>/stat`: user plus system time of all
//! its threads. The headline number of the HTTP benchmarks is this, divided by the
//! requests the process answered. Also its size (resident memory, open file
//! descriptors, threads), which a soak watches for growth.

use std::time::Duration;

/// User and system CPU time a process has used so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTime {
    /// Time in user mode.
    pub user: Duration,
    /// Time in the kernel on the process's behalf.
    pub system: Duration,
}

impl CpuTime {
    /// User plus system time.
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// Time used since `earlier`.
    pub fn since(&self, earlier: &CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// Clock ticks per second of the `/proc` counters.
fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|t| *t > 0).unwrap_or(100)
}

/// Reads the CPU time of process `pid` (all threads), at clock-tick resolution
/// (usually 10 ms: measure over seconds, not milliseconds).
pub fn cpu_time(pid: u32) -> std::io::Result<CpuTime> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text, ticks_per_second()).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unexpected /proc/{pid}/stat"),
        )
    })
}

/// Parses the `utime` and `stime` fields (14 and 15) of a `stat` line. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted from the
/// last `)`.
fn parse_stat(text: &str, ticks_per_second: u64) -> Option<CpuTime> {
    let after_name = &text[text.rfind(')')? + 1..];
    let mut fields = after_name.split_ascii_whitespace();
    // Field 3 (state) is the first after the name, so field n is at n - 3.
    let utime: u64 = fields.nth(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let tick = |t: u64| Duration::from_nanos(t * 1_000_000_000 / ticks_per_second);
    Some(CpuTime {
        user: tick(utime),
        system: tick(stime),
    })
}

/// What a process holds at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcessSize {
    /// Resident memory (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// Open file descriptors (entries of `/proc/<pid>/fd`).
    pub fds: u64,
    /// Threads.
    pub threads: u64,
}

/// Reads the size of process `pid` from `/proc/<pid>/status` and `/proc/<pid>/fd`
/// (another user's process needs the rights to list its descriptors).
pub fn process_size(pid: u32) -> std::io::Result<ProcessSize> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let (rss_kib, threads) = parse_status(&text).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unexpected /proc/{pid}/status"),
        )
    })?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64;
    Ok(ProcessSize {
        rss_kib,
        fds,
        threads,
    })
}

/// `VmRSS` (kB) and `Threads` of a `status` file.
fn parse_status(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))?
            .split_ascii_whitespace()
            .next()?
            .parse::<u64>()
            .ok()
    };
    Some((field("VmRSS")?, field("Threads")?))
}

/// CPU time this process has used (`getrusage`, microsecond resolution).
pub fn own_cpu_time() -> CpuTime {
    // SAFETY: `getrusage` fills the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |tv: libc::timeval| {
        Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
    };
    CpuTime {
        user: time(usage.ru_utime),
        system: time(usage.ru_stime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 3 0 100 0 0";
        let cpu = parse_stat(line, 100).unwrap();
        assert_eq!(cpu.user, Duration::from_millis(2500));
        assert_eq!(cpu.system, Duration::from_millis(750));
    }

    #[test]
    fn reads_this_process() {
        let cpu = cpu_time(std::process::id()).unwrap();
        assert!(cpu.total() <= own_cpu_time().total() + Duration::from_millis(20));
        let size = process_size(std::process::id()).unwrap();
        // stdin, stdout, stderr at least; the test harness runs on threads.
        assert!(
            size.rss_kib > 0 && size.fds >= 3 && size.threads >= 1,
            "{size:?}"
        );
    }

    #[test]
    fn status_fields_are_read_by_name() {
        let status = "Name:\tbidder\nVmHWM:\t   40000 kB\nVmRSS:\t   37680 kB\nRssAnon:\t 30000 kB\nThreads:\t5\n";
        assert_eq!(parse_status(status), Some((37_680, 5)));
        assert_eq!(parse_status("Name:\tx\nThreads:\t5\n"), None);
    }
}
