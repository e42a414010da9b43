//! The TCF reader against strings built field by field, the IAB's own fixtures,
//! every truncation, and arbitrary input.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;

use super::vendor_consents;

/// Purposes the bidder asks about: store/access on a device, personalised ads.
const ASKED: &[u8] = &[1, 4];

/// A vendor section as a test states it.
enum Vendors {
    /// Bit field: `MaxVendorId`, the ids set.
    Bits(u16, Vec<u16>),
    /// Range section: `MaxVendorId`, the entries; `(a, a)` is written as a
    /// single id, anything else as a range (even with end < start).
    Ranges(u16, Vec<(u16, u16)>),
}

/// A bit-field vendor section.
fn bits(max: u16, ids: &[u16]) -> Vendors {
    Vendors::Bits(max, ids.to_vec())
}

/// A range vendor section.
fn ranges(max: u16, ranges: &[(u16, u16)]) -> Vendors {
    Vendors::Ranges(max, ranges.to_vec())
}

/// A publisher restriction: `PurposeId`, `RestrictionType`, vendor ranges.
type Restriction = (u8, u8, Vec<(u16, u16)>);

/// The fields of a core string that bear on the answer; the others get
/// plausible fixed values.
struct Core {
    version: u64,
    purposes_consent: Vec<u8>,
    purposes_li: Vec<u8>,
    purpose_one_treatment: bool,
    consents: Vendors,
    legitimate_interests: Vendors,
    restrictions: Vec<Restriction>,
    /// Restrictions counted in `NumPubRestrictions` but not written.
    missing_restrictions: u64,
}

/// A publisher restriction case: `PurposeId`, `RestrictionType`, its ranges,
/// the vendor asked about, the answer.
type Case = (u8, u8, &'static [(u16, u16)], u16, bool);

/// Collects fields bit by bit, most significant first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    len: usize,
}

impl BitWriter {
    /// Appends the low `width` bits of `value`.
    fn put(&mut self, width: u32, value: u64) {
        for shift in (0..width).rev() {
            if self.len.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = u8::from((value >> shift) & 1 == 1);
            *self.bytes.last_mut().unwrap() |= bit << (7 - self.len % 8);
            self.len += 1;
        }
    }

    /// A 24-bit purposes field with the listed purposes set.
    fn put_purposes(&mut self, purposes: &[u8]) {
        self.put(24, purposes.iter().fold(0, |f, &p| f | 1 << (24 - p)));
    }

    /// A range section: `NumEntries`, then the entries.
    fn put_ranges(&mut self, ranges: &[(u16, u16)]) {
        self.put(12, ranges.len() as u64);
        for &(start, end) in ranges {
            self.put(1, u64::from(start != end));
            self.put(16, start.into());
            if start != end {
                self.put(16, end.into());
            }
        }
    }

    /// A vendor section.
    fn put_vendors(&mut self, vendors: &Vendors) {
        match vendors {
            Vendors::Bits(max, ids) => {
                self.put(17, u64::from(*max) << 1); // MaxVendorId, IsRangeEncoding 0.
                (1..=*max).for_each(|id| self.put(1, ids.contains(&id).into()));
            }
            Vendors::Ranges(max, ranges) => {
                self.put(17, u64::from(*max) << 1 | 1); // MaxVendorId, IsRangeEncoding 1.
                self.put_ranges(ranges);
            }
        }
    }
}

impl Core {
    /// Vendors 23 and 42 consented (bit field), purposes 1 to 10 consented,
    /// no legitimate interests, no restrictions.
    fn consenting() -> Core {
        Core {
            version: 2,
            purposes_consent: (1..=10).collect(),
            purposes_li: vec![],
            purpose_one_treatment: false,
            consents: bits(100, &[23, 42]),
            legitimate_interests: bits(0, &[]),
            restrictions: vec![],
            missing_restrictions: 0,
        }
    }

    /// This core string, changed by `edit`.
    fn with(mut self, edit: impl FnOnce(&mut Core)) -> Core {
        edit(&mut self);
        self
    }

    /// The base64url core string.
    fn encode(&self) -> String {
        let mut w = BitWriter::default();
        w.put(6, self.version);
        w.put(36, 16_000_000_000); // Created, deciseconds.
        w.put(36, 16_000_000_100); // LastUpdated.
        w.put(12, 7); // CmpId.
        w.put(12, 1); // CmpVersion.
        w.put(6, 1); // ConsentScreen.
        w.put(12, 4 << 6 | 13); // ConsentLanguage "EN".
        w.put(12, 150); // VendorListVersion.
        w.put(6, 4); // TcfPolicyVersion.
        w.put(2, 0b10); // IsServiceSpecific 1, UseNonStandardStacks 0.
        w.put(12, 0); // SpecialFeatureOptIns.
        w.put_purposes(&self.purposes_consent);
        w.put_purposes(&self.purposes_li);
        w.put(1, self.purpose_one_treatment.into());
        w.put(12, 3 << 6 | 4); // PublisherCC "DE".
        w.put_vendors(&self.consents);
        w.put_vendors(&self.legitimate_interests);
        let count = self.restrictions.len() as u64 + self.missing_restrictions;
        w.put(12, count); // NumPubRestrictions.
        for (purpose, restriction, ranges) in &self.restrictions {
            w.put(6, (*purpose).into());
            w.put(2, (*restriction).into());
            w.put_ranges(ranges);
        }
        URL_SAFE_NO_PAD.encode(&w.bytes)
    }

    /// Whether the encoded string consents `vendor_id` for purposes 1 and 4.
    fn answer(&self, vendor_id: u16) -> bool {
        vendor_consents(&self.encode(), vendor_id, ASKED)
    }
}

#[test]
fn consent_in_a_bit_field() {
    let core = Core::consenting();
    assert!(core.answer(42) && core.answer(23));
    assert!(!core.answer(41), "vendor bit not set");
    assert!(!core.answer(101), "above MaxVendorId");
    assert!(!core.answer(0), "no vendor 0");
}

#[test]
fn consent_in_ranges() {
    let listed = [(0, 10), (40, 45), (300, 300), (65530, 65535)];
    let core = Core::consenting().with(|c| c.consents = ranges(65535, &listed));
    for vendor in [1, 10, 40, 42, 45, 300, 65535] {
        assert!(core.answer(vendor), "vendor {vendor}");
    }
    for vendor in [0, 11, 39, 46, 299, 301, 65529] {
        assert!(!core.answer(vendor), "vendor {vendor}");
    }
    let core = Core::consenting().with(|c| c.consents = ranges(100, &[(1, 200)]));
    assert!(core.answer(100));
    assert!(!core.answer(150), "ranges past MaxVendorId do not count");
}

#[test]
fn every_asked_purpose_needs_consent() {
    let text = Core::consenting()
        .with(|c| c.purposes_consent = vec![1, 2, 3])
        .encode();
    assert!(!vendor_consents(&text, 42, ASKED), "purpose 4 missing");
    assert!(vendor_consents(&text, 42, &[1, 3]));
    assert!(vendor_consents(&text, 42, &[]), "no purposes asked");
    assert!(!vendor_consents(&text, 42, &[0]), "no purpose 0");
    assert!(!vendor_consents(&text, 42, &[25]), "no purpose 25");
    let all = Core::consenting().with(|c| c.purposes_consent = (1..=24).collect());
    assert!(vendor_consents(&all.encode(), 42, &[24]));
}

#[test]
fn purpose_one_is_met_when_not_disclosed() {
    let core = Core::consenting().with(|c| c.purposes_consent = vec![4]);
    assert!(!core.answer(42));
    assert!(core.with(|c| c.purpose_one_treatment = true).answer(42));
}

#[test]
fn legitimate_interest_is_not_consent() {
    let core = Core::consenting().with(|c| {
        c.purposes_consent = vec![1];
        c.purposes_li = vec![4];
        c.legitimate_interests = bits(42, &[42]);
    });
    assert!(!core.answer(42), "purpose 4 by legitimate interest only");
    let core = Core::consenting().with(|c| {
        c.consents = bits(10, &[]);
        c.legitimate_interests = ranges(50, &[(40, 50)]);
    });
    assert!(!core.answer(42), "vendor by legitimate interest only");
}

#[test]
fn only_version_2_is_read() {
    assert!(!Core::consenting().with(|c| c.version = 1).answer(42));
    assert!(!Core::consenting().with(|c| c.version = 3).answer(42));
    // The spec's example string, of version 1 ("How does a URL-based service
    // process a TC string ...").
    assert!(!vendor_consents("BOPnWgIOPnWgIAAABAENAI4AAAAA0ABA", 1, &[]));
}

#[test]
fn publisher_restrictions() {
    let cases: [Case; 9] = [
        (4, 0, &[(30, 50)], 42, false),          // not allowed, in a range
        (1, 0, &[(42, 42)], 42, false),          // not allowed, single id
        (4, 2, &[(1, 65535)], 42, false),        // require legitimate interest
        (4, 3, &[(42, 43)], 42, false),          // undefined type
        (4, 0, &[(1, 41), (43, 100)], 42, true), // not allowed, not covered
        (4, 2, &[(43, 43)], 42, true),           // require LI, not covered
        (7, 0, &[(42, 42)], 42, true),           // purpose not asked
        (4, 1, &[(40, 50)], 42, true),           // require consent, consented
        (4, 1, &[(40, 50)], 41, false),          // require consent, not consented
    ];
    for (purpose, kind, covered, vendor, answer) in cases {
        let core = Core::consenting().with(|c| {
            // First, everyone flatly not allowed purpose 2, which is not asked.
            c.restrictions = vec![(2, 0, vec![(1, 65535)]), (purpose, kind, covered.to_vec())];
        });
        assert_eq!(core.answer(vendor), answer, "{purpose} {kind} {vendor}");
    }
}

#[test]
fn malformed_ranges_and_counts() {
    let backwards = Core::consenting().with(|c| c.restrictions = vec![(4, 1, vec![(50, 10)])]);
    assert!(!backwards.answer(42), "restriction's end < start");
    let backwards = [(1, 50), (60, 55)];
    let core = Core::consenting().with(|c| c.consents = ranges(100, &backwards));
    assert!(!core.answer(42), "consents' end < start");
    let core = Core::consenting().with(|c| c.legitimate_interests = ranges(100, &backwards));
    assert!(!core.answer(42), "in the legitimate interest section too");
    let core = Core::consenting().with(|c| c.missing_restrictions = 1);
    assert!(!core.answer(42), "NumPubRestrictions runs past the data");
}

#[test]
fn every_truncation_is_a_no() {
    let ranged = Core::consenting().with(|c| {
        c.consents = ranges(500, &[(1, 10), (42, 42)]);
        c.legitimate_interests = bits(60, &[7]);
        c.restrictions = vec![(4, 1, vec![(40, 50)]), (9, 0, vec![(42, 42)])];
    });
    // Bit fields of 100 to 123 bits: every way the data can end in the text.
    let bit_fields =
        (100..124).map(|max| Core::consenting().with(|c| c.consents = bits(max, &[42])));
    for full in bit_fields.chain([ranged]).map(|core| core.encode()) {
        assert!(vendor_consents(&full, 42, ASKED));
        for len in 0..full.len() {
            assert!(!vendor_consents(&full[..len], 42, ASKED), "{len}");
        }
        if full.len() % 4 == 0 {
            let one_more = format!("{full}A"); // 4n + 1 characters: not base64.
            assert!(!vendor_consents(&one_more, 42, ASKED));
        }
    }
}

#[test]
fn later_segments_padding_and_alphabet() {
    // 369 bits, so 47 bytes: one '=' of padding; runs of ones give '/'.
    let text = Core::consenting()
        .with(|c| {
            c.consents = bits(110, &(1..=110).collect::<Vec<_>>());
            c.purposes_consent = (1..=24).collect();
        })
        .encode();
    let with_disclosed = format!("{text}.IBAgAAAgAIAwgAgAAAAEAAAACA");
    assert!(vendor_consents(&with_disclosed, 62, ASKED));
    assert!(vendor_consents(&format!("{text}.!not base64!"), 62, ASKED));
    assert!(!vendor_consents(&format!("{text}!.IBAgAA"), 62, ASKED));
    let standard = STANDARD.encode(URL_SAFE_NO_PAD.decode(&text).unwrap());
    assert!(standard.ends_with('=') && standard.contains(['+', '/']));
    assert!(vendor_consents(&standard, 63, ASKED), "{standard}");
}

#[test]
fn base64_alphabets() {
    let url_safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (value, (url, standard)) in url_safe
        .bytes()
        .zip(url_safe.replace("-_", "+/").bytes())
        .enumerate()
    {
        assert_eq!(super::sextet(url), Some(value as u32));
        assert_eq!(super::sextet(standard), Some(value as u32));
    }
    assert!(
        [b'=', b'.', b' ', b'%', 0xF0]
            .iter()
            .all(|&c| super::sextet(c).is_none())
    );
}

#[test]
fn garbage_is_a_no() {
    for text in ["", ".", "=", "==", "A", "AA=A", "=AAA", "C.P", "CP%"] {
        assert!(!vendor_consents(text, 1, ASKED), "{text:?}");
    }
    assert!(!vendor_consents("\u{1F600}", 1, ASKED));
    assert!(!vendor_consents(&"A".repeat(1 << 20), 1, ASKED));
}

/// Fixtures of InteractiveAdvertisingBureau/iabtcf-java,
/// `iabtcf-decoder/src/test/java/com/iabtcf/decoder/TCStringV2Test.java`.
#[test]
fn iab_fixtures() {
    // testConstructConsentsFromBitFields: purposes consented 3 to 9; vendors
    // consented 23, 37, 47, 48, 53, 65, 98; legitimate interest 37, 47, 48,
    // 53, 65, 98, 129. (Its PurposeOneTreatment, decoded by hand, is 0.)
    let bit_fields =
        "COrEAV4OrXx94ACABBENAHCIAD-AAAAAAACAAxAAAAgAIAwgAgAAAAEAgQAAAAAEAYQAQAAAACAAAABAAA";
    for vendor in [23, 37, 47, 48, 53, 65, 98] {
        assert!(vendor_consents(bit_fields, vendor, &[3, 4, 9]), "{vendor}");
    }
    for vendor in [1, 22, 24, 99, 129] {
        assert!(!vendor_consents(bit_fields, vendor, &[3, 4]), "{vendor}");
    }
    for purposes in [&[2], &[10], ASKED] {
        assert!(!vendor_consents(bit_fields, 23, purposes), "{purposes:?}");
    }
    // testRange: vendors 702 and 703 consented (one range entry), with a
    // disclosed-vendors segment after the core.
    let range = concat!(
        "COwBOpCOwBOpCLqAAAENAPCAAAAAAAAAAAAAFfwAYFfAV-BVkAGBVYFWAAA",
        ".IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAAAAF",
        "AAECAAAgAAQARAEQAAAAAJAAIAAgAAAYQEAAAQmAgBC3ZAYzUw"
    );
    for (vendor, answer) in [(701, false), (702, true), (703, true), (704, false)] {
        assert_eq!(vendor_consents(range, vendor, &[]), answer, "{vendor}");
    }
}

#[test]
fn longest_range_lists_are_read_in_place() {
    let everyone = vec![(1, 65535); 4095];
    let core = Core::consenting().with(|c| {
        c.consents = ranges(65535, &everyone);
        c.legitimate_interests = ranges(65535, &everyone);
        c.restrictions = vec![(4, 1, everyone.clone()), (1, 1, everyone.clone())];
    });
    let text = core.encode();
    assert!(text.len() > 80_000);
    assert!(vendor_consents(&text, 65535, ASKED) && vendor_consents(&text, 1, ASKED));
    let core = core.with(|c| c.restrictions = vec![(4, 0, everyone)]);
    assert!(!core.answer(65535));
}

proptest! {
    #[test]
    fn any_string_is_answered(text in ".{0,300}", vendor: u16, purposes: Vec<u8>) {
        vendor_consents(&text, vendor, &purposes);
    }

    #[test]
    fn any_bytes_are_answered(bytes: Vec<u8>, vendor: u16, purposes: Vec<u8>) {
        vendor_consents(&URL_SAFE_NO_PAD.encode(&bytes), vendor, &purposes);
    }

    #[test]
    fn any_sections_after_a_v2_header_are_answered(tail: Vec<u8>, vendor: u16) {
        let header = URL_SAFE_NO_PAD.decode(Core::consenting().encode()).unwrap();
        let bytes = [&header[..26], &tail[..]].concat();
        vendor_consents(&URL_SAFE_NO_PAD.encode(&bytes), vendor, ASKED);
    }
}
