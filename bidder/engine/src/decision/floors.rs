//! The floor a bid must meet, in the response currency: the impression's
//! `bidfloor`, or the deal's when bidding through a deal that sets one, raised
//! for a video or audio ad to its length times the floor per second
//! (`mincpmpersec`, OpenRTB 2.6 §3.2.7, §3.2.8, §3.2.12) when one is set. Every
//! floor is converted rounding up (see `Pricing::floor`), so a bid at it never
//! reads back below what the exchange asked.

use super::NoBidReason;
use super::pricing::Pricing;
use crate::money::Micros;
use crate::openrtb::request::{Deal, Imp, Str};
use crate::snapshot::{CompiledCreative, CreativeKind};

/// A floor per second of ad, CPM, with the currency it is in.
type PerSecond<'i, 'a> = (f64, Option<&'i Str<'a>>);

/// The floor per second that applies to a timed ad of `kind` on `imp` bid
/// through `deal`: the deal's own, else the impression's audio one for an audio
/// ad, its video one for a video ad.
fn per_second<'i, 'a>(
    imp: &'i Imp<'a>,
    deal: Option<&'i Deal<'a>>,
    kind: &CreativeKind,
) -> Option<PerSecond<'i, 'a>> {
    if let Some(d) = deal
        && let Some(per_second) = d.mincpmpersec
    {
        return Some((per_second, d.bidfloorcur.as_ref()));
    }
    let per_second = match kind {
        CreativeKind::Audio(_) => imp.audio.as_ref()?.mincpmpersec?,
        _ => imp.video.as_ref()?.mincpmpersec?,
    };
    Some((per_second, imp.bidfloorcur.as_ref()))
}

/// Whether a floor per second may apply on `imp` (through `deal`): then what a
/// candidate bids depends on its creative's length.
pub(super) fn any_per_second(imp: &Imp<'_>, deal: Option<&Deal<'_>>) -> bool {
    deal.is_some_and(|d| d.mincpmpersec.is_some())
        || imp.video.as_ref().is_some_and(|v| v.mincpmpersec.is_some())
        || imp.audio.as_ref().is_some_and(|a| a.mincpmpersec.is_some())
}

/// Whether a floor per second is set anywhere on `imp`, its own or a deal's.
pub(super) fn any_per_second_on(imp: &Imp<'_>) -> bool {
    let mut deals = imp.pmp.iter().flat_map(|p| p.deals.iter());
    any_per_second(imp, None) || deals.any(|d| d.mincpmpersec.is_some())
}

/// The floor `creative` must meet on `imp` (through `deal`, if any):
/// `imp_floor` is the impression's own, already priced.
pub(super) fn floor<'a>(
    imp_floor: Result<Micros, NoBidReason>,
    imp: &Imp<'a>,
    deal: Option<&Deal<'a>>,
    creative: &CompiledCreative,
    pricing: &Pricing<'_>,
) -> Result<Micros, NoBidReason> {
    let base = match deal {
        Some(d) if d.bidfloor > 0.0 => pricing.floor(d.bidfloor, d.bidfloorcur.as_ref())?,
        _ => imp_floor?,
    };
    let Some(media) = creative.kind.timed() else {
        return Ok(base);
    };
    let Some((per_second, currency)) = per_second(imp, deal, &creative.kind) else {
        return Ok(base);
    };
    let length_floor = pricing.floor(per_second * f64::from(media.duration_secs), currency)?;
    Ok(base.max(length_floor))
}
