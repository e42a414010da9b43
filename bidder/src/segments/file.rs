//! The user→segments file (`docs/segments.md`): JSON Lines, one user a line,
//!
//! ```text
//! {"buyeruid":"u-123","segments":["auto-intenders",{"id":"sports","ttl_s":86400}]}
//! ```
//!
//! read by `bidder segments load` (into Redis) and by the in-process store at
//! start. A line names its user by exactly one of `buyeruid`, `user_id` (the
//! exchange's `user.id`) or `ifa`, keyed as a bid request carrying that id is
//! ([`UserKey::of`]); its `segments` are ids (living the default TTL) or
//! `{"id", "ttl_s"}` objects; an empty list removes the user's segments. Blank
//! lines and lines starting with `#` are skipped. A bad line is refused with a
//! one-line reason and never stops the reading of the others.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use tern_engine::campaign::{MAX_SEGMENT_ID_BYTES, is_segment_text};
use tern_engine::user::{UserIdKind, UserKey};

/// Most segments one line may list.
pub(crate) const MAX_SEGMENTS_PER_LINE: usize = 256;

/// Longest lifetime a segment may be given, seconds (ten years): keeps every end
/// an exact Redis score and a valid expiry.
pub(crate) const MAX_TTL_S: u64 = 10 * 365 * 24 * 3600;

/// Longest line read, bytes; a longer line is refused without being held in
/// memory (256 segments of 64 bytes take about 20 KiB).
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// Bytes read from a file at a time.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Longest piece of a bad value quoted in a reason, characters.
const QUOTED_CHARS: usize = 40;

pub(crate) use crate::freq_cap::UserSegments;

/// Parses one line; `Ok(None)` for a blank or `#` comment line; `Err(reason)`
/// names what is wrong in a short line. Segments without `ttl_s` live
/// `default_ttl_s` seconds.
pub(crate) fn parse_line(line: &str, default_ttl_s: u64) -> Result<Option<UserSegments>, String> {
    let line = line.trim_start_matches('\u{feff}').trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let parsed: Line<'_> = serde_json::from_str(line).map_err(json_reason)?;
    let named = [
        ("buyeruid", UserIdKind::Buyeruid, parsed.buyeruid),
        ("user_id", UserIdKind::User, parsed.user_id),
        ("ifa", UserIdKind::Ifa, parsed.ifa),
    ];
    let mut ids = named
        .into_iter()
        .filter_map(|(member, kind, id)| id.map(|id| (member, kind, id)));
    let Some((member, kind, id)) = ids.next() else {
        return Err("no identifier: give one of buyeruid, user_id, ifa".to_owned());
    };
    if let Some((other, _, _)) = ids.next() {
        return Err(format!(
            "two identifiers ({member} and {other}): give exactly one"
        ));
    }
    if id.0.is_empty() {
        return Err(format!("{member} is empty"));
    }
    if parsed.segments.len() > MAX_SEGMENTS_PER_LINE {
        return Err(format!(
            "{} segments: at most {MAX_SEGMENTS_PER_LINE} a line",
            parsed.segments.len()
        ));
    }
    let mut segments: Vec<(String, u64)> = Vec::with_capacity(parsed.segments.len());
    for entry in parsed.segments {
        let id = entry.id.0;
        if !is_segment_text(&id) {
            return Err(format!(
                "segment {} is not a segment id (1 to {MAX_SEGMENT_ID_BYTES} bytes, \
                 no spaces or control characters)",
                quoted(&id)
            ));
        }
        let ttl_s = entry.ttl_s.unwrap_or(default_ttl_s);
        if !(1..=MAX_TTL_S).contains(&ttl_s) {
            return Err(format!(
                "segment {}: ttl_s must be 1 to {MAX_TTL_S} (ten years)",
                quoted(&id)
            ));
        }
        match segments.iter_mut().find(|(seen, _)| *seen == id) {
            Some(earlier) => earlier.1 = ttl_s,
            None => segments.push((id.into_owned(), ttl_s)),
        }
    }
    Ok(Some(UserSegments {
        user: UserKey::of(kind, &id.0),
        segments,
    }))
}

/// Opens a segments file for [`lines`]: read through gzip when its name ends
/// in `.gz`.
pub(crate) fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let file = File::open(path)?;
    Ok(reader(&path.to_string_lossy(), file))
}

/// `input`, named `name` (a path or object key), buffered and read through
/// gzip when the name ends in `.gz` (several gzip members in a row are read as
/// one stream, as `cat a.gz b.gz` makes). Its read errors tell a failed input
/// from bytes that cannot be unzipped ([`ReadError`]).
pub(crate) fn reader(name: &str, input: impl Read + Send + 'static) -> Box<dyn BufRead + Send> {
    let input = Input(input);
    if name.ends_with(".gz") {
        let unzipped = Unzipped(flate2::read::MultiGzDecoder::new(input));
        Box::new(BufReader::with_capacity(READ_BUFFER_BYTES, unzipped))
    } else {
        Box::new(BufReader::with_capacity(READ_BUFFER_BYTES, input))
    }
}

/// Why a source could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// Reading failed (a disk, a download): the same source may read next time.
    #[error("cannot read further: {0}")]
    Input(io::Error),
    /// The bytes are not what the name says (not gzip, a gzip cut short or
    /// corrupt): they fail the same way every time.
    #[error("corrupt: {0}")]
    Content(io::Error),
}

impl ReadError {
    /// A read error of a [`reader`]: content when the unzipping refused the
    /// bytes, input otherwise (what cannot be told is tried again).
    fn of(error: io::Error) -> ReadError {
        match error
            .get_ref()
            .is_some_and(|inner| inner.is::<BadContent>())
        {
            true => ReadError::Content(error),
            false => ReadError::Input(error),
        }
    }

    /// Whether the bytes themselves are bad: another read of the same source
    /// fails the same way.
    pub(crate) fn is_content(&self) -> bool {
        matches!(self, ReadError::Content(_))
    }
}

/// An error of the input itself (under the gzip decoder, which passes it on).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct FailedInput(io::Error);

/// An error of the gzip decoder's own: the bytes are bad.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadContent(io::Error);

/// Marks the read errors of the input as [`FailedInput`].
struct Input<R>(R);

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::Interrupted => e,
            kind => io::Error::new(kind, FailedInput(e)),
        })
    }
}

/// Marks the read errors of a decoder that are not its input's as [`BadContent`].
struct Unzipped<R>(R);

impl<R: Read> Read for Unzipped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            let from_input = e.get_ref().is_some_and(|inner| inner.is::<FailedInput>());
            match e.kind() {
                io::ErrorKind::Interrupted => e,
                _ if from_input => e,
                kind => io::Error::new(kind, BadContent(e)),
            }
        })
    }
}

/// The users of a whole file, each with its line number (from 1, counting
/// every line); blank and comment lines are skipped.
pub(crate) fn lines<R: BufRead>(reader: R, default_ttl_s: u64) -> SegmentLines<R> {
    SegmentLines {
        reader,
        default_ttl_s,
        line: 0,
        buf: Vec::with_capacity(512),
        done: false,
    }
}

/// One item of [`SegmentLines`].
pub(crate) type LineItem = Result<(u64, Result<UserSegments, String>), ReadError>;

/// Iterator of [`lines`]: `Ok((line number, the line's user or why it is
/// refused))`, or one `Err` when the file cannot be read further (a truncated
/// gzip stream, a failed download), after which it ends.
#[derive(Debug)]
pub(crate) struct SegmentLines<R> {
    reader: R,
    default_ttl_s: u64,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R> SegmentLines<R> {
    /// Lines read so far: the number of the last one (a read error is on the next).
    pub(crate) fn line(&self) -> u64 {
        self.line
    }
}

impl<R: BufRead> Iterator for SegmentLines<R> {
    type Item = LineItem;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            let read = match read_line(&mut self.reader, &mut self.buf) {
                Ok(read) => read,
                Err(e) => {
                    self.done = true;
                    return Some(Err(ReadError::of(e)));
                }
            };
            self.line += 1;
            let parsed = match read {
                LineRead::End => {
                    self.done = true;
                    return None;
                }
                LineRead::TooLong => Err(format!("longer than {MAX_LINE_BYTES} bytes")),
                LineRead::Line => match std::str::from_utf8(&self.buf) {
                    Ok(text) => parse_line(text, self.default_ttl_s),
                    Err(e) => Err(format!("not UTF-8 (byte {})", e.valid_up_to() + 1)),
                },
            };
            match parsed {
                // A blank or comment line.
                Ok(None) => {}
                Ok(Some(user)) => return Some(Ok((self.line, Ok(user)))),
                Err(reason) => return Some(Ok((self.line, Err(reason)))),
            }
        }
        None
    }
}

/// What [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
enum LineRead {
    /// A line (without its `\n`) is in the buffer.
    Line,
    /// A line over [`MAX_LINE_BYTES`], skipped to its end.
    TooLong,
    /// The end of the input.
    End,
}

/// Reads one line into `buf`, holding at most [`MAX_LINE_BYTES`] of it.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<LineRead> {
    let mut any = false;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => LineRead::End,
                (true, true) => LineRead::TooLong,
                (true, false) => LineRead::Line,
            });
        }
        any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let piece = &available[..newline.unwrap_or(available.len())];
        if !too_long {
            if buf.len() + piece.len() > MAX_LINE_BYTES {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(piece);
            }
        }
        let used = newline.map_or(available.len(), |at| at + 1);
        reader.consume(used);
        if newline.is_some() {
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}

/// A serde_json error as a reason: its message without the position (a line is
/// one line), but with the column for malformed JSON.
fn json_reason(error: serde_json::Error) -> String {
    let text = error.to_string();
    let message = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("not JSON: {message} (column {})", error.column())
        }
        _ => message.to_owned(),
    }
}

/// `text` quoted for a reason, cut to [`QUOTED_CHARS`] characters.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{:?}... ({} bytes)", &text[..cut], text.len()),
        None => format!("{text:?}"),
    }
}

/// One line as written.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an object like {\"buyeruid\": \"...\", \"segments\": [...]}"
)]
struct Line<'a> {
    #[serde(default, borrow)]
    buyeruid: Option<Text<'a>>,
    #[serde(default, borrow)]
    user_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    ifa: Option<Text<'a>>,
    #[serde(borrow)]
    segments: Vec<Entry<'a>>,
}

/// A string, borrowed from the line unless it has escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(text)))
    }
}

/// One of `segments`: `"id"` or `{"id": "...", "ttl_s": n}`.
struct Entry<'a> {
    id: Text<'a>,
    ttl_s: Option<u64>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Entry<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a segment id or {\"id\": \"...\", \"ttl_s\": seconds}")
    }

    fn visit_borrowed_str<E: de::Error>(self, id: &'de str) -> Result<Self::Value, E> {
        Ok(Entry {
            id: Text(Cow::Borrowed(id)),
            ttl_s: None,
        })
    }

    fn visit_str<E: de::Error>(self, id: &str) -> Result<Self::Value, E> {
        self.visit_string(id.to_owned())
    }

    fn visit_string<E: de::Error>(self, id: String) -> Result<Self::Value, E> {
        Ok(Entry {
            id: Text(Cow::Owned(id)),
            ttl_s: None,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        const MEMBERS: &[&str] = &["id", "ttl_s"];
        let mut id = None;
        let mut ttl_s = None;
        while let Some(member) = map.next_key::<Text<'de>>()? {
            match member.0.as_ref() {
                "id" if id.is_none() => id = Some(map.next_value::<Text<'de>>()?),
                "ttl_s" if ttl_s.is_none() => ttl_s = Some(map.next_value::<u64>()?),
                "id" | "ttl_s" => return Err(de::Error::duplicate_field("id or ttl_s")),
                other => return Err(de::Error::unknown_field(other, MEMBERS)),
            }
        }
        Ok(Entry {
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            ttl_s,
        })
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
