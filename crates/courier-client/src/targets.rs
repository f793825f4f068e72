use courier_core::{telemetry::Selections, ChannelKind, Instance, Instances, ServiceError, UrlSelector};
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
    selections: Selections,
    /// Where the registry looks, for the error when it knows no instance.
    looked: String,
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
        looked: String,
    ) -> Self {
        Self {
            component: component.to_owned(),
            channel,
            instances,
            selector,
            selections: Selections::new(component, channel),
            looked,
        }
    }

    /// Every live instance, in the registry's order.
    pub(crate) fn live(&self) -> Vec<Instance> {
        self.instances.borrow().iter().cloned().collect()
    }

    /// The instance the selector picks, leaving out those `tried` already and those
    /// ejected for failing (unless nothing else is left). A registry that has not
    /// answered yet (Consul, just after the proxy was built) gets a moment to.
    pub(crate) async fn pick(&self, tried: &[Picked]) -> Result<Picked, ServiceError> {
        if self.instances.borrow().is_empty() && !self.instances.has_changed().unwrap_or(true) {
            let mut first_answer = self.instances.clone();
            let _ = tokio::time::timeout(FIRST_ANSWER_TIMEOUT, first_answer.changed()).await;
        }
        let instances = Arc::clone(&self.instances.borrow());
        let untried = |instance: &&Instance| !tried.iter().any(|picked| **picked == **instance);
        // The common case picks from the registry's own list, without copying or scanning
        // it, so its cost does not grow with the number of instances; only a pick that
        // lands on an ejected instance, or a retry, filters the list.
        let first = match tried.is_empty() {
            true => self
                .selector
                .select(&instances)
                .filter(|instance| !instance.is_ejected())
                .and_then(|instance| Picked::of(&instances, instance)),
            false => None,
        };
        let picked = first.or_else(|| {
            let healthy: Vec<Instance> =
                instances.iter().filter(untried).filter(|instance| !instance.is_ejected()).cloned().collect();
            let candidates: Instances = match healthy.is_empty() {
                false => healthy.into(),
                true => instances.iter().filter(untried).cloned().collect(),
            };
            self.selector.select(&candidates).and_then(|instance| Picked::of(&candidates, instance))
        });
        let instance = picked.ok_or_else(|| match tried.is_empty() {
            true => ServiceError::unavailable(format!(
                "no live instance of component `{}` on the {} channel in {}",
                self.component, self.channel, self.looked
            )),
            false => ServiceError::unavailable(format!(
                "no other live instance of component `{}` on the {} channel",
                self.component, self.channel
            )),
        })?;
        tracing::Span::current().record("instance", instance.id.as_str());
        self.selections.count(&instance.id);
        Ok(instance)
    }
}

/// The instance picked for a call: its place in the list it was picked from, which it
/// keeps, so that picking copies nothing.
#[derive(Debug, Clone)]
pub(crate) struct Picked {
    list: Instances,
    index: usize,
}

impl Picked {
    /// `chosen`, when it is one of `list`'s instances: a selector may answer with any
    /// instance it was offered, and only with those.
    fn of(list: &Instances, chosen: &Instance) -> Option<Self> {
        let offset = std::ptr::from_ref(chosen).addr().wrapping_sub(list.as_ptr().addr());
        let index = offset / std::mem::size_of::<Instance>();
        list.get(index).filter(|at| std::ptr::eq(*at, chosen)).map(|_| Self { list: Arc::clone(list), index })
    }
}

impl std::ops::Deref for Picked {
    type Target = Instance;

    fn deref(&self) -> &Instance {
        &self.list[self.index]
    }
}
