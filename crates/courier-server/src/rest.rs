//! The `rest` channel on the server: each route declared on a service trait, mounted on
//! the component's router beside the dispatch endpoint.

use crate::{
    admission::Limit,
    context::challenge,
    jobs::{self, QueuedMethod},
    layer::ComponentLayer,
    pipeline::{read_body, Answer, Pipeline, Target},
    response::{encoded, error_response, method_error},
};
use axum::{
    extract::{rejection::PathRejection, Path, Request},
    response::{IntoResponse, Response},
    routing::{on, MethodFilter, MethodRouter},
    Router,
};
use courier_core::{
    rest::{HttpMethod, RestRequest, RestRoute},
    BoundService, ComponentDescriptor, ErrorCode, Format, MethodDescriptor, ServiceError,
};
use http::{header, StatusCode};
use std::{collections::BTreeMap, sync::Arc};

/// Every REST route of the services a server runs on the `rest` channel.
#[derive(Default)]
pub(crate) struct RestRoutes {
    routes: Vec<Route>,
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

/// One route, until the router is built.
struct Route {
    mounted: Mounted,
    endpoint: Arc<Endpoint>,
    layer: Option<ComponentLayer>,
}

impl RestRoutes {
    /// Adds the routes of a service.
    pub(crate) fn add(
        &mut self,
        component: &'static ComponentDescriptor,
        service: &BoundService,
        pipeline: &Arc<Pipeline>,
        limit: Option<&Arc<Limit>>,
        layer: Option<&ComponentLayer>,
    ) {
        for method in service.descriptor.methods {
            let Some(route) = method.rest else { continue };
            let queued = method.queued.then_some(QueuedMethod {
                component: component.name,
                service: service.descriptor.name,
                method: method.name,
            });
            let target = Target::new(Arc::clone(&service.dispatcher), method, limit.cloned(), queued);
            self.routes.push(Route {
                mounted: Mounted { service: service.descriptor.name, method, route },
                endpoint: Arc::new(Endpoint { target, pipeline: Arc::clone(pipeline) }),
                layer: layer.cloned(),
            });
        }
    }

    /// What is mounted, in the order it was added.
    pub(crate) fn mounted(&self) -> impl Iterator<Item = Mounted> + '_ {
        self.routes.iter().map(|route| route.mounted)
    }

    /// The router of every route; methods on one path share it. The routes must not
    /// conflict (see [`Claims`](crate::routes::Claims)).
    pub(crate) fn into_router(self) -> Router {
        let mut paths: BTreeMap<&'static str, MethodRouter> = BTreeMap::new();
        for Route { mounted, endpoint, layer } in self.routes {
            let handler = move |params: Result<Path<Vec<(String, String)>>, PathRejection>, request: Request| {
                let endpoint = Arc::clone(&endpoint);
                async move {
                    let authenticator = endpoint.pipeline.authenticator();
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
            let path = mounted.route.path;
            let entry = paths.remove(path).unwrap_or_else(|| MethodRouter::new().fallback(method_not_allowed));
            let routes = on(filter(mounted.route.method), handler);
            let routes = match &layer {
                Some(layer) => layer.wrap(routes),
                None => routes,
            };
            paths.insert(path, entry.merge(routes));
        }
        paths.into_iter().fold(Router::new(), |router, (path, methods)| router.route(path, methods))
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
    error_response(Format::Json, &error)
}

/// One REST route of one method.
struct Endpoint {
    target: Target,
    pipeline: Arc<Pipeline>,
}

async fn serve(endpoint: &Endpoint, path: Vec<(String, String)>, request: Request) -> Result<Response, ServiceError> {
    let (parts, body) = request.into_parts();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let json = content_type.map(|content_type| Format::from_content_type(content_type) == Some(Format::Json));
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let limit = endpoint.pipeline.max_body_bytes();
    let arguments = async move {
        let body = read_body(body, limit).await?;
        let json = json.unwrap_or(body.is_empty());
        Ok(RestRequest { path, query, body, json })
    };
    let answer = match endpoint.pipeline.call(&endpoint.target, &parts, arguments).await? {
        Answer::Queued(status) => return Ok(jobs::accepted(Format::Json, &status)),
        Answer::Ran(answer) => answer,
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Ok(match (status, answer.method_error) {
        (StatusCode::NO_CONTENT, _) => status.into_response(),
        (_, true) => method_error(status, Format::Json, answer.body),
        (_, false) => encoded(status, Format::Json, answer.body),
    })
}
