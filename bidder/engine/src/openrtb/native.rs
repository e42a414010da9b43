//! The Native Ads request (IAB OpenRTB Native Ads 1.2, §4), carried in
//! `imp.native.request`.
//!
//! OpenRTB 2.x sends it as a JSON-encoded string; some older exchanges send the
//! object itself. Native 1.0 wrapped it in `{"native": {...}}`; every form is
//! read. A request that cannot be read (not JSON, too deep, the wrong shape)
//! leaves `request` `None`: that impression gets no native bid, and its other
//! formats still can. Only what matching a creative needs is kept, owned.
//!
//! Reading allocates nothing in steady state, like the rest of the request: the
//! string's raw text (escapes and all, as it lies in the body) is unescaped into
//! a buffer each thread reuses, parsed, and kept in a box each thread recycles.

use std::cell::RefCell;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, Visitor};

use super::borrowed::List;
use super::lenient::{self, object_items};
use super::raw_json::RAW_VALUE_TOKEN;
use crate::json_in;

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
    /// Whether the request came in the 1.0 wrapper, so the response is wrapped too.
    #[serde(skip)]
    pub wrapped_1_0: bool,
}

/// The Native 1.0 form: the request wrapped in `native`.
#[derive(Deserialize)]
struct Wrapped {
    native: NativeRequest,
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
    /// Accepted MIME types (owned: the only allocation a native request makes,
    /// and only when it offers a video asset).
    #[serde(default, deserialize_with = "lenient::list")]
    pub mimes: List<String, 2>,
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
}

object_items!(AssetRequest, EventTrackerRequest);

/// A parsed native request in a box that goes back to its thread's pool when
/// dropped, so a worker parsing native requests allocates no box per request.
pub struct PooledRequest(Option<Box<NativeRequest>>);

/// Longest native request read, as sent (escapes included). Real ones are a
/// few hundred bytes; without a bound, a small gzip body could hold hundreds of
/// thousands of assets, each parsed, kept and answered.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// Boxes kept per thread for reuse; a burst beyond it is freed.
const POOL_BOXES: usize = 64;

thread_local! {
    /// Boxes handed back by dropped requests, handed out again whole.
    #[expect(clippy::vec_box, reason = "the boxes themselves are what is reused")]
    static POOL: RefCell<Vec<Box<NativeRequest>>> = const { RefCell::new(Vec::new()) };
    /// The unescaped text of the request being read.
    static TEXT: RefCell<String> = const { RefCell::new(String::new()) };
}

impl PooledRequest {
    fn new(request: NativeRequest) -> PooledRequest {
        let boxed = match POOL.with(|pool| pool.borrow_mut().pop()) {
            Some(mut boxed) => {
                *boxed = request;
                boxed
            }
            None => Box::new(request),
        };
        PooledRequest(Some(boxed))
    }
}

impl std::ops::Deref for PooledRequest {
    type Target = NativeRequest;
    fn deref(&self) -> &NativeRequest {
        self.0.as_deref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for PooledRequest {
    fn deref_mut(&mut self) -> &mut NativeRequest {
        self.0.as_deref_mut().expect("present until dropped")
    }
}

impl fmt::Debug for PooledRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Drop for PooledRequest {
    fn drop(&mut self) {
        if let Some(boxed) = self.0.take() {
            // During thread teardown the pool may be gone: then just free it.
            let _ = POOL.try_with(|pool| {
                let mut pool = pool.borrow_mut();
                if pool.len() < POOL_BOXES {
                    pool.push(boxed);
                }
            });
        }
    }
}

/// Reads `imp.native.request` in any of its forms (see the module doc).
pub(super) fn read<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PooledRequest>, D::Error> {
    deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, RawVisitor)
}

/// Receives the value's raw JSON text: the engine's reader hands it over directly, any
/// other deserializer (`serde_json`, in the benchmark baseline) as a raw value.
struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Option<PooledRequest>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a native request (a JSON string or object)")
    }

    fn visit_str<E>(self, raw: &str) -> Result<Self::Value, E> {
        Ok(from_raw(raw).map(PooledRequest::new))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        let raw = <&'de serde_json::value::RawValue>::deserialize(deserializer)?;
        Ok(from_raw(raw.get()).map(PooledRequest::new))
    }
}

/// The request in `raw`, the JSON text of `imp.native.request`: a string
/// holding the document, the document itself, or `null`.
fn from_raw(raw: &str) -> Option<NativeRequest> {
    let raw = raw.trim();
    if raw.len() > MAX_REQUEST_BYTES {
        return None;
    }
    if raw.starts_with('"') {
        TEXT.with(|text| {
            let mut text = text.borrow_mut();
            unescape_into(raw, &mut text)?;
            parse(&text)
        })
    } else if raw.starts_with('{') {
        parse(raw)
    } else {
        None
    }
}

/// Parses a native request document, either form.
fn parse(text: &str) -> Option<NativeRequest> {
    // The string is a document of its own; the reader bounds its nesting
    // before reading it, like the request's.
    if first_key_is_native(text) {
        let wrapped: Wrapped = json_in::from_str(text).ok()?;
        return Some(NativeRequest {
            wrapped_1_0: true,
            ..wrapped.native
        });
    }
    json_in::from_str(text).ok()
}

/// Whether the object in `text` opens with the key `native` (the 1.0 wrapper).
fn first_key_is_native(text: &str) -> bool {
    let inside = text.trim_start().strip_prefix('{').unwrap_or_default();
    inside.trim_start().starts_with("\"native\"")
}

/// Writes the text of the JSON string literal `literal` (quotes included, as
/// it lies in the body) into `out`, resolving its escapes (RFC 8259 §7).
/// `None` when it is not a well-formed literal.
fn unescape_into(literal: &str, out: &mut String) -> Option<()> {
    let body = literal.strip_prefix('"')?.strip_suffix('"')?;
    out.clear();
    let mut rest = body;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let mut chars = rest[at + 1..].chars();
        let escaped = chars.next()?;
        let mut after = chars.as_str();
        out.push(match escaped {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let (unit, tail) = hex4(after)?;
                after = tail;
                match unit {
                    0xD800..=0xDBFF => {
                        let (low, tail) = hex4(after.strip_prefix("\\u")?)?;
                        after = tail;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(code)?
                    }
                    _ => char::from_u32(unit)?,
                }
            }
            _ => return None,
        });
        rest = after;
    }
    out.push_str(rest);
    Some(())
}

/// The four hex digits at the start of `text` as a number, and what follows.
fn hex4(text: &str) -> Option<(u32, &str)> {
    let digits = text.get(..4)?;
    let value = u32::from_str_radix(digits, 16).ok()?;
    digits
        .bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then_some((value, &text[4..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "read")]
        request: Option<PooledRequest>,
    }

    fn request(json: &str) -> Option<PooledRequest> {
        crate::json_in::from_str::<Holder>(json).unwrap().request
    }

    const ASSETS: &str = r#"{"ver":"1.2","eventtrackers":[{"event":1,"methods":[1,2]}],
        "assets":[{"id":1,"required":1,"title":{"len":90}},
        {"id":2,"required":1,"img":{"type":3,"wmin":600,"hmin":300}},
        {"id":3,"data":{"type":2,"len":140}},{"id":4,"video":{"mimes":["video/mp4"]}}]}"#;

    #[test]
    fn reads_the_string_form_the_object_form_and_the_1_0_wrapper() {
        let as_string = format!(
            r#"{{"request":{}}}"#,
            serde_json::to_string(ASSETS).unwrap()
        );
        let wrapped = format!(r#"{{"request":{{ "native" :{ASSETS}}}}}"#);
        let wrapped_string = format!(
            r#"{{"request":{}}}"#,
            serde_json::to_string(&format!(r#"{{"native":{ASSETS}}}"#)).unwrap()
        );
        let object = format!(r#"{{"request":{ASSETS}}}"#);
        for json in [as_string, object, wrapped, wrapped_string] {
            for parsed in [
                request(&json),
                serde_json::from_str::<Holder>(&json).unwrap().request,
            ] {
                let req = parsed.unwrap();
                assert_eq!(req.assets.len(), 4, "{json}");
                assert_eq!(req.assets[0].title.as_ref().unwrap().len, Some(90));
                assert_eq!(req.assets[1].img.as_ref().unwrap().kind, Some(3));
                assert_eq!(req.assets[2].data.as_ref().unwrap().kind, 2);
                assert_eq!(&*req.assets[3].video.as_ref().unwrap().mimes, ["video/mp4"]);
                assert!(req.takes_image_event_tracker());
                assert_eq!(req.wrapped_1_0, json.contains("native"), "{json}");
            }
        }
    }

    #[test]
    fn anything_unreadable_is_no_request() {
        for json in [
            r#"{"request":"{\"assets\":"}"#,
            r#"{"request":"not json"}"#,
            r#"{"request":null}"#,
            r#"{"request":7}"#,
            r#"{"request":{"assets":7.5}}"#,
            r#"{"request":"{\"assets\":[{\"id\":\"x\"}]}"}"#,
        ] {
            assert!(request(json).is_none(), "{json}");
        }
        let deep = format!(r#"{{"request":"{}"}}"#, "[".repeat(10_000));
        assert!(request(&deep).is_none());
        let assets = vec![r#"{"id":1,"title":{"len":9}}"#; 1_000].join(",");
        let huge = format!(r#"{{"request":{{"assets":[{assets}]}}}}"#);
        assert!(huge.len() > MAX_REQUEST_BYTES);
        assert!(request(&huge).is_none(), "too large to read");
    }

    #[test]
    fn null_and_single_values_are_read_inside_too() {
        let json = r#"{"request":{"assets":[{"id":1,"video":{"mimes":null}},
            {"id":2,"video":{"mimes":"video/mp4"}},{"id":3,"title":null}]}}"#;
        let req = request(json).unwrap();
        assert!(req.assets[0].video.as_ref().unwrap().mimes.is_empty());
        assert_eq!(&*req.assets[1].video.as_ref().unwrap().mimes, ["video/mp4"]);
        assert!(req.assets[2].title.is_none());
    }

    #[test]
    fn string_escapes_are_resolved() {
        let mut out = String::new();
        unescape_into(r#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#, &mut out).unwrap();
        assert_eq!(out, "a\"b\\c/d\né😀");
        for bad in [
            r#""\x""#,
            r#""\u12""#,
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\u+123""#,
            "\"open",
        ] {
            assert!(unescape_into(bad, &mut out).is_none(), "{bad}");
        }
    }

    #[test]
    fn boxes_go_back_to_the_pool() {
        let json = format!(r#"{{"request":{ASSETS}}}"#);
        drop(request(&json));
        let pooled = POOL.with(|pool| pool.borrow().len());
        assert!(pooled >= 1);
        let again = request(&json).unwrap();
        assert_eq!(POOL.with(|pool| pool.borrow().len()), pooled - 1);
        assert_eq!(again.assets.len(), 4, "a reused box holds the new request");
    }
}
