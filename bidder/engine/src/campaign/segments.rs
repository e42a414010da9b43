//! A campaign's audience rules: the user segments it must or must not reach
//! (`docs/segments.md`). A segment is first-party (our own, loaded into the user
//! store by `bidder segments load`) or an exchange's (`user.data[].segment[]`,
//! named by its data provider). No rules, the default, means any user.

use serde::{Deserialize, Serialize};

/// Longest segment id or provider name accepted.
pub const MAX_SEGMENT_ID_BYTES: usize = 64;

/// Most segments one campaign's rules may name in all.
pub const MAX_SEGMENT_RULES: usize = 256;

/// `segments = { include_any = [...], include_all = [...], exclude = [...] }` in a
/// campaign. Empty lists mean no rule; a campaign with rules bids only where the
/// user's segments may be used (`docs/segments.md`, "Privacy").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "SegmentsTable")]
pub struct Segments {
    /// The user must be in at least one of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include_any: Vec<SegmentRef>,
    /// The user must be in every one of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include_all: Vec<SegmentRef>,
    /// The user must be in none of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<SegmentRef>,
}

/// `segments` as written: a table only (serde would otherwise read a list by
/// position, `[["auto"], [], ["customers"]]` as three rules).
struct SegmentsTable(Segments);

impl<'de> Deserialize<'de> for SegmentsTable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The fields, read by name.
        #[derive(Default, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        struct Fields {
            include_any: Vec<SegmentRef>,
            include_all: Vec<SegmentRef>,
            exclude: Vec<SegmentRef>,
        }
        struct Table;
        impl<'de> serde::de::Visitor<'de> for Table {
            type Value = SegmentsTable;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table { include_any, include_all, exclude }")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                map: M,
            ) -> Result<SegmentsTable, M::Error> {
                let map = serde::de::value::MapAccessDeserializer::new(map);
                let Fields {
                    include_any,
                    include_all,
                    exclude,
                } = Fields::deserialize(map)?;
                Ok(SegmentsTable(Segments {
                    include_any,
                    include_all,
                    exclude,
                }))
            }
        }
        deserializer.deserialize_map(Table)
    }
}

impl From<SegmentsTable> for Segments {
    fn from(table: SegmentsTable) -> Segments {
        table.0
    }
}

/// One segment a rule names. Written as a table, or as a bare string for a
/// first-party segment: `"auto-intenders"` is `{ id = "auto-intenders" }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "SegmentRefForm")]
pub struct SegmentRef {
    /// The segment's id: ours, or the provider's (`segment.id`).
    pub id: String,
    /// The exchange's data provider, matched against `data.id` or `data.name`
    /// (ignoring ASCII case); absent for a first-party segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The segment taxonomy the id must be in (`data.ext.segtax`; 4 is the IAB
    /// Audience Taxonomy 1.1); absent: any. Only with `provider`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segtax: Option<u32>,
}

/// A [`SegmentRef`] written as a table; unknown keys are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentTable {
    id: String,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    segtax: Option<u32>,
}

/// The two ways a [`SegmentRef`] is written: a string or a table (a visitor
/// rather than an untagged enum, so a bad table's error names its key).
struct SegmentRefForm(SegmentRef);

impl<'de> Deserialize<'de> for SegmentRefForm {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Form;
        impl<'de> serde::de::Visitor<'de> for Form {
            type Value = SegmentRefForm;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a first-party segment id or a table { id, provider, segtax }")
            }
            fn visit_str<E: serde::de::Error>(self, id: &str) -> Result<SegmentRefForm, E> {
                Ok(SegmentRefForm(SegmentRef {
                    id: id.to_owned(),
                    provider: None,
                    segtax: None,
                }))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                map: M,
            ) -> Result<SegmentRefForm, M::Error> {
                let map = serde::de::value::MapAccessDeserializer::new(map);
                let SegmentTable {
                    id,
                    provider,
                    segtax,
                } = SegmentTable::deserialize(map)?;
                Ok(SegmentRefForm(SegmentRef {
                    id,
                    provider,
                    segtax,
                }))
            }
        }
        deserializer.deserialize_any(Form)
    }
}

impl From<SegmentRefForm> for SegmentRef {
    fn from(form: SegmentRefForm) -> SegmentRef {
        form.0
    }
}

impl SegmentRef {
    /// Whether the segment is ours (in the user store), not an exchange's.
    pub fn is_first_party(&self) -> bool {
        self.provider.is_none()
    }
}

impl Segments {
    /// Whether the campaign has no audience rules.
    pub fn is_empty(&self) -> bool {
        self.include_any.is_empty() && self.include_all.is_empty() && self.exclude.is_empty()
    }

    /// Every rule's segments, with the field each is in.
    pub(crate) fn named(&self) -> impl Iterator<Item = (&'static str, usize, &SegmentRef)> {
        let lists = [
            ("include_any", &self.include_any),
            ("include_all", &self.include_all),
            ("exclude", &self.exclude),
        ];
        lists
            .into_iter()
            .flat_map(|(name, refs)| refs.iter().enumerate().map(move |(i, r)| (name, i, r)))
    }

    /// The first field that breaks a rule, with why: ids and providers are
    /// non-empty printable text of at most [`MAX_SEGMENT_ID_BYTES`], `segtax`
    /// comes with a provider, a segment is named once, and at most
    /// [`MAX_SEGMENT_RULES`] in all.
    pub(crate) fn invalid_field(&self) -> Option<(String, &'static str)> {
        let mut seen = std::collections::HashSet::new();
        let mut count = 0;
        for (list, i, segment) in self.named() {
            let field = |name: &str| format!("segments.{list}[{i}]{name}");
            count += 1;
            if count > MAX_SEGMENT_RULES {
                return Some((
                    field(""),
                    "too many segments: at most 256 in all of a campaign's rules",
                ));
            }
            if !is_segment_text(&segment.id) {
                return Some((
                    field(".id"),
                    "must be 1 to 64 bytes of printable text without spaces",
                ));
            }
            match &segment.provider {
                Some(provider) if !is_segment_text(provider) => {
                    return Some((
                        field(".provider"),
                        "must be 1 to 64 bytes of printable text without spaces",
                    ));
                }
                None if segment.segtax.is_some() => {
                    return Some((
                        field(".segtax"),
                        "only an exchange segment (with `provider`) has a taxonomy",
                    ));
                }
                _ => {}
            }
            let key = (
                segment.id.as_str(),
                segment.provider.as_deref().map(str::to_ascii_lowercase),
                segment.segtax,
            );
            if !seen.insert(key) {
                return Some((field(""), "names a segment another rule already names"));
            }
        }
        None
    }
}

/// Whether `text` can be a segment id or provider name: 1 to
/// [`MAX_SEGMENT_ID_BYTES`] bytes, no control characters or whitespace (ids
/// travel in Redis keys' members and in event files).
pub fn is_segment_text(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_SEGMENT_ID_BYTES
        && !text.chars().any(|c| c.is_control() || c.is_whitespace())
}
