use super::{ProtoElement, ProtoField, Schema};
use prost::{
    bytes::{Buf, BufMut},
    encoding::{DecodeContext, WireType},
    DecodeError,
};

/// `repeated T`.
impl<T: ProtoElement> ProtoField for Vec<T> {
    fn declaration(schema: &mut Schema) -> String {
        format!("repeated {}", T::type_name(schema))
    }
    fn encode_field(&self, tag: u32, buf: &mut impl BufMut) {
        T::encode_repeated(self, tag, buf);
    }
    fn encoded_field_len(&self, tag: u32) -> usize {
        T::encoded_len_repeated(self, tag)
    }
    fn merge_field(&mut self, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), DecodeError> {
        T::merge_repeated(self, wire_type, buf, ctx)
    }
}

/// `optional T`: present whenever it is `Some`, even holding a default.
impl<T: ProtoElement> ProtoField for Option<T> {
    fn declaration(schema: &mut Schema) -> String {
        let name = T::type_name(schema);
        if T::IS_MESSAGE {
            name
        } else {
            format!("optional {name}")
        }
    }
    fn encode_field(&self, tag: u32, buf: &mut impl BufMut) {
        if let Some(value) = self {
            value.encode_one(tag, buf);
        }
    }
    fn encoded_field_len(&self, tag: u32) -> usize {
        self.as_ref().map_or(0, |value| value.encoded_len_one(tag))
    }
    fn merge_field(&mut self, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), DecodeError> {
        self.get_or_insert_with(T::default).merge_one(wire_type, buf, ctx)
    }
}

/// `Box<T>` is `T` on the wire: what recursive types hold.
impl<T: ProtoElement> ProtoElement for Box<T> {
    const IS_MESSAGE: bool = T::IS_MESSAGE;
    fn type_name(schema: &mut Schema) -> String {
        T::type_name(schema)
    }
    fn encode_one(&self, tag: u32, buf: &mut impl BufMut) {
        (**self).encode_one(tag, buf);
    }
    fn encoded_len_one(&self, tag: u32) -> usize {
        (**self).encoded_len_one(tag)
    }
    fn merge_one(&mut self, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), DecodeError> {
        (**self).merge_one(wire_type, buf, ctx)
    }
    fn is_default(&self) -> bool {
        (**self).is_default()
    }
}

impl<T: ProtoElement + ProtoField> ProtoField for Box<T> {
    fn declaration(schema: &mut Schema) -> String {
        T::declaration(schema)
    }
    fn encode_field(&self, tag: u32, buf: &mut impl BufMut) {
        (**self).encode_field(tag, buf);
    }
    fn encoded_field_len(&self, tag: u32) -> usize {
        (**self).encoded_field_len(tag)
    }
    fn merge_field(&mut self, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), DecodeError> {
        (**self).merge_field(wire_type, buf, ctx)
    }
}
