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
    path: String,
}

/// Every method of every component, by path; built once when the server starts.
pub(crate) struct DispatchTable {
    endpoints: HashMap<String, Arc<Endpoint>>,
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
                path: path.clone(),
            };
            self.endpoints.insert(path, Arc::new(endpoint));
        }
    }

    /// Whether `path` is one of the endpoints.
    pub(crate) fn serves(&self, path: &str) -> bool {
        self.endpoints.contains_key(path)
    }
}

pub(crate) async fn invoke(State(table): State<Arc<DispatchTable>>, request: Request) -> Response {
    let (head, body) = request.into_parts();
    let answer = match route(&table, &head) {
        Ok(routed) => routed.run(body).await,
        Err(fault) => Err(fault),
    };
    match answer {
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

/// A call whose head passed every check: ready to read its body and dispatch.
///
/// Holds what the call needs and nothing of the request head, so the future that
/// runs it stays small (a future over the whole request took 1.5 KiB, past what the
/// allocator serves from its fast per-thread cache).
pub(crate) struct Routed {
    endpoint: Arc<Endpoint>,
    format: Format,
    max_body_bytes: usize,
}

/// Checks a call's head; a fault comes back with the format to report it in.
pub(crate) fn route(table: &DispatchTable, head: &http::request::Parts) -> Result<Routed, (Format, ServiceError)> {
    let content_type = head.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let format = content_type.and_then(Format::from_content_type);
    // Errors answer in the caller's codec when it named one we speak.
    let reply_format = format.unwrap_or(Format::Json);
    check(table, head, format).map_err(|error| (reply_format, error))
}

fn check(table: &DispatchTable, head: &http::request::Parts, format: Option<Format>) -> Result<Routed, ServiceError> {
    if head.method != Method::POST {
        return Err(ServiceError::new(
            ErrorCode::MethodNotAllowed,
            format!("dispatch endpoints take POST, not {}", head.method),
        ));
    }
    let path = head.uri.path();
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
    Ok(Routed { endpoint: Arc::clone(endpoint), format, max_body_bytes: table.max_body_bytes })
}

impl Routed {
    /// Reads the body, calls the method and encodes what it returned.
    pub(crate) async fn run<B>(self, body: B) -> Result<Encoded, (Format, ServiceError)>
    where
        B: hyper::body::Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let Self { endpoint, format, max_body_bytes } = self;
        let body = read_body(body, max_body_bytes).await.map_err(|error| (format, error))?;
        let dispatched =
            AssertUnwindSafe(endpoint.dispatcher.dispatch(endpoint.method, format, body)).catch_unwind().await;
        let reply = |status, body, method_error| Encoded { status, format, body, method_error };
        match dispatched {
            Ok(Dispatched::Value(body)) => Ok(reply(StatusCode::OK, body, false)),
            Ok(Dispatched::MethodError(body)) => Ok(reply(StatusCode::INTERNAL_SERVER_ERROR, body, true)),
            Ok(Dispatched::Failed(error)) => Err((format, error)),
            Err(_) => {
                tracing::error!(path = endpoint.path, "service method panicked");
                Err((format, ServiceError::internal("the method panicked")))
            }
        }
    }
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
