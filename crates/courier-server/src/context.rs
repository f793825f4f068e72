//! The server side of a call's context: metadata and deadline read from headers, the
//! principal from the authenticator, and the method's access rule checked before it runs.

use crate::invoke::error_response;
use axum::response::Response;
use courier_core::{auth::Authenticator, CallContext, ErrorCode, Format, MethodDescriptor, ServiceError};
use http::{header, HeaderMap, HeaderValue};
use std::time::{Duration, Instant};

/// Metadata travels as headers with this prefix: `courier-meta-tenant: acme`.
pub const METADATA_PREFIX: &str = "courier-meta-";

/// The time left for the call, in milliseconds.
pub const DEADLINE_HEADER: &str = "courier-deadline-ms";

/// The context a request carries, once its caller may call `method`; otherwise the
/// answer to send (401 with a challenge, or 403).
pub(crate) async fn admit(
    headers: &HeaderMap,
    method: &MethodDescriptor,
    authenticator: Option<&dyn Authenticator>,
    format: Format,
) -> Result<CallContext, Response> {
    let mut context = CallContext::default();
    for (name, value) in headers {
        if let (Some(key), Ok(value)) = (name.as_str().strip_prefix(METADATA_PREFIX), value.to_str()) {
            context = context.with_metadata(key, value);
        }
    }
    if let Some(millis) = headers.get(DEADLINE_HEADER).and_then(|value| value.to_str().ok()?.parse::<u64>().ok()) {
        context = context.with_deadline(Instant::now() + Duration::from_millis(millis));
    }
    let principal = match authenticator {
        Some(authenticator) => authenticator.authenticate(headers).await,
        None => Ok(None),
    };
    let refuse = |error: ServiceError| {
        let mut response = error_response(format, &error);
        if let (ErrorCode::Unauthenticated, Some(authenticator)) = (error.code, authenticator) {
            if let Ok(challenge) = HeaderValue::from_str(authenticator.challenge()) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
            }
        }
        response
    };
    let principal = match principal {
        Ok(principal) => principal,
        // A bad credential on a public method is ignored, not trusted.
        Err(_) if method.access == courier_core::auth::Access::Public => None,
        Err(error) => return Err(refuse(error)),
    };
    method.access.check(principal.as_ref()).map_err(refuse)?;
    Ok(context.with_principal(principal))
}
