use crate::invoke::PREFIX;
use axum::extract::Request;
use courier_core::{telemetry::CallLabels, ChannelKind, ComponentDescriptor, Format, ServiceDescriptor};
use http::header;
use std::collections::HashMap;

/// What the calls to each dispatch path are labelled with, built when the server starts.
/// Paths the server does not serve are labelled `unknown`, so a peer cannot grow the
/// set of metrics by inventing paths.
#[derive(Debug, Default)]
pub(crate) struct Endpoints {
    paths: HashMap<String, Endpoint>,
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
    /// Adds every method of `service`, as `component` serves it as `instance`.
    pub(crate) fn add(&mut self, component: &ComponentDescriptor, service: &'static ServiceDescriptor, instance: &str) {
        for method in service.methods {
            let path = format!("{PREFIX}{}/{}/{}", component.name, service.name, method.name);
            let endpoint = Endpoint { service: service.name, method: method.name, instance: instance.to_owned() };
            self.paths.insert(path, endpoint);
        }
    }

    /// The labels of a request, and the instance that answers it.
    pub(crate) fn labels(&self, request: &Request) -> (CallLabels, &str) {
        let channel = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(Format::from_content_type)
            .map_or(UNKNOWN, |format| ChannelKind::for_format(format).name());
        match self.paths.get(request.uri().path()) {
            Some(endpoint) => {
                (CallLabels { service: endpoint.service, method: endpoint.method, channel }, &endpoint.instance)
            }
            None => (CallLabels { service: UNKNOWN, method: UNKNOWN, channel }, UNKNOWN),
        }
    }
}
