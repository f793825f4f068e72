mod msgpack;

use crate::{protobuf::ErrorMessage, ErrorCode, ServiceError};
use serde::{de::DeserializeOwned, Serialize};

/// A wire format for arguments, results and errors.
///
/// Implement it to teach courier a new encoding; [`Format`] picks one per call.
pub trait Codec {
    /// The `Content-Type` this codec answers to.
    const CONTENT_TYPE: &'static str;

    /// Encodes a value so that a reader with another version of its type, or none, can
    /// still read it: fields travel with their names.
    fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ServiceError>;

    /// Decodes a value; a body that does not fit the type is a [`ErrorCode::BadRequest`].
    fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ServiceError>;
}

/// Where encoding starts: most calls fit, so the buffer is not regrown byte by byte
/// (growing from empty to 512 bytes took a fifth of a small message's encoding time).
const ENCODE_CAPACITY: usize = 1024;

/// JSON through `serde_json`. Numbers arrive exactly as sent (floats are written in
/// their shortest exact form and parsed exactly); NaN and the infinities, which JSON has
/// no form for, fail the encoding with [`ErrorCode::BadRequest`] rather than travel as
/// `null`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonCodec;

impl Codec for JsonCodec {
    const CONTENT_TYPE: &'static str = "application/json";

    fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ServiceError> {
        let mut buffer = Vec::with_capacity(ENCODE_CAPACITY);
        serde_json::to_writer(&mut buffer, value)
            .map_err(|e| ServiceError::internal(format!("cannot encode JSON: {e}")))?;
        // serde_json writes a NaN or an infinity as `null`: look for one only then.
        if buffer.windows(4).any(|window| window == b"null") {
            if let Some(number) = crate::finite::non_finite(value) {
                return Err(ServiceError::bad_request(format!(
                    "cannot encode JSON: {number} has no JSON form (use the msgpack or protobuf channel to carry it)"
                )));
            }
        }
        Ok(buffer)
    }

    fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ServiceError> {
        serde_json::from_slice(bytes)
            .map_err(|e| ServiceError::new(ErrorCode::BadRequest, format!("invalid JSON body: {e}")))
    }
}

/// MessagePack through `rmp-serde`. Structs travel as maps with their field names, as in
/// JSON, so instances of two versions of a service read each other: a reader skips fields
/// it does not know, and defaults the `#[serde(default)]` ones a writer did not send. It
/// reads structs written as arrays too.
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgPackCodec;

/// How deeply a MessagePack body may nest, as JSON bodies may: deeper ones are refused
/// before decoding them would exhaust the stack.
const MAX_DEPTH: usize = 128;

impl Codec for MsgPackCodec {
    const CONTENT_TYPE: &'static str = "application/msgpack";

    fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ServiceError> {
        let mut buffer = Vec::with_capacity(ENCODE_CAPACITY);
        rmp_serde::encode::write_named(&mut buffer, value)
            .map_err(|e| ServiceError::internal(format!("cannot encode MessagePack: {e}")))?;
        Ok(buffer)
    }

    fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ServiceError> {
        // The fast reader takes what it reads as `rmp-serde` does; the rest, errors
        // included, `rmp-serde` reads.
        if let Some(value) = msgpack::read(bytes, MAX_DEPTH) {
            return Ok(value);
        }
        let mut deserializer = rmp_serde::Deserializer::from_read_ref(bytes);
        deserializer.set_max_depth(MAX_DEPTH);
        T::deserialize(&mut deserializer)
            .map_err(|e| ServiceError::new(ErrorCode::BadRequest, format!("invalid MessagePack body: {e}")))
    }
}

/// The codec of one call, chosen at run time from a channel or a `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// [`JsonCodec`].
    Json,
    /// [`MsgPackCodec`].
    MsgPack,
    /// Protobuf, for services declared with `#[service(protobuf)]`: the generated code
    /// encodes their messages, not serde (see [`crate::protobuf`]).
    Protobuf,
}

/// The `Content-Type` of protobuf bodies.
const PROTOBUF_CONTENT_TYPE: &str = "application/x-protobuf";

impl Format {
    /// The `Content-Type` of this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Json => JsonCodec::CONTENT_TYPE,
            Self::MsgPack => MsgPackCodec::CONTENT_TYPE,
            Self::Protobuf => PROTOBUF_CONTENT_TYPE,
        }
    }

    /// The format a `Content-Type` names, ignoring parameters such as `charset`.
    ///
    /// ```
    /// # mod courier { pub use courier_core::*; pub mod codec { pub use courier_core::*; } }
    /// use courier::codec::Format;
    /// assert_eq!(Format::from_content_type("application/json; charset=utf-8"), Some(Format::Json));
    /// assert_eq!(Format::from_content_type("application/x-msgpack"), Some(Format::MsgPack));
    /// assert_eq!(Format::from_content_type("text/plain"), None);
    /// ```
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if essence.eq_ignore_ascii_case(JsonCodec::CONTENT_TYPE) {
            Some(Self::Json)
        } else if ["application/msgpack", "application/x-msgpack", "application/vnd.msgpack"]
            .iter()
            .any(|known| essence.eq_ignore_ascii_case(known))
        {
            Some(Self::MsgPack)
        } else if [PROTOBUF_CONTENT_TYPE, "application/protobuf", "application/vnd.google.protobuf"]
            .iter()
            .any(|known| essence.eq_ignore_ascii_case(known))
        {
            Some(Self::Protobuf)
        } else {
            None
        }
    }

    /// Encodes with this format's [`Codec::encode`]; protobuf is not a serde format.
    pub fn encode<T: Serialize + ?Sized>(self, value: &T) -> Result<Vec<u8>, ServiceError> {
        match self {
            Self::Json => JsonCodec::encode(value),
            Self::MsgPack => MsgPackCodec::encode(value),
            Self::Protobuf => Err(not_protobuf()),
        }
    }

    /// Decodes with this format's [`Codec::decode`]; protobuf is not a serde format.
    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, ServiceError> {
        match self {
            Self::Json => JsonCodec::decode(bytes),
            Self::MsgPack => MsgPackCodec::decode(bytes),
            Self::Protobuf => Err(not_protobuf()),
        }
    }

    /// Encodes a courier fault: `{code, message}`, or `courier.Error` in protobuf.
    pub fn encode_error(self, error: &ServiceError) -> Vec<u8> {
        let encoded = match self {
            Self::Protobuf => Ok(crate::protobuf::encode_message(&ErrorMessage {
                code: error.code.to_string(),
                message: error.message.clone(),
            })),
            serde => serde.encode(error),
        };
        encoded.unwrap_or_else(|_| br#"{"code":"internal","message":"cannot encode the error"}"#.to_vec())
    }

    /// Decodes a courier fault written by [`encode_error`](Self::encode_error).
    pub fn decode_error(self, bytes: &[u8]) -> Result<ServiceError, ServiceError> {
        match self {
            Self::Protobuf => {
                let message: ErrorMessage = crate::protobuf::decode_message(bytes)?;
                let code = serde_json::from_value(serde_json::Value::String(message.code))
                    .map_err(|_| ServiceError::bad_request("unknown error code"))?;
                Ok(ServiceError::new(code, message.message))
            }
            serde => serde.decode(bytes),
        }
    }
}

fn not_protobuf() -> ServiceError {
    ServiceError::new(
        ErrorCode::UnsupportedMediaType,
        "this service is not declared for the dispatch-protobuf channel: use #[service(protobuf)]",
    )
}
