//! Tolerant readers for request fields: what real exchanges send where OpenRTB 2.x
//! says otherwise, accepted wherever the meaning is unambiguous (docs/openrtb.md
//! lists every case). Fields opt in with `#[serde(default, deserialize_with = ..)]`.
//!
//! Accepted:
//! - `null` for any optional field: absent;
//! - numbers sent as strings (`"0.5"`, `"300"`, `" 300 "`), an empty string meaning
//!   absent; whole numbers written as floats (`300.0`, `1.5e2`); `true`/`false`
//!   for an integer flag (1/0);
//! - an id sent as a number (`"id": 123` reads as `"123"`);
//! - a single value where an array is specified (`"cat": "IAB1"`, `"protocols": 2`),
//!   and a single string holding a comma-separated list (`"bcat": "IAB1,IAB2"`):
//!   no category, domain, bundle, seat or currency contains a comma.
//!
//! Still refused, because the meaning is not clear: a fraction where an integer is
//! specified (`"w": 300.5`), a number out of the field's range, a string that is
//! not a number where one is expected, and an object where a number or text is.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::value::{BoolDeserializer, BorrowedStrDeserializer, I64Deserializer};
use serde::de::value::{F64Deserializer, StrDeserializer, U64Deserializer};
use serde::de::{DeserializeSeed, Error, MapAccess, SeqAccess, Visitor};

use super::borrowed::{List, Str};

/// An integer field: `None` when absent, `null` or `""`.
pub(super) fn int<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    deserializer.deserialize_any(IntVisitor(PhantomData))
}

/// An integer field whose absence means 0 (flags such as `test`, `coppa`).
pub(super) fn int_or_zero<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + Default,
{
    Ok(int(deserializer)?.unwrap_or_default())
}

/// A decimal field (prices): `None` when absent, `null` or `""`. Never NaN or
/// infinite.
pub(super) fn float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    deserializer.deserialize_any(FloatVisitor)
}

/// A decimal field whose absence means 0 (`bidfloor`).
pub(super) fn float_or_zero<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(float(deserializer)?.unwrap_or(0.0))
}

/// A text field that some exchanges send as a number (ids).
pub(super) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Str<'de>, D::Error> {
    deserializer.deserialize_any(TextVisitor)
}

/// An optional text field that some exchanges send as a number (ids).
pub(super) fn opt_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Str<'de>>, D::Error> {
    deserializer.deserialize_any(OptTextVisitor)
}

/// An array field: also a single value, a comma-separated string, or `null`
/// (empty). `null` items inside the array are skipped.
pub(super) fn list<'de, D, T, const N: usize>(deserializer: D) -> Result<List<T, N>, D::Error>
where
    D: Deserializer<'de>,
    T: Item<'de>,
{
    let mut list = List::new();
    deserializer.deserialize_any(ListVisitor(&mut list))?;
    Ok(list)
}

/// A field that is only recorded, never decided on (privacy signals, `at`,
/// `instl`, ...): whatever it holds is read if it is what the spec says and
/// absent otherwise, so it never costs the request. Reads an integer the way
/// [`int`] does.
pub(super) fn recorded_int<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    deserializer.deserialize_any(Recorded(IntVisitor(PhantomData), false))
}

/// A recorded-only 0/1 flag: anything but 0 or 1 (`2`, `"yes"`) is absent.
pub(super) fn recorded_flag<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u8>, D::Error> {
    Ok(recorded_int::<D, u8>(deserializer)?.filter(|flag| *flag <= 1))
}

/// A recorded-only text field: anything but text or a number is absent.
pub(super) fn recorded_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Str<'de>>, D::Error> {
    deserializer.deserialize_any(Recorded(OptTextVisitor, false))
}

/// A recorded-only object (`user.ext`, `regs.ext`): anything but an object is
/// absent. Its own fields must be recorded-only too, so nothing inside fails.
pub(super) fn recorded_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct ObjectVisitor<T>(PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Option<T>, M::Error> {
            let map = serde::de::value::MapAccessDeserializer::new(map);
            T::deserialize(map).map(Some)
        }
    }
    deserializer.deserialize_any(Recorded(ObjectVisitor(PhantomData), true))
}

/// Wraps a visitor so that every value it would refuse reads as `None`: arrays
/// are skipped whole, and objects too unless the visitor reads objects (`true`).
struct Recorded<V>(V, bool);

macro_rules! recorded_scalars {
    ($($method:ident($t:ty)),*) => {$(
        fn $method<E: Error>(self, v: $t) -> Result<Self::Value, E> {
            Ok(self.0.$method::<E>(v).ok().flatten())
        }
    )*};
}

impl<'de, T, V: Visitor<'de, Value = Option<T>>> Visitor<'de> for Recorded<V> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    recorded_scalars!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64)
    );
    recorded_scalars!(visit_str(&str), visit_borrowed_str(&'de str));

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        if self.1 {
            return self.0.visit_map(map);
        }
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }
}

/// A type that can be an item of a tolerant [`list`]; `None` skips the item.
pub(super) trait Item<'de>: Sized {
    /// Reads one item.
    fn read<D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error>;

    /// Reads an item given as a lone object where the list was expected.
    fn read_object<M: MapAccess<'de>>(map: M) -> Result<Option<Self>, M::Error> {
        let _ = map;
        Err(M::Error::custom("expected an array, found an object"))
    }
}

macro_rules! int_items {
    ($($t:ty),*) => {$(
        impl<'de> Item<'de> for $t {
            fn read<D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
                int(deserializer)
            }
        }
    )*};
}
int_items!(u8, u16, u32);

/// Owned text, for the parts of the request kept past its body (the native
/// request's video MIME types).
impl<'de> Item<'de> for String {
    fn read<D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        Ok(opt_text(deserializer)?.map(|text| text.to_string()))
    }
}

impl<'de: 'a, 'a> Item<'de> for Str<'a> {
    fn read<D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        opt_text(deserializer)
    }
}

/// Items that are objects: read with their own `Deserialize`, `null` skipped.
/// `object_items!(Format, Deal<'a>)`.
macro_rules! object_items {
    ($($t:ident $(<$l:lifetime>)?),*) => {$(
        impl<'de $(: $l, $l)?> $crate::openrtb::lenient::Item<'de> for $t $(<$l>)? {
            fn read<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Option<Self>, D::Error> {
                <Option<Self> as serde::Deserialize>::deserialize(deserializer)
            }

            fn read_object<M: serde::de::MapAccess<'de>>(
                map: M,
            ) -> Result<Option<Self>, M::Error> {
                let map = serde::de::value::MapAccessDeserializer::new(map);
                <Self as serde::Deserialize>::deserialize(map).map(Some)
            }
        }
    )*};
}
pub(super) use object_items;

struct IntVisitor<T>(PhantomData<T>);

impl<T: TryFrom<i64>> IntVisitor<T> {
    fn from_i64<E: Error>(v: i64) -> Result<Option<T>, E> {
        T::try_from(v)
            .map(Some)
            .map_err(|_| E::custom(format_args!("integer {v} out of range")))
    }

    fn from_f64<E: Error>(v: f64) -> Result<Option<T>, E> {
        // Whole numbers only: `300.0` and `1.5e2` are 300 and 150; `300.5` is not
        // an integer and its meaning is unclear.
        if v.fract() != 0.0 || !(-9.0e15..=9.0e15).contains(&v) {
            return Err(E::custom(format_args!("expected an integer, found {v}")));
        }
        Self::from_i64(v as i64)
    }
}

impl<'de, T: TryFrom<i64>> Visitor<'de> for IntVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<Option<T>, E> {
        Self::from_i64(v)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<Option<T>, E> {
        let v = i64::try_from(v).map_err(|_| E::custom("integer out of range"))?;
        Self::from_i64(v)
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<Option<T>, E> {
        Self::from_f64(v)
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<Option<T>, E> {
        Self::from_i64(i64::from(v))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Option<T>, E> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        if let Ok(int) = v.parse::<i64>() {
            return Self::from_i64(int);
        }
        match v.parse::<f64>() {
            Ok(float) if float.is_finite() => Self::from_f64(float),
            _ => Err(E::custom(format_args!("expected an integer, found {v:?}"))),
        }
    }

    fn visit_unit<E: Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_none<E: Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
}

struct FloatVisitor;

impl<'de> Visitor<'de> for FloatVisitor {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<Option<f64>, E> {
        if v.is_finite() {
            Ok(Some(v))
        } else {
            Err(E::custom("number out of range"))
        }
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<Option<f64>, E> {
        Ok(Some(v as f64))
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<Option<f64>, E> {
        Ok(Some(v as f64))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Option<f64>, E> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        match v.parse::<f64>() {
            Ok(number) => self.visit_f64(number),
            Err(_) => Err(E::custom(format_args!("expected a number, found {v:?}"))),
        }
    }

    fn visit_unit<E: Error>(self) -> Result<Option<f64>, E> {
        Ok(None)
    }

    fn visit_none<E: Error>(self) -> Result<Option<f64>, E> {
        Ok(None)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Str<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<Str<'de>, E> {
        Ok(Str::borrowed(v))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Str<'de>, E> {
        Ok(Str::owned(v.to_owned()))
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<Str<'de>, E> {
        Ok(Str::owned(v.to_string()))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<Str<'de>, E> {
        Ok(Str::owned(v.to_string()))
    }
}

struct OptTextVisitor;

impl<'de> Visitor<'de> for OptTextVisitor {
    type Value = Option<Str<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<Self::Value, E> {
        TextVisitor.visit_borrowed_str(v).map(Some)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
        TextVisitor.visit_str(v).map(Some)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
        TextVisitor.visit_u64(v).map(Some)
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
        TextVisitor.visit_i64(v).map(Some)
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

struct ListVisitor<'l, T, const N: usize>(&'l mut List<T, N>);

impl<'l, T, const N: usize> ListVisitor<'l, T, N> {
    fn push(self, item: Option<T>) {
        if let Some(item) = item {
            self.0.push(item);
        }
    }
}

impl<'de, T: Item<'de>, const N: usize> Visitor<'de> for ListVisitor<'_, T, N> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(item) = seq.next_element_seed(ItemSeed(PhantomData::<T>))? {
            if let Some(item) = item {
                self.0.push(item);
            }
        }
        Ok(())
    }

    fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<(), E> {
        for piece in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(item) = T::read(BorrowedStrDeserializer::new(piece))? {
                self.0.push(item);
            }
        }
        Ok(())
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<(), E> {
        for piece in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(item) = T::read(StrDeserializer::new(piece))? {
                self.0.push(item);
            }
        }
        Ok(())
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<(), E> {
        let item = T::read(U64Deserializer::new(v))?;
        self.push(item);
        Ok(())
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<(), E> {
        let item = T::read(I64Deserializer::new(v))?;
        self.push(item);
        Ok(())
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<(), E> {
        let item = T::read(F64Deserializer::new(v))?;
        self.push(item);
        Ok(())
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<(), E> {
        let item = T::read(BoolDeserializer::new(v))?;
        self.push(item);
        Ok(())
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<(), M::Error> {
        let item = T::read_object(map)?;
        self.push(item);
        Ok(())
    }

    fn visit_unit<E: Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: Error>(self) -> Result<(), E> {
        Ok(())
    }
}

struct ItemSeed<T>(PhantomData<T>);

impl<'de, T: Item<'de>> DeserializeSeed<'de> for ItemSeed<T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        T::read(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Probe<'a> {
        #[serde(default, deserialize_with = "int")]
        w: Option<u32>,
        #[serde(default, deserialize_with = "int")]
        slot: Option<i8>,
        #[serde(default, deserialize_with = "float_or_zero")]
        floor: f64,
        #[serde(default, deserialize_with = "opt_text", borrow)]
        id: Option<Str<'a>>,
        #[serde(default, deserialize_with = "list", borrow)]
        cat: List<Str<'a>, 2>,
        #[serde(default, deserialize_with = "list")]
        protocols: List<u8, 2>,
    }

    fn probe(json: &str) -> Result<Probe<'_>, crate::json_in::Error> {
        crate::json_in::from_str(json)
    }

    #[test]
    fn numbers_come_as_numbers_strings_whole_floats_and_booleans() {
        for (json, w) in [
            (r#"{"w":300}"#, Some(300)),
            (r#"{"w":"300"}"#, Some(300)),
            (r#"{"w":" 300 "}"#, Some(300)),
            (r#"{"w":300.0}"#, Some(300)),
            (r#"{"w":1.5e2}"#, Some(150)),
            (r#"{"w":"3e2"}"#, Some(300)),
            (r#"{"w":true}"#, Some(1)),
            (r#"{"w":null}"#, None),
            (r#"{"w":""}"#, None),
            (r#"{}"#, None),
        ] {
            assert_eq!(probe(json).unwrap().w, w, "{json}");
        }
        assert_eq!(probe(r#"{"slot":-1}"#).unwrap().slot, Some(-1));
        assert_eq!(probe(r#"{"floor":"0.5"}"#).unwrap().floor, 0.5);
        assert_eq!(probe(r#"{"floor":null}"#).unwrap().floor, 0.0);
        assert_eq!(probe(r#"{"floor":2}"#).unwrap().floor, 2.0);
    }

    #[test]
    fn unclear_numbers_are_refused() {
        for json in [
            r#"{"w":300.5}"#,
            r#"{"w":-1}"#,
            r#"{"w":"wide"}"#,
            r#"{"w":5000000000}"#,
            r#"{"w":{}}"#,
            r#"{"w":[300]}"#,
            r#"{"slot":200}"#,
            r#"{"floor":"cheap"}"#,
            r#"{"floor":"NaN"}"#,
            r#"{"floor":"inf"}"#,
        ] {
            assert!(probe(json).is_err(), "{json}");
        }
    }

    #[test]
    fn lists_come_as_arrays_single_values_comma_lists_and_null() {
        let cat = |json| -> Vec<String> {
            let p = probe(json).unwrap();
            p.cat.iter().map(|c| c.to_string()).collect()
        };
        assert_eq!(cat(r#"{"cat":["IAB1","IAB2"]}"#), ["IAB1", "IAB2"]);
        assert_eq!(cat(r#"{"cat":"IAB1"}"#), ["IAB1"]);
        assert_eq!(cat(r#"{"cat":"IAB1, IAB2,"}"#), ["IAB1", "IAB2"]);
        assert_eq!(cat(r#"{"cat":"IAB\u0031"}"#), ["IAB1"]);
        assert_eq!(cat(r#"{"cat":null}"#), Vec::<String>::new());
        assert_eq!(cat(r#"{"cat":["IAB1",null]}"#), ["IAB1"]);
        let p = probe(r#"{"protocols":["2",3.0,7]}"#).unwrap();
        assert_eq!(&*p.protocols, &[2, 3, 7]);
        assert_eq!(&*probe(r#"{"protocols":3}"#).unwrap().protocols, &[3]);
        assert!(probe(r#"{"protocols":[2.5]}"#).is_err());
        assert!(probe(r#"{"cat":[{"x":1}]}"#).is_err());
    }

    #[test]
    fn ids_come_as_text_or_numbers_and_borrow_when_they_can() {
        let p = probe(r#"{"id":"a1"}"#).unwrap();
        assert!(p.id.as_ref().unwrap().is_borrowed());
        assert_eq!(probe(r#"{"id":123}"#).unwrap().id.unwrap(), "123");
        assert_eq!(probe(r#"{"id":null}"#).unwrap().id, None);
        let p = probe(r#"{"cat":"IAB1,IAB2"}"#).unwrap();
        assert!(p.cat.iter().all(Str::is_borrowed));
    }
}
