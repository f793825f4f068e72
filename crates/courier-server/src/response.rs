//! How the server answers, on every channel but gRPC: a value in the caller's codec, a
//! method's own error marked as one, and courier's faults as their status with a `code`
//! and `message` body.

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use courier_core::{wire, ErrorCode, Format, ServiceError};
use http::{header, HeaderValue, StatusCode};

/// An answer with `body` in `format`.
pub(crate) fn encoded(status: StatusCode, format: Format, body: impl Into<Body>) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()))], body.into()).into_response()
}

/// A method's own error, `body` in `format`, answered with `status` and marked as the
/// method's, so callers decode it as the method's error type.
pub(crate) fn method_error(status: StatusCode, format: Format, body: impl Into<Body>) -> Response {
    let mut response = encoded(status, format, body);
    response.headers_mut().insert(wire::ERROR_HEADER, HeaderValue::from_static(wire::METHOD_ERROR));
    response
}

/// A courier fault as a response: its status, and a `code` + `message` body.
pub(crate) fn error_response(format: Format, error: &ServiceError) -> Response {
    let status = StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = encoded(status, format, format.encode_error(error));
    match error.code {
        ErrorCode::MethodNotAllowed => {
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        // Draining or at a limit: worth a retry, here or elsewhere.
        ErrorCode::Unavailable => {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        _ => {}
    }
    response
}
