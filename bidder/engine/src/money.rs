//! Prices and currencies.
//!
//! Money inside Tern is an integer count of micros (millionths) of a currency unit,
//! so sums are exact and comparisons cheap. OpenRTB prices are CPM (per thousand
//! impressions) as JSON floats; they are converted once, at the edges.

use std::fmt;

use rustc_hash::FxHashMap;

/// Millionths of a currency unit.
pub type Micros = u64;

/// Micros in one currency unit.
pub const MICROS_PER_UNIT: u64 = 1_000_000;

/// Converts a decimal amount (as written in a file or a request) to micros, rounding
/// to the nearest micro. Negative and non-finite amounts are `None`.
pub fn to_micros(amount: f64) -> Option<Micros> {
    if !amount.is_finite() || amount < 0.0 || amount > (u64::MAX / MICROS_PER_UNIT) as f64 {
        return None;
    }
    Some((amount * MICROS_PER_UNIT as f64).round() as Micros)
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
/// Floors are converted rounding up and bids rounding down, so a converted bid never
/// falls below a floor or rises above a cap because of rounding.
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

    fn factor(&self, from: Currency, to: Currency) -> Option<f64> {
        if from == to {
            return Some(1.0);
        }
        Some(self.units_per_usd.get(&to)? / self.units_per_usd.get(&from)?)
    }

    /// Converts rounding down (for bids and caps). `None` when a currency is unknown.
    pub fn convert_down(&self, micros: Micros, from: Currency, to: Currency) -> Option<Micros> {
        if from == to {
            return Some(micros);
        }
        Some((micros as f64 * self.factor(from, to)?).floor() as Micros)
    }

    /// Converts rounding up (for floors). `None` when a currency is unknown.
    pub fn convert_up(&self, micros: Micros, from: Currency, to: Currency) -> Option<Micros> {
        if from == to {
            return Some(micros);
        }
        Some((micros as f64 * self.factor(from, to)?).ceil() as Micros)
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
    fn micros_reject_negative_and_nan() {
        assert_eq!(to_micros(1.25), Some(1_250_000));
        assert_eq!(to_micros(-0.01), None);
        assert_eq!(to_micros(f64::NAN), None);
    }

    #[test]
    fn currency_codes_are_three_letters() {
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
        assert!(Currency::parse("EURO").is_none());
        assert!(Currency::parse("E1R").is_none());
    }

    #[test]
    fn conversion_rounds_floors_up_and_bids_down() {
        let eur = Currency::parse("EUR").unwrap();
        let fx = FxTable::new([(eur, 0.9)]).unwrap();
        // 1 EUR floor = 1.111111.. USD: rounded up so a bid at the floor clears it.
        assert_eq!(
            fx.convert_up(1_000_000, eur, Currency::USD),
            Some(1_111_112)
        );
        assert_eq!(
            fx.convert_down(1_000_000, eur, Currency::USD),
            Some(1_111_111)
        );
        assert_eq!(
            fx.convert_down(2_000_000, Currency::USD, eur),
            Some(1_800_000)
        );
        let gbp = Currency::parse("GBP").unwrap();
        assert_eq!(fx.convert_up(1, gbp, Currency::USD), None);
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
