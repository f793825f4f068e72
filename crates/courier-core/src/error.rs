use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong with a call, in terms both sides understand.
///
/// Each code maps to one HTTP status, so a REST user and a proxy read the same fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The component, service or method does not exist here (404).
    NotFound,
    /// The request could not be decoded into the method's arguments (400).
    BadRequest,
    /// The caller presented no valid credential (401).
    Unauthenticated,
    /// The caller may not do this (403).
    Forbidden,
    /// The HTTP method is not the one the endpoint takes (405).
    MethodNotAllowed,
    /// The request body is larger than the server accepts (413).
    PayloadTooLarge,
    /// The content type names no codec this endpoint speaks (415).
    UnsupportedMediaType,
    /// No instance could take the call: none known, all refused, or draining (503).
    Unavailable,
    /// The call did not finish in time (504).
    Timeout,
    /// The connection failed, or a reply could not be read (502).
    Transport,
    /// The request was sent and no answer came back: the method may have run (502).
    MaybeExecuted,
    /// The server failed in a way the caller cannot fix (500).
    Internal,
    /// The job was cancelled before it ended (409).
    Cancelled,
    /// The job ended longer ago than its queue keeps results (410).
    Expired,
}

impl ErrorCode {
    /// The HTTP status this code travels with.
    pub const fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::Cancelled => 409,
            Self::Expired => 410,
            Self::Internal => 500,
            Self::Transport | Self::MaybeExecuted => 502,
            Self::Unavailable => 503,
            Self::Timeout => 504,
        }
    }

    /// The code for an HTTP status, for replies that carry no readable body.
    pub const fn from_status(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Unauthenticated,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Cancelled,
            410 => Self::Expired,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            502 => Self::Transport,
            503 => Self::Unavailable,
            504 => Self::Timeout,
            _ => Self::Internal,
        }
    }

    /// The code as the wire spells it: `not_found`, `bad_request`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::BadRequest => "bad_request",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
            Self::Transport => "transport",
            Self::MaybeExecuted => "maybe_executed",
            Self::Internal => "internal",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error courier itself reports, and the default error type of service methods.
///
/// On the wire it is a body with a `code` and a `message`, sent with the code's HTTP
/// status. A service may use its own error type instead, as long as that type converts
/// from `ServiceError` (so transport faults reach the caller) and is serializable (so
/// domain errors cross the wire intact).
///
/// ```
/// # use courier_core as courier;
/// use courier::{ErrorCode, ServiceError};
/// let error = ServiceError::new(ErrorCode::NotFound, "no such user");
/// assert_eq!(error.code.status(), 404);
/// assert_eq!(error.to_string(), "not_found: no such user");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[schemars(rename = "Error", description = "A fault of courier's, or of the network: what kind, and what happened.")]
#[error("{code}: {message}")]
pub struct ServiceError {
    /// What kind of fault this is.
    pub code: ErrorCode,
    /// What happened, for a human.
    pub message: String,
}

impl ServiceError {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// An [`ErrorCode::Internal`] error: the server failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// An [`ErrorCode::Unavailable`] error: no instance could take the call.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// An [`ErrorCode::BadRequest`] error: the input could not be used.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
}
