//! Where and to whom the ad shows (OpenRTB 2.6 §3.2.2, §3.2.3, §3.2.13–§3.2.20):
//! site, app or DOOH screen, device, user, regulations and supply chain, with the
//! 2.5 extension locations exchanges still use read where 2.6 moved a field.
//! Fields that are only recorded (privacy signals, the extensions) are read
//! with `lenient::recorded_*`: a value of another shape is absent, never a 400.

use std::fmt;

use serde::de::{Error, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::borrowed::{List, Str};
use super::lenient;
use super::schain::SupplyChain;
use super::user_data::Data;

/// Publisher of a site, app or screen (§3.2.15).
#[derive(Debug, Deserialize)]
pub struct Publisher<'a> {
    /// Exchange-specific publisher id.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub id: Option<Str<'a>>,
}

/// Website (§3.2.13).
#[derive(Debug, Deserialize)]
pub struct Site<'a> {
    /// Exchange-specific site id.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub id: Option<Str<'a>>,
    /// Site domain.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub domain: Option<Str<'a>>,
    /// Taxonomy of `cat`, `sectioncat` and `pagecat` (list: Category
    /// Taxonomies); 1, IAB Content Category 1.0, when absent.
    #[serde(default, deserialize_with = "lenient::int")]
    pub cattax: Option<u16>,
    /// Content categories of the site.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub cat: List<Str<'a>, 4>,
    /// Content categories of the current section.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub sectioncat: List<Str<'a>, 4>,
    /// Content categories of the current page.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub pagecat: List<Str<'a>, 4>,
    /// The site's publisher.
    #[serde(borrow, default)]
    pub publisher: Option<Publisher<'a>>,
}

/// Application (§3.2.14).
#[derive(Debug, Deserialize)]
pub struct App<'a> {
    /// Exchange-specific app id.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub id: Option<Str<'a>>,
    /// Store id or bundle name, e.g. `com.example.game`.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub bundle: Option<Str<'a>>,
    /// App domain.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub domain: Option<Str<'a>>,
    /// Taxonomy of the categories; 1 when absent.
    #[serde(default, deserialize_with = "lenient::int")]
    pub cattax: Option<u16>,
    /// Content categories of the app.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub cat: List<Str<'a>, 4>,
    /// Content categories of the current section.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub sectioncat: List<Str<'a>, 4>,
    /// Content categories of the current page or view.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub pagecat: List<Str<'a>, 4>,
    /// The app's publisher.
    #[serde(borrow, default)]
    pub publisher: Option<Publisher<'a>>,
}

/// Digital out-of-home screen (§3.2.16, new in 2.6).
#[derive(Debug, Deserialize)]
pub struct Dooh<'a> {
    /// Exchange-specific id of the screen network.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub id: Option<Str<'a>>,
    /// Venue types, in the taxonomy of `venuetypetax` (OpenOOH by default).
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub venuetype: List<Str<'a>, 2>,
    /// The screen's publisher.
    #[serde(borrow, default)]
    pub publisher: Option<Publisher<'a>>,
    /// Domain of the screen's owner.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub domain: Option<Str<'a>>,
}

/// Location (§3.2.19).
#[derive(Debug, Deserialize)]
pub struct Geo<'a> {
    /// Country, ISO-3166-1 alpha-3; an alpha-2 code is read as its alpha-3 code.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub country: Option<Str<'a>>,
    /// Region, ISO-3166-2 subdivision code.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub region: Option<Str<'a>>,
}

/// Device (§3.2.18).
#[derive(Debug, Deserialize)]
pub struct Device<'a> {
    /// Browser user agent.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub ua: Option<Str<'a>>,
    /// IPv4 address.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub ip: Option<Str<'a>>,
    /// IPv6 address.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub ipv6: Option<Str<'a>>,
    /// Device location.
    #[serde(borrow, default)]
    pub geo: Option<Geo<'a>>,
    /// Device type (list: Device Types; 1 mobile/tablet, 2 PC, 3 CTV, 4 phone,
    /// 5 tablet, 6 connected device, 7 set-top box, 8 OOH device).
    #[serde(default, deserialize_with = "lenient::int")]
    pub devicetype: Option<u8>,
    /// Operating system, e.g. `iOS`, `Android`.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub os: Option<Str<'a>>,
    /// Advertising id.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub ifa: Option<Str<'a>>,
    /// 1 when the user asked not to be tracked (Do Not Track).
    #[serde(default, deserialize_with = "privacy_flag")]
    pub dnt: Option<u8>,
    /// 1 when the operating system limits ad tracking.
    #[serde(default, deserialize_with = "privacy_flag")]
    pub lmt: Option<u8>,
    /// Browser language, ISO-639-1 alpha-2.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub language: Option<Str<'a>>,
}

/// User (§3.2.20).
#[derive(Debug, Deserialize)]
pub struct User<'a> {
    /// Exchange-specific user id.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub id: Option<Str<'a>>,
    /// Our own user id for this user, as mapped by the exchange.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub buyeruid: Option<Str<'a>>,
    /// GDPR consent string (TCF), 2.6 location.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub consent: Option<Str<'a>>,
    /// Audience segments from data providers, for segment targeting.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub data: List<Data<'a>, 2>,
    /// The 2.5 extension, read for `consent`.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_object")]
    pub ext: Option<UserExt<'a>>,
}

/// `user.ext` as 2.5 exchanges fill it; other members are skipped.
#[derive(Debug, Deserialize)]
pub struct UserExt<'a> {
    /// GDPR consent string, 2.5 location.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub consent: Option<Str<'a>>,
}

/// Regulations (§3.2.3).
#[derive(Debug, Deserialize)]
pub struct Regs<'a> {
    /// 1 when the request falls under COPPA.
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub coppa: u8,
    /// 1 when the request falls under GDPR, 0 when not (2.6 location).
    #[serde(default, deserialize_with = "privacy_flag")]
    pub gdpr: Option<u8>,
    /// CCPA / US Privacy string, e.g. `1YNN` (2.6 location).
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub us_privacy: Option<Str<'a>>,
    /// IAB Global Privacy Platform consent string.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub gpp: Option<Str<'a>>,
    /// GPP section ids in force.
    #[serde(default, deserialize_with = "lenient::list")]
    pub gpp_sid: List<u16, 2>,
    /// The 2.5 extension, read for `gdpr` and `us_privacy`.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_object")]
    pub ext: Option<RegsExt<'a>>,
}

/// `regs.ext` as 2.5 exchanges fill it; other members are skipped.
#[derive(Debug, Deserialize)]
pub struct RegsExt<'a> {
    /// GDPR flag, 2.5 location.
    #[serde(default, deserialize_with = "privacy_flag")]
    pub gdpr: Option<u8>,
    /// US Privacy string, 2.5 location.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub us_privacy: Option<Str<'a>>,
}

/// Supply chain source (§3.2.2).
#[derive(Debug, Deserialize)]
pub struct Source<'a> {
    /// Transaction id shared by every exchange in the chain.
    #[serde(borrow, default, deserialize_with = "lenient::opt_text")]
    pub tid: Option<Str<'a>>,
    /// The supply chain (2.6 location); not an object reads as absent.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_object")]
    pub schain: Option<SupplyChain<'a>>,
    /// The 2.5 extension, read for `schain`.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_object")]
    pub ext: Option<SourceExt<'a>>,
}

/// `source.ext` as 2.5 exchanges fill it; other members are skipped.
#[derive(Debug, Deserialize)]
pub struct SourceExt<'a> {
    /// The supply chain, 2.5 location; not an object reads as absent.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_object")]
    pub schain: Option<SupplyChain<'a>>,
}

/// What the request says about privacy, each field from its 2.6 location or,
/// when absent there, its 2.5 extension location.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Privacy<'r> {
    /// `regs.coppa = 1`.
    pub coppa: bool,
    /// `regs.gdpr` (or `regs.ext.gdpr`): `Some(true)` when GDPR applies.
    pub gdpr: Option<bool>,
    /// `user.consent` (or `user.ext.consent`).
    pub consent: Option<&'r str>,
    /// `regs.us_privacy` (or `regs.ext.us_privacy`).
    pub us_privacy: Option<&'r str>,
    /// `regs.gpp`.
    pub gpp: Option<&'r str>,
    /// `regs.gpp_sid`.
    pub gpp_sid: &'r [u16],
    /// `device.lmt = 1` or `device.dnt = 1`.
    pub limit_tracking: bool,
}

/// A privacy flag (`regs.gdpr`, `device.lmt`, `device.dnt`), read to fail
/// closed: absent, `null` or `""` is `None`; `0`, `false`, `"0"`, `"false"` or
/// `"no"` is `Some(0)`; any other value (`1`, `2`, `"yes"`, `true`, an array)
/// is `Some(1)` — a signal that is there but unclear is taken as set, never as
/// permission. Never fails the request.
fn privacy_flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u8>, D::Error> {
    struct FlagVisitor;
    impl<'de> Visitor<'de> for FlagVisitor {
        type Value = Option<u8>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a 0/1 flag")
        }
        fn visit_bool<E: Error>(self, v: bool) -> Result<Option<u8>, E> {
            Ok(Some(u8::from(v)))
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<Option<u8>, E> {
            Ok(Some(u8::from(v != 0)))
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<Option<u8>, E> {
            Ok(Some(u8::from(v != 0)))
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<Option<u8>, E> {
            Ok(Some(u8::from(v != 0.0)))
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Option<u8>, E> {
            let v = v.trim();
            Ok(if v.is_empty() {
                None
            } else if ["0", "false", "no"]
                .iter()
                .any(|no| v.eq_ignore_ascii_case(no))
            {
                Some(0)
            } else {
                Some(1)
            })
        }
        fn visit_unit<E: Error>(self) -> Result<Option<u8>, E> {
            Ok(None)
        }
        fn visit_none<E: Error>(self) -> Result<Option<u8>, E> {
            Ok(None)
        }
        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Option<u8>, S::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(Some(1))
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Option<u8>, M::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(Some(1))
        }
    }
    deserializer.deserialize_any(FlagVisitor)
}
