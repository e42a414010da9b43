//! Native ads (IAB OpenRTB Native Ads 1.2): which of a creative's assets answer
//! the assets a request asks for, and the response markup built from them.
//!
//! A creative fits a native impression when every asset the request marks
//! `required` has an answer; optional assets are answered where the creative has
//! something that fits. The markup goes in the bid's `adm` as a JSON string: the
//! 1.2 response object, or wrapped in `{"native": ...}` for a request that came
//! in the 1.0 wrapper.

use crate::campaign::NativeSpec;
use crate::json_out::{write_str, write_str_list};
use crate::openrtb::request::{AssetRequest, NativeRequest};

/// The creative asset that answers one request asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Title,
    Image(usize),
    Data(usize),
    Video,
}

/// Whether `spec` has an answer for every asset `request` requires, and for at
/// least one asset: markup without assets is not a native ad (Native 1.2 §5.1
/// wants at least one), and an exchange drops it.
pub fn fits(spec: &NativeSpec, request: &NativeRequest) -> bool {
    let mut any = false;
    for asset in &request.assets {
        match answer(spec, asset) {
            Some(_) => any = true,
            None if asset.required == 1 => return false,
            None => {}
        }
    }
    any
}

/// The creative's answer to `asset`, if it has one that fits.
fn answer(spec: &NativeSpec, asset: &AssetRequest) -> Option<Answer> {
    if let Some(title) = &asset.title {
        let text = spec.title.as_deref()?;
        return within_len(text, title.len).then_some(Answer::Title);
    }
    if let Some(img) = &asset.img {
        return spec
            .images
            .iter()
            .position(|image| {
                // Type 2 (logo) was merged into 1 (icon) in Native 1.1.
                let kind = |k: u16| if k == 2 { 1 } else { k };
                let kind_ok = img.kind.is_none_or(|k| kind(k) == kind(image.kind));
                // A size given is exact; a minimum, a lower bound (0 is unset,
                // as prebid-server writes it).
                let exact = |want: Option<u32>, have: u32| want.is_none_or(|w| w == 0 || w == have);
                let least = |min: Option<u32>, have: u32| min.is_none_or(|m| have >= m);
                let size_ok = exact(img.w, image.w)
                    && exact(img.h, image.h)
                    && least(img.wmin, image.w)
                    && least(img.hmin, image.h);
                kind_ok && size_ok
            })
            .map(Answer::Image);
    }
    if let Some(data) = &asset.data {
        return spec
            .data
            .iter()
            .position(|d| d.kind == data.kind && within_len(&d.value, data.len))
            .map(Answer::Data);
    }
    if let Some(wanted) = &asset.video {
        let video = spec.video.as_ref()?;
        let mime_ok = wanted.mimes.is_empty()
            || wanted
                .mimes
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&video.mime));
        let duration_ok = wanted.minduration.is_none_or(|m| video.duration_secs >= m)
            && wanted.maxduration.is_none_or(|m| video.duration_secs <= m);
        let protocol_ok = wanted.protocols.is_empty() || wanted.protocols.contains(&video.protocol);
        return (mime_ok && duration_ok && protocol_ok).then_some(Answer::Video);
    }
    None
}

/// Whether `text` has at most `len` characters (any length when unset).
fn within_len(text: &str, len: Option<u32>) -> bool {
    len.is_none_or(|len| text.chars().count() <= len as usize)
}

/// Appends the native response markup (a JSON object, unescaped) for `spec`
/// answering `request` to `out`.
pub fn write_markup(out: &mut Vec<u8>, spec: &NativeSpec, request: &NativeRequest) {
    if request.wrapped_1_0 {
        out.extend_from_slice(b"{\"native\":");
    }
    out.extend_from_slice(b"{\"ver\":");
    out.extend_from_slice(if request.wrapped_1_0 {
        b"\"1.0\""
    } else {
        b"\"1.2\""
    });
    out.extend_from_slice(b",\"assets\":[");
    let mut first = true;
    for asset in &request.assets {
        let Some(answer) = answer(spec, asset) else {
            continue;
        };
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"id\":");
        out.extend_from_slice(itoa::Buffer::new().format(asset.id).as_bytes());
        if asset.required == 1 {
            out.extend_from_slice(b",\"required\":1");
        }
        write_answer(out, spec, answer);
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"link\":{\"url\":");
    write_str(out, &spec.link);
    if !spec.clicktrackers.is_empty() {
        out.extend_from_slice(b",\"clicktrackers\":");
        write_str_list(out, &spec.clicktrackers);
    }
    out.push(b'}');
    if !spec.imptrackers.is_empty() {
        if !request.wrapped_1_0 && request.takes_image_event_tracker() {
            out.extend_from_slice(b",\"eventtrackers\":[");
            for (n, url) in spec.imptrackers.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"event\":1,\"method\":1,\"url\":");
                write_str(out, url);
                out.push(b'}');
            }
            out.push(b']');
        } else {
            out.extend_from_slice(b",\"imptrackers\":");
            write_str_list(out, &spec.imptrackers);
        }
    }
    out.push(b'}');
    if request.wrapped_1_0 {
        out.push(b'}');
    }
}

fn write_answer(out: &mut Vec<u8>, spec: &NativeSpec, answer: Answer) {
    let mut num = itoa::Buffer::new();
    match answer {
        Answer::Title => {
            out.extend_from_slice(b",\"title\":{\"text\":");
            write_str(out, spec.title.as_deref().unwrap_or_default());
            out.push(b'}');
        }
        Answer::Image(i) => {
            let image = &spec.images[i];
            out.extend_from_slice(b",\"img\":{\"type\":");
            out.extend_from_slice(num.format(image.kind).as_bytes());
            out.extend_from_slice(b",\"url\":");
            write_str(out, &image.url);
            out.extend_from_slice(b",\"w\":");
            out.extend_from_slice(num.format(image.w).as_bytes());
            out.extend_from_slice(b",\"h\":");
            out.extend_from_slice(num.format(image.h).as_bytes());
            out.push(b'}');
        }
        Answer::Data(i) => {
            let data = &spec.data[i];
            out.extend_from_slice(b",\"data\":{\"type\":");
            out.extend_from_slice(num.format(data.kind).as_bytes());
            out.extend_from_slice(b",\"value\":");
            write_str(out, &data.value);
            out.push(b'}');
        }
        Answer::Video => {
            let vasttag = spec.video.as_ref().map_or("", |v| v.vasttag.as_str());
            out.extend_from_slice(b",\"video\":{\"vasttag\":");
            write_str(out, vasttag);
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{NativeData, NativeImage};

    fn spec() -> NativeSpec {
        NativeSpec {
            title: Some("Shoes that fit".into()),
            images: vec![
                NativeImage {
                    kind: 1,
                    url: "https://cdn.example/icon.png".into(),
                    w: 80,
                    h: 80,
                },
                NativeImage {
                    kind: 3,
                    url: "https://cdn.example/main.png".into(),
                    w: 1200,
                    h: 627,
                },
            ],
            data: vec![NativeData {
                kind: 2,
                value: "Comfortable \"everyday\" shoes".into(),
            }],
            video: None,
            link: "https://shoes.example/?c=1".into(),
            clicktrackers: vec![],
            imptrackers: vec!["https://track.example/i".into()],
        }
    }

    fn request(json: &str) -> NativeRequest {
        crate::json_in::from_str::<NativeRequest>(json).unwrap()
    }

    #[test]
    fn required_assets_must_be_answered_with_the_right_size_and_length() {
        let spec = spec();
        let ok = r#"{"assets":[{"id":1,"required":1,"title":{"len":25}},
            {"id":2,"required":1,"img":{"type":3,"wmin":600,"hmin":300}},
            {"id":3,"data":{"type":2,"len":140}}]}"#;
        assert!(fits(&spec, &request(ok)));
        for bad in [
            r#"{"assets":[{"id":1,"required":1,"title":{"len":10}}]}"#,
            r#"{"assets":[{"id":2,"required":1,"img":{"type":3,"w":300,"h":250}}]}"#,
            r#"{"assets":[{"id":2,"required":1,"img":{"type":3,"wmin":1300}}]}"#,
            r#"{"assets":[{"id":3,"required":1,"data":{"type":12}}]}"#,
            r#"{"assets":[{"id":3,"required":1,"data":{"type":2,"len":5}}]}"#,
            r#"{"assets":[{"id":4,"required":1,"video":{"mimes":["video/mp4"]}}]}"#,
        ] {
            assert!(!fits(&spec, &request(bad)), "{bad}");
        }
        let optional = r#"{"assets":[{"id":4,"video":{"mimes":["video/mp4"]}},
            {"id":1,"required":1,"img":{"type":2}}]}"#;
        assert!(fits(&spec, &request(optional)), "a logo is an icon");
        // Nothing to answer with: no markup without assets.
        for empty in [
            r#"{"assets":[]}"#,
            r#"{}"#,
            r#"{"assets":[{"id":4,"video":{"mimes":["video/mp4"]}}]}"#,
        ] {
            assert!(!fits(&spec, &request(empty)), "{empty}");
        }
        // A width alone is exact too.
        let width = r#"{"assets":[{"id":2,"required":1,"img":{"type":3,"w":999}}]}"#;
        assert!(!fits(&spec, &request(width)));
        let width = r#"{"assets":[{"id":2,"required":1,"img":{"type":3,"w":1200,"hmin":0}}]}"#;
        assert!(fits(&spec, &request(width)));
    }

    #[test]
    fn markup_answers_the_request_asset_ids_and_trackers() {
        let req = request(
            r#"{"eventtrackers":[{"event":1,"methods":[1]}],"assets":[
            {"id":7,"required":1,"title":{"len":90}},{"id":8,"img":{"type":3}},
            {"id":9,"data":{"type":12}}]}"#,
        );
        let mut out = Vec::new();
        write_markup(&mut out, &spec(), &req);
        let markup: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(markup["ver"], "1.2");
        let assets = markup["assets"].as_array().unwrap();
        assert_eq!(assets.len(), 2, "no data asset of type 12");
        assert_eq!(assets[0]["id"], 7);
        assert_eq!(assets[0]["title"]["text"], "Shoes that fit");
        assert_eq!(assets[1]["img"]["w"], 1200);
        assert_eq!(markup["link"]["url"], "https://shoes.example/?c=1");
        assert_eq!(markup["eventtrackers"][0]["url"], "https://track.example/i");
        assert!(markup.get("imptrackers").is_none());

        let mut old = request(r#"{"assets":[{"id":1,"data":{"type":2}}]}"#);
        old.wrapped_1_0 = true;
        let mut out = Vec::new();
        write_markup(&mut out, &spec(), &old);
        let markup: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(markup["native"]["ver"], "1.0");
        assert_eq!(
            markup["native"]["assets"][0]["data"]["value"],
            "Comfortable \"everyday\" shoes"
        );
        assert_eq!(
            markup["native"]["imptrackers"][0],
            "https://track.example/i"
        );
    }
}
