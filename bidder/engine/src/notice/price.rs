//! The clearing price a win or billing notice carries in its `p` parameter.
//!
//! Exchanges substitute `${AUCTION_PRICE}` in the URL we bid with (OpenRTB 2.6
//! §4.4), but not all of them, not always, and not always in plain text: the macro
//! can come back as sent or percent-encoded in either case (`%24%7BAUCTION_PRICE%7D`,
//! `%24%7bAUCTION_PRICE%7d`, `$%7BAUCTION_PRICE%7D`), the value can be empty, and
//! some exchanges send their price encrypted with a key we do not hold. A notice
//! whose token is genuine still means an impression was served: it is settled at
//! our bid, the most the exchange may charge, and marked so reports can tell.

use percent_encoding::percent_decode_str;

use crate::money::{Micros, micros_up};

/// Where the price a notice settles at came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    /// The exchange's clearing price, read from `p`.
    Exchange,
    /// The exchange's price was above our bid; settled at the bid, as the
    /// exchange may never charge more than we bid.
    Capped,
    /// No readable price (absent, empty, the macro unsubstituted, encrypted or not
    /// a number): settled at our bid, the most the exchange may charge.
    Bid,
}

impl PriceSource {
    /// Every source, for metric labels.
    pub const ALL: [PriceSource; 3] =
        [PriceSource::Exchange, PriceSource::Capped, PriceSource::Bid];

    /// The label in events (`win_price_source`) and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::Exchange => "exchange",
            PriceSource::Capped => "capped",
            PriceSource::Bid => "bid",
        }
    }
}

/// A settled price: CPM micros of the bid's currency, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClearingPrice {
    /// The price to record and debit, CPM micros; never above the bid.
    pub cpm: Micros,
    /// Where it came from.
    pub source: PriceSource,
}

/// Longest `p` value read; a CPM needs a few digits, an encrypted price about 40.
const MAX_PRICE_TEXT: usize = 64;

/// Settles the price of a notice for a bid of `bid` micros, from the raw
/// (still percent-encoded) `p` value, if any. The exchange's price rounds up to
/// micros, so spend is never under-counted (see `money`).
pub fn clearing_price(param: Option<&str>, bid: Micros) -> ClearingPrice {
    let at_bid = |source| ClearingPrice { cpm: bid, source };
    let Some(raw) = param.filter(|p| p.len() <= MAX_PRICE_TEXT) else {
        return at_bid(PriceSource::Bid);
    };
    let Ok(text) = percent_decode_str(raw).decode_utf8() else {
        return at_bid(PriceSource::Bid);
    };
    let read = text.trim().parse::<f64>().ok().and_then(micros_up);
    match read {
        Some(cpm) if cpm <= bid => ClearingPrice {
            cpm,
            source: PriceSource::Exchange,
        },
        Some(_) => at_bid(PriceSource::Capped),
        None => at_bid(PriceSource::Bid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BID: Micros = 3_000_000;

    fn settled(p: Option<&str>) -> (Micros, PriceSource) {
        let price = clearing_price(p, BID);
        (price.cpm, price.source)
    }

    #[test]
    fn reads_the_price_plain_and_percent_encoded() {
        assert_eq!(settled(Some("2.5")), (2_500_000, PriceSource::Exchange));
        assert_eq!(settled(Some("2%2E5")), (2_500_000, PriceSource::Exchange));
        assert_eq!(settled(Some("2%2e5")), (2_500_000, PriceSource::Exchange));
        assert_eq!(settled(Some("0")), (0, PriceSource::Exchange));
        // Rounded up: spend is never under-counted.
        assert_eq!(
            settled(Some("2.8000001")),
            (2_800_001, PriceSource::Exchange)
        );
    }

    #[test]
    fn a_price_above_the_bid_is_capped_at_the_bid() {
        assert_eq!(settled(Some("3.0000001")), (BID, PriceSource::Capped));
        assert_eq!(settled(Some("1e9")), (BID, PriceSource::Capped));
    }

    #[test]
    fn an_unreadable_price_settles_at_the_bid() {
        for p in [
            "",
            "${AUCTION_PRICE}",
            "$%7BAUCTION_PRICE%7D",
            "%24%7BAUCTION_PRICE%7D",
            "%24%7bAUCTION_PRICE%7d",
            "%24%7Bauction_price%7D",
            "WEp8wQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "-1",
            "NaN",
            "inf",
            "%FF%FE",
            "%",
            &"9".repeat(65),
        ] {
            assert_eq!(settled(Some(p)), (BID, PriceSource::Bid), "{p:?}");
        }
        assert_eq!(settled(None), (BID, PriceSource::Bid));
    }
}
