use courier_core::{telemetry, ChannelKind, Instances, ServiceError, UrlSelector};
use std::{fmt, sync::Arc, time::Duration};
use tokio::sync::watch;

/// How long a call waits for a registry's first answer about a component.
const FIRST_ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The live instances of a component on a channel, and how one is picked per call.
pub(crate) struct Targets {
    component: String,
    channel: ChannelKind,
    instances: watch::Receiver<Instances>,
    selector: Arc<dyn UrlSelector>,
}

impl fmt::Debug for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Targets")
            .field("component", &self.component)
            .field("channel", &self.channel)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl Targets {
    pub(crate) fn new(
        component: &str,
        channel: ChannelKind,
        instances: watch::Receiver<Instances>,
        selector: Arc<dyn UrlSelector>,
    ) -> Self {
        Self { component: component.to_owned(), channel, instances, selector }
    }

    /// The base URL of the instance the selector picks. A registry that has not answered
    /// yet (Consul, just after the proxy was built) gets a moment to.
    pub(crate) async fn pick(&self) -> Result<String, ServiceError> {
        if self.instances.borrow().is_empty() && !self.instances.has_changed().unwrap_or(true) {
            let mut first_answer = self.instances.clone();
            let _ = tokio::time::timeout(FIRST_ANSWER_TIMEOUT, first_answer.changed()).await;
        }
        let instances = self.instances.borrow();
        match instances.len() {
            0 => None,
            _ => self.selector.select(&instances).map(|instance| {
                tracing::Span::current().record("instance", instance.id.as_str());
                telemetry::selected(&self.component, self.channel, &instance.id);
                instance.url.clone()
            }),
        }
        .ok_or_else(|| {
            ServiceError::unavailable(format!(
                "no live instance of component `{}` on the {} channel",
                self.component, self.channel
            ))
        })
    }
}
