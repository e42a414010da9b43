//! Tern's JSON reader: a serde `Deserializer` over a request body that reads only
//! what the engine's types ask for.
//!
//! The bid request types (`openrtb`) name the few dozen fields the decision uses;
//! a bid request of a few KB is mostly fields they do not (consent strings, user
//! ids, client hints, exchange `ext`). A general JSON library decodes those into
//! its own values before throwing them away; this reader moves past each one in a
//! single grammar-checking walk (`scan::Cursor::skip_value`), hands `ext`-like
//! values over as their raw text (`RawJson`), and borrows every string that holds
//! no escape. It allocates nothing unless a string read holds escapes.
//!
//! Every value it reads is checked exactly as serde_json checks it (RFC 8259).
//! Two deliberate differences: an array or object it skips is checked only as far
//! as finding its end needs (`blocks`), so a body malformed only inside one is
//! read; and an array where a struct is expected is refused (serde_json fills the
//! struct's fields positionally from it, which no exchange means). `tests.rs`
//! checks it against serde_json on random and mutated documents;
//! `benches/tests/parse_equivalence.rs` on whole bid requests.

mod blocks;
mod scan;
#[cfg(test)]
mod tests;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json_depth;
use scan::{Cursor, Number};

/// The newtype name under which the reader hands a value over as its raw JSON
/// text (`visit_borrowed_str` with the text, quotes and brackets included),
/// instead of decoding it. `RawJson` and the native request ask for it; any
/// other deserializer sees an ordinary newtype struct.
pub const RAW_VALUE_TOKEN: &str = "$tern::RawValue";

/// Why a document could not be read: what was wrong and, when the reader found
/// it itself, the byte offset. Displayed as one short line for a 400 reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: Box<str>,
    offset: Option<usize>,
}

impl Error {
    #[cold]
    fn at(what: &'static str, offset: usize) -> Error {
        Error {
            message: what.into(),
            offset: Some(offset),
        }
    }

    /// What was wrong, without the offset.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "{} at byte {offset}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    #[cold]
    fn custom<T: std::fmt::Display>(msg: T) -> Error {
        Error {
            message: msg.to_string().into(),
            offset: None,
        }
    }
}

/// Reads a `T` from `text`, which must hold exactly one JSON value (whitespace
/// around it is allowed). Refuses documents nesting deeper than
/// [`json_depth::MAX_DEPTH`] before reading them.
pub fn from_str<'de, T: de::Deserialize<'de>>(text: &'de str) -> Result<T, Error> {
    let mut reader = Reader::new(text)?;
    let value = T::deserialize(&mut reader).map_err(|e| reader.locate(e))?;
    reader.end()?;
    Ok(value)
}

/// Reads a `T` from `text` into `place` (serde's `deserialize_in_place`), so a
/// large value is built where it stays. On an error `place` holds a partial
/// value, to be discarded.
pub fn from_str_into<'de, T: de::Deserialize<'de>>(
    text: &'de str,
    place: &mut T,
) -> Result<(), Error> {
    let mut reader = Reader::new(text)?;
    T::deserialize_in_place(&mut reader, place).map_err(|e| reader.locate(e))?;
    reader.end()
}

/// The deserializer: a cursor and the buffer escaped strings are resolved into.
#[derive(Debug)]
pub struct Reader<'de> {
    cursor: Cursor<'de>,
    /// Unescaped text of the last string that held escapes (allocated on first use).
    scratch: String,
}

impl<'de> Reader<'de> {
    /// A reader at the start of `text`, once its nesting is known to be bounded.
    pub fn new(text: &'de str) -> Result<Reader<'de>, Error> {
        json_depth::check(text.as_bytes(), json_depth::MAX_DEPTH)
            .map_err(<Error as de::Error>::custom)?;
        Ok(Reader {
            cursor: Cursor { text, pos: 0 },
            scratch: String::new(),
        })
    }

    /// Checks that nothing but whitespace follows the value read.
    pub fn end(&mut self) -> Result<(), Error> {
        match self.cursor.peek() {
            None => Ok(()),
            Some(_) => Err(self.cursor.error("trailing characters after the value")),
        }
    }

    /// Gives an error raised by a visitor (which knows no offset) the offset
    /// the reader had reached.
    fn locate(&self, mut error: Error) -> Error {
        error.offset.get_or_insert(self.cursor.pos);
        error
    }

    /// Reads a string value (its opening quote at the cursor) into a visitor.
    #[inline]
    fn visit_string<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.cursor.pos += 1;
        match self.cursor.string(&mut self.scratch)? {
            Some(text) => visitor.visit_borrowed_str(text),
            None => visitor.visit_str(&self.scratch),
        }
    }

    #[inline]
    fn visit_number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        match self.cursor.number()? {
            Number::U64(v) => visitor.visit_u64(v),
            Number::I64(v) => visitor.visit_i64(v),
            Number::F64(v) => visitor.visit_f64(v),
        }
    }

    #[inline]
    fn visit_object<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.cursor.pos += 1;
        let value = visitor.visit_map(Members {
            reader: self,
            first: true,
        })?;
        self.cursor.eat(b'}', "expected `,` or `}`")?;
        Ok(value)
    }

    #[inline]
    fn visit_array<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.cursor.pos += 1;
        let value = visitor.visit_seq(Elements {
            reader: self,
            first: true,
        })?;
        self.cursor.eat(b']', "expected `,` or `]`")?;
        Ok(value)
    }

    fn unexpected_end(&self) -> Error {
        self.cursor.error("unexpected end of input")
    }
}

impl<'de> Deserializer<'de> for &mut Reader<'de> {
    type Error = Error;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.cursor.peek() {
            Some(b'"') => self.visit_string(visitor),
            Some(b'{') => self.visit_object(visitor),
            Some(b'[') => self.visit_array(visitor),
            Some(b'-' | b'0'..=b'9') => self.visit_number(visitor),
            Some(b't') => {
                self.cursor.literal(b"true")?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.cursor.literal(b"false")?;
                visitor.visit_bool(false)
            }
            Some(b'n') => {
                self.cursor.literal(b"null")?;
                visitor.visit_unit()
            }
            Some(_) => Err(self.cursor.error("expected a value")),
            None => Err(self.unexpected_end()),
        }
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.cursor.peek() == Some(b'n') {
            self.cursor.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    #[inline]
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.cursor.peek() {
            Some(b'"') => self.visit_string(visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.cursor.peek() {
            Some(b'{') => self.visit_object(visitor),
            // See the module doc: serde_json would read the array positionally.
            Some(b'[') => Err(de::Error::invalid_type(de::Unexpected::Seq, &visitor)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name != RAW_VALUE_TOKEN {
            return visitor.visit_newtype_struct(self);
        }
        let start = match self.cursor.peek() {
            Some(_) => self.cursor.pos,
            None => return Err(self.unexpected_end()),
        };
        self.cursor.skip_value()?;
        visitor.visit_borrowed_str(&self.cursor.text[start..self.cursor.pos])
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.cursor.skip_value()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        unit unit_struct seq tuple tuple_struct map enum
    }
}

/// The members of an object being read.
struct Members<'r, 'de> {
    reader: &'r mut Reader<'de>,
    first: bool,
}

impl<'de> MapAccess<'de> for Members<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let cursor = &mut self.reader.cursor;
        match cursor.peek() {
            Some(b'}') => return Ok(None),
            Some(b',') if !self.first => {
                cursor.pos += 1;
                if cursor.peek() != Some(b'"') {
                    return Err(cursor.error("expected a string key after `,`"));
                }
            }
            Some(b'"') if self.first => {}
            None => return Err(self.reader.unexpected_end()),
            Some(_) if self.first => return Err(cursor.error("expected a string key or `}`")),
            Some(_) => return Err(cursor.error("expected `,` or `}`")),
        }
        self.first = false;
        seed.deserialize(Key(&mut *self.reader)).map(Some)
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.reader.cursor.eat(b':', "expected `:`")?;
        seed.deserialize(&mut *self.reader)
    }
}

/// The elements of an array being read.
struct Elements<'r, 'de> {
    reader: &'r mut Reader<'de>,
    first: bool,
}

impl<'de> SeqAccess<'de> for Elements<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let cursor = &mut self.reader.cursor;
        match cursor.peek() {
            Some(b']') => return Ok(None),
            Some(b',') if !self.first => {
                cursor.pos += 1;
                if cursor.peek() == Some(b']') {
                    return Err(cursor.error("trailing comma in an array"));
                }
            }
            None => return Err(self.reader.unexpected_end()),
            Some(_) if self.first => {}
            Some(_) => return Err(cursor.error("expected `,` or `]`")),
        }
        self.first = false;
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

/// An object key (its opening quote at the cursor), read as a string whatever
/// the visitor asks for.
struct Key<'r, 'de>(&'r mut Reader<'de>);

impl<'de> Deserializer<'de> for Key<'_, 'de> {
    type Error = Error;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.visit_string(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        struct enum identifier ignored_any
    }
}
