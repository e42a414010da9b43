//! The Native Ads request (IAB OpenRTB Native Ads 1.2, §4), carried in
//! `imp.native.request`.
//!
//! OpenRTB 2.x sends it as a JSON-encoded string; some older exchanges send the
//! object itself. Native 1.0 wrapped it in `{"native": {...}}`; both forms are read.
//! A string that is not a readable native request leaves the request `None` (that
//! impression gets no native bid, its other formats still can), where an object
//! form that is not one fails the whole bid request, like any other bad field.
//! Only what matching a creative needs is kept, owned (no borrowing from the
//! unescaped string), so the request outlives the parser's scratch.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::Error as _};

use super::borrowed::List;
use super::lenient::{self, object_items};
use crate::json_depth;

/// A native ad request (Native 1.2 §4.1).
#[derive(Debug, Default, Deserialize)]
pub struct NativeRequest {
    /// Context of the ad (list 7.1): 1 content, 2 social, 3 product.
    #[serde(default, deserialize_with = "lenient::int")]
    pub context: Option<u8>,
    /// Placement type (list 7.3): 1 in-feed, 2 atomic unit, 3 outside content,
    /// 4 recommendation widget.
    #[serde(default, deserialize_with = "lenient::int")]
    pub plcmttype: Option<u8>,
    /// The assets the ad may or must have.
    #[serde(default, deserialize_with = "lenient::list")]
    pub assets: List<AssetRequest, 6>,
    /// Event trackers the exchange supports (1.2); when absent, impressions are
    /// tracked with the older `imptrackers`.
    #[serde(default, deserialize_with = "lenient::list")]
    pub eventtrackers: List<EventTrackerRequest, 2>,
    /// 1 when the exchange supports a privacy notice link.
    #[serde(default, deserialize_with = "lenient::int")]
    pub privacy: Option<u8>,
    /// The 1.0 wrapper (`{"native": {...}}`), unwrapped after reading.
    #[serde(default, rename = "native")]
    wrapped: Option<Box<NativeRequest>>,
    /// Whether the request came in the 1.0 wrapper, so the response is wrapped too.
    #[serde(skip)]
    pub wrapped_1_0: bool,
}

/// One asset of a native request (§4.2): exactly one of the kinds is set.
#[derive(Debug, Default, Deserialize)]
pub struct AssetRequest {
    /// Asset id, echoed in the response's asset.
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub id: u32,
    /// 1 when the ad must have this asset.
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub required: u8,
    /// A title of at most `len` characters.
    #[serde(default)]
    pub title: Option<TitleRequest>,
    /// An image.
    #[serde(default)]
    pub img: Option<ImageRequest>,
    /// A video (VAST tag).
    #[serde(default)]
    pub video: Option<VideoAssetRequest>,
    /// A data field (sponsor, description, rating, ...).
    #[serde(default)]
    pub data: Option<DataRequest>,
}

/// A title asset (§4.3).
#[derive(Debug, Default, Deserialize)]
pub struct TitleRequest {
    /// Longest title accepted, in characters.
    #[serde(default, deserialize_with = "lenient::int")]
    pub len: Option<u32>,
}

/// An image asset (§4.4).
#[derive(Debug, Default, Deserialize)]
pub struct ImageRequest {
    /// Image type (list 7.4): 1 icon, 3 main image.
    #[serde(default, rename = "type", deserialize_with = "lenient::int")]
    pub kind: Option<u16>,
    /// Exact width, pixels.
    #[serde(default, deserialize_with = "lenient::int")]
    pub w: Option<u32>,
    /// Exact height, pixels.
    #[serde(default, deserialize_with = "lenient::int")]
    pub h: Option<u32>,
    /// Minimum width, pixels.
    #[serde(default, deserialize_with = "lenient::int")]
    pub wmin: Option<u32>,
    /// Minimum height, pixels.
    #[serde(default, deserialize_with = "lenient::int")]
    pub hmin: Option<u32>,
}

/// A video asset (§4.5).
#[derive(Debug, Default, Deserialize)]
pub struct VideoAssetRequest {
    /// Accepted MIME types.
    #[serde(default)]
    pub mimes: Vec<String>,
    /// Minimum seconds.
    #[serde(default, deserialize_with = "lenient::int")]
    pub minduration: Option<u32>,
    /// Maximum seconds.
    #[serde(default, deserialize_with = "lenient::int")]
    pub maxduration: Option<u32>,
    /// Accepted protocols.
    #[serde(default, deserialize_with = "lenient::list")]
    pub protocols: List<u8, 4>,
}

/// A data asset (§4.6).
#[derive(Debug, Default, Deserialize)]
pub struct DataRequest {
    /// Data type (list 7.3 of 1.2, "Data Asset Types"): 1 sponsored, 2 desc,
    /// 3 rating, 12 ctatext, ...
    #[serde(default, rename = "type", deserialize_with = "lenient::int_or_zero")]
    pub kind: u16,
    /// Longest value accepted, in characters.
    #[serde(default, deserialize_with = "lenient::int")]
    pub len: Option<u32>,
}

/// An event tracker the exchange supports (§4.7).
#[derive(Debug, Default, Deserialize)]
pub struct EventTrackerRequest {
    /// Event type: 1 impression, 2 viewable MRC 50%, ...
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub event: u16,
    /// Methods supported: 1 image pixel, 2 JavaScript.
    #[serde(default, deserialize_with = "lenient::list")]
    pub methods: List<u8, 2>,
}

impl NativeRequest {
    /// Whether an impression pixel (event 1, method 1) may be sent as an event
    /// tracker; otherwise it goes in `imptrackers`.
    pub fn takes_image_event_tracker(&self) -> bool {
        self.eventtrackers
            .iter()
            .any(|t| t.event == 1 && t.methods.contains(&1))
    }

    fn unwrapped(mut self) -> NativeRequest {
        match self.wrapped.take() {
            Some(inner) => NativeRequest {
                wrapped_1_0: true,
                ..*inner
            },
            None => self,
        }
    }
}

object_items!(AssetRequest, EventTrackerRequest);

/// Reads `imp.native.request` in any of its forms (see the module doc).
pub(super) fn read<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Box<NativeRequest>>, D::Error> {
    deserializer.deserialize_any(RequestVisitor)
}

struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = Option<Box<NativeRequest>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a native request (a JSON string or object)")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
        // The string is a document of its own: bound its nesting before parsing
        // it, like the request's (see `json_depth`).
        if json_depth::check(text.as_bytes(), json_depth::MAX_DEPTH).is_err() {
            return Ok(None);
        }
        Ok(sonic_rs::from_str::<NativeRequest>(text)
            .ok()
            .map(|r| Box::new(r.unwrapped())))
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        let map = serde::de::value::MapAccessDeserializer::new(map);
        let request = NativeRequest::deserialize(map).map_err(M::Error::custom)?;
        Ok(Some(Box::new(request.unwrapped())))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "read")]
        request: Option<Box<NativeRequest>>,
    }

    fn request(json: &str) -> Option<Box<NativeRequest>> {
        sonic_rs::from_str::<Holder>(json).unwrap().request
    }

    const ASSETS: &str = r#"{"ver":"1.2","eventtrackers":[{"event":1,"methods":[1,2]}],
        "assets":[{"id":1,"required":1,"title":{"len":90}},
        {"id":2,"required":1,"img":{"type":3,"wmin":600,"hmin":300}},
        {"id":3,"data":{"type":2,"len":140}},{"id":4,"video":{"mimes":["video/mp4"]}}]}"#;

    #[test]
    fn reads_the_string_form_the_object_form_and_the_1_0_wrapper() {
        let as_string = format!(r#"{{"request":{}}}"#, sonic_rs::to_string(ASSETS).unwrap());
        let wrapped = format!(r#"{{"request":{{"native":{ASSETS}}}}}"#);
        for json in [as_string, format!(r#"{{"request":{ASSETS}}}"#), wrapped] {
            let req = request(&json).unwrap();
            assert_eq!(req.assets.len(), 4, "{json}");
            assert_eq!(req.assets[0].title.as_ref().unwrap().len, Some(90));
            assert_eq!(req.assets[1].img.as_ref().unwrap().kind, Some(3));
            assert_eq!(req.assets[2].data.as_ref().unwrap().kind, 2);
            assert_eq!(req.assets[3].video.as_ref().unwrap().mimes, ["video/mp4"]);
            assert!(req.takes_image_event_tracker());
            assert_eq!(req.wrapped_1_0, json.contains("native"));
        }
    }

    #[test]
    fn an_unreadable_string_is_no_request_and_an_unreadable_object_an_error() {
        assert!(request(r#"{"request":"{\"assets\":"}"#).is_none());
        assert!(request(r#"{"request":"not json"}"#).is_none());
        let deep = format!(r#"{{"request":"{}"}}"#, "[".repeat(10_000));
        assert!(request(&deep).is_none());
        assert!(request(r#"{"request":null}"#).is_none());
        assert!(sonic_rs::from_str::<Holder>(r#"{"request":{"assets":7.5}}"#).is_err());
    }
}
