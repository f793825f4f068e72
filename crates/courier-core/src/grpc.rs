//! What both ends of the `grpc` channel agree on: gRPC's length-prefixed messages, its
//! status codes and trailers, and its timeouts.
//!
//! Every fault travels as gRPC users expect it: `grpc-status` with the gRPC code of
//! courier's [`ErrorCode`], `grpc-message` with the message, and
//! `grpc-status-details-bin`, a `google.rpc.Status` whose one detail is a `courier.Error`
//! (`type.googleapis.com/courier.Error`) with courier's own code. A method's own error
//! is a `courier.Error` with code `method_error` and the error as JSON; its status is the
//! gRPC code of the error's `code` field when it has one, and `UNKNOWN` otherwise.
//!
//! | courier                  | gRPC                  |
//! |--------------------------|-----------------------|
//! | `bad_request`            | `INVALID_ARGUMENT` (3) |
//! | `timeout`                | `DEADLINE_EXCEEDED` (4) |
//! | `not_found`, `expired`   | `NOT_FOUND` (5)        |
//! | `forbidden`              | `PERMISSION_DENIED` (7) |
//! | `payload_too_large`      | `RESOURCE_EXHAUSTED` (8) |
//! | `method_not_allowed`, `unsupported_media_type` | `UNIMPLEMENTED` (12) |
//! | `internal`               | `INTERNAL` (13)        |
//! | `unavailable`, `transport` | `UNAVAILABLE` (14)   |
//! | `unauthenticated`        | `UNAUTHENTICATED` (16) |
//! | `cancelled`              | `CANCELLED` (1)        |
//! | `maybe_executed`         | `UNKNOWN` (2)          |

use crate::{protobuf::ErrorMessage, ErrorCode, ServiceError};
use base64::{
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};
use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use std::time::Duration;

/// The `Content-Type` of gRPC calls with protobuf messages.
pub const CONTENT_TYPE: &str = "application/grpc";

/// The trailer with the call's status code.
pub const STATUS: &str = "grpc-status";

/// The trailer with the status message, percent-encoded.
pub const MESSAGE: &str = "grpc-message";

/// The trailer with the status as a `google.rpc.Status`, base64-encoded.
pub const DETAILS: &str = "grpc-status-details-bin";

/// The header with the time the caller gives the call.
pub const TIMEOUT: &str = "grpc-timeout";

/// The `type_url` of the `courier.Error` detail.
pub const ERROR_TYPE_URL: &str = "type.googleapis.com/courier.Error";

/// `OK`: the call succeeded.
pub const OK: u32 = 0;
/// `UNKNOWN`: what a method's own error without a courier `code` travels as.
pub const UNKNOWN: u32 = 2;
/// `UNIMPLEMENTED`: no such method here.
pub const UNIMPLEMENTED: u32 = 12;

/// The gRPC status code of a courier fault.
pub const fn status_of(code: ErrorCode) -> u32 {
    match code {
        ErrorCode::Cancelled => 1,
        ErrorCode::MaybeExecuted => UNKNOWN,
        ErrorCode::BadRequest => 3,
        ErrorCode::Timeout => 4,
        ErrorCode::NotFound | ErrorCode::Expired => 5,
        ErrorCode::Forbidden => 7,
        ErrorCode::PayloadTooLarge => 8,
        ErrorCode::MethodNotAllowed | ErrorCode::UnsupportedMediaType => UNIMPLEMENTED,
        ErrorCode::Internal => 13,
        ErrorCode::Unavailable | ErrorCode::Transport => 14,
        ErrorCode::Unauthenticated => 16,
    }
}

/// The courier fault of a gRPC status code, for servers that send no `courier.Error`.
pub const fn error_code(status: u32) -> ErrorCode {
    match status {
        1 => ErrorCode::Cancelled,
        3 | 6 | 9 | 11 => ErrorCode::BadRequest,
        4 => ErrorCode::Timeout,
        5 | UNIMPLEMENTED => ErrorCode::NotFound,
        7 => ErrorCode::Forbidden,
        8 | 14 => ErrorCode::Unavailable,
        16 => ErrorCode::Unauthenticated,
        _ => ErrorCode::Internal,
    }
}

/// `google.rpc.Status`: what `grpc-status-details-bin` holds.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    /// The gRPC status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// The message, for a developer.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Typed details.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<AnyMessage>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AnyMessage {
    /// Which message `value` holds.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The message, encoded.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// Whether a request or reply is gRPC's, by its `Content-Type`.
pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with(CONTENT_TYPE))
}

/// One message as gRPC sends it: a zero (not compressed), its length in four bytes, the
/// message.
pub fn frame(message: &[u8]) -> Bytes {
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(message.len() as u32);
    framed.put_slice(message);
    framed.freeze()
}

/// The one message of a unary call's body.
pub fn unframe(body: &Bytes) -> Result<Bytes, ServiceError> {
    let [compressed, a, b, c, d, ..] = body[..] else {
        return Err(ServiceError::bad_request("a gRPC call carries one length-prefixed message; this body has none"));
    };
    if compressed != 0 {
        return Err(ServiceError::new(
            ErrorCode::UnsupportedMediaType,
            "compressed gRPC messages are not accepted: send them uncompressed (grpc-encoding identity)",
        ));
    }
    let length = u32::from_be_bytes([a, b, c, d]) as usize;
    if body.len() - 5 != length {
        return Err(ServiceError::bad_request(format!(
            "a unary gRPC call carries exactly one message: this one announces {length} bytes and carries {}",
            body.len() - 5
        )));
    }
    Ok(body.slice(5..))
}

/// A `grpc-timeout` value: up to eight digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
pub fn parse_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|digit| digit.is_ascii_digit()) {
        return None;
    }
    let count: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(count * 3600),
        "M" => Duration::from_secs(count * 60),
        "S" => Duration::from_secs(count),
        "m" => Duration::from_millis(count),
        "u" => Duration::from_micros(count),
        "n" => Duration::from_nanos(count),
        _ => return None,
    })
}

/// `timeout` as a `grpc-timeout` value, rounded up to the finest unit that fits eight
/// digits.
pub fn format_timeout(timeout: Duration) -> String {
    const MAX: u128 = 99_999_999;
    let nanos = timeout.as_nanos();
    for (unit, per) in [("n", 1), ("u", 1_000), ("m", 1_000_000), ("S", 1_000_000_000), ("M", 60_000_000_000)] {
        let count = nanos.div_ceil(per);
        if count <= MAX {
            return format!("{count}{unit}");
        }
    }
    format!("{}H", nanos.div_ceil(3_600_000_000_000).min(MAX))
}

/// What a call ended with, as its trailers say.
#[derive(Debug)]
pub enum Ending {
    /// `OK`.
    Ok,
    /// The method's own error: a `courier.Error` with code `method_error`, encoded.
    MethodError(Bytes),
    /// A fault.
    Failed(ServiceError),
}

/// The trailers of a call that succeeded.
pub fn ok_trailers() -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(1);
    trailers.insert(STATUS, HeaderValue::from_static("0"));
    trailers
}

/// The trailers of a courier fault.
pub fn error_trailers(error: &ServiceError) -> HeaderMap {
    status_trailers(status_of(error.code), &error.message, detail(error))
}

fn detail(error: &ServiceError) -> ErrorMessage {
    ErrorMessage { code: error.code.as_str().to_owned(), message: error.message.clone() }
}

/// The trailers of a call to a method the server does not have: `UNIMPLEMENTED`, as
/// gRPC clients expect, with courier's fault in the details.
pub fn unimplemented_trailers(error: &ServiceError) -> HeaderMap {
    status_trailers(UNIMPLEMENTED, &error.message, detail(error))
}

/// The trailers of a method's own error, from the `courier.Error` that holds it.
pub fn method_error_trailers(body: &[u8]) -> HeaderMap {
    match crate::protobuf::decode_message::<ErrorMessage>(body) {
        Ok(detail) => {
            let status = crate::service::code_in_json(&detail.message).map_or(UNKNOWN, status_of);
            let message = detail.message.clone();
            status_trailers(status, &message, detail)
        }
        Err(error) => {
            error_trailers(&ServiceError::internal(format!("cannot read the method's error: {}", error.message)))
        }
    }
}

fn status_trailers(status: u32, message: &str, detail: ErrorMessage) -> HeaderMap {
    let details = RpcStatus {
        code: status as i32,
        message: message.to_owned(),
        details: vec![AnyMessage {
            type_url: ERROR_TYPE_URL.to_owned(),
            value: crate::protobuf::encode_message(&detail),
        }],
    };
    let mut trailers = HeaderMap::with_capacity(3);
    trailers.insert(STATUS, HeaderValue::from(status));
    if let Ok(message) = HeaderValue::from_str(&utf8_percent_encode(message, MESSAGE_ESCAPES).to_string()) {
        trailers.insert(MESSAGE, message);
    }
    if let Ok(details) = HeaderValue::from_str(&BINARY.encode(crate::protobuf::encode_message(&details))) {
        trailers.insert(DETAILS, details);
    }
    trailers
}

/// How binary trailers are written (unpadded, as gRPC's HTTP/2 mapping says) and read
/// (padded or not, as peers send them).
const BINARY: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What `grpc-message` escapes: everything outside printable ASCII, and `%`.
const MESSAGE_ESCAPES: &AsciiSet = &CONTROLS.add(b'%');

/// Reads the status a call ended with from its trailers (or, for a call that failed at
/// once, its headers): courier's own fault when the details carry one, else the fault
/// the gRPC code stands for.
pub fn ending(trailers: &HeaderMap) -> Ending {
    let Some(status) = trailers.get(STATUS) else {
        return Ending::Failed(ServiceError::new(ErrorCode::Transport, "the gRPC reply has no grpc-status"));
    };
    let Some(status) = status.to_str().ok().and_then(|status| status.parse::<u32>().ok()) else {
        return Ending::Failed(ServiceError::new(ErrorCode::Transport, "the gRPC reply's grpc-status is not a number"));
    };
    if status == OK {
        return Ending::Ok;
    }
    let detail = trailers
        .get(DETAILS)
        .and_then(|details| BINARY.decode(details.as_bytes()).ok())
        .and_then(|bytes| crate::protobuf::decode_message::<RpcStatus>(&bytes).ok())
        .and_then(|details| details.details.into_iter().find(|detail| detail.type_url == ERROR_TYPE_URL))
        .and_then(|detail| {
            crate::protobuf::decode_message::<ErrorMessage>(&detail.value).ok().map(|error| (error, detail.value))
        });
    match detail {
        Some((error, encoded)) if error.code == crate::service::METHOD_ERROR => Ending::MethodError(encoded.into()),
        Some((error, _)) => match serde_json::from_value(serde_json::Value::String(error.code)) {
            Ok(code) => Ending::Failed(ServiceError::new(code, error.message)),
            Err(_) => Ending::Failed(ServiceError::new(error_code(status), error.message)),
        },
        None => {
            let message = trailers
                .get(MESSAGE)
                .and_then(|message| message.to_str().ok())
                .map(|message| percent_decode_str(message).decode_utf8_lossy().into_owned())
                .unwrap_or_default();
            Ending::Failed(ServiceError::new(error_code(status), format!("gRPC status {status}: {message}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_every_unit_and_refuse_what_is_not_one() {
        assert_eq!(parse_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_timeout("99999999n"), Some(Duration::from_nanos(99_999_999)));
        for bad in ["", "m", "100", "123456789m", "1x", "-1m", "1.5S"] {
            assert_eq!(parse_timeout(bad), None, "{bad}");
        }
        for timeout in [Duration::from_millis(1500), Duration::from_nanos(7), Duration::from_secs(86_400 * 400)] {
            let written = format_timeout(timeout);
            assert!(parse_timeout(&written).is_some_and(|read| read >= timeout), "{timeout:?} as {written}");
        }
    }

    #[test]
    fn a_fault_reads_back_as_itself_and_a_foreign_status_as_its_code() {
        let error = ServiceError::new(ErrorCode::MaybeExecuted, "lost: 100% gone\n");
        let trailers = error_trailers(&error);
        assert_eq!(trailers[STATUS], "2");
        assert_eq!(trailers[MESSAGE], "lost: 100%25 gone%0A");
        let Ending::Failed(read) = ending(&trailers) else { panic!("not a fault") };
        assert_eq!(read, error);

        let mut foreign = HeaderMap::new();
        foreign.insert(STATUS, HeaderValue::from_static("7"));
        foreign.insert(MESSAGE, HeaderValue::from_static("no%20way"));
        let Ending::Failed(read) = ending(&foreign) else { panic!("not a fault") };
        assert_eq!((read.code, read.message.as_str()), (ErrorCode::Forbidden, "gRPC status 7: no way"));
    }

    #[test]
    fn one_message_is_unframed_and_anything_else_refused() {
        assert_eq!(unframe(&frame(b"abc")).expect("one message"), Bytes::from_static(b"abc"));
        assert_eq!(unframe(&frame(b"")).expect("an empty message"), Bytes::new());
        let mut two = frame(b"abc").to_vec();
        two.extend_from_slice(&frame(b"d"));
        for bad in
            [Bytes::new(), Bytes::from_static(&[0, 0, 0]), Bytes::from(two), Bytes::from_static(&[1, 0, 0, 0, 0])]
        {
            assert!(unframe(&bad).is_err(), "{bad:?}");
        }
    }
}
