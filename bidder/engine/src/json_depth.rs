//! How deeply a JSON document nests, checked before any recursive parser reads it.
//!
//! JSON parsers recurse once per nested array or object. sonic-rs bounds the values
//! it visits (255 levels) but not the values it skips (unknown fields) or keeps
//! lazy (`ext`), and a thread that runs out of stack is not a panic: the process
//! aborts, taking every connection on every core with it. So every document the
//! bidder reads from outside is measured here first and refused past
//! [`MAX_DEPTH`] levels, whatever field the nesting hides in.
//!
//! Nesting can be no deeper than the number of `[` and `{` bytes, so a document
//! with no more of them than the limit (every real bid request) is settled by
//! counting them, which vectorizes to a fraction of a byte per cycle. Otherwise the
//! exact scan runs: one pass over the bytes, 64 at a time, where quotes,
//! backslashes and brackets become bit masks (the classification simdjson made
//! known), escaped quotes are removed, the bytes inside strings are masked out with
//! a prefix XOR, and only the brackets left are counted; a chunk whose openers
//! cannot reach the limit is settled from two population counts.

use sonic_simd::{Mask, Simd, u8x64};

/// Deepest nesting of arrays and objects accepted in a document from outside
/// (the root object or array is level 1).
///
/// Measured: the deepest of the bundled sample requests nests 7 levels, the bench
/// corpus 7 (with at most 105 brackets in a request), and a prebid-style path like
/// `imp[].ext.prebid.bidder.<name>.keywords[].value[]` about 10; DynamoDB itself
/// refuses items nested past 32; serde_json stops at 128. A worker parsing a
/// request nested this deep uses about 70 KiB of stack in a release build (about
/// 48 KiB plus 180 bytes per level) and about 7 MiB in a debug build (54 KiB per
/// level); release workers overflowed their 2 MiB at about 10,700 levels before
/// this check existed. See `server::WORKER_STACK_BYTES`.
pub const MAX_DEPTH: usize = 128;

/// A document nests arrays and objects deeper than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("JSON nests deeper than {limit} levels")]
pub struct TooDeep {
    /// The limit that was passed.
    pub limit: usize,
}

/// Bits at odd positions, for telling odd runs of backslashes from even ones.
const ODD_BITS: u64 = 0xAAAA_AAAA_AAAA_AAAA;

/// Refuses `json` if its arrays and objects nest deeper than `limit` levels
/// outside strings. Malformed JSON is not reported here: the scan is exact up to
/// the first malformation, which is as far as any parser reads, and the parser
/// reports it.
pub fn check(json: &[u8], limit: usize) -> Result<(), TooDeep> {
    if openers(json) <= limit {
        return Ok(());
    }
    let mut scan = Scan {
        depth: 0,
        in_string: 0,
        escapes: Escapes::default(),
    };
    let mut chunks = json.chunks_exact(64);
    for chunk in &mut chunks {
        let chunk: &[u8; 64] = chunk.try_into().expect("chunks_exact gives 64 bytes");
        if !scan.chunk(chunk, limit)? {
            return Ok(());
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Zero bytes match nothing the scan looks for.
        let mut last = [0u8; 64];
        last[..rest.len()].copy_from_slice(rest);
        scan.chunk(&last, limit)?;
    }
    Ok(())
}

/// How many bytes are `[` or `{` (`0x5B` and `0x7B` differ in one bit), anywhere.
/// Counted 64 bytes at a time into a `u8`, which LLVM turns into vector compares
/// and adds: about 30 ns a KB.
fn openers(json: &[u8]) -> usize {
    let is_opener = |b: &u8| u8::from(*b | 0x20 == b'{');
    let mut chunks = json.chunks_exact(64);
    let mut total: usize = (&mut chunks)
        .map(|chunk| usize::from(chunk.iter().map(is_opener).fold(0u8, u8::wrapping_add)))
        .sum();
    total += chunks
        .remainder()
        .iter()
        .map(|b| usize::from(is_opener(b)))
        .sum::<usize>();
    total
}

/// The scan's state between chunks.
struct Scan {
    /// Open arrays and objects.
    depth: usize,
    /// All ones when the previous chunk ended inside a string, else zero.
    in_string: u64,
    /// Backslashes carried from one chunk to the next.
    escapes: Escapes,
}

impl Scan {
    /// Scans one chunk. Returns false when the document closed more than it opened
    /// (malformed: the parser stops there, so nothing after it matters).
    #[inline]
    fn chunk(&mut self, chunk: &[u8; 64], limit: usize) -> Result<bool, TooDeep> {
        let masks = Masks::of(chunk);
        let escaped = self.escapes.escaped(masks.backslash);
        let quotes = masks.quote & !escaped;
        let in_string = prefix_xor(quotes) ^ self.in_string;
        // Arithmetic shift: all ones when the last byte is inside a string.
        self.in_string = ((in_string as i64) >> 63) as u64;
        let open = masks.open & !in_string;
        let close = masks.close & !in_string;
        let (opens, closes) = (open.count_ones() as usize, close.count_ones() as usize);
        if self.depth + opens <= limit && closes <= self.depth {
            // No prefix of this chunk can go deeper than every opener at once, nor
            // close more than is open.
            self.depth = self.depth + opens - closes;
            return Ok(true);
        }
        let mut brackets = open | close;
        while brackets != 0 {
            let bit = brackets & brackets.wrapping_neg();
            if open & bit != 0 {
                self.depth += 1;
                if self.depth > limit {
                    return Err(TooDeep { limit });
                }
            } else if self.depth == 0 {
                return Ok(false);
            } else {
                self.depth -= 1;
            }
            brackets &= brackets - 1;
        }
        Ok(true)
    }
}

/// Which bytes of consecutive 64-byte chunks a backslash escapes (simdjson's
/// branchless escape scanner), carrying a run of backslashes across chunks; the
/// JSON reader's skip (`json_in`) uses it too.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Escapes {
    /// 1 when the previous chunk ended with an escaping backslash.
    carry: u64,
}

impl Escapes {
    /// The bytes of this chunk escaped by a backslash, given its backslashes
    /// (bit `i` for byte `i`): a run of backslashes escapes the byte after it
    /// when the run is odd.
    #[inline]
    pub(crate) fn escaped(&mut self, backslash: u64) -> u64 {
        if backslash == 0 {
            return std::mem::take(&mut self.carry);
        }
        let potential_escape = backslash & !self.carry;
        let maybe_escaped = potential_escape << 1;
        // Subtracting the run starts flips odd- against even-aligned runs; XOR with
        // the odd bits leaves the escaping backslashes and the escaped bytes set.
        let escape_and_escaped =
            ((maybe_escaped | ODD_BITS).wrapping_sub(potential_escape)) ^ ODD_BITS;
        let escaped = escape_and_escaped ^ (backslash | self.carry);
        let escape = escape_and_escaped & backslash;
        self.carry = escape >> 63;
        escaped
    }
}

/// One bit per byte of a chunk for each byte class the scan needs.
struct Masks {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

impl Masks {
    #[inline]
    fn of(chunk: &[u8; 64]) -> Masks {
        // SAFETY: `chunk` is 64 readable bytes, exactly one `u8x64`; the load is unaligned.
        let v = unsafe { u8x64::loadu(chunk.as_ptr()) };
        let is = |byte: u8| v.eq(&u8x64::splat(byte));
        Masks {
            quote: is(b'"').bitmask(),
            backslash: is(b'\\').bitmask(),
            open: (is(b'[') | is(b'{')).bitmask(),
            close: (is(b']') | is(b'}')).bitmask(),
        }
    }
}

/// Bit `i` of the result is the XOR of bits `0..=i` of `bits`: set from an opening
/// quote up to (not including) its closing quote.
#[inline]
pub(crate) fn prefix_xor(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The definition, one byte at a time: a backslash escapes the byte after it
    /// (inside strings or, in malformed JSON, outside), an unescaped quote starts
    /// or ends a string, and brackets count outside strings.
    fn reference(json: &[u8], limit: usize) -> Result<(), TooDeep> {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for &b in json {
            let was_escaped = escaped;
            escaped = b == b'\\' && !was_escaped;
            if b == b'"' && !was_escaped {
                in_string = !in_string;
            } else if !in_string {
                match b {
                    b'[' | b'{' => {
                        depth += 1;
                        if depth > limit {
                            return Err(TooDeep { limit });
                        }
                    }
                    b']' | b'}' => match depth.checked_sub(1) {
                        Some(d) => depth = d,
                        None => return Ok(()),
                    },
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn nested(open: &str, close: &str, levels: usize) -> Vec<u8> {
        format!("{}{}", open.repeat(levels), close.repeat(levels)).into_bytes()
    }

    #[test]
    fn counts_levels_of_arrays_objects_and_both() {
        for levels in [1, 63, 64] {
            assert_eq!(check(&nested("[", "]", levels), 64), Ok(()), "{levels}");
            assert_eq!(check(&nested("{\"a\":", "}", levels), 64), Ok(()));
            // Past the limit in brackets, but not in depth: the exact scan decides.
            let one = String::from_utf8(nested("[", "]", levels - 1)).unwrap();
            let wide = format!("[{}]", vec![one; 3].join(","));
            assert_eq!(check(wide.as_bytes(), 64), Ok(()), "{levels} wide");
        }
        for levels in [65, 1_000, 100_000] {
            assert_eq!(
                check(&nested("[", "]", levels), 64),
                Err(TooDeep { limit: 64 })
            );
            assert_eq!(
                check(&nested("{\"a\":[", "]}", levels / 2 + 1), 64),
                Err(TooDeep { limit: 64 })
            );
        }
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let quoted = format!(r#"{{"a":"{}","b":"{}"}}"#, "[".repeat(500), "}".repeat(500));
        assert_eq!(check(quoted.as_bytes(), 4), Ok(()));
        // An escaped quote does not end the string; an escaped backslash does not
        // escape the quote after it.
        let escaped_quote = format!(r#"{{"a":"\"{}"}}"#, "[".repeat(100));
        assert_eq!(check(escaped_quote.as_bytes(), 4), Ok(()));
        let escaped_backslash = format!(r#"{{"a":"\\",{}"#, "[".repeat(100));
        assert_eq!(
            check(escaped_backslash.as_bytes(), 4),
            Err(TooDeep { limit: 4 })
        );
    }

    #[test]
    fn brackets_are_counted_in_blocks_of_any_length() {
        for len in [0, 1, 254, 255, 256, 1_000] {
            let text: Vec<u8> = (0..len).map(|i| b"[{]}a\""[i % 6]).collect();
            let expected = text.iter().filter(|b| **b == b'[' || **b == b'{').count();
            assert_eq!(openers(&text), expected, "{len}");
        }
    }

    #[test]
    fn stops_at_the_first_unbalanced_closer() {
        // A parser stops at the stray `]`, so what follows it cannot hurt.
        let stray = format!("[]]{}", "[".repeat(100));
        assert_eq!(check(stray.as_bytes(), 4), Ok(()));
    }

    fn json_ish() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop::sample::select(b"[]{}\"\\a, ".to_vec());
        prop::collection::vec(byte, 0..400)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4_000))]

        /// The 64-byte-at-a-time scan agrees with the byte-at-a-time definition,
        /// across chunk boundaries and for every limit.
        #[test]
        fn agrees_with_the_byte_at_a_time_definition(json in json_ish(), limit in 0usize..12) {
            prop_assert_eq!(check(&json, limit), reference(&json, limit));
        }
    }
}
