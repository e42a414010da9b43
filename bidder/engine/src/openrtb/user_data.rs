//! The audience data an exchange passes about the user (OpenRTB 2.6 §3.2.21
//! Data, §3.2.22 Segment; the segment taxonomy in `data.ext.segtax`, IAB Tech Lab
//! "Segment Taxonomies"), read for segment targeting. Every field is read
//! tolerantly: an entry of the wrong shape is skipped, never a 400, and what is
//! left is what campaigns can target.

use serde::Deserialize;

use super::borrowed::{List, Str};
use super::lenient;

/// One data provider's segments for the user (`user.data[]`).
#[derive(Debug, Default, Deserialize)]
pub struct Data<'a> {
    /// The exchange's id of the data provider.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub id: Option<Str<'a>>,
    /// The data provider's name (often its domain).
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub name: Option<Str<'a>>,
    /// The user's segments from this provider; items that are not objects are
    /// skipped.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub segment: List<Segment<'a>, 4>,
    /// The extension, read for `segtax`.
    #[serde(default, deserialize_with = "lenient::recorded_object")]
    pub ext: Option<DataExt>,
}

/// One segment (`user.data[].segment[]`).
#[derive(Debug, Default, Deserialize)]
pub struct Segment<'a> {
    /// The segment's id in the provider's taxonomy; a number is read as its text.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub id: Option<Str<'a>>,
}

/// `data.ext`: which taxonomy the segment ids are in.
#[derive(Debug, Default, Deserialize)]
pub struct DataExt {
    /// The segment taxonomy (IAB Tech Lab list "Segment Taxonomies": 4 is the IAB
    /// Audience Taxonomy 1.1, 5–7 the Content Taxonomies, 500+ vendor-specific).
    #[serde(default, deserialize_with = "lenient::recorded_int")]
    pub segtax: Option<u32>,
}

/// Reads an entry as an object, or skips it.
macro_rules! objects_or_skip {
    ($($t:ident),*) => {$(
        impl<'de: 'a, 'a> lenient::Item<'de> for $t<'a> {
            fn read<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
                lenient::recorded_object(deserializer)
            }

            fn read_object<M: serde::de::MapAccess<'de>>(map: M) -> Result<Option<Self>, M::Error> {
                let map = serde::de::value::MapAccessDeserializer::new(map);
                $t::deserialize(map).map(Some)
            }
        }
    )*};
}
objects_or_skip!(Data, Segment);
