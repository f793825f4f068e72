//! The `rest` channel on the server: each route declared on a service trait, mounted on
//! the component's router beside the dispatch endpoint.

use crate::{
    admission::{Gate, Limit},
    context::{admit, challenge},
    invoke::{self, error_response, read_body, within},
    jobs::{self, QueuedMethod},
    layer::ComponentLayer,
};
use axum::{
    extract::{rejection::PathRejection, Path, Request},
    response::{IntoResponse, Response},
    routing::{on, MethodFilter, MethodRouter},
    Router,
};
use courier_core::{
    auth::{Access, Authenticator},
    jobs::JobQueue,
    rest::{HttpMethod, RestRequest, RestRoute},
    wire, BoundService, ComponentDescriptor, Dispatch, ErrorCode, Format, MethodDescriptor, ServiceError,
};
use futures_util::FutureExt;
use http::{header, HeaderValue, StatusCode};
use std::{collections::BTreeMap, panic::AssertUnwindSafe, sync::Arc};

/// Every REST route of the services a server runs on the `rest` channel.
#[derive(Default)]
pub(crate) struct RestRoutes {
    /// By path template, the method routers, so methods on one path share it.
    paths: BTreeMap<&'static str, MethodRouter>,
    /// What was mounted, for the OpenAPI document and for conflicts.
    pub(crate) mounted: Vec<Mounted>,
}

/// A route and the method it serves.
#[derive(Clone, Copy)]
pub(crate) struct Mounted {
    /// The service's name.
    pub(crate) service: &'static str,
    /// The method.
    pub(crate) method: &'static MethodDescriptor,
    /// Its route.
    pub(crate) route: &'static RestRoute,
}

impl RestRoutes {
    /// Mounts the routes of a service; two routes with the same method and path conflict.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add(
        &mut self,
        component: &'static ComponentDescriptor,
        service: &BoundService,
        queue: &Arc<dyn JobQueue>,
        max_body_bytes: usize,
        authenticator: Option<&Arc<dyn Authenticator>>,
        gate: &Arc<Gate>,
        limit: Option<&Arc<Limit>>,
        layer: Option<&ComponentLayer>,
    ) -> Result<(), String> {
        for method in service.descriptor.methods {
            let Some(route) = method.rest else { continue };
            if let Some(other) = self
                .mounted
                .iter()
                .find(|known| known.route.method == route.method && same_shape(known.route.path, route.path))
            {
                return Err(format!(
                    "{} {} of `{}` and of `{}` are the same route",
                    route.method, route.path, service.descriptor.name, other.service
                ));
            }
            self.mounted.push(Mounted { service: service.descriptor.name, method, route });
            let endpoint = Arc::new(Endpoint {
                dispatcher: Arc::clone(&service.dispatcher),
                method: method.index,
                access: method.access,
                max_body_bytes,
                authenticator: authenticator.cloned(),
                gate: Arc::clone(gate),
                limit: limit.cloned(),
                queued: method.queued.then(|| {
                    let target = QueuedMethod {
                        component: component.name,
                        service: service.descriptor.name,
                        method: method.name,
                    };
                    (target, Arc::clone(queue))
                }),
            });
            let handler = move |params: Result<Path<Vec<(String, String)>>, PathRejection>, request: Request| {
                let endpoint = Arc::clone(&endpoint);
                async move {
                    let authenticator = endpoint.authenticator.as_deref();
                    let answer = match path_params(params) {
                        Ok(path) => serve(&endpoint, path, request).await,
                        Err(error) => Err(error),
                    };
                    match answer {
                        Ok(response) => response,
                        Err(error) => challenge(error_response(Format::Json, &error), &error, authenticator),
                    }
                }
            };
            let entry =
                self.paths.remove(route.path).unwrap_or_else(|| MethodRouter::new().fallback(method_not_allowed));
            let routes = on(filter(route.method), handler);
            let routes = match layer {
                Some(layer) => layer.wrap(routes),
                None => routes,
            };
            self.paths.insert(route.path, entry.merge(routes));
        }
        Ok(())
    }

    pub(crate) fn into_router(self) -> Router {
        self.paths.into_iter().fold(Router::new(), |router, (path, methods)| router.route(path, methods))
    }
}

/// A route's path parameters; a route without any has none. Parameters that are not
/// valid percent-encoded UTF-8 are a 400 like any other bad argument.
fn path_params(
    params: Result<Path<Vec<(String, String)>>, PathRejection>,
) -> Result<Vec<(String, String)>, ServiceError> {
    match params {
        Ok(Path(params)) => Ok(params),
        Err(PathRejection::MissingPathParams(_)) => Ok(Vec::new()),
        Err(rejection) => Err(ServiceError::bad_request(rejection.body_text())),
    }
}

/// Whether two templates match the same requests: `/a/{x}` and `/a/{y}` do.
fn same_shape(left: &str, right: &str) -> bool {
    fn shape(path: &str) -> impl Iterator<Item = &str> {
        path.split('/').map(|segment| if segment.starts_with('{') { "{}" } else { segment })
    }
    shape(left).eq(shape(right))
}

fn filter(method: HttpMethod) -> MethodFilter {
    match method {
        HttpMethod::Get => MethodFilter::GET,
        HttpMethod::Post => MethodFilter::POST,
        HttpMethod::Put => MethodFilter::PUT,
        HttpMethod::Patch => MethodFilter::PATCH,
        HttpMethod::Delete => MethodFilter::DELETE,
    }
}

async fn method_not_allowed(request: Request) -> Response {
    let error = ServiceError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} is not served at `{}`", request.method(), request.uri().path()),
    );
    invoke::error_response(Format::Json, &error)
}

/// One REST route of one method.
struct Endpoint {
    dispatcher: Arc<dyn Dispatch>,
    method: usize,
    access: Access,
    max_body_bytes: usize,
    authenticator: Option<Arc<dyn Authenticator>>,
    gate: Arc<Gate>,
    limit: Option<Arc<Limit>>,
    /// For a `#[queued]` method: where its jobs go.
    queued: Option<(QueuedMethod, Arc<dyn JobQueue>)>,
}

async fn serve(endpoint: &Endpoint, path: Vec<(String, String)>, request: Request) -> Result<Response, ServiceError> {
    let (parts, body) = request.into_parts();
    let context = admit(&parts.headers, &parts.extensions, endpoint.access, endpoint.authenticator.as_deref()).await?;
    let _pass = endpoint.gate.admit(endpoint.limit.as_deref()).await?;
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let body = read_body(body, endpoint.max_body_bytes).await?;
    let json = match content_type {
        Some(content_type) => Format::from_content_type(content_type) == Some(Format::Json),
        None => body.is_empty(),
    };
    let request = RestRequest { path, query: parts.uri.query().unwrap_or_default().to_owned(), body, json };
    if let Some((target, queue)) = &endpoint.queued {
        let arguments = endpoint.dispatcher.rest_arguments(endpoint.method, request)?;
        let status = jobs::submit(&**queue, *target, Format::Json, arguments.into(), true, &context).await?;
        return Ok(jobs::accepted(Format::Json, &status));
    }
    let remaining = context.remaining();
    let answer = context.scope(endpoint.dispatcher.rest(endpoint.method, request));
    let answered = within(remaining, AssertUnwindSafe(answer).catch_unwind()).await?;
    let Ok(answer) = answered else {
        tracing::error!(path = parts.uri.path(), "service method panicked");
        return Err(ServiceError::internal("the method panicked"));
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::NO_CONTENT {
        return Ok(status.into_response());
    }
    let mut response = (status, [(header::CONTENT_TYPE, Format::Json.content_type())], answer.body).into_response();
    if answer.method_error {
        response.headers_mut().insert(wire::ERROR_HEADER, HeaderValue::from_static(wire::METHOD_ERROR));
    }
    Ok(response)
}
