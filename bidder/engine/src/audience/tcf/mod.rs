//! Whether an IAB TCF v2 consent string lets our vendor use a user's data for
//! given purposes: the one question the bidder asks of `user.consent` before it
//! uses a user's segments when GDPR applies (no consent for our vendor, no
//! segments).
//!
//! Format: "IAB Tech Lab - Consent string and vendor list formats v2", section
//! "TC String Format", subsection "The Core String": fields big-endian, bits
//! numbered left to right, the segment base64url-encoded without padding; later
//! segments (disclosed and allowed vendors, publisher TC) follow after a `.` and
//! do not bear on the answer.
//!
//! Hand-written because the `lib_tcstring` crate expands every vendor range into
//! a `Vec` (a 17 KB string of 4095 ranges 1..=65535 asks for about 0.5 GB) and
//! computes `end + 1`, which overflows at 65535. One yes/no needs neither: bits
//! are read straight from the base64 text, once, without allocating; ranges are
//! tested by containment, never expanded; anything truncated or malformed on the
//! way to the answer is a no.

/// `Version` of the core string this reader understands.
const TCF_VERSION: u32 = 2;
/// Width of `Version`.
const VERSION_BITS: u32 = 6;
/// Bits from `Created` to `SpecialFeatureOptIns`, none of which bear on the
/// answer: Created 36, LastUpdated 36, CmpId 12, CmpVersion 12, ConsentScreen
/// 6, ConsentLanguage 12, VendorListVersion 12, TcfPolicyVersion 6,
/// IsServiceSpecific 1, UseNonStandardStacks 1, SpecialFeatureOptIns 12.
const METADATA_BITS: usize = 36 + 36 + 12 + 12 + 6 + 12 + 12 + 6 + 1 + 1 + 12;
/// Width of `PurposesConsent` and of `PurposesLITransparency`: purpose n is the
/// n-th bit from the left.
const PURPOSES_BITS: u32 = 24;
/// Width of `PublisherCC`.
const PUBLISHER_CC_BITS: usize = 12;
/// Width of `MaxVendorId`, `StartOrOnlyVendorId` and `EndVendorId`.
const VENDOR_ID_BITS: u32 = 16;
/// Width of `NumEntries` and of `NumPubRestrictions`.
const COUNT_BITS: u32 = 12;
/// Width of a publisher restriction's `PurposeId`.
const PURPOSE_ID_BITS: u32 = 6;
/// Width of a publisher restriction's `RestrictionType`.
const RESTRICTION_TYPE_BITS: u32 = 2;
/// `RestrictionType` 1, "require consent": met by the consent we insist on
/// anyway. Every other type (0 not allowed, 2 require legitimate interest, 3
/// undefined) on an asked purpose rules our vendor out.
const REQUIRE_CONSENT: u32 = 1;

/// Whether TC string `consent` gives vendor `vendor_id` (its Global Vendor List
/// id) consent for every purpose in `purposes` (TCF purpose ids, 1 to 24):
/// each purpose consented (purpose 1 also when `PurposeOneTreatment` says it was
/// not disclosed; legitimate interest never counts), the vendor consented, and
/// no publisher restriction on an asked purpose covering the vendor other than
/// "require consent". False for any string that is not a well-formed v2 core
/// string as far as the answer needs; never panics, never allocates, and takes
/// time linear in the string's length.
pub(crate) fn vendor_consents(consent: &str, vendor_id: u16, purposes: &[u8]) -> bool {
    read_consent(consent, vendor_id, purposes).unwrap_or(false)
}

/// [`vendor_consents`], with `None` for a string that is malformed or ends
/// before the answer is known.
fn read_consent(consent: &str, vendor_id: u16, purposes: &[u8]) -> Option<bool> {
    if vendor_id == 0 {
        return Some(false);
    }
    let mut bits = BitReader::new(consent)?;
    if bits.read(VERSION_BITS)? != TCF_VERSION {
        return Some(false);
    }
    bits.skip(METADATA_BITS)?;
    let purposes_consent = bits.read(PURPOSES_BITS)?;
    bits.read(PURPOSES_BITS)?; // PurposesLITransparency: not consent.
    let purpose_one_undisclosed = bits.read(1)? == 1;
    bits.skip(PUBLISHER_CC_BITS)?;
    let purpose_consented = |purpose: u8| {
        (1..=PURPOSES_BITS).contains(&u32::from(purpose))
            && (purposes_consent >> (PURPOSES_BITS - u32::from(purpose))) & 1 == 1
    };
    if !purposes
        .iter()
        .all(|&p| purpose_consented(p) || (p == 1 && purpose_one_undisclosed))
    {
        return Some(false);
    }
    if !vendor_section(&mut bits, vendor_id)? {
        return Some(false);
    }
    vendor_section(&mut bits, vendor_id)?; // Legitimate interest: read only to pass it.
    for _ in 0..bits.read(COUNT_BITS)? {
        let purpose = bits.read(PURPOSE_ID_BITS)?;
        let restriction = bits.read(RESTRICTION_TYPE_BITS)?;
        let covered = ranges_contain(&mut bits, vendor_id)?;
        let asked = purposes.iter().any(|&p| u32::from(p) == purpose);
        if covered && asked && restriction != REQUIRE_CONSENT {
            return Some(false);
        }
    }
    Some(true)
}

/// Reads a vendor section (`MaxVendorId`, `IsRangeEncoding`, then a bit field
/// or a range section) and tells whether it lists `vendor_id` (at least 1).
/// Ids above `MaxVendorId` are not listed, whatever a range says.
fn vendor_section(bits: &mut BitReader<'_>, vendor_id: u16) -> Option<bool> {
    let max_vendor_id = bits.read(VENDOR_ID_BITS)?;
    let in_bounds = u32::from(vendor_id) <= max_vendor_id;
    if bits.read(1)? == 1 {
        return Some(ranges_contain(bits, vendor_id)? && in_bounds);
    }
    let field_start = bits.pos;
    bits.skip(usize::try_from(max_vendor_id).ok()?)?;
    if !in_bounds {
        return Some(false);
    }
    let index = usize::from(vendor_id).checked_sub(1)?;
    Some(bits.bit_at(field_start.checked_add(index)?)? == 1)
}

/// Reads a range section (`NumEntries`, then entries of `IsARange`,
/// `StartOrOnlyVendorId` and, for a range, `EndVendorId`) and tells whether an
/// entry contains `vendor_id`. `None` if an entry ends before it starts.
fn ranges_contain(bits: &mut BitReader<'_>, vendor_id: u16) -> Option<bool> {
    let vendor_id = u32::from(vendor_id);
    let mut contained = false;
    for _ in 0..bits.read(COUNT_BITS)? {
        let is_range = bits.read(1)? == 1;
        let start = bits.read(VENDOR_ID_BITS)?;
        let end = if is_range {
            bits.read(VENDOR_ID_BITS)?
        } else {
            start
        };
        if end < start {
            return None;
        }
        contained |= (start..=end).contains(&vendor_id);
    }
    Some(contained)
}

/// Reads big-endian bit fields straight from base64 text, decoding the
/// character that holds each bit as it is read.
struct BitReader<'a> {
    /// The core segment without padding; every byte is a base64 character.
    text: &'a [u8],
    /// Payload length in bits: the whole bytes `text` decodes to, times 8
    /// (the bits that only pad the last character are not payload).
    len_bits: usize,
    /// Index of the next bit to read.
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader over the core segment (before the first `.`) of `consent`, or
    /// `None` if that segment is not base64 (URL-safe or standard alphabet,
    /// padding optional).
    fn new(consent: &'a str) -> Option<BitReader<'a>> {
        let core = consent.split_once('.').map_or(consent, |(core, _)| core);
        let core = core
            .strip_suffix("==")
            .or_else(|| core.strip_suffix('='))
            .unwrap_or(core);
        let text = core.as_bytes();
        // A length of 4n + 1 characters holds no whole final byte: not base64.
        if text.len() % 4 == 1 || !text.iter().all(|&c| sextet(c).is_some()) {
            return None;
        }
        let bytes = text.len() / 4 * 3 + (text.len() % 4).saturating_sub(1);
        Some(BitReader {
            text,
            len_bits: bytes.checked_mul(8)?,
            pos: 0,
        })
    }

    /// The bit at index `at` (0 or 1), or `None` past the payload.
    fn bit_at(&self, at: usize) -> Option<u32> {
        if at >= self.len_bits {
            return None;
        }
        let sextet = sextet(*self.text.get(at / 6)?)?;
        Some((sextet >> (5 - at % 6)) & 1)
    }

    /// The next `width` bits (at most 32) as a number, or `None` if the payload
    /// ends first.
    fn read(&mut self, width: u32) -> Option<u32> {
        let mut value = 0;
        for _ in 0..width {
            value = (value << 1) | self.bit_at(self.pos)?;
            self.pos += 1;
        }
        Some(value)
    }

    /// Moves past `count` bits, or `None` if the payload ends first.
    fn skip(&mut self, count: usize) -> Option<()> {
        self.pos = self
            .pos
            .checked_add(count)
            .filter(|&end| end <= self.len_bits)?;
        Some(())
    }
}

/// The 6-bit value of base64 character `c` (URL-safe alphabet; the standard
/// alphabet's `+` and `/` are accepted too), or `None` for any other byte.
fn sextet(c: u8) -> Option<u32> {
    let value = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' | b'+' => 62,
        b'_' | b'/' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

#[cfg(test)]
mod tests;
