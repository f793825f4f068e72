use crate::{observed, response, targets::Targets};
use courier_core::{
    BoxFuture, Call, Channel, ChannelKind, Format, Instances, Reply, ServiceDescriptor, ServiceError, UrlSelector,
};
use http::{header, HeaderValue};
use std::{fmt, sync::Arc};
use tokio::sync::watch;

/// The `dispatch-json`, `dispatch-msgpack` and `dispatch-protobuf` channels: one POST
/// per call to `/invoke/<component>/<service>/<method>` on the instance the selector picks.
pub struct DispatchChannel {
    client: reqwest::Client,
    format: Format,
    content_type: HeaderValue,
    targets: Targets,
    /// Per method index, the path below an instance's base URL.
    paths: Box<[String]>,
}

impl fmt::Debug for DispatchChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DispatchChannel").field("format", &self.format).field("targets", &self.targets).finish()
    }
}

impl DispatchChannel {
    /// A channel for one service of one component, speaking `format`, over the
    /// instances `instances` reports.
    pub fn new(
        client: reqwest::Client,
        format: Format,
        component: &str,
        service: &'static ServiceDescriptor,
        instances: watch::Receiver<Instances>,
        selector: Arc<dyn UrlSelector>,
    ) -> Self {
        let paths = service
            .methods
            .iter()
            .map(|method| format!("/invoke/{component}/{}/{}", service.name, method.name))
            .collect();
        Self {
            client,
            format,
            content_type: HeaderValue::from_static(format.content_type()),
            targets: Targets::new(component, ChannelKind::for_format(format), instances, selector),
            paths,
        }
    }

    async fn send(&self, call: Call<'_>) -> Result<Reply, ServiceError> {
        let url = format!("{}{}", self.targets.pick().await?, self.paths[call.method.index]);
        let body = call.arguments.encode(self.format)?;
        let request = self
            .client
            .post(&url)
            .header(header::CONTENT_TYPE, self.content_type.clone())
            .header(header::ACCEPT, self.content_type.clone());
        let response =
            observed::traced(request).body(body).send().await.map_err(|error| response::transport(&url, &error))?;
        response::read(&url, response).await
    }
}

impl Channel for DispatchChannel {
    fn call<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Reply, ServiceError>> {
        Box::pin(self.send(call))
    }
}
