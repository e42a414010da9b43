//! JSON values kept unparsed (`ext`, `schain`): the text as it appeared in the
//! request, borrowed from the body.
//!
//! Works with both JSON readers the project runs the engine types through: the
//! engine's own (`json_in`, the bidder's) hands the raw text over when asked by
//! its [`RAW_VALUE_TOKEN`], and any other deserializer, such as `serde_json` in
//! the benchmark baseline, goes through `serde_json::value::RawValue`.

use std::borrow::Cow;

use serde::de::{Deserialize, Deserializer, Visitor};

pub(super) use crate::json_in::RAW_VALUE_TOKEN;

/// A JSON value's text, unparsed; borrowed from the body unless the parser had to
/// copy it. The engine's reader skips it as it skips any value it does not read
/// (`json_in::blocks`): strings closed and brackets balanced, but its inner grammar
/// unchecked, so parse it before reading or forwarding it.
#[derive(Clone, PartialEq, Eq)]
pub struct RawJson<'a>(Cow<'a, str>);

impl RawJson<'_> {
    /// The value's text as the request held it, e.g. `{"k":"v"}`.
    pub fn as_raw_str(&self) -> &str {
        &self.0
    }

    /// Whether the text points into the request body (no copy was made).
    pub fn is_borrowed(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }
}

impl std::fmt::Debug for RawJson<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawJson<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawJson<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, raw: &'de str) -> Result<RawJson<'de>, E> {
        Ok(RawJson(Cow::Borrowed(raw)))
    }

    fn visit_str<E>(self, raw: &str) -> Result<RawJson<'de>, E> {
        Ok(RawJson(Cow::Owned(raw.to_owned())))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<RawJson<'de>, D::Error> {
        // Not the engine's reader: take serde_json's raw value.
        let raw = <&'de serde_json::value::RawValue>::deserialize(deserializer)?;
        Ok(RawJson(Cow::Borrowed(raw.get())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Holder<'a> {
        #[serde(borrow)]
        ext: RawJson<'a>,
    }

    const BODY: &str = r#"{"ext": {"k":[1,"v"]} }"#;

    #[test]
    fn the_reader_borrows_the_raw_text() {
        let held: Holder<'_> = crate::json_in::from_str(BODY).unwrap();
        assert_eq!(held.ext.as_raw_str(), r#"{"k":[1,"v"]}"#);
        assert!(held.ext.is_borrowed());
    }

    #[test]
    fn serde_json_borrows_the_raw_text() {
        let held: Holder<'_> = serde_json::from_str(BODY).unwrap();
        assert_eq!(held.ext.as_raw_str(), r#"{"k":[1,"v"]}"#);
        assert!(held.ext.is_borrowed());
    }

    #[test]
    fn escapes_are_kept_verbatim() {
        let body = r#"{"ext":{"u":"a\/b"}}"#;
        let held: Holder<'_> = crate::json_in::from_str(body).unwrap();
        assert_eq!(held.ext.as_raw_str(), r#"{"u":"a\/b"}"#);
    }
}
