//! The server side of a call's context: metadata and deadline read from headers, the
//! principal from the authenticator, and the method's access rule checked before it runs.

use axum::response::Response;
use courier_core::{
    auth::{Access, Authenticator, Credentials, Principal},
    wire::{DEADLINE_HEADER, METADATA_PREFIX},
    CallContext, ErrorCode, ServiceError, TraceContext,
};
use http::{header, Extensions, HeaderMap, HeaderValue};
use std::time::{Duration, Instant};

/// The context a request carries, once its caller may call a method with this access
/// rule: a 401 without a valid credential, a 403 without the role. A caller the
/// authenticator does not name, and whose connection presented a verified client
/// certificate, is named after the certificate, with no roles.
pub(crate) async fn admit(
    headers: &HeaderMap,
    extensions: &Extensions,
    access: Access,
    authenticator: Option<&dyn Authenticator>,
) -> Result<CallContext, ServiceError> {
    let mut context = CallContext::default().with_trace(TraceContext::current());
    for (name, value) in headers {
        if let (Some(key), Ok(value)) = (name.as_str().strip_prefix(METADATA_PREFIX), value.to_str()) {
            context = context.with_metadata(key, value);
        }
    }
    if let Some(millis) = headers.get(DEADLINE_HEADER).and_then(|value| value.to_str().ok()?.parse::<u64>().ok()) {
        context = context.with_deadline(Instant::now() + Duration::from_millis(millis));
    }
    let credentials = Credentials::new(headers, extensions);
    let principal = match authenticator {
        Some(authenticator) => match authenticator.authenticate(credentials).await {
            Ok(principal) => principal,
            // A bad credential on a public method is ignored, not trusted.
            Err(_) if access == Access::Public => None,
            Err(error) => return Err(error),
        },
        None => None,
    };
    let principal = principal.or_else(|| {
        credentials.certificate.map(|certificate| Principal::new(certificate.name(), Vec::<String>::new()))
    });
    access.check(principal.as_ref())?;
    Ok(context.with_principal(principal))
}

/// Adds the authenticator's challenge to a 401.
pub(crate) fn challenge(
    mut response: Response,
    error: &ServiceError,
    authenticator: Option<&dyn Authenticator>,
) -> Response {
    if let (ErrorCode::Unauthenticated, Some(challenge)) = (error.code, authenticator.and_then(|a| a.challenge())) {
        if let Ok(challenge) = HeaderValue::from_str(challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
    }
    response
}
