//! Skipping an array or object nobody reads, 64 bytes at a time.
//!
//! Most of a bid request's bytes sit in values the engine never reads (`user.ext`,
//! `device.sua`, `eids`, exchange `ext`): walking them token by token cost more
//! than reading everything else. Here a 64-byte chunk becomes bit masks (quotes,
//! backslashes, brackets, control characters, the classification simdjson made
//! known); escaped quotes are removed, the bytes inside strings masked out with a
//! prefix XOR, and the brackets left are counted until the one that closes the
//! value. About one instruction a byte.
//!
//! What a skipped container is checked for: every string closed, no raw control
//! character in a string (nor outside one, where only whitespace may be), only
//! the escapes JSON has (`\" \\ \/ \b \f \n \r \t \u`), no backslash outside a
//! string, and as many closing brackets as opening ones. Not checked: the grammar
//! between them (a missing comma, `[}`, a bad number, four hex digits after `\u`).
//! A body malformed only there is read, not refused: tolerant reading of what the
//! engine does not read (`docs/openrtb.md`); everything it reads is checked whole.

use sonic_simd::{Mask, Simd, u8x64};

use super::Error;
use crate::json_depth::{Escapes, prefix_xor};

/// One bit per byte of a chunk for each byte class the skip needs.
struct Classes {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
    /// Bytes below 0x20.
    control: u64,
}

impl Classes {
    #[inline(always)]
    fn of(v: &u8x64) -> Classes {
        let is = |byte: u8| v.eq(&u8x64::splat(byte));
        Classes {
            quote: is(b'"').bitmask(),
            backslash: is(b'\\').bitmask(),
            open: (is(b'[') | is(b'{')).bitmask(),
            close: (is(b']') | is(b'}')).bitmask(),
            control: v.le(&u8x64::splat(0x1F)).bitmask(),
        }
    }

    /// Tab, line feed and carriage return: the control bytes JSON allows
    /// (outside strings). Only looked for when a chunk has control bytes.
    #[inline(always)]
    fn whitespace_controls(v: &u8x64) -> u64 {
        let is = |byte: u8| v.eq(&u8x64::splat(byte));
        (is(b'\t') | is(b'\n') | is(b'\r')).bitmask()
    }

    /// The letters a backslash may escape: `" \ / b f n r t u`.
    #[inline(always)]
    fn escape_letters(v: &u8x64) -> u64 {
        let is = |byte: u8| v.eq(&u8x64::splat(byte));
        (is(b'"') | is(b'\\') | is(b'/') | is(b'b') | is(b'f')).bitmask()
            | (is(b'n') | is(b'r') | is(b't') | is(b'u')).bitmask()
    }
}

/// Finds the end of the array or object whose opening bracket is at
/// `text[start]`: returns the offset just past its closing bracket.
pub(super) fn skip_container(text: &[u8], start: usize) -> Result<usize, Error> {
    let mut escapes = Escapes::default();
    let mut in_string: u64 = 0;
    let mut depth: u64 = 0;
    let mut at = start;
    let mut padded: [u8; 64];
    while at < text.len() {
        // Bits of the chunk's bytes that are in `text`.
        let mut present = u64::MAX;
        let chunk: &[u8; 64] = match text.get(at..at + 64) {
            Some(chunk) => chunk.try_into().expect("64 bytes"),
            None => {
                // The last partial chunk, padded with spaces (which match nothing
                // but an escape: a trailing backslash is an unterminated string).
                let rest = &text[at..];
                padded = [b' '; 64];
                padded[..rest.len()].copy_from_slice(rest);
                present = (1 << rest.len()) - 1;
                &padded
            }
        };
        // SAFETY: `chunk` is 64 readable bytes, exactly one `u8x64`; the load is unaligned.
        let v = unsafe { u8x64::loadu(chunk.as_ptr()) };
        let classes = Classes::of(&v);
        let escaped = escapes.escaped(classes.backslash);
        let bad_escapes = if escaped == 0 {
            0
        } else {
            escaped & !Classes::escape_letters(&v)
        };
        let quotes = classes.quote & !escaped;
        // Set from an opening quote up to (not including) its closing quote.
        let inside = prefix_xor(quotes) ^ in_string;
        in_string = ((inside as i64) >> 63) as u64;
        let bad_controls = if classes.control == 0 {
            0
        } else {
            classes.control & !(Classes::whitespace_controls(&v) & !inside)
        };
        let bad = present & (bad_controls | bad_escapes | (classes.backslash & !inside));
        let open = classes.open & !inside;
        let close = classes.close & !inside;
        // The close that ends the value, if it is in this chunk. Brackets are
        // few in a chunk, so walking their bits costs less than counting them
        // (`count_ones` is a dozen instructions without POPCNT, x86-64's baseline).
        let end = closing_bit(open, close, &mut depth);
        let checked = match end {
            // Only the bytes up to the end belong to the value.
            Some(bit) => bad & (u64::MAX >> (63 - bit)),
            None => bad,
        };
        if checked != 0 {
            let offset = at + checked.trailing_zeros() as usize;
            return Err(Error::at(bad_byte(text[offset]), offset));
        }
        if let Some(bit) = end {
            return Ok(at + bit as usize + 1);
        }
        at += 64;
    }
    Err(Error::at("unexpected end of input", text.len()))
}

/// Walks the brackets of a chunk in order, keeping `depth`; returns the bit of
/// the bracket that brings it back to zero.
#[inline]
fn closing_bit(open: u64, close: u64, depth: &mut u64) -> Option<u32> {
    let mut brackets = open | close;
    while brackets != 0 {
        let bit = brackets.trailing_zeros();
        if open & (1 << bit) != 0 {
            *depth += 1;
        } else {
            *depth -= 1;
            if *depth == 0 {
                return Some(bit);
            }
        }
        brackets &= brackets - 1;
    }
    None
}

/// What is wrong with a byte the chunk masks flagged.
#[cold]
fn bad_byte(byte: u8) -> &'static str {
    match byte {
        b'\\' => "backslash outside a string",
        0..=0x1F => "control character (only whitespace may appear outside strings)",
        _ => "invalid escape in a string",
    }
}
