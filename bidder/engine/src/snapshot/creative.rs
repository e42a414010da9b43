//! A creative in the form the bid path reads, and whether it fits a slot: size,
//! duration, protocol, placement rules, native assets, attributes and language.

use crate::campaign::{Creative, NativeSpec, VideoStart, VideoTargeting};
use crate::native;
use crate::openrtb::request::{BidRequest, Imp, TimedSlot, Video};

/// What kind of slot a creative fills, with what it needs to fit.
#[derive(Debug, Clone)]
pub enum CreativeKind {
    /// Fixed-size display ad.
    Banner {
        /// Width in pixels.
        w: u32,
        /// Height in pixels.
        h: u32,
    },
    /// Video ad.
    Video {
        /// The timed media.
        media: TimedMedia,
        /// Width sent in the bid, when known.
        w: Option<u32>,
        /// Height sent in the bid, when known.
        h: Option<u32>,
        /// 1 linear, 2 non-linear.
        linearity: u8,
    },
    /// Audio ad.
    Audio(TimedMedia),
    /// Native ad, with the assets its markup is built from.
    Native(Box<NativeSpec>),
}

impl CreativeKind {
    /// The bid's `mtype` (OpenRTB 2.6 §4.2.3): 1 banner, 2 video, 3 audio, 4 native.
    pub fn mtype(&self) -> u8 {
        match self {
            CreativeKind::Banner { .. } => 1,
            CreativeKind::Video { .. } => 2,
            CreativeKind::Audio(_) => 3,
            CreativeKind::Native(_) => 4,
        }
    }

    /// The media of a video or audio ad.
    pub fn timed(&self) -> Option<&TimedMedia> {
        match self {
            CreativeKind::Video { media, .. } | CreativeKind::Audio(media) => Some(media),
            _ => None,
        }
    }
}

/// A video or audio file's properties.
#[derive(Debug, Clone)]
pub struct TimedMedia {
    /// MIME type, lower case.
    pub mime: String,
    /// Duration in seconds (`dur`).
    pub duration_secs: u32,
    /// Protocol (list Creative Subtypes).
    pub protocol: u8,
}

impl TimedMedia {
    fn fits(&self, slot: &TimedSlot<'_, '_>) -> bool {
        slot.mimes
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&self.mime))
            && slot.takes_duration(self.duration_secs)
            && slot.takes_protocol(self.protocol)
    }
}

/// Width and height a bid reports, where known.
pub type BidSize = (Option<u32>, Option<u32>);

/// A creative ready to bid.
#[derive(Debug, Clone)]
pub struct CompiledCreative {
    /// Creative id (`crid`).
    pub id: String,
    /// Slot kind and fit data.
    pub kind: CreativeKind,
    /// Inline markup.
    pub adm: Option<String>,
    /// Win notice URL.
    pub nurl: Option<String>,
    /// Serves over HTTPS.
    pub secure: bool,
    /// Creative attributes (`attr`).
    pub attr: Vec<u16>,
    /// ISO-639-1 language, lower case (`language`).
    pub language: Option<String>,
}

impl CompiledCreative {
    /// Whether the creative can fill `imp` of `req` under the campaign's video
    /// rules; returns the size to report in the bid.
    pub(crate) fn fits(
        &self,
        req: &BidRequest<'_>,
        imp: &Imp<'_>,
        video_rules: &VideoTargeting,
    ) -> Option<BidSize> {
        if imp.secure == Some(1) && !self.secure {
            return None;
        }
        if !req.wlang.is_empty()
            && !self
                .language
                .as_deref()
                .is_some_and(|l| req.wlang.iter().any(|w| w.eq_ignore_ascii_case(l)))
        {
            return None;
        }
        let blocked = |battr: &[u16]| self.attr.iter().any(|a| battr.contains(a));
        match &self.kind {
            CreativeKind::Banner { w, h } => {
                let banner = imp.banner.as_ref().filter(|b| !blocked(&b.battr))?;
                let exact = banner.w == Some(*w) && banner.h == Some(*h);
                let listed = banner.format.iter().any(|f| f.w == *w && f.h == *h);
                (exact || listed).then_some((Some(*w), Some(*h)))
            }
            CreativeKind::Video {
                media,
                w,
                h,
                linearity,
            } => {
                let video = imp.video.as_ref().filter(|v| !blocked(&v.battr))?;
                let fits = media.fits(&video.timed())
                    && video.linearity.is_none_or(|l| l == *linearity)
                    && video_rules_allow(video_rules, video);
                fits.then_some((*w, *h))
            }
            CreativeKind::Audio(media) => {
                let audio = imp.audio.as_ref().filter(|a| !blocked(&a.battr))?;
                media.fits(&audio.timed()).then_some((None, None))
            }
            CreativeKind::Native(spec) => {
                let native = imp.native.as_ref().filter(|n| !blocked(&n.battr))?;
                let request = native.request.as_deref()?;
                native::fits(spec, request).then_some((None, None))
            }
        }
    }
}

/// Whether a video slot meets a campaign's video rules; a rule that is set does
/// not match a slot that does not say.
fn video_rules_allow(rules: &VideoTargeting, video: &Video<'_>) -> bool {
    let plcmt_ok =
        rules.plcmt.is_empty() || video.plcmt().is_some_and(|p| rules.plcmt.contains(&p));
    let start_ok = rules.start.is_empty()
        || video
            .startdelay
            .and_then(VideoStart::of_startdelay)
            .is_some_and(|s| rules.start.contains(&s));
    let skip_ok = rules
        .skippable
        .is_none_or(|wanted| video.skip.is_some_and(|skip| (skip == 1) == wanted));
    plcmt_ok && start_ok && skip_ok
}

pub(super) fn compile_creative(c: &Creative) -> CompiledCreative {
    let timed = |mime: &str, duration_secs, protocol| TimedMedia {
        mime: mime.to_ascii_lowercase(),
        duration_secs,
        protocol,
    };
    // Validation set exactly one kind.
    let kind = if let Some(b) = &c.banner {
        CreativeKind::Banner { w: b.w, h: b.h }
    } else if let Some(v) = &c.video {
        CreativeKind::Video {
            media: timed(&v.mime, v.duration_secs, v.protocol),
            w: v.w,
            h: v.h,
            linearity: v.linearity,
        }
    } else if let Some(a) = &c.audio {
        CreativeKind::Audio(timed(&a.mime, a.duration_secs, a.protocol))
    } else {
        CreativeKind::Native(Box::new(c.native.clone().unwrap_or_default()))
    };
    CompiledCreative {
        id: c.id.clone(),
        kind,
        adm: c.adm.clone(),
        nurl: c.nurl.clone(),
        secure: c.secure,
        attr: c.attr.clone(),
        language: c.language.clone(),
    }
}
