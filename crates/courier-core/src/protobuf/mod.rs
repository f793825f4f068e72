//! Real protobuf for the `dispatch-protobuf` channel: how Rust types map to protobuf
//! fields, encoded with prost, and the `.proto` schema that describes them.
//!
//! | Rust                                   | protobuf                       |
//! |----------------------------------------|--------------------------------|
//! | `i32`, `i64`, `u32`, `u64`             | `int32`, `int64`, `uint32`, `uint64` |
//! | `f32`, `f64`, `bool`                   | `float`, `double`, `bool`      |
//! | `String`                               | `string`                       |
//! | `Vec<u8>`                              | `bytes`                        |
//! | `Vec<T>`                               | `repeated T` (numbers packed)  |
//! | `Option<T>`                            | `optional T` (a message: the message, with presence) |
//! | `Box<T>`                               | `T`                            |
//! | a struct deriving `ProtoMessage`       | a message of the same name     |
//!
//! Fields are numbered from 1 in declaration order. Nested repeats (`Vec<Vec<T>>`),
//! `Option<Vec<T>>`, maps and enums with data do not map, and are refused at compile time.

mod containers;
mod error;
mod scalar;
mod schema;

pub use error::ErrorMessage;
pub use schema::Schema;

use prost::{
    bytes::{Buf, BufMut},
    encoding::{DecodeContext, WireType},
    DecodeError,
};

/// A type that can be a field of a protobuf message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be carried by the dispatch-protobuf channel",
    label = "no protobuf field type for this",
    note = "protobuf fields are integers (i32, i64, u32, u64), f32, f64, bool, String, Vec<u8>, Vec<T>, Option<T>, Box<T>, and structs that derive `courier::ProtoMessage`; Vec<Vec<T>>, Option<Vec<T>>, maps and tuples have no protobuf form"
)]
pub trait ProtoField: Default + Send + Sync {
    /// How the field is declared in a `.proto` file: `string`, `repeated Node`, ...
    fn declaration(schema: &mut Schema) -> String;
    /// Encodes the field with this tag; proto3 leaves out scalars that hold their default.
    fn encode_field(&self, tag: u32, buf: &mut impl BufMut);
    /// The encoded length of [`encode_field`](Self::encode_field).
    fn encoded_field_len(&self, tag: u32) -> usize;
    /// Merges one occurrence of the field from the wire.
    fn merge_field(&mut self, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), DecodeError>;
}

/// A type that can be one element of a repeated or optional field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of a repeated or optional protobuf field",
    note = "elements are integers, f32, f64, bool, String, Vec<u8>, Box<T>, and structs that derive `courier::ProtoMessage`"
)]
pub trait ProtoElement: Default + Send + Sync + Sized {
    /// Whether the element is a message (which has presence of its own).
    const IS_MESSAGE: bool;
    /// The element's protobuf type name, registering message definitions in `schema`.
    fn type_name(schema: &mut Schema) -> String;
    /// Encodes one element with this tag, even if it holds its default.
    fn encode_one(&self, tag: u32, buf: &mut impl BufMut);
    /// The encoded length of [`encode_one`](Self::encode_one).
    fn encoded_len_one(&self, tag: u32) -> usize;
    /// Merges one element from the wire.
    fn merge_one(&mut self, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), DecodeError>;
    /// Whether proto3 would leave this value out of a plain field.
    fn is_default(&self) -> bool;

    /// Encodes a repeated field.
    fn encode_repeated(values: &[Self], tag: u32, buf: &mut impl BufMut) {
        values.iter().for_each(|value| value.encode_one(tag, buf));
    }
    /// The encoded length of [`encode_repeated`](Self::encode_repeated).
    fn encoded_len_repeated(values: &[Self], tag: u32) -> usize {
        values.iter().map(|value| value.encoded_len_one(tag)).sum()
    }
    /// Merges one occurrence of a repeated field (for numbers: packed or not).
    fn merge_repeated(
        values: &mut Vec<Self>,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let mut value = Self::default();
        value.merge_one(wire_type, buf, ctx)?;
        values.push(value);
        Ok(())
    }
}

/// A struct that is a protobuf message: derived with `#[derive(ProtoMessage)]`.
pub trait ProtoMessage: prost::Message + ProtoElement {
    /// Adds the message's definition (and those of the messages it holds) to `schema`.
    fn describe(schema: &mut Schema) -> String {
        Self::type_name(schema)
    }
}

/// Encodes a message into a new buffer.
pub fn encode_message(message: &impl prost::Message) -> Vec<u8> {
    message.encode_to_vec()
}

/// Decodes a message; a body that is not one is a bad request.
pub fn decode_message<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, crate::ServiceError> {
    M::decode(bytes).map_err(|error| crate::ServiceError::bad_request(format!("invalid protobuf body: {error}")))
}
