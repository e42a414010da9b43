//! The byte-level half of the reader: whitespace, string literals, numbers and
//! literals (RFC 8259), each checked whole, and skipping a value without
//! building anything.
//!
//! A string's end is found eight bytes at a time (a SWAR scan for a quote, a
//! backslash or a control character), then 32 at a time with SIMD; arrays and
//! objects are skipped by `blocks`.

use sonic_simd::{Mask, Simd, u8x32};

use super::{Error, blocks};

/// `0x01` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte of a word.
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Bit 7 is set in each byte of the result whose byte in `word` is a quote, a
/// backslash or a control character (below 0x20); exact for the lowest such byte
/// (borrows only reach bytes above a match), which is all the scan reads.
#[inline(always)]
fn specials(word: u64) -> u64 {
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

/// A number as JSON wrote it, in the type serde_json would hand a visitor:
/// non-negative integers as `u64`, negative ones as `i64`, anything with a
/// fraction or exponent, or out of those ranges, as `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Number {
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// A number with a fraction or exponent, `-0`, or an integer beyond 64 bits.
    F64(f64),
}

/// What the grammar scan of a number found.
enum Scanned {
    /// Digits only, within 64 bits.
    Integer { negative: bool, value: u64 },
    /// A fraction, an exponent, or more digits than 64 bits hold.
    Float,
}

/// A cursor over a document's text, which is valid UTF-8 (checked by the caller).
#[derive(Debug)]
pub(super) struct Cursor<'de> {
    pub(super) text: &'de str,
    pub(super) pos: usize,
}

impl<'de> Cursor<'de> {
    #[inline(always)]
    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    /// An error naming what went wrong and the byte offset it was found at.
    #[cold]
    pub(super) fn error(&self, what: &'static str) -> Error {
        Error::at(what, self.pos)
    }

    /// The next byte after whitespace, not consumed; `None` at the end.
    #[inline(always)]
    pub(super) fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        match bytes.get(self.pos) {
            Some(&b) if b > b' ' => Some(b),
            Some(_) => self.peek_after_whitespace(),
            None => None,
        }
    }

    #[inline(never)]
    fn peek_after_whitespace(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b' ' | b'\n' | b'\r' | b'\t' => self.pos += 1,
                _ => return Some(b),
            }
        }
        None
    }

    /// Consumes `expected` after whitespace, or says what was expected.
    #[inline(always)]
    pub(super) fn eat(&mut self, expected: u8, what: &'static str) -> Result<(), Error> {
        if self.peek() == Some(expected) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// Reads the string literal whose opening quote was just consumed. Returns
    /// the text between the quotes when it holds no escape; otherwise `None`,
    /// with the text unescaped into `scratch`.
    #[inline]
    pub(super) fn string(&mut self, scratch: &mut String) -> Result<Option<&'de str>, Error> {
        let start = self.pos;
        self.advance_to_special();
        match self.bytes().get(self.pos) {
            Some(b'"') => {
                let text = &self.text[start..self.pos];
                self.pos += 1;
                Ok(Some(text))
            }
            Some(b'\\') => {
                scratch.clear();
                scratch.push_str(&self.text[start..self.pos]);
                self.unescape_rest(scratch)?;
                Ok(None)
            }
            Some(_) => Err(self.error("control character in a string")),
            None => Err(self.error("unterminated string")),
        }
    }

    /// Checks the string literal whose opening quote was just consumed and moves
    /// past it, resolving nothing.
    #[inline]
    pub(super) fn skip_string(&mut self) -> Result<(), Error> {
        loop {
            self.advance_to_special();
            match self.bytes().get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.skip_escape()?;
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// Moves past one escape after its backslash. As serde_json does for a
    /// string it ignores, a `\u` escape needs four hex digits but may be half a
    /// surrogate pair.
    fn skip_escape(&mut self) -> Result<(), Error> {
        match self.bytes().get(self.pos) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.pos += 1;
                Ok(())
            }
            Some(b'u') => {
                self.pos += 1;
                self.hex4().map(drop)
            }
            Some(_) => Err(self.error("invalid escape in a string")),
            None => Err(self.error("unterminated string")),
        }
    }

    /// Moves to the next quote, backslash or control character, or to the end:
    /// eight bytes at a time for the first sixteen (most keys and values are
    /// shorter), then 32 at a time (user agents, consent strings).
    #[inline(always)]
    fn advance_to_special(&mut self) {
        let bytes = self.bytes();
        for _ in 0..2 {
            let Some(chunk) = bytes.get(self.pos..self.pos + 8) else {
                return self.advance_to_special_bytewise();
            };
            let found = specials(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
            if found != 0 {
                self.pos += (found.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
        self.advance_to_special_long();
    }

    #[inline(never)]
    fn advance_to_special_long(&mut self) {
        let bytes = self.bytes();
        while let Some(chunk) = bytes.get(self.pos..self.pos + 32) {
            // SAFETY: `chunk` is 32 readable bytes, exactly one `u8x32`; the load is unaligned.
            let v = unsafe { u8x32::loadu(chunk.as_ptr()) };
            let found = (v.eq(&u8x32::splat(b'"'))
                | v.eq(&u8x32::splat(b'\\'))
                | v.le(&u8x32::splat(0x1F)))
            .bitmask();
            if found != 0 {
                self.pos += found.trailing_zeros() as usize;
                return;
            }
            self.pos += 32;
        }
        self.advance_to_special_bytewise();
    }

    fn advance_to_special_bytewise(&mut self) {
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                return;
            }
            self.pos += 1;
        }
    }

    /// Unescapes the rest of a string into `out`, starting at a backslash.
    #[cold]
    fn unescape_rest(&mut self, out: &mut String) -> Result<(), Error> {
        loop {
            match self.bytes().get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(|c| out.push(c))?;
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
            let start = self.pos;
            self.advance_to_special();
            out.push_str(&self.text[start..self.pos]);
        }
    }

    /// Reads one escape after its backslash (RFC 8259 §7) and hands its
    /// character to `emit`. A `\u` escape of a UTF-16 surrogate must come in a
    /// pair, as serde_json requires of a string it reads.
    fn escape(&mut self, mut emit: impl FnMut(char)) -> Result<(), Error> {
        let Some(&b) = self.bytes().get(self.pos) else {
            return Err(self.error("unterminated string"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        if self.bytes().get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return Err(self.error("lone leading surrogate in a \\u escape"));
                        }
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.error("lone leading surrogate in a \\u escape"));
                        }
                        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(code).expect("a surrogate pair is a scalar value")
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.error("lone trailing surrogate in a \\u escape"));
                    }
                    _ => char::from_u32(unit).expect("not a surrogate"),
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.error("invalid escape in a string"));
            }
        };
        emit(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let digits = self
            .bytes()
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("unterminated \\u escape"))?;
        let mut unit = 0u32;
        for &d in digits {
            let v = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            unit = unit * 16 + v;
        }
        self.pos += 4;
        Ok(unit)
    }

    /// Reads a number starting at the cursor (a digit or `-`), checking the
    /// grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    #[inline]
    pub(super) fn number(&mut self) -> Result<Number, Error> {
        let start = self.pos;
        let scanned = self.scan_number()?;
        if let Scanned::Integer { negative, value } = scanned {
            if !negative {
                return Ok(Number::U64(value));
            }
            // serde_json's rule: `-0` is a float; below i64::MIN too.
            if value != 0 && value <= 1 << 63 {
                return Ok(Number::I64((value as i64).wrapping_neg()));
            }
        }
        // Rust's parser rounds correctly; the grammar was checked.
        let text = &self.text[start..self.pos];
        let parsed: f64 = text.parse().map_err(|_| self.error("invalid number"))?;
        if parsed.is_infinite() {
            return Err(self.error("number out of range"));
        }
        Ok(Number::F64(parsed))
    }

    /// Moves past a number, checking its grammar only (as serde_json does for a
    /// number it ignores: `1e999` is fine there).
    pub(super) fn skip_number(&mut self) -> Result<(), Error> {
        self.scan_number().map(drop)
    }

    fn scan_number(&mut self) -> Result<Scanned, Error> {
        let bytes = self.bytes();
        let negative = bytes[self.pos] == b'-';
        if negative {
            self.pos += 1;
        }
        let mut value: u64 = 0;
        let mut overflow = false;
        match bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(&d @ b'0'..=b'9') = bytes.get(self.pos) {
                    match value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(d - b'0')))
                    {
                        Some(v) => value = v,
                        None => overflow = true,
                    }
                    self.pos += 1;
                }
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut float = overflow;
        if bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            self.digits()?;
            float = true;
        }
        if let Some(b'e' | b'E') = bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = bytes.get(self.pos) {
                self.pos += 1;
            }
            self.digits()?;
            float = true;
        }
        if let Some(b'0'..=b'9') = bytes.get(self.pos) {
            // A leading zero followed by digits (`01`).
            return Err(self.error("invalid number"));
        }
        Ok(if float {
            Scanned::Float
        } else {
            Scanned::Integer { negative, value }
        })
    }

    /// One or more digits.
    fn digits(&mut self) -> Result<(), Error> {
        let bytes = self.bytes();
        let start = self.pos;
        while let Some(b'0'..=b'9') = bytes.get(self.pos) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("invalid number"));
        }
        Ok(())
    }

    /// Consumes `true`, `false` or `null` (whose first byte is at the cursor).
    #[inline]
    pub(super) fn literal(&mut self, word: &'static [u8]) -> Result<(), Error> {
        if self.bytes().get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("invalid literal"))
        }
    }

    /// Moves past one whole value without building anything: a scalar checked
    /// whole, an array or object as `blocks` checks it.
    pub(super) fn skip_value(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                self.skip_string()
            }
            Some(b'{' | b'[') => {
                self.pos = blocks::skip_container(self.bytes(), self.pos)?;
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => self.skip_number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of input")),
        }
    }
}
