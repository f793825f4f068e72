use super::{ProtoElement, ProtoField, Schema};
use prost::{
    bytes::{Buf, BufMut},
    encoding::{self, DecodeContext, WireType},
    DecodeError,
};

/// Scalars are fields and elements alike; numbers repeat packed.
macro_rules! scalar {
    ($ty:ty, $codec:ident, $name:literal, packed) => {
        scalar!(@element $ty, $codec, $name);
        impl ProtoElement for $ty {
            const IS_MESSAGE: bool = false;
            scalar!(@common $codec, $name);
            fn encode_repeated(values: &[Self], tag: u32, buf: &mut impl BufMut) {
                encoding::$codec::encode_packed(tag, values, buf);
            }
            fn encoded_len_repeated(values: &[Self], tag: u32) -> usize {
                encoding::$codec::encoded_len_packed(tag, values)
            }
            fn merge_repeated(values: &mut Vec<Self>, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), DecodeError> {
                encoding::$codec::merge_repeated(wire_type, values, buf, ctx)
            }
        }
    };
    ($ty:ty, $codec:ident, $name:literal, unpacked) => {
        scalar!(@element $ty, $codec, $name);
        impl ProtoElement for $ty {
            const IS_MESSAGE: bool = false;
            scalar!(@common $codec, $name);
        }
    };
    (@common $codec:ident, $name:literal) => {
        fn type_name(_: &mut Schema) -> String {
            $name.to_owned()
        }
        fn encode_one(&self, tag: u32, buf: &mut impl BufMut) {
            encoding::$codec::encode(tag, self, buf);
        }
        fn encoded_len_one(&self, tag: u32) -> usize {
            encoding::$codec::encoded_len(tag, self)
        }
        fn merge_one(&mut self, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), DecodeError> {
            encoding::$codec::merge(wire_type, self, buf, ctx)
        }
        fn is_default(&self) -> bool {
            WireDefault::is_wire_default(self)
        }
    };
    (@element $ty:ty, $codec:ident, $name:literal) => {
        impl ProtoField for $ty {
            fn declaration(schema: &mut Schema) -> String {
                <Self as ProtoElement>::type_name(schema)
            }
            fn encode_field(&self, tag: u32, buf: &mut impl BufMut) {
                if !self.is_default() {
                    self.encode_one(tag, buf);
                }
            }
            fn encoded_field_len(&self, tag: u32) -> usize {
                if self.is_default() { 0 } else { self.encoded_len_one(tag) }
            }
            fn merge_field(&mut self, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), DecodeError> {
                self.merge_one(wire_type, buf, ctx)
            }
        }
    };
}

/// Whether a scalar holds the value proto3 leaves off the wire: zero, empty, false; for
/// floats only `+0.0`, so that `-0.0` keeps its sign.
trait WireDefault {
    fn is_wire_default(&self) -> bool;
}

macro_rules! wire_default {
    ($($ty:ty),*) => {
        $(impl WireDefault for $ty {
            fn is_wire_default(&self) -> bool {
                *self == Self::default()
            }
        })*
    };
}

wire_default!(i32, i64, u32, u64, bool, String, Vec<u8>);

impl WireDefault for f32 {
    fn is_wire_default(&self) -> bool {
        self.to_bits() == 0
    }
}

impl WireDefault for f64 {
    fn is_wire_default(&self) -> bool {
        self.to_bits() == 0
    }
}

scalar!(i32, int32, "int32", packed);
scalar!(i64, int64, "int64", packed);
scalar!(u32, uint32, "uint32", packed);
scalar!(u64, uint64, "uint64", packed);
scalar!(f32, float, "float", packed);
scalar!(f64, double, "double", packed);
scalar!(bool, bool, "bool", packed);
scalar!(String, string, "string", unpacked);
scalar!(Vec<u8>, bytes, "bytes", unpacked);
