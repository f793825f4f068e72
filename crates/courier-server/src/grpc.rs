//! The gRPC endpoint: every method of a `#[service(protobuf)]` service at
//! `/courier.<service>.<Service>/<Method>`, over HTTP/2. A call is read as gRPC frames
//! it, its `grpc-timeout` and metadata become the call's deadline and metadata, and it
//! runs exactly as a dispatch call does: the same authentication, access rules, limits
//! and handler. The answer is one message and `grpc-status: 0`, or a status alone
//! (`Trailers-Only`) for a fault; see [`courier_core::grpc`] for the codes.

use crate::{invoke::DispatchTable, pipeline::read_body, response::error_response};
use axum::{
    body::Body,
    extract::{Request, State},
    response::Response,
};
use courier_core::{
    grpc,
    wire::{DEADLINE_HEADER, METADATA_PREFIX},
    Dispatched, ErrorCode, Format, ServiceError,
};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use http_body_util::StreamBody;
use hyper::body::Frame;
use std::{convert::Infallible, sync::Arc};

/// What a gRPC call came to, for the metrics of a reply whose HTTP status is always 200.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrpcOutcome(pub(crate) &'static str);

/// Headers of a gRPC call that are not its metadata.
const NOT_METADATA: [&str; 8] =
    ["content-type", "te", "user-agent", "host", "content-length", "accept-encoding", "authorization", "traceparent"];

pub(crate) async fn serve(State(table): State<Arc<DispatchTable>>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Err(error) = accepts(parts.method.clone(), &parts.headers) {
        return error_response(Format::Json, &error);
    }
    let Some(endpoint) = table.grpc_endpoint(parts.uri.path()) else {
        return unimplemented(parts.uri.path());
    };
    to_context_headers(&mut parts.headers);
    let limit = table.max_body_bytes();
    // The length prefix is not part of the message the limit bounds.
    let arguments = async move { grpc::unframe(&read_body(body, limit.saturating_add(5)).await?) };
    match table.run_grpc(endpoint, &parts, arguments).await {
        Ok(Dispatched::Value(message)) => reply(&message),
        Ok(Dispatched::MethodError(error)) => ended(grpc::method_error_trailers(&error), "method_error"),
        Ok(Dispatched::Failed(error)) | Err(error) => ended(grpc::error_trailers(&error), error.code.as_str()),
    }
}

/// The answer to a gRPC call to a method this server does not have: `UNIMPLEMENTED`, as
/// gRPC clients expect, with courier's `not_found` in its details.
pub(crate) fn unimplemented(path: &str) -> Response {
    let error = ServiceError::new(ErrorCode::NotFound, format!("no gRPC method at `{path}`"));
    ended(grpc::unimplemented_trailers(&error), error.code.as_str())
}

/// Refuses, as HTTP, what is not a gRPC call with protobuf messages.
fn accepts(method: Method, headers: &HeaderMap) -> Result<(), ServiceError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence != grpc::CONTENT_TYPE && essence != "application/grpc+proto" {
        return Err(ServiceError::new(
            ErrorCode::UnsupportedMediaType,
            "gRPC methods take Content-Type application/grpc (or application/grpc+proto)",
        ));
    }
    if method != Method::POST {
        return Err(ServiceError::new(ErrorCode::MethodNotAllowed, format!("gRPC methods take POST, not {method}")));
    }
    Ok(())
}

/// Puts the call's `grpc-timeout` and metadata where the call context reads them.
fn to_context_headers(headers: &mut HeaderMap) {
    let timeout = headers.get(grpc::TIMEOUT).and_then(|value| grpc::parse_timeout(value.to_str().ok()?));
    if let Some(timeout) = timeout {
        let millis = timeout.as_nanos().div_ceil(1_000_000).max(1);
        headers.insert(DEADLINE_HEADER, HeaderValue::from(u64::try_from(millis).unwrap_or(u64::MAX)));
    }
    let metadata: Vec<(HeaderName, HeaderValue)> = headers
        .iter()
        .filter(|(name, _)| is_metadata(name.as_str()))
        .filter_map(|(name, value)| {
            Some((HeaderName::try_from(format!("{METADATA_PREFIX}{name}")).ok()?, value.clone()))
        })
        .collect();
    headers.extend(metadata);
}

/// Whether a header is metadata the caller set, as opposed to one of gRPC's, HTTP's or
/// courier's own, or binary metadata.
fn is_metadata(name: &str) -> bool {
    !(NOT_METADATA.contains(&name)
        || name.starts_with("grpc-")
        || name.starts_with("courier-")
        || name.ends_with("-bin"))
}

/// A message and `grpc-status: 0`.
fn reply(message: &[u8]) -> Response {
    let frames = [Ok::<_, Infallible>(Frame::data(grpc::frame(message))), Ok(Frame::trailers(grpc::ok_trailers()))];
    let mut response = Response::new(Body::new(StreamBody::new(futures_util::stream::iter(frames))));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(grpc::CONTENT_TYPE));
    response
}

/// A call that ends with `status` and no message: the status goes in the headers.
fn ended(status: HeaderMap, outcome: &'static str) -> Response {
    let mut response = Response::new(Body::empty());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(grpc::CONTENT_TYPE));
    headers.extend(status);
    response.extensions_mut().insert(GrpcOutcome(outcome));
    response
}
