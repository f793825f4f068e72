//! The dispatch endpoint: `POST /invoke/<component>/<service>/<method>`, with the
//! method's arguments as the body in the codec the `Content-Type` names.

use axum::{
    extract::{Request, State},
    response::{IntoResponse, Response},
    BoxError,
};
use bytes::Bytes;
use courier_core::{
    BoundService, ChannelKind, ComponentDescriptor, Dispatch, Dispatched, ErrorCode, Format, ServiceError,
};
use futures_util::FutureExt;
use http::{header, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::{collections::HashMap, panic::AssertUnwindSafe, sync::Arc};

/// The header that marks a reply body as the method's own error.
pub(crate) const ERROR_HEADER: &str = "courier-error";

/// The path prefix of every dispatch endpoint.
pub(crate) const PREFIX: &str = "/invoke/";

struct Endpoint {
    dispatcher: Arc<dyn Dispatch>,
    method: usize,
    channels: &'static [ChannelKind],
}

/// Every method of every component, by path; built once when the server starts.
pub(crate) struct DispatchTable {
    endpoints: HashMap<String, Endpoint>,
    max_body_bytes: usize,
}

impl DispatchTable {
    pub(crate) fn new(max_body_bytes: usize) -> Self {
        Self { endpoints: HashMap::new(), max_body_bytes }
    }

    pub(crate) fn add(&mut self, component: &'static ComponentDescriptor, service: &BoundService) {
        for method in service.descriptor.methods {
            let path = format!("{PREFIX}{}/{}/{}", component.name, service.descriptor.name, method.name);
            let endpoint = Endpoint {
                dispatcher: Arc::clone(&service.dispatcher),
                method: method.index,
                channels: component.channels,
            };
            self.endpoints.insert(path, endpoint);
        }
    }

    /// Whether `path` is one of the endpoints.
    pub(crate) fn serves(&self, path: &str) -> bool {
        self.endpoints.contains_key(path)
    }
}

pub(crate) async fn invoke(State(table): State<Arc<DispatchTable>>, request: Request) -> Response {
    match answer(&table, request).await {
        Ok(reply) => {
            let mut response = encoded(reply.status, reply.format, reply.body);
            if reply.method_error {
                response.headers_mut().insert(ERROR_HEADER, HeaderValue::from_static("method"));
            }
            response
        }
        Err((format, error)) => error_response(format, &error),
    }
}

/// The encoded reply to a call that reached its method.
pub(crate) struct Encoded {
    pub(crate) status: StatusCode,
    pub(crate) format: Format,
    pub(crate) body: Vec<u8>,
    /// Whether the body is the method's own error.
    pub(crate) method_error: bool,
}

/// Dispatches a request; a fault comes back with the format to report it in.
pub(crate) async fn answer<B>(
    table: &DispatchTable,
    request: http::Request<B>,
) -> Result<Encoded, (Format, ServiceError)>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let format = content_type.and_then(Format::from_content_type);
    // Errors answer in the caller's codec when it named one we speak.
    let reply_format = format.unwrap_or(Format::Json);
    let reply = |status, body, method_error| Encoded { status, format: reply_format, body, method_error };
    match call(table, request, format).await {
        Ok(Dispatched::Value(body)) => Ok(reply(StatusCode::OK, body, false)),
        Ok(Dispatched::MethodError(body)) => Ok(reply(StatusCode::INTERNAL_SERVER_ERROR, body, true)),
        Ok(Dispatched::Failed(error)) | Err(error) => Err((reply_format, error)),
    }
}

async fn call<B>(
    table: &DispatchTable,
    request: http::Request<B>,
    format: Option<Format>,
) -> Result<Dispatched, ServiceError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    if request.method() != Method::POST {
        return Err(ServiceError::new(
            ErrorCode::MethodNotAllowed,
            format!("dispatch endpoints take POST, not {}", request.method()),
        ));
    }
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let endpoint = table.endpoints.get(path).ok_or_else(|| {
        ServiceError::new(
            ErrorCode::NotFound,
            format!("no method at `{path}`: expected /invoke/<component>/<service>/<method>"),
        )
    })?;
    let format = format.ok_or_else(|| {
        ServiceError::new(
            ErrorCode::UnsupportedMediaType,
            "Content-Type must be application/json or application/msgpack",
        )
    })?;
    let channel = ChannelKind::for_format(format);
    if !endpoint.channels.contains(&channel) {
        return Err(ServiceError::new(
            ErrorCode::UnsupportedMediaType,
            format!("this component is not served on the {channel} channel"),
        ));
    }
    let body = read_body(body, table.max_body_bytes).await?;
    let dispatched = AssertUnwindSafe(endpoint.dispatcher.dispatch(endpoint.method, format, body)).catch_unwind().await;
    Ok(dispatched.unwrap_or_else(|_| {
        tracing::error!(path, "service method panicked");
        Dispatched::Failed(ServiceError::internal("the method panicked"))
    }))
}

async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, ServiceError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let too_large = || ServiceError::new(ErrorCode::PayloadTooLarge, format!("request body exceeds {limit} bytes"));
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(error) => Err(ServiceError::bad_request(format!("cannot read request body: {error}"))),
    }
}

fn encoded(status: StatusCode, format: Format, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// A courier fault as a response: its status, and a `code` + `message` body.
pub(crate) fn error_response(format: Format, error: &ServiceError) -> Response {
    let status = StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (format, body) = match format.encode_readable(error) {
        Ok(body) => (format, body),
        Err(_) => (Format::Json, br#"{"code":"internal","message":"cannot encode error"}"#.to_vec()),
    };
    let mut response = encoded(status, format, body);
    if error.code == ErrorCode::MethodNotAllowed {
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// The answer to any path no route serves.
pub(crate) async fn not_found(request: Request) -> Response {
    let error = ServiceError::new(ErrorCode::NotFound, format!("nothing is served at `{}`", request.uri().path()));
    error_response(Format::Json, &error)
}
