//! The dispatch endpoint: `POST /invoke/<component>/<service>/<method>`, with the
//! method's arguments as the body in the codec the `Content-Type` names.

use crate::{
    admission::{Gate, Limit},
    context::{admit, challenge},
    jobs::{self, QueuedMethod},
};
use axum::{
    body::Body,
    extract::{Request, State},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use courier_core::{
    auth::{Access, Authenticator},
    jobs::{JobQueue, JobStatus},
    wire, BoundService, ChannelKind, ComponentDescriptor, Dispatch, Dispatched, ErrorCode, Format, ServiceError,
};
use futures_util::FutureExt;
use http::{header, request::Parts, HeaderValue, Method, StatusCode};
use http_body_util::{LengthLimitError, Limited};
use std::{collections::HashMap, future::Future, panic::AssertUnwindSafe, sync::Arc, time::Duration};

pub(crate) struct Endpoint {
    dispatcher: Arc<dyn Dispatch>,
    method: usize,
    access: Access,
    channels: Vec<ChannelKind>,
    limit: Option<Arc<Limit>>,
    /// Whether the fast path may answer it: no component layer wraps it.
    direct: bool,
    /// For a `#[queued]` method: submitted as a job instead of run.
    queued: Option<QueuedMethod>,
}

/// What a call came to.
enum Answer {
    Dispatched(Dispatched),
    Queued(JobStatus),
}

/// Every method of every component, by path; built once when the server starts.
pub(crate) struct DispatchTable {
    endpoints: HashMap<String, Endpoint>,
    /// By gRPC path, the dispatch path of the same method and its component.
    grpc: HashMap<String, (String, &'static str)>,
    max_body_bytes: usize,
    authenticator: Option<Arc<dyn Authenticator>>,
    gate: Arc<Gate>,
    queue: Arc<dyn JobQueue>,
}

impl DispatchTable {
    pub(crate) fn new(
        max_body_bytes: usize,
        authenticator: Option<Arc<dyn Authenticator>>,
        gate: Arc<Gate>,
        queue: Arc<dyn JobQueue>,
    ) -> Self {
        Self { endpoints: HashMap::new(), grpc: HashMap::new(), max_body_bytes, authenticator, gate, queue }
    }

    pub(crate) fn add(
        &mut self,
        component: &'static ComponentDescriptor,
        service: &BoundService,
        limit: Option<&Arc<Limit>>,
        direct: bool,
    ) {
        for method in service.descriptor.methods {
            let path = wire::invoke_path(component.name, service.descriptor.name, method.name);
            // A service not declared for protobuf is not served on that channel.
            let channels = component
                .channels
                .iter()
                .copied()
                .filter(|channel| !channel.is_protobuf() || service.descriptor.protobuf.is_some())
                .collect();
            let endpoint = Endpoint {
                dispatcher: Arc::clone(&service.dispatcher),
                method: method.index,
                access: method.access,
                channels,
                limit: limit.cloned(),
                direct,
                queued: method.queued.then_some(QueuedMethod {
                    component: component.name,
                    service: service.descriptor.name,
                    method: method.name,
                }),
            };
            if let (Some(grpc), true) =
                (service.descriptor.grpc_path(method), endpoint.channels.contains(&ChannelKind::Grpc))
            {
                self.grpc.insert(grpc, (path.clone(), component.name));
            }
            self.endpoints.insert(path, endpoint);
        }
    }

    /// The gRPC paths it serves, with the component of each.
    pub(crate) fn grpc_paths(&self) -> impl Iterator<Item = (&str, &str)> {
        self.grpc.iter().map(|(grpc, (_, component))| (grpc.as_str(), *component))
    }

    /// Whether `path` is one of the endpoints, and one the fast path may answer.
    pub(crate) fn serves_directly(&self, path: &str) -> bool {
        self.endpoints.get(path).is_some_and(|endpoint| endpoint.direct)
    }
}

pub(crate) async fn invoke(State(table): State<Arc<DispatchTable>>, request: Request) -> Response {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let format = content_type.and_then(Format::from_content_type);
    // Errors answer in the caller's codec when it named one we speak.
    let reply_format = format.unwrap_or(Format::Json);
    match call(&table, request, format).await {
        Ok(Answer::Queued(status)) => jobs::accepted(reply_format, &status),
        Ok(Answer::Dispatched(Dispatched::Value(body))) => encoded(StatusCode::OK, reply_format, body),
        Ok(Answer::Dispatched(Dispatched::MethodError(body))) => {
            let mut response = encoded(StatusCode::INTERNAL_SERVER_ERROR, reply_format, body);
            response.headers_mut().insert(wire::ERROR_HEADER, HeaderValue::from_static(wire::METHOD_ERROR));
            response
        }
        Ok(Answer::Dispatched(Dispatched::Failed(error))) | Err(error) => {
            challenge(error_response(reply_format, &error), &error, table.authenticator.as_deref())
        }
    }
}

async fn call(table: &DispatchTable, request: Request, format: Option<Format>) -> Result<Answer, ServiceError> {
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
            "Content-Type must be application/json, application/msgpack or application/x-protobuf",
        )
    })?;
    let arguments = read_body(body, table.max_body_bytes);
    table.run(endpoint, ChannelKind::for_format(format), &parts, arguments).await
}

impl DispatchTable {
    /// Runs a call that came on `channel` to `endpoint`, once its caller is admitted:
    /// only then are its arguments read.
    async fn run(
        &self,
        endpoint: &Endpoint,
        channel: ChannelKind,
        parts: &Parts,
        arguments: impl Future<Output = Result<Bytes, ServiceError>>,
    ) -> Result<Answer, ServiceError> {
        if !endpoint.channels.contains(&channel) {
            return Err(ServiceError::new(
                ErrorCode::UnsupportedMediaType,
                format!("this method is not served on the {channel} channel"),
            ));
        }
        let format = channel.format().unwrap_or(Format::Json);
        let context = admit(&parts.headers, &parts.extensions, endpoint.access, self.authenticator.as_deref()).await?;
        let _pass = self.gate.admit(endpoint.limit.as_deref()).await?;
        let body = arguments.await?;
        if let Some(target) = endpoint.queued {
            return Ok(Answer::Queued(jobs::submit(&*self.queue, target, format, body, false, &context).await?));
        }
        let remaining = context.remaining();
        let dispatch = context.scope(endpoint.dispatcher.dispatch(endpoint.method, format, body));
        let dispatched = within(remaining, AssertUnwindSafe(dispatch).catch_unwind()).await?;
        Ok(Answer::Dispatched(dispatched.unwrap_or_else(|_| {
            tracing::error!(path = %parts.uri.path(), "service method panicked");
            Dispatched::Failed(ServiceError::internal("the method panicked"))
        })))
    }

    /// The method at a gRPC path (`/courier.greeter.Greeter/Hello`).
    pub(crate) fn grpc_endpoint(&self, path: &str) -> Option<&Endpoint> {
        self.grpc.get(path).and_then(|(dispatch, _)| self.endpoints.get(dispatch))
    }

    /// Runs a gRPC call to `endpoint`, whose arguments `arguments` reads.
    pub(crate) async fn run_grpc(
        &self,
        endpoint: &Endpoint,
        parts: &Parts,
        arguments: impl Future<Output = Result<Bytes, ServiceError>>,
    ) -> Result<Dispatched, ServiceError> {
        if endpoint.queued.is_some() {
            return Err(ServiceError::new(
                ErrorCode::MethodNotAllowed,
                "this method is queued: submit it on dispatch-protobuf, and follow the job at /jobs/<id>",
            ));
        }
        match self.run(endpoint, ChannelKind::Grpc, parts, arguments).await? {
            Answer::Dispatched(dispatched) => Ok(dispatched),
            Answer::Queued(_) => Err(ServiceError::internal("a gRPC call was queued")),
        }
    }

    /// The largest arguments a call may carry.
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }
}

/// Runs a call until the caller's deadline, if it sent one; past it the work is dropped.
pub(crate) async fn within<T>(remaining: Option<Duration>, call: impl Future<Output = T>) -> Result<T, ServiceError> {
    let Some(remaining) = remaining else { return Ok(call.await) };
    match tokio::time::timeout(remaining, call).await {
        Ok(done) => Ok(done),
        Err(_) => {
            tracing::info!(
                deadline_ms = remaining.as_millis(),
                "the caller's deadline passed: work on the call stopped"
            );
            Err(ServiceError::new(ErrorCode::Timeout, "the call's deadline passed before it finished"))
        }
    }
}

pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, ServiceError> {
    let too_large = || ServiceError::new(ErrorCode::PayloadTooLarge, format!("request body exceeds {limit} bytes"));
    match crate::body::whole(Limited::new(body, limit)).await {
        Ok(whole) => Ok(whole),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(error) => Err(ServiceError::bad_request(format!("cannot read request body: {error}"))),
    }
}

/// An answer with `body` in `format`.
pub(crate) fn encoded(status: StatusCode, format: Format, body: impl Into<Body>) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()))], body.into()).into_response()
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

/// The answer to any path no route serves.
pub(crate) async fn not_found(request: Request) -> Response {
    if courier_core::grpc::is_grpc(request.headers()) {
        return crate::grpc::unimplemented(request.uri().path());
    }
    let error = ServiceError::new(ErrorCode::NotFound, format!("nothing is served at `{}`", request.uri().path()));
    error_response(Format::Json, &error)
}
