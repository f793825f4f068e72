use axum::extract::{MatchedPath, Request};
use courier_core::wire::{self, INVOKE_PREFIX};
use courier_core::{telemetry::CallLabels, ChannelKind, ComponentDescriptor, Format, ServiceDescriptor};
use foldhash::HashMap;
use http::header;

/// What the calls to each dispatch path and REST route are labelled with, built when
/// the server starts. Requests the server does not route to a method are labelled
/// `unknown`, so a peer cannot grow the set of metrics by inventing paths.
#[derive(Debug, Default)]
pub(crate) struct Endpoints {
    /// By dispatch path.
    dispatch: HashMap<String, Endpoint>,
    /// By gRPC path.
    grpc: HashMap<String, Endpoint>,
    /// By route template, then HTTP method.
    rest: HashMap<&'static str, Vec<(&'static str, Endpoint)>>,
}

#[derive(Debug)]
struct Endpoint {
    service: &'static str,
    method: &'static str,
    /// The instance of the component that answers here.
    instance: String,
}

const UNKNOWN: &str = "unknown";

impl Endpoints {
    /// Adds the dispatch path of every method of `service`, as `component` serves it as
    /// `instance`.
    pub(crate) fn add(&mut self, component: &ComponentDescriptor, service: &'static ServiceDescriptor, instance: &str) {
        for method in service.methods {
            let path = wire::invoke_path(component.name, service.name, method.name);
            let endpoint = || Endpoint { service: service.name, method: method.name, instance: instance.to_owned() };
            if let Some(grpc) = service.grpc_path(method) {
                self.grpc.insert(grpc, endpoint());
            }
            self.dispatch.insert(path, endpoint());
        }
    }

    /// Adds the REST routes of `service`, answered as `instance`.
    pub(crate) fn add_rest(&mut self, service: &'static ServiceDescriptor, instance: &str) {
        for method in service.methods {
            if let Some(route) = method.rest {
                let endpoint = Endpoint { service: service.name, method: method.name, instance: instance.to_owned() };
                self.rest.entry(route.path).or_default().push((route.method.as_str(), endpoint));
            }
        }
    }

    /// The labels of a request, and the instance that answers it.
    pub(crate) fn labels(&self, request: &Request) -> (CallLabels, &str) {
        if let Some(endpoint) = self.dispatch.get(request.uri().path()) {
            return endpoint.labels(dispatch_channel(request));
        }
        if let Some(endpoint) = self.grpc.get(request.uri().path()) {
            return endpoint.labels(ChannelKind::Grpc.name());
        }
        let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
        let endpoint = route.and_then(|route| self.rest.get(route)).and_then(|methods| {
            methods.iter().find(|(method, _)| *method == request.method().as_str()).map(|(_, endpoint)| endpoint)
        });
        match endpoint {
            Some(endpoint) => endpoint.labels(ChannelKind::Rest.name()),
            // A REST route, with an HTTP method it does not take.
            None if route.is_some_and(|route| !route.starts_with(INVOKE_PREFIX)) => {
                Endpoint::unknown(ChannelKind::Rest.name())
            }
            // A dispatch path that names no method.
            None => Endpoint::unknown(dispatch_channel(request)),
        }
    }
}

impl Endpoint {
    fn labels(&self, channel: &'static str) -> (CallLabels, &str) {
        (CallLabels { service: self.service, method: self.method, channel }, &self.instance)
    }

    fn unknown(channel: &'static str) -> (CallLabels, &'static str) {
        (CallLabels { service: UNKNOWN, method: UNKNOWN, channel }, UNKNOWN)
    }
}

/// A dispatch call's channel, from its `Content-Type`.
fn dispatch_channel(request: &Request) -> &'static str {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(Format::from_content_type)
        .map_or(UNKNOWN, |format| ChannelKind::for_format(format).name())
}
