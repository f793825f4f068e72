//! Whether a value holds a number JSON cannot carry: `serde_json` writes NaN and the
//! infinities as `null`, which would reach the other side as something else, or as a
//! decoding error about a `null` nobody sent.

use serde::ser::{self, Serialize};
use std::fmt;

/// The first NaN or infinity in `value`, if any.
pub(crate) fn non_finite<T: Serialize + ?Sized>(value: &T) -> Option<f64> {
    match value.serialize(Probe) {
        Err(Found::NonFinite(number)) => Some(number),
        Ok(()) | Err(Found::Custom) => None,
    }
}

/// Walks a value, stopping at the first number that is not finite.
struct Probe;

#[derive(Debug)]
enum Found {
    NonFinite(f64),
    /// The value's own `Serialize` failed; the encoder reports that itself.
    Custom,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFinite(number) => write!(f, "{number} is not a JSON number"),
            Self::Custom => f.write_str("the value cannot be serialized"),
        }
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Self::Custom
    }
}

fn number(value: f64) -> Result<(), Found> {
    match value.is_finite() {
        true => Ok(()),
        false => Err(Found::NonFinite(value)),
    }
}

/// The methods that take nothing to look into.
macro_rules! leaves {
    ($($method:ident($($ty:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $ty),*) -> Result<(), Found> { Ok(()) })*
    };
}

impl ser::Serializer for Probe {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    leaves!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_f32(self, value: f32) -> Result<(), Found> {
        number(f64::from(value))
    }

    fn serialize_f64(self, value: f64) -> Result<(), Found> {
        number(value)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Found> {
        Ok(self)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self, Found> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Found> {
        Ok(self)
    }

    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self, Found> {
        Ok(self)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self, Found> {
        Ok(self)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Found> {
        Ok(self)
    }

    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self, Found> {
        Ok(self)
    }
}

/// The compound serializers: each element is probed in turn.
macro_rules! compound {
    ($($trait:ident :: $method:ident ($($key:ident: $key_ty:ty),*)),* $(,)?) => {
        $(impl ser::$trait for Probe {
            type Ok = ();
            type Error = Found;

            fn $method<T: Serialize + ?Sized>(&mut self, $($key: $key_ty,)* value: &T) -> Result<(), Found> {
                $(let _ = $key;)*
                value.serialize(Probe)
            }

            fn end(self) -> Result<(), Found> {
                Ok(())
            }
        })*
    };
}

compound!(
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    SerializeStruct::serialize_field(key: &'static str),
    SerializeStructVariant::serialize_field(key: &'static str),
);

impl ser::SerializeMap for Probe {
    type Ok = ();
    type Error = Found;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Found> {
        key.serialize(Probe)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        value.serialize(Probe)
    }

    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn finds_a_nan_or_an_infinity_at_any_depth_and_nothing_else() {
        assert_eq!(non_finite(&vec![Some(1.0), None, Some(f64::INFINITY)]), Some(f64::INFINITY));
        assert!(non_finite(&BTreeMap::from([("a", (1, f32::NAN))])).is_some_and(f64::is_nan));
        assert_eq!(non_finite(&(f64::MAX, f64::MIN_POSITIVE, -0.0, "NaN", Option::<f64>::None)), None);
    }
}
