//! Data-centre and blocked IP ranges.
//!
//! Traffic from hosting providers' address space is not a person on a device (MRC
//! "Invalid Traffic Detection and Filtering Guidelines Addendum", 2020, general IVT:
//! "known data-center traffic"), and operators keep their own lists of ranges to
//! refuse outright. Both are loaded from operator files into one longest-prefix-match
//! table per address family ([`prefix_trie::PrefixMap`]), looked up per request
//! without allocating.
//!
//! File format, one range per line:
//!
//! ```text
//! # cloud provider X, 2025-01
//! 203.0.113.0/24
//! 2001:db8::/32     # trailing comments too
//! 198.51.100.7      # a bare address is a /32 (or /128 for IPv6)
//! ```
//!
//! Blank lines and surrounding whitespace are ignored. Host bits set below the prefix
//! length (`10.0.0.1/8`) are common in published lists and are accepted and masked
//! off (`10.0.0.0/8`). IPv4-mapped IPv6 ranges (`::ffff:203.0.113.0/120`) are stored
//! as the IPv4 range they denote, so they meet IPv4 lookups. Any other malformed line
//! refuses the whole file, naming the line.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use prefix_trie::PrefixMap;

/// Why an address is listed.
///
/// An address in any blocked range is `Blocked`, whatever data-centre ranges also
/// cover it (a data-centre list nested inside, or equal to, a blocked range never
/// undoes the block); otherwise `DataCenter` when a data-centre range covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RangeKind {
    /// Hosting or cloud provider address space: general invalid traffic.
    DataCenter,
    /// An operator's own block list.
    Blocked,
}

impl RangeKind {
    /// The kind kept when both are listed at the same prefix.
    fn merge(self, other: Self) -> Self {
        if self == Self::Blocked || other == Self::Blocked {
            Self::Blocked
        } else {
            Self::DataCenter
        }
    }
}

/// A range file was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} ranges line {line}: `{text}`: {reason}")]
pub struct IpRangesError {
    /// Which kind of file was being loaded.
    pub kind: RangeKind,
    /// 1-based line number.
    pub line: usize,
    /// The line's content without its comment, trimmed.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// One parsed range: network bits (host bits cleared) and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Net {
    V4(u32, u8),
    V6(u128, u8),
}

/// Data-centre and blocked ranges, IPv4 and IPv6, with longest-prefix-match lookup.
///
/// Built off the bid path with [`add_file`](Self::add_file), then shared read-only;
/// [`lookup`](Self::lookup) and [`lookup_text`](Self::lookup_text) never allocate.
#[derive(Clone, Default)]
pub struct IpRanges {
    v4: PrefixMap<(u32, u8), RangeKind>,
    v6: PrefixMap<(u128, u8), RangeKind>,
}

impl fmt::Debug for IpRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpRanges")
            .field("v4", &self.v4.len())
            .field("v6", &self.v6.len())
            .finish()
    }
}

impl IpRanges {
    /// An empty table: every lookup is `None`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every range of a file (format in the module docs) as `kind`.
    ///
    /// Returns how many range lines the file had (a range listed twice counts twice;
    /// [`len`](Self::len) counts distinct prefixes). All or nothing: on error the
    /// table is unchanged.
    ///
    /// # Errors
    ///
    /// [`IpRangesError`] for the first line that is not an address or CIDR, or whose
    /// prefix length exceeds 32 (IPv4) or 128 (IPv6).
    pub fn add_file(&mut self, text: &str, kind: RangeKind) -> Result<usize, IpRangesError> {
        let mut nets = Vec::new();
        // A byte order mark, as some editors write, is not part of the first line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, line) in text.lines().enumerate() {
            let content = line.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let net = parse_net(content).map_err(|reason| IpRangesError {
                kind,
                line: index + 1,
                text: content.to_owned(),
                reason,
            })?;
            nets.push(net);
        }
        for &net in &nets {
            match net {
                Net::V4(bits, len) => insert(&mut self.v4, (bits, len), kind),
                Net::V6(bits, len) => insert(&mut self.v6, (bits, len), kind),
            }
        }
        block_nested(&mut self.v4);
        block_nested(&mut self.v6);
        Ok(nets.len())
    }

    /// The kind of the longest listed prefix containing `ip`, if any.
    ///
    /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as dual-stack servers report
    /// IPv4 clients) is looked up as IPv4 first, then as IPv6 (where only a range
    /// shorter than /96 can contain it).
    pub fn lookup(&self, ip: IpAddr) -> Option<RangeKind> {
        match ip {
            IpAddr::V4(v4) => self.lookup_v4(v4),
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .and_then(|v4| self.lookup_v4(v4))
                .or_else(|| self.v6.get_lpm(&(u128::from(v6), 128)).map(|(_, k)| *k)),
        }
    }

    /// [`lookup`](Self::lookup) of an address in text form (`device.ip` /
    /// `device.ipv6` in OpenRTB), surrounding whitespace ignored. Text that is not an
    /// address is `None`. Parses without allocating.
    pub fn lookup_text(&self, text: &str) -> Option<RangeKind> {
        text.trim()
            .parse::<IpAddr>()
            .ok()
            .and_then(|ip| self.lookup(ip))
    }

    /// Distinct prefixes held (IPv4 and IPv6).
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// True when no range is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lookup_v4(&self, ip: Ipv4Addr) -> Option<RangeKind> {
        self.v4.get_lpm(&(u32::from(ip), 32)).map(|(_, k)| *k)
    }
}

fn insert<R>(map: &mut PrefixMap<(R, u8), RangeKind>, prefix: (R, u8), kind: RangeKind)
where
    (R, u8): prefix_trie::Prefix,
{
    let kind = map.get(&prefix).map_or(kind, |old| old.merge(kind));
    map.insert(prefix, kind);
}

/// Marks every data-centre prefix that lies inside a blocked one as blocked, so
/// the longest-prefix lookup answers `Blocked` for every blocked address.
fn block_nested<R>(map: &mut PrefixMap<(R, u8), RangeKind>)
where
    (R, u8): prefix_trie::Prefix,
{
    let nested: Vec<(R, u8)> = map
        .iter()
        .filter(|(_, kind)| **kind == RangeKind::DataCenter)
        .filter(|(prefix, _)| {
            map.cover(prefix)
                .any(|(_, kind)| *kind == RangeKind::Blocked)
        })
        .map(|(prefix, _)| prefix)
        .collect();
    for prefix in nested {
        map.insert(prefix, RangeKind::Blocked);
    }
}

/// Parses `addr` or `addr/len`, masking host bits.
fn parse_net(text: &str) -> Result<Net, &'static str> {
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| "not an IPv4 or IPv6 address")?;
    let len = match len {
        None => None,
        Some(len)
            if !len.is_empty() && len.len() <= 3 && len.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(
                len.parse::<u8>()
                    .map_err(|_| "prefix length is not a number from 0 to 128")?,
            )
        }
        Some(_) => return Err("prefix length is not a number from 0 to 128"),
    };
    match addr {
        IpAddr::V4(v4) => {
            let len = len.unwrap_or(32);
            if len > 32 {
                return Err("IPv4 prefix length above 32");
            }
            Ok(Net::V4(u32::from(v4) & mask_u32(len), len))
        }
        IpAddr::V6(v6) => {
            let len = len.unwrap_or(128);
            if len > 128 {
                return Err("IPv6 prefix length above 128");
            }
            match v6.to_ipv4_mapped() {
                Some(v4) if len >= 96 => Ok(Net::V4(u32::from(v4) & mask_u32(len - 96), len - 96)),
                _ => Ok(Net::V6(u128::from(v6) & mask_u128(len), len)),
            }
        }
    }
}

/// The network mask of a /`len` IPv4 prefix (`len` ≤ 32).
fn mask_u32(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

/// The network mask of a /`len` IPv6 prefix (`len` ≤ 128).
fn mask_u128(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// A range file of `n` distinct CIDRs for benches and scale tests: even lines IPv4
/// /24s counting up from `1.0.0.0/24`, odd lines IPv6 /64s counting up from
/// `2a00::/64`, after a comment header. Distinct for `n` up to 2 × 2²⁴.
#[doc(hidden)]
pub fn synthetic_ranges(n: usize) -> String {
    let mut text = format!("# {n} synthetic ranges\n");
    for i in 0..n {
        let a = i / 2;
        if i % 2 == 0 {
            let bits = 0x0100_0000_u32.wrapping_add(((a % (1 << 24)) as u32) << 8);
            text.push_str(&format!("{}/24\n", Ipv4Addr::from(bits)));
        } else {
            let bits = (0x2a00_u128 << 112) | ((a as u128) << 64);
            text.push_str(&format!("{}/64\n", Ipv6Addr::from(bits)));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(files: &[(&str, RangeKind)]) -> IpRanges {
        let mut r = IpRanges::new();
        for (text, kind) in files {
            r.add_file(text, *kind).expect("valid file");
        }
        r
    }

    /// IPv4 and IPv6 ranges and bare addresses are found, neighbours are not.
    #[test]
    fn v4_and_v6_lookups() {
        let r = ranges(&[(
            "203.0.113.0/24\n2001:db8::/32\n198.51.100.7\n2001:db8:ffff::1\n",
            RangeKind::DataCenter,
        )]);
        assert_eq!(r.len(), 4);
        assert_eq!(r.lookup_text("203.0.113.255"), Some(RangeKind::DataCenter));
        assert_eq!(r.lookup_text("203.0.114.0"), None);
        assert_eq!(
            r.lookup_text("2001:db8:1234::5"),
            Some(RangeKind::DataCenter)
        );
        assert_eq!(r.lookup_text("2001:db9::"), None);
        assert_eq!(r.lookup_text("198.51.100.7"), Some(RangeKind::DataCenter));
        assert_eq!(r.lookup_text("198.51.100.8"), None);
        assert_eq!(
            r.lookup("198.51.100.7".parse().expect("ip")),
            Some(RangeKind::DataCenter)
        );
    }

    /// Text that is not an address is `None`; whitespace around it is ignored.
    #[test]
    fn lookup_text_tolerates_junk() {
        let r = ranges(&[("0.0.0.0/0\n::/0\n", RangeKind::DataCenter)]);
        for junk in [
            "",
            "  ",
            "example.com",
            "1.2.3",
            "1.2.3.4/32",
            "[::1]",
            "fe80::1%eth0",
        ] {
            assert_eq!(r.lookup_text(junk), None, "{junk:?}");
        }
        assert_eq!(r.lookup_text(" 1.2.3.4\n"), Some(RangeKind::DataCenter));
    }

    /// An IPv4-mapped IPv6 address meets IPv4 ranges, and a mapped range in a file is
    /// stored as IPv4.
    #[test]
    fn mapped_addresses_are_ipv4() {
        let r = ranges(&[(
            "203.0.113.0/24\n::ffff:198.51.100.0/120\n",
            RangeKind::Blocked,
        )]);
        assert_eq!(
            r.lookup_text("::ffff:203.0.113.9"),
            Some(RangeKind::Blocked)
        );
        assert_eq!(
            r.lookup_text("::ffff:198.51.100.9"),
            Some(RangeKind::Blocked)
        );
        assert_eq!(r.lookup_text("198.51.100.9"), Some(RangeKind::Blocked));
        assert_eq!(r.lookup_text("::ffff:203.0.114.9"), None);
        let wide = ranges(&[("::/0\n", RangeKind::DataCenter)]);
        assert_eq!(
            wide.lookup_text("::ffff:203.0.113.9"),
            Some(RangeKind::DataCenter)
        );
    }

    /// The most specific range decides between data-centre ranges and around
    /// blocked ones, but nothing inside a blocked range escapes it, whatever
    /// the loading order.
    #[test]
    fn longest_prefix_wins_but_blocked_ranges_hold_everything_inside() {
        let files = [
            ("10.0.0.0/8\n2001:db8::/32\n", RangeKind::DataCenter),
            ("10.1.0.0/16\n2001:db8:1::/48\n", RangeKind::Blocked),
            ("10.1.2.0/24\n2001:db8:1:2::/64\n", RangeKind::DataCenter),
        ];
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let r = ranges(&order.map(|i| files[i]));
            assert_eq!(r.lookup_text("10.9.9.9"), Some(RangeKind::DataCenter));
            assert_eq!(r.lookup_text("10.1.9.9"), Some(RangeKind::Blocked));
            assert_eq!(
                r.lookup_text("10.1.2.3"),
                Some(RangeKind::Blocked),
                "{order:?}"
            );
            assert_eq!(r.lookup_text("2001:db8:1::1"), Some(RangeKind::Blocked));
            assert_eq!(r.lookup_text("2001:db8:1:2::1"), Some(RangeKind::Blocked));
            assert_eq!(r.lookup_text("2001:db8:2::1"), Some(RangeKind::DataCenter));
        }
    }

    /// At the same prefix Blocked wins, in either loading order.
    #[test]
    fn blocked_wins_at_equal_prefix() {
        for order in [
            [RangeKind::DataCenter, RangeKind::Blocked],
            [RangeKind::Blocked, RangeKind::DataCenter],
        ] {
            let r = ranges(&[("192.0.2.0/24\n", order[0]), ("192.0.2.0/24\n", order[1])]);
            assert_eq!(r.len(), 1);
            assert_eq!(
                r.lookup_text("192.0.2.1"),
                Some(RangeKind::Blocked),
                "{order:?}"
            );
        }
    }

    /// Comments (whole-line and trailing), blank lines, whitespace and a byte
    /// order mark are skipped.
    #[test]
    fn comments_and_whitespace() {
        let mut r = IpRanges::new();
        assert_eq!(
            r.add_file("\u{feff}10.0.0.0/8\n", RangeKind::Blocked),
            Ok(1)
        );
        let text = "# header\n\n   \n  192.0.2.0/24   # docs range\r\n\t2001:db8::/32\t\n#203.0.113.0/24\n";
        assert_eq!(r.add_file(text, RangeKind::DataCenter), Ok(2));
        assert_eq!(r.lookup_text("203.0.113.1"), None, "commented out");
        assert_eq!(r.lookup_text("192.0.2.200"), Some(RangeKind::DataCenter));
    }

    /// Host bits below the prefix are masked, not refused.
    #[test]
    fn host_bits_are_masked() {
        let r = ranges(&[("10.0.0.1/8\n2001:db8::1/32\n", RangeKind::DataCenter)]);
        assert_eq!(r.lookup_text("10.200.0.0"), Some(RangeKind::DataCenter));
        assert_eq!(
            r.lookup_text("2001:db8:ffff::"),
            Some(RangeKind::DataCenter)
        );
        let again = ranges(&[("10.0.0.1/8\n10.0.0.0/8\n", RangeKind::DataCenter)]);
        assert_eq!(again.len(), 1, "same network once masked");
    }

    /// A malformed line refuses the file with its number and text, and adds nothing.
    #[test]
    fn malformed_lines_refuse_the_file() {
        let cases = [
            ("192.0.2.0/24\n10.0.0.0/33\n", 2, "10.0.0.0/33"),
            ("# c\n2001:db8::/129\n", 2, "2001:db8::/129"),
            ("example.com\n", 1, "example.com"),
            ("10.0.0.0/\n", 1, "10.0.0.0/"),
            ("10.0.0.0/+8\n", 1, "10.0.0.0/+8"),
            ("10.0.0.0/8 10.1.0.0/16\n", 1, "10.0.0.0/8 10.1.0.0/16"),
            ("1.2.3.4.5\n", 1, "1.2.3.4.5"),
            ("10.0.0.0/0008\n", 1, "10.0.0.0/0008"),
        ];
        for (text, line, bad) in cases {
            let mut r = IpRanges::new();
            let err = r.add_file(text, RangeKind::Blocked).expect_err(text);
            assert_eq!(
                (err.line, err.text.as_str(), err.kind),
                (line, bad, RangeKind::Blocked),
                "{text}"
            );
            assert!(
                err.to_string().contains(&format!("line {line}: `{bad}`")),
                "{err}"
            );
            assert!(r.is_empty(), "nothing added from a refused file");
        }
    }

    /// /0 and full-length prefixes work at both ends of the mask arithmetic.
    #[test]
    fn extreme_prefix_lengths() {
        let r = ranges(&[
            ("0.0.0.0/0\n", RangeKind::DataCenter),
            ("255.255.255.255/32\n::/0\n", RangeKind::Blocked),
        ]);
        assert_eq!(r.lookup_text("1.2.3.4"), Some(RangeKind::DataCenter));
        assert_eq!(r.lookup_text("255.255.255.255"), Some(RangeKind::Blocked));
        assert_eq!(r.lookup_text("::1"), Some(RangeKind::Blocked));
        assert_eq!(IpRanges::new().lookup_text("1.2.3.4"), None);
    }

    /// 100,000 synthetic ranges load, are distinct, and every one is found.
    #[test]
    fn hundred_thousand_ranges() {
        let text = synthetic_ranges(100_000);
        let started = std::time::Instant::now();
        let mut r = IpRanges::new();
        assert_eq!(r.add_file(&text, RangeKind::DataCenter), Ok(100_000));
        println!("loaded 100k ranges in {:?}", started.elapsed());
        assert_eq!(r.len(), 100_000);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (net, _) = line.split_once('/').expect("cidr");
            assert_eq!(r.lookup_text(net), Some(RangeKind::DataCenter), "{line}");
        }
        assert_eq!(r.lookup_text("203.0.113.1"), None);
        assert_eq!(r.lookup_text("2a01::1"), None);
        assert_eq!(r.lookup_text("1.0.0.255"), Some(RangeKind::DataCenter));
    }
}
