use crate::{
    targets::{Target, Targets},
    HttpClient,
};
use bytes::Bytes;
use courier_core::{
    BoxFuture, Call, Channel, ChannelKind, ErrorCode, Format, Instances, Outcome, Reply, ServiceDescriptor,
    ServiceError, UrlSelector,
};
use http::{header, HeaderValue};
use std::{fmt, sync::Arc, time::Duration};
use tokio::sync::watch;

/// How long a call waits for a registry's first answer about a component.
const FIRST_ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The header that marks a reply body as the method's own error.
const ERROR_HEADER: &str = "courier-error";

/// The `dispatch-json` and `dispatch-msgpack` channels: one POST per call to
/// `/invoke/<component>/<service>/<method>` on the instance the selector picks.
pub struct DispatchChannel {
    client: HttpClient,
    format: Format,
    content_type: HeaderValue,
    component: String,
    instances: watch::Receiver<Instances>,
    selector: Arc<dyn UrlSelector>,
    /// Per instance and method, where calls go.
    targets: Targets,
}

impl fmt::Debug for DispatchChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DispatchChannel")
            .field("format", &self.format)
            .field("component", &self.component)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl DispatchChannel {
    /// A channel for one service of one component, speaking `format`, over the
    /// instances `instances` reports.
    pub fn new(
        client: impl Into<HttpClient>,
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
            client: client.into(),
            format,
            content_type: HeaderValue::from_static(format.content_type()),
            component: component.to_owned(),
            instances,
            selector,
            targets: Targets::new(paths),
        }
    }

    /// Where the method is called on the instance the selector picks. A registry that
    /// has not answered yet (Consul, just after the proxy was built) gets a moment to.
    async fn target(&self, method: usize) -> Result<Target, ServiceError> {
        if self.instances.borrow().is_empty() && !self.instances.has_changed().unwrap_or(true) {
            let mut first_answer = self.instances.clone();
            let _ = tokio::time::timeout(FIRST_ANSWER_TIMEOUT, first_answer.changed()).await;
        }
        let instances = Instances::clone(&self.instances.borrow());
        let instance = match instances.len() {
            0 => None,
            _ => self.selector.select(&instances),
        }
        .ok_or_else(|| {
            ServiceError::unavailable(format!(
                "no live instance of component `{}` on the {} channel",
                self.component,
                ChannelKind::for_format(self.format)
            ))
        })?;
        self.targets.get(&instances, instance, method)
    }

    async fn send(&self, call: Call<'_>) -> Result<Reply, ServiceError> {
        let target = self.target(call.method.index).await?;
        let body = call.arguments.encode(self.format)?;
        let response = self.client.post(target, &self.content_type, body).await?;
        let (status, body) = (response.status, response.body);
        let method_error = response.headers.contains_key(ERROR_HEADER);
        let format = response
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(Format::from_content_type);
        match (status.is_success(), method_error, format) {
            (true, _, Some(format)) => Ok(reply(format, Outcome::Value, body)),
            (false, true, Some(format)) => Ok(reply(format, Outcome::MethodError, body)),
            (false, false, Some(format)) => {
                Err(format.decode::<ServiceError>(&body).unwrap_or_else(|_| from_status(status, &body)))
            }
            _ => Err(from_status(status, &body)),
        }
    }
}

impl Channel for DispatchChannel {
    fn call<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Reply, ServiceError>> {
        Box::pin(self.send(call))
    }
}

fn reply(format: Format, outcome: Outcome, body: Bytes) -> Reply {
    Reply { format, outcome, body }
}

/// A fault whose body is not one of ours: a proxy, or a server that is not courier.
fn from_status(status: http::StatusCode, body: &[u8]) -> ServiceError {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    ServiceError::new(ErrorCode::from_status(status.as_u16()), format!("HTTP {status}: {text}"))
}
