//! The dispatch endpoint: `POST /invoke/<component>/<service>/<method>`, with the
//! method's arguments as the body in the codec the `Content-Type` names.

use crate::{
    admission::Limit,
    context::challenge,
    jobs::{self, QueuedMethod},
    pipeline::{read_body, Answer, Encoded, Pipeline, Target},
    response::{encoded, error_response, method_error},
};
use axum::{
    extract::{Request, State},
    response::Response,
};
use bytes::Bytes;
use courier_core::{wire, BoundService, ChannelKind, ComponentDescriptor, Dispatched, ErrorCode, Format, ServiceError};
use http::{header, request::Parts, Method, StatusCode};
use std::{collections::HashMap, future::Future, sync::Arc};

pub(crate) struct Endpoint {
    target: Target,
    channels: Vec<ChannelKind>,
    /// Whether the fast path may answer it: no component layer wraps it.
    direct: bool,
}

/// Every method of every component, by path; built once when the server starts.
pub(crate) struct DispatchTable {
    endpoints: HashMap<String, Endpoint>,
    /// By gRPC path, the dispatch path of the same method and its component.
    grpc: HashMap<String, (String, &'static str)>,
    pipeline: Arc<Pipeline>,
}

impl DispatchTable {
    pub(crate) fn new(pipeline: Arc<Pipeline>) -> Self {
        Self { endpoints: HashMap::new(), grpc: HashMap::new(), pipeline }
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
            let queued = method.queued.then_some(QueuedMethod {
                component: component.name,
                service: service.descriptor.name,
                method: method.name,
            });
            let target = Target::new(Arc::clone(&service.dispatcher), method, limit.cloned(), queued);
            let endpoint = Endpoint { target, channels, direct };
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
    answer(&table, request).await
}

/// Answers a call to one of `table`'s endpoints.
pub(crate) async fn answer(table: &DispatchTable, request: Request) -> Response {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let format = content_type.and_then(Format::from_content_type);
    // Errors answer in the caller's codec when it named one we speak.
    let reply_format = format.unwrap_or(Format::Json);
    match call(table, request, format).await {
        Ok(Answer::Queued(status)) => jobs::accepted(reply_format, &status),
        Ok(Answer::Ran(Dispatched::Value(body))) => encoded(StatusCode::OK, reply_format, body),
        Ok(Answer::Ran(Dispatched::MethodError(body))) => {
            method_error(StatusCode::INTERNAL_SERVER_ERROR, reply_format, body)
        }
        Ok(Answer::Ran(Dispatched::Failed(error))) | Err(error) => {
            challenge(error_response(reply_format, &error), &error, table.pipeline.authenticator())
        }
    }
}

async fn call(
    table: &DispatchTable,
    request: Request,
    format: Option<Format>,
) -> Result<Answer<Dispatched>, ServiceError> {
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
    endpoint.served_on(ChannelKind::for_format(format))?;
    let limit = table.pipeline.max_body_bytes();
    let arguments = async move { Ok(Encoded { format, body: read_body(body, limit).await? }) };
    table.pipeline.call(&endpoint.target, &parts, arguments).await
}

impl Endpoint {
    /// Refuses a call that came on a channel the method is not served on.
    fn served_on(&self, channel: ChannelKind) -> Result<(), ServiceError> {
        match self.channels.contains(&channel) {
            true => Ok(()),
            false => Err(ServiceError::new(
                ErrorCode::UnsupportedMediaType,
                format!("this method is not served on the {channel} channel"),
            )),
        }
    }
}

impl DispatchTable {
    /// The method at a gRPC path (`/courier.greeter.Greeter/Hello`).
    pub(crate) fn grpc_endpoint(&self, path: &str) -> Option<&Endpoint> {
        self.grpc.get(path).and_then(|(dispatch, _)| self.endpoints.get(dispatch))
    }

    /// Runs a gRPC call to `endpoint`, whose protobuf arguments `arguments` reads.
    pub(crate) async fn run_grpc(
        &self,
        endpoint: &Endpoint,
        parts: &Parts,
        arguments: impl Future<Output = Result<Bytes, ServiceError>>,
    ) -> Result<Dispatched, ServiceError> {
        if endpoint.target.is_queued() {
            return Err(ServiceError::new(
                ErrorCode::MethodNotAllowed,
                "this method is queued: submit it on dispatch-protobuf, and follow the job at /jobs/<id>",
            ));
        }
        endpoint.served_on(ChannelKind::Grpc)?;
        let arguments = async { Ok(Encoded { format: Format::Protobuf, body: arguments.await? }) };
        match self.pipeline.call(&endpoint.target, parts, arguments).await? {
            Answer::Ran(dispatched) => Ok(dispatched),
            Answer::Queued(_) => Err(ServiceError::internal("a gRPC call was queued")),
        }
    }

    /// The largest arguments a call may carry.
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.pipeline.max_body_bytes()
    }
}

/// The answer to any path no route serves.
pub(crate) async fn not_found(request: Request) -> Response {
    if courier_core::grpc::is_grpc(request.headers()) {
        return crate::grpc::unimplemented(request.uri().path());
    }
    let error = ServiceError::new(ErrorCode::NotFound, format!("nothing is served at `{}`", request.uri().path()));
    error_response(Format::Json, &error)
}
