//! Prices and currencies.
//!
//! Money inside Tern is an integer count of micros (millionths) of a currency unit,
//! so sums are exact and comparisons cheap. OpenRTB prices are CPM (per thousand
//! impressions) as JSON floats; they are converted once, at the edges.
//!
//! # Rounding: each conversion rounds the way that cannot lose money
//!
//! Exchanges compare prices as floats: our price, written as the exact decimal of
//! its micros, is read back as the float nearest to it, which is
//! [`to_amount`]`(micros)`. So amounts become micros by comparing *that* float:
//!
//! | what | rounds | so that |
//! | --- | --- | --- |
//! | a floor (`bidfloor`, a deal's floor), and its conversion to the response currency | up ([`FxTable::convert_amount`], then [`micros_up`]) | a bid at the floor reads back `>=` the floor, converted at the table's rate ([`FxTable::convert_amount`]), as a float |
//! | a campaign's `base_bid` and `max_cpm`, and their conversion to the response currency | down ([`micros_down`], [`FxTable::convert_down`]) | a bid never reads back above what the advertiser allowed |
//! | a campaign's budgets | down | spend never passes the budget the advertiser set |
//! | spend: a clearing price, its conversion to the campaign's currency, and CPM to the cost of one impression | up ([`micros_up`], [`FxTable::convert_up`], [`impression_cost`]) | spend is never under-counted |
//!
//! A conversion between currencies converts the float once ([`FxTable::convert_amount`])
//! and rounds once, in the direction the table above gives.

use std::fmt;

use rustc_hash::FxHashMap;

/// Millionths of a currency unit.
pub type Micros = u64;

/// Micros in one currency unit.
pub const MICROS_PER_UNIT: u64 = 1_000_000;

/// The largest amount converted to micros: beyond 2^53 micros (about nine billion
/// units) a float no longer tells one micro from the next.
const MAX_AMOUNT: f64 = 9_000_000_000.0;

/// The float an exchange reads from the decimal we write for `micros`: the
/// nearest float to `micros / 10^6` (an IEEE division of two exact values is
/// correctly rounded, like a decimal parser).
pub fn to_amount(micros: Micros) -> f64 {
    micros as f64 / MICROS_PER_UNIT as f64
}

/// The fewest micros that read back (see [`to_amount`]) as at least `amount`: for
/// floors and spend. Negative, non-finite and huge amounts are `None`.
pub fn micros_up(amount: f64) -> Option<Micros> {
    let mut micros = first_guess(amount)?.ceil();
    // The guess is off by at most one micro either way (one rounding of a product
    // below 2^53); step to the exact answer.
    while micros > 0.0 && (micros - 1.0) / MICROS_PER_UNIT as f64 >= amount {
        micros -= 1.0;
    }
    while micros / (MICROS_PER_UNIT as f64) < amount {
        micros += 1.0;
    }
    Some(micros as Micros)
}

/// The most micros that read back (see [`to_amount`]) as at most `amount`: for a
/// campaign's prices and budgets. Negative, non-finite and huge amounts are `None`.
pub fn micros_down(amount: f64) -> Option<Micros> {
    let mut micros = first_guess(amount)?.floor();
    while (micros + 1.0) / MICROS_PER_UNIT as f64 <= amount {
        micros += 1.0;
    }
    while micros > 0.0 && micros / (MICROS_PER_UNIT as f64) > amount {
        micros -= 1.0;
    }
    Some(micros as Micros)
}

fn first_guess(amount: f64) -> Option<f64> {
    (amount.is_finite() && (0.0..=MAX_AMOUNT).contains(&amount))
        .then_some(amount * MICROS_PER_UNIT as f64)
}

/// What one impression costs at a CPM price: a thousandth of it, rounded up so
/// spend is never under-counted.
pub fn impression_cost(cpm: Micros) -> Micros {
    cpm.div_ceil(1000)
}

/// Writes micros as a JSON decimal number with no trailing zeros (`2500000` -> `2.5`).
pub fn write_decimal(out: &mut Vec<u8>, micros: Micros) {
    let mut int = itoa::Buffer::new();
    out.extend_from_slice(int.format(micros / MICROS_PER_UNIT).as_bytes());
    let mut frac = micros % MICROS_PER_UNIT;
    if frac == 0 {
        return;
    }
    let mut digits = 6;
    while frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    out.push(b'.');
    let text = int.format(frac);
    out.extend(std::iter::repeat_n(b'0', digits - text.len()));
    out.extend_from_slice(text.as_bytes());
}

/// An ISO-4217 currency code, stored as three upper-case ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollars: OpenRTB's default currency and the FX table's base.
    pub const USD: Currency = Currency(*b"USD");

    /// Parses a three-letter code, case-insensitively.
    pub fn parse(code: &str) -> Option<Currency> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        if !bytes.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        Some(Currency(bytes.map(|b| b.to_ascii_uppercase())))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fixed exchange-rate table: how many units of each currency buy one US dollar.
///
/// Floors are converted rounding up and a campaign's prices rounding down, so a
/// converted bid never falls below a floor or rises above a cap because of rounding
/// (see the module's rounding table).
#[derive(Debug, Clone)]
pub struct FxTable {
    units_per_usd: FxHashMap<Currency, f64>,
}

impl FxTable {
    /// Builds a table from `(currency, units per USD)` pairs; USD is always 1.
    pub fn new(rates: impl IntoIterator<Item = (Currency, f64)>) -> Result<FxTable, FxError> {
        let mut units_per_usd = FxHashMap::default();
        units_per_usd.insert(Currency::USD, 1.0);
        for (currency, rate) in rates {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(FxError::BadRate(currency));
            }
            if currency == Currency::USD && rate != 1.0 {
                return Err(FxError::BadRate(currency));
            }
            units_per_usd.insert(currency, rate);
        }
        Ok(FxTable { units_per_usd })
    }

    /// How many units of `currency` buy one US dollar; `None` when unknown.
    pub fn units_per_usd(&self, currency: Currency) -> Option<f64> {
        self.units_per_usd.get(&currency).copied()
    }

    /// Whether amounts in `currency` can be converted.
    pub fn knows(&self, currency: Currency) -> bool {
        self.units_per_usd.contains_key(&currency)
    }

    /// Converts an amount as a float: `amount × units_per_usd(to) / units_per_usd(from)`.
    /// This is the table's definition of a conversion; `None` when a currency is unknown.
    pub fn convert_amount(&self, amount: f64, from: Currency, to: Currency) -> Option<f64> {
        if from == to {
            return Some(amount);
        }
        Some(amount * self.units_per_usd.get(&to)? / self.units_per_usd.get(&from)?)
    }

    /// Converts micros rounding down (a campaign's prices and limits): the most
    /// micros of `to` that read back as at most the converted amount. `None` when
    /// a currency is unknown.
    pub fn convert_down(&self, micros: Micros, from: Currency, to: Currency) -> Option<Micros> {
        if from == to {
            return Some(micros);
        }
        micros_down(self.convert_amount(to_amount(micros), from, to)?)
    }

    /// Converts micros rounding up (spend): the fewest micros of `to` that read back
    /// as at least the converted amount. `None` when a currency is unknown.
    pub fn convert_up(&self, micros: Micros, from: Currency, to: Currency) -> Option<Micros> {
        if from == to {
            return Some(micros);
        }
        micros_up(self.convert_amount(to_amount(micros), from, to)?)
    }
}

impl Default for FxTable {
    /// A table that only knows US dollars.
    fn default() -> Self {
        FxTable::new([]).expect("empty table is valid")
    }
}

/// A rejected FX table entry.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FxError {
    /// A rate that is not a positive finite number, or a USD rate other than 1.
    #[error("rate for {0} must be a positive number (and exactly 1 for USD)")]
    BadRate(Currency),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(micros: Micros) -> String {
        let mut out = Vec::new();
        write_decimal(&mut out, micros);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decimals_have_no_trailing_zeros() {
        assert_eq!(decimal(0), "0");
        assert_eq!(decimal(2_500_000), "2.5");
        assert_eq!(decimal(1_000_001), "1.000001");
        assert_eq!(decimal(30_000), "0.03");
        assert_eq!(decimal(12_000_000), "12");
    }

    #[test]
    fn amounts_round_up_for_floors_and_spend_and_down_for_limits() {
        assert_eq!(micros_up(1.25), Some(1_250_000));
        assert_eq!(micros_down(1.25), Some(1_250_000));
        // Seven decimals: 2.8 would read back below the floor.
        assert_eq!(micros_up(2.8000001), Some(2_800_001));
        assert_eq!(micros_down(2.8000001), Some(2_800_000));
        assert_eq!(micros_down(2.8000009), Some(2_800_000));
        assert_eq!(micros_up(4.0 / 0.9), Some(4_444_445));
        // 0.1 + 0.2 is a float a hair above 0.3, and 0.3 reads back below it.
        assert_eq!(micros_up(0.1 + 0.2), Some(300_001));
        assert_eq!(micros_up(0.0), Some(0));
        assert_eq!(micros_up(1e-9), Some(1));
        for bad in [-0.01, f64::NAN, f64::INFINITY, 1e12] {
            assert_eq!(micros_up(bad), None, "{bad}");
            assert_eq!(micros_down(bad), None, "{bad}");
        }
    }

    #[test]
    fn rounded_micros_read_back_on_the_right_side() {
        let mut x = 0.123_456_789_f64;
        for _ in 0..10_000 {
            let (up, down) = (micros_up(x).unwrap(), micros_down(x).unwrap());
            assert!(to_amount(up) >= x && to_amount(up - 1) < x, "{x}");
            assert!(to_amount(down) <= x && to_amount(down + 1) > x, "{x}");
            x = (x * 1.618_033_988_7 + 0.000_000_7) % 1000.0;
        }
    }

    #[test]
    fn impressions_cost_a_thousandth_of_the_cpm_rounded_up() {
        assert_eq!(impression_cost(2_500_000), 2_500);
        assert_eq!(impression_cost(2_500_001), 2_501);
        assert_eq!(impression_cost(1), 1);
        assert_eq!(impression_cost(0), 0);
    }

    #[test]
    fn currency_codes_are_three_letters() {
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
        assert!(Currency::parse("EURO").is_none());
        assert!(Currency::parse("E1R").is_none());
    }

    #[test]
    fn conversion_rounds_floors_and_spend_up_and_bids_down() {
        let eur = Currency::parse("EUR").unwrap();
        let fx = FxTable::new([(eur, 0.9)]).unwrap();
        // 1 EUR = 1.111111.. USD: spend and floors round up, prices down.
        let floor = |amount, from| micros_up(fx.convert_amount(amount, from, Currency::USD)?);
        assert_eq!(
            fx.convert_up(1_000_000, eur, Currency::USD),
            Some(1_111_112)
        );
        assert_eq!(floor(1.0, eur), Some(1_111_112));
        assert_eq!(
            fx.convert_down(1_000_000, eur, Currency::USD),
            Some(1_111_111)
        );
        assert_eq!(
            fx.convert_down(2_000_000, Currency::USD, eur),
            Some(1_800_000)
        );
        // A floor converts from its float, not from micros rounded first.
        assert_eq!(floor(0.9000001, eur), Some(1_000_001));
        let gbp = Currency::parse("GBP").unwrap();
        assert_eq!(fx.convert_up(1, gbp, Currency::USD), None);
        assert_eq!(floor(1.0, gbp), None);
    }

    #[test]
    fn rejects_bad_rates() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            FxTable::new([(eur, 0.0)]).unwrap_err(),
            FxError::BadRate(eur)
        );
        assert!(FxTable::new([(Currency::USD, 2.0)]).is_err());
    }
}
