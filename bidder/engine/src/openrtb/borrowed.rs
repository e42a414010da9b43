//! Text and lists borrowed from the request body: what the bid request's fields are
//! made of, so parsing a typical request allocates nothing.

use std::borrow::Cow;

use serde::Deserialize;
use smallvec::SmallVec;

/// A list from the request, held inline up to `N` items. The lists a bid request
/// carries are short, so parsing one allocates nothing in the common case; a
/// longer list spills to the heap. Read it as a slice.
pub type List<T, const N: usize> = SmallVec<[T; N]>;

/// A string field borrowed from the request body; owned only when the JSON text
/// held escapes. Unlike a bare `Cow<str>`, it borrows inside `Vec` and `Option` too.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Str<'a>(Cow<'a, str>);

impl<'a> Str<'a> {
    /// Text borrowed from the body (or static).
    pub const fn borrowed(text: &'a str) -> Str<'a> {
        Str(Cow::Borrowed(text))
    }

    /// Text the parser had to copy (it held escapes, or was not text on the wire).
    pub fn owned(text: String) -> Str<'a> {
        Str(Cow::Owned(text))
    }

    /// Whether the text points into the request body (no copy was made).
    pub fn is_borrowed(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Str<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Str<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Str<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl std::fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> serde::de::Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}
