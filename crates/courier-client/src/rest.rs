use crate::{observed, response, targets::Targets};
use courier_core::{BoxFuture, Call, Channel, ChannelKind, Format, Instances, Reply, ServiceError, UrlSelector};
use http::header;
use std::{fmt, sync::Arc};
use tokio::sync::watch;

/// The `rest` channel: each call is the HTTP request its method's route declares, in
/// JSON, on the instance the selector picks.
pub struct RestChannel {
    client: reqwest::Client,
    targets: Targets,
}

impl fmt::Debug for RestChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestChannel").field("targets", &self.targets).finish()
    }
}

impl RestChannel {
    /// A channel for the REST routes of one component, over the instances `instances`
    /// reports.
    pub fn new(
        client: reqwest::Client,
        component: &str,
        instances: watch::Receiver<Instances>,
        selector: Arc<dyn UrlSelector>,
    ) -> Self {
        Self { client, targets: Targets::new(component, ChannelKind::Rest, instances, selector) }
    }

    async fn send(&self, call: Call<'_>) -> Result<Reply, ServiceError> {
        let request = call.arguments.rest()?;
        let mut url = format!("{}{}", self.targets.pick().await?, request.path);
        if !request.query.is_empty() {
            url.push('?');
            url.push_str(&request.query);
        }
        let method = http::Method::from_bytes(request.method.as_str().as_bytes())
            .map_err(|error| ServiceError::internal(error.to_string()))?;
        let mut builder = self.client.request(method, &url).header(header::ACCEPT, Format::Json.content_type());
        if let Some(body) = request.body {
            builder = builder.header(header::CONTENT_TYPE, Format::Json.content_type()).body(body);
        }
        let response = observed::traced(builder).send().await.map_err(|error| response::transport(&url, &error))?;
        response::read(&url, response).await
    }
}

impl Channel for RestChannel {
    fn call<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Reply, ServiceError>> {
        Box::pin(self.send(call))
    }
}
