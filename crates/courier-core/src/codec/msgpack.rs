//! A MessagePack reader for the bodies `rmp-serde` writes, straight from the slice: it
//! looks at each marker once, borrows every string and byte string from the body, and
//! matches struct field names as bytes, where `rmp-serde` reads each marker through
//! `std::io::Read` and checks every field name for UTF-8 first.
//!
//! It gives each visitor exactly what `rmp-serde` gives it, and refuses whatever it does
//! not read the same way (extension types, 128-bit integers, byte strings where a
//! sequence is asked for, enums written as arrays or by index): the codec then reads the
//! body again with `rmp-serde`, whose value or error is the answer. So is any malformed
//! body, so that errors read as they always have.

use serde::de::{self, DeserializeSeed, Visitor};
use std::fmt;

/// Reads a `T` from `bytes`, nesting at most `max_depth` maps and arrays; `None` when
/// the body must be read by `rmp-serde` instead.
pub(super) fn read<T: de::DeserializeOwned>(bytes: &[u8], max_depth: usize) -> Option<T> {
    T::deserialize(&mut Reader { input: bytes, depth: max_depth }).ok()
}

struct Reader<'de> {
    input: &'de [u8],
    /// How many more maps and arrays may open; the last one allowed opens at 1.
    depth: usize,
}

/// Why this reader handed a body back; never shown, since `rmp-serde` reads it again.
#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("read by rmp-serde instead")
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Refused
    }
}

type Result<T> = std::result::Result<T, Refused>;

/// What a marker with a length opens.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bin,
    Array,
    Map,
}

impl<'de> Reader<'de> {
    fn peek(&self) -> Result<u8> {
        self.input.first().copied().ok_or(Refused)
    }

    fn take(&mut self, count: usize) -> Result<&'de [u8]> {
        if self.input.len() < count {
            return Err(Refused);
        }
        let (taken, rest) = self.input.split_at(count);
        self.input = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| Refused)
    }

    fn length(&mut self, bytes: usize) -> Result<usize> {
        Ok(match bytes {
            1 => usize::from(self.byte()?),
            2 => usize::from(u16::from_be_bytes(self.be()?)),
            _ => u32::from_be_bytes(self.be()?) as usize,
        })
    }

    /// The kind and length of the string, byte string, array or map whose marker is
    /// next, taking the marker and its length; `None` (taking nothing) for anything else.
    fn container(&mut self) -> Result<Option<(Kind, usize)>> {
        let marker = self.peek()?;
        let (kind, length) = match marker {
            0x80..=0x8f => (Kind::Map, usize::from(marker & 0x0f)),
            0x90..=0x9f => (Kind::Array, usize::from(marker & 0x0f)),
            0xa0..=0xbf => (Kind::Str, usize::from(marker & 0x1f)),
            0xc4..=0xc6 | 0xd9..=0xdf => {
                let kind = match marker {
                    0xc4..=0xc6 => Kind::Bin,
                    0xd9..=0xdb => Kind::Str,
                    0xdc | 0xdd => Kind::Array,
                    _ => Kind::Map,
                };
                let width = match marker {
                    0xc4 | 0xd9 => 1,
                    0xc5 | 0xda | 0xdc | 0xde => 2,
                    _ => 4,
                };
                self.input = &self.input[1..];
                return Ok(Some((kind, self.length(width)?)));
            }
            _ => return Ok(None),
        };
        self.input = &self.input[1..];
        Ok(Some((kind, length)))
    }

    /// Reads the value that starts here, giving `visitor` what `rmp-serde` would.
    fn value<V: Visitor<'de>>(&mut self, visitor: V, bytes_allowed: bool) -> Result<V::Value> {
        if let Some((kind, length)) = self.container()? {
            return match kind {
                Kind::Str => visitor.visit_borrowed_str(std::str::from_utf8(self.take(length)?).map_err(|_| Refused)?),
                Kind::Bin if bytes_allowed => visitor.visit_borrowed_bytes(self.take(length)?),
                Kind::Bin => Err(Refused),
                Kind::Array => self.nested(|reader| {
                    let mut items = Items { reader, left: length };
                    let value = visitor.visit_seq(&mut items)?;
                    items.all_read(value)
                }),
                Kind::Map => self.nested(|reader| {
                    let mut items = Items { reader, left: length };
                    let value = visitor.visit_map(&mut items)?;
                    items.all_read(value)
                }),
            };
        }
        match self.byte()? {
            marker @ 0x00..=0x7f => visitor.visit_u8(marker),
            marker @ 0xe0..=0xff => visitor.visit_i8(marker as i8),
            0xc0 => visitor.visit_unit(),
            0xc2 => visitor.visit_bool(false),
            0xc3 => visitor.visit_bool(true),
            0xca => visitor.visit_f32(f32::from_be_bytes(self.be()?)),
            0xcb => visitor.visit_f64(f64::from_be_bytes(self.be()?)),
            0xcc => visitor.visit_u8(self.byte()?),
            0xcd => visitor.visit_u16(u16::from_be_bytes(self.be()?)),
            0xce => visitor.visit_u32(u32::from_be_bytes(self.be()?)),
            0xcf => visitor.visit_u64(u64::from_be_bytes(self.be()?)),
            0xd0 => visitor.visit_i8(self.byte()? as i8),
            0xd1 => visitor.visit_i16(i16::from_be_bytes(self.be()?)),
            0xd2 => visitor.visit_i32(i32::from_be_bytes(self.be()?)),
            0xd3 => visitor.visit_i64(i64::from_be_bytes(self.be()?)),
            // Extension types, and the reserved marker.
            _ => Err(Refused),
        }
    }

    /// Runs `read` one map or array deeper, within the depth allowed.
    fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.depth = self.depth.checked_sub(1).filter(|depth| *depth > 0).ok_or(Refused)?;
        let read = read(self);
        self.depth += 1;
        read
    }

    /// Skips the value that starts here.
    fn skip(&mut self) -> Result<()> {
        if let Some((kind, length)) = self.container()? {
            return match kind {
                Kind::Str | Kind::Bin => self.take(length).map(drop),
                Kind::Array => self.nested(|reader| (0..length).try_for_each(|_| reader.skip())),
                Kind::Map => self.nested(|reader| (0..length * 2).try_for_each(|_| reader.skip())),
            };
        }
        let size = match self.byte()? {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => 0,
            0xcc | 0xd0 => 1,
            0xcd | 0xd1 => 2,
            0xca | 0xce | 0xd2 => 4,
            0xcb | 0xcf | 0xd3 => 8,
            _ => return Err(Refused),
        };
        self.take(size).map(drop)
    }
}

/// The elements of an array, or the keys and values of a map, still to read.
struct Items<'a, 'de> {
    reader: &'a mut Reader<'de>,
    left: usize,
}

impl Items<'_, '_> {
    /// What the visitor made of the array or map, unless it stopped before the end,
    /// which `rmp-serde` refuses too.
    fn all_read<T>(&self, value: T) -> Result<T> {
        match self.left {
            0 => Ok(value),
            _ => Err(Refused),
        }
    }

    fn next(&mut self) -> bool {
        let more = self.left > 0;
        self.left = self.left.saturating_sub(1);
        more
    }
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.next() {
            true => seed.deserialize(&mut *self.reader).map(Some),
            false => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.next() {
            true => seed.deserialize(&mut *self.reader).map(Some),
            false => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.reader)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

macro_rules! through_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.value(visitor, true)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = Refused;

    through_value! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64
        deserialize_char deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_unit deserialize_map
    }

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            0xc0 => {
                self.input = &self.input[1..];
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            0xc0 | 0x90 => {
                self.input = &self.input[1..];
                visitor.visit_unit()
            }
            _ => self.value(visitor, true),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value> {
        // `rmp-serde`'s extension types travel as a newtype struct of this name.
        match name {
            "_ExtStruct" => Err(Refused),
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.value(visitor, false)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value> {
        self.value(visitor, false)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, visitor: V) -> Result<V::Value> {
        self.value(visitor, false)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.value(visitor, false)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek()? {
            // `{variant: value}`.
            0x81 => {
                self.input = &self.input[1..];
                visitor.visit_enum(Variant { reader: self, unit: false })
            }
            // A unit variant, by name.
            0xa0..=0xbf | 0xd9..=0xdb => visitor.visit_enum(Variant { reader: self, unit: true }),
            _ => Err(Refused),
        }
    }

    /// A field or variant name: matched as bytes, without checking it for UTF-8 first
    /// (a name that is not UTF-8 matches no field, as it would not after the check).
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            0xa0..=0xbf | 0xd9..=0xdb => {
                let Some((_, length)) = self.container()? else { return Err(Refused) };
                visitor.visit_borrowed_bytes(self.take(length)?)
            }
            _ => self.value(visitor, true),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip()?;
        visitor.visit_unit()
    }
}

/// An enum's variant: `unit` when the variant's name was all there was.
struct Variant<'a, 'de> {
    reader: &'a mut Reader<'de>,
    unit: bool,
}

impl<'de> de::EnumAccess<'de> for Variant<'_, 'de> {
    type Error = Refused;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self)> {
        let variant = seed.deserialize(&mut *self.reader)?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de> {
    type Error = Refused;

    fn unit_variant(self) -> Result<()> {
        match self.unit {
            true => Ok(()),
            false => match self.reader.byte()? {
                0xc0 => Ok(()),
                _ => Err(Refused),
            },
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        match self.unit {
            true => Err(Refused),
            false => seed.deserialize(self.reader),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, length: usize, visitor: V) -> Result<V::Value> {
        match self.unit {
            true => Err(Refused),
            false => de::Deserializer::deserialize_tuple(self.reader, length, visitor),
        }
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value> {
        match self.unit {
            true => Err(Refused),
            false => de::Deserializer::deserialize_struct(self.reader, "", fields, visitor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{de::DeserializeOwned, Deserialize, Serialize};
    use std::collections::{BTreeMap, HashMap};

    /// What `rmp-serde` reads from `bytes`, with the codec's depth limit.
    fn by_rmp<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
        let mut deserializer = rmp_serde::Deserializer::from_read_ref(bytes);
        deserializer.set_max_depth(128);
        T::deserialize(&mut deserializer).ok()
    }

    /// Reads `value` as written by `rmp-serde`, with field names and without, and checks
    /// that this reader takes it and reads what `rmp-serde` reads.
    fn same<T: Serialize + DeserializeOwned + PartialEq + fmt::Debug>(value: &T) {
        for bytes in [rmp_serde::to_vec_named(value).expect("encodes"), rmp_serde::to_vec(value).expect("encodes")] {
            let expected: T = by_rmp(&bytes).expect("rmp-serde reads it");
            assert_eq!(read::<T>(&bytes, 128).as_ref(), Some(&expected), "{value:?}");
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Everything {
        small: u8,
        medium: u16,
        large: u32,
        huge: u64,
        negative: i8,
        i16s: i16,
        i32s: i32,
        i64s: i64,
        float: f32,
        double: f64,
        yes: bool,
        letter: char,
        text: String,
        maybe: Option<Option<u32>>,
        list: Vec<String>,
        pairs: Vec<(u8, String)>,
        by_name: BTreeMap<String, Shape>,
        by_number: HashMap<u32, Vec<u8>>,
        unit: Marker,
        wrapped: Meters,
        nothing: (),
        json: serde_json::Value,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Marker;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Meters(f64);

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Point,
        Circle(f64),
        Segment(u8, u8),
        Rectangle { width: u32, height: u32 },
    }

    #[test]
    fn reads_every_kind_of_value_as_rmp_serde_does() {
        let mut by_number = HashMap::new();
        by_number.insert(7, vec![0, 255]);
        let by_name: BTreeMap<String, Shape> =
            [("p", Shape::Point), ("c", Shape::Circle(1.5)), ("s", Shape::Segment(1, 2))]
                .into_iter()
                .map(|(name, shape)| (name.to_owned(), shape))
                .chain([("r".to_owned(), Shape::Rectangle { width: 3, height: 4 })])
                .collect();
        for (small, huge, negative, text) in
            [(0, 0, 0, ""), (127, u64::MAX, -32, "é ☃"), (255, 1 << 40, i8::MIN, &"long text ".repeat(40)[..])]
        {
            same(&Everything {
                small,
                medium: u16::from(small) * 200,
                large: u32::from(small) << 20,
                huge,
                negative,
                i16s: -300,
                i32s: i32::MIN,
                i64s: i64::MIN,
                float: 1.25,
                double: -2.5e300,
                yes: small % 2 == 0,
                letter: 'ß',
                text: text.to_owned(),
                maybe: [None, Some(None), Some(Some(9))][usize::from(small % 3)],
                list: vec![text.to_owned(); usize::from(small % 20)],
                pairs: vec![(1, "one".to_owned())],
                by_name: if small == 0 { BTreeMap::new() } else { by_name.clone() },
                by_number: by_number.clone(),
                unit: Marker,
                wrapped: Meters(3.0),
                nothing: (),
                json: serde_json::json!({"a": [1, -2, 3.5, "x", null, true], "b": {}}),
            });
        }
        same(&vec![Shape::Point; 20]);
        same(&(0..70_000u32).collect::<Vec<_>>());
    }

    #[test]
    fn a_newer_writer_s_fields_are_skipped_and_an_older_one_s_missing_defaulted() {
        #[derive(Serialize)]
        struct Newer {
            name: String,
            added: BTreeMap<String, Vec<Option<f64>>>,
            count: u32,
        }
        #[derive(Debug, PartialEq, Deserialize)]
        struct Older {
            name: String,
            count: u32,
            #[serde(default)]
            missing: Vec<u8>,
        }
        let added = [("k".to_owned(), vec![Some(1.0), None])].into_iter().collect();
        let bytes = rmp_serde::to_vec_named(&Newer { name: "n".to_owned(), added, count: 3 }).expect("encodes");
        let expected = Older { name: "n".to_owned(), count: 3, missing: Vec::new() };
        assert_eq!(by_rmp::<Older>(&bytes).as_ref(), Some(&expected));
        assert_eq!(read::<Older>(&bytes, 128), Some(expected));
    }

    #[test]
    fn what_it_does_not_read_as_rmp_serde_does_it_hands_back() {
        // 128-bit integers, byte strings where a sequence is asked for, extension
        // types, a unit variant by index, and bytes that are not UTF-8 in a string.
        let refused: [Vec<u8>; 5] = [
            rmp_serde::to_vec(&1u128).expect("encodes"),
            vec![0xc4, 2, 1, 2],
            vec![0xd4, 1, 0],
            vec![0x01],
            vec![0xa2, 0xff, 0xfe],
        ];
        assert_eq!(read::<u128>(&refused[0], 128), None);
        assert_eq!(read::<Vec<u8>>(&refused[1], 128), None);
        assert_eq!(read::<serde_json::Value>(&refused[2], 128), None);
        assert_eq!(read::<Shape>(&refused[3], 128), None);
        assert_eq!(read::<String>(&refused[4], 128), None);
        // The codec reads them with `rmp-serde`, and reports its errors.
        use crate::codec::{Codec, MsgPackCodec};
        assert_eq!(MsgPackCodec::decode::<u128>(&refused[0]).expect("read by rmp-serde"), 1);
        assert_eq!(MsgPackCodec::decode::<Vec<u8>>(&refused[1]).expect("read by rmp-serde"), [1, 2]);
        let error = MsgPackCodec::decode::<String>(&refused[4]).expect_err("not UTF-8");
        assert!(error.message.starts_with("invalid MessagePack body: "), "{}", error.message);
    }

    #[test]
    fn nesting_stops_where_rmp_serde_stops_it() {
        let nested = |depth: usize| [vec![0x91; depth], vec![0x90]].concat();
        let allowed = nested(126);
        assert!(by_rmp::<serde_json::Value>(&allowed).is_some());
        assert_eq!(read::<serde_json::Value>(&allowed, 128), by_rmp(&allowed));
        let deep = nested(127);
        assert!(by_rmp::<serde_json::Value>(&deep).is_none());
        assert!(read::<serde_json::Value>(&deep, 128).is_none());
        assert!(read::<serde::de::IgnoredAny>(&nested(100_000), 128).is_none(), "skipping is bounded too");
    }

    #[test]
    fn whatever_it_reads_from_any_bytes_rmp_serde_reads_the_same() {
        let mut rng = fastrand::Rng::with_seed(11);
        let markers = [0x00, 0x7f, 0x81, 0x92, 0xa3, 0xc0, 0xc2, 0xc3, 0xc4, 0xca, 0xcb, 0xcd, 0xd1, 0xd9, 0xdc, 0xde];
        let mut taken = 0;
        for _ in 0..50_000 {
            let bytes: Vec<u8> = (0..rng.usize(1..24))
                .map(|_| if rng.bool() { markers[rng.usize(..markers.len())] } else { rng.u8(..) })
                .collect();
            if let Some(value) = read::<serde_json::Value>(&bytes, 128) {
                taken += 1;
                assert_eq!(by_rmp::<serde_json::Value>(&bytes), Some(value), "{bytes:02x?}");
            }
            if let Some(value) = read::<Option<Shape>>(&bytes, 128) {
                assert_eq!(by_rmp::<Option<Shape>>(&bytes), Some(value), "{bytes:02x?}");
            }
        }
        assert!(taken > 1_000, "only {taken} bodies were read");
    }
}
