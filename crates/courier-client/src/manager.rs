use crate::{
    call::ClientCall,
    observed::Observed,
    sender::{Policy, Sender},
    targets::Targets,
    CallService, HttpChannel, HttpClient,
};
use courier_core::{
    local_service, Channel, ChannelKind, ComponentDescriptor, ComponentEntry, ComponentRegistry, ErrorCode, Reply,
    Selection, Service, ServiceDescriptor, ServiceError, UrlSelector,
};
use std::{fmt, marker::PhantomData, sync::Arc, time::Duration};
use tower::ServiceExt;

/// Wraps a proxy's call path in one interceptor.
#[doc(hidden)]
pub type Interceptor = Arc<dyn Fn(CallService) -> CallService + Send + Sync>;

/// A tower layer that can wrap a proxy's calls: what [`ServiceManagerBuilder::layer`] and
/// [`ProxyBuilder::layer`] take. Implemented for every fitting layer: your own, and
/// tower's, such as `TimeoutLayer` (its timeouts fail the call with
/// [`ErrorCode::Timeout`](courier_core::ErrorCode::Timeout), and the server drops the
/// call when its connection closes) or `ConcurrencyLimitLayer`.
pub trait ClientLayer: Send + Sync + 'static {
    /// The layer as an [`Interceptor`].
    #[doc(hidden)]
    fn into_interceptor(self) -> Interceptor;
}

impl<L> ClientLayer for L
where
    L: tower::Layer<CallService> + Send + Sync + 'static,
    L::Service: tower::Service<ClientCall, Response = Reply> + Clone + Send + Sync + 'static,
    <L::Service as tower::Service<ClientCall>>::Error: Into<tower::BoxError>,
    <L::Service as tower::Service<ClientCall>>::Future: Send + 'static,
{
    fn into_interceptor(self) -> Interceptor {
        Arc::new(move |inner| CallService::new(self.layer(inner).map_err(service_error)))
    }
}

/// What a layer failed a call with, as a courier error: the error itself when it is one.
fn service_error(error: impl Into<tower::BoxError>) -> ServiceError {
    match error.into().downcast::<ServiceError>() {
        Ok(error) => *error,
        Err(error) if error.is::<tower::timeout::error::Elapsed>() => {
            ServiceError::new(ErrorCode::Timeout, "an interceptor's timeout passed before the call finished")
        }
        Err(error) => ServiceError::internal(format!("an interceptor failed the call: {error}")),
    }
}

/// Hands out proxies for services, wherever their components run.
///
/// One manager holds one pooled HTTP client, so proxies made by it share connections.
/// Clones share everything.
///
/// ```no_run
/// # mod courier { pub use courier_client::*; pub use courier_core::*; pub mod registry { pub use courier_client::*; pub use courier_core::*; } pub mod service { pub use courier_client::*; pub use courier_core::*; } }
/// # use courier::ServiceManager;
/// # use courier::{ChannelKind, registry::LocalRegistry, service::Service};
/// # fn demo<S: Service + ?Sized>() -> Result<(), courier::ServiceError> {
/// let services = ServiceManager::new(LocalRegistry::shared());
/// let proxy = services.get::<S>()?;                                            // the defaults
/// let json = services.proxy::<S>().channel(ChannelKind::DispatchJson).build()?; // or not
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServiceManager {
    /// Where instances are found; the environment's error, when it names a registry
    /// that cannot be made (proxies fail with it).
    registry: Result<Arc<dyn ComponentRegistry>, ServiceError>,
    client: HttpClient,
    /// The channel proxies use; `None`: the best one the component is served on.
    channel: Option<ChannelKind>,
    selection: Selection,
    timeout: Option<Duration>,
    policy: Policy,
    interceptors: Vec<Interceptor>,
}

impl fmt::Debug for ServiceManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceManager")
            .field("registry", &self.registry)
            .field("channel", &self.channel)
            .field("selection", &self.selection)
            .field("timeout", &self.timeout)
            .field("interceptors", &self.interceptors.len())
            .finish_non_exhaustive()
    }
}

impl Default for ServiceManager {
    /// A manager on the registry the environment names (see
    /// [`ServiceManagerBuilder::registry`]).
    fn default() -> Self {
        Self::builder().build()
    }
}

impl ServiceManager {
    /// A manager that finds instances through `registry`, with the default channel (the
    /// first of `dispatch-msgpack`, `dispatch-protobuf`, `dispatch-json` and `rest` the
    /// component is served on) and selection (round-robin).
    pub fn new(registry: impl ComponentRegistry) -> Self {
        Self::builder().registry(registry).build()
    }

    /// Configures a manager.
    pub fn builder() -> ServiceManagerBuilder {
        ServiceManagerBuilder::default()
    }

    /// A proxy for `S` with this manager's defaults.
    pub fn get<S: Service + ?Sized>(&self) -> Result<Arc<S>, ServiceError> {
        self.proxy::<S>().build()
    }

    /// Configures a proxy for `S`.
    pub fn proxy<S: Service + ?Sized>(&self) -> ProxyBuilder<'_, S> {
        ProxyBuilder {
            manager: self,
            channel: self.channel,
            selector: None,
            component: None,
            timeout: self.timeout,
            interceptors: self.interceptors.clone(),
            service: PhantomData,
        }
    }
}

/// Configures a [`ServiceManager`].
#[derive(Default)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct ServiceManagerBuilder {
    registry: Option<Arc<dyn ComponentRegistry>>,
    client: Option<HttpClient>,
    channel: Option<ChannelKind>,
    selection: Selection,
    timeout: Option<Duration>,
    policy: Policy,
    interceptors: Vec<Interceptor>,
}

impl fmt::Debug for ServiceManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceManagerBuilder")
            .field("channel", &self.channel)
            .field("selection", &self.selection)
            .field("timeout", &self.timeout)
            .field("interceptors", &self.interceptors.len())
            .finish_non_exhaustive()
    }
}

impl ServiceManagerBuilder {
    /// Where instances are found. Default: the registry the environment names — the
    /// in-process registry holding the instances `COURIER_PEERS` lists, when it is set;
    /// otherwise, with the `consul` feature, Consul when `CONSUL_HTTP_ADDR` is set;
    /// otherwise the in-process registry, [`LocalRegistry::shared`](courier_core::LocalRegistry::shared), which servers of
    /// this process register with by default. A malformed variable fails every proxy
    /// with an error that names it.
    pub fn registry(mut self, registry: impl ComponentRegistry) -> Self {
        self.registry = Some(Arc::new(registry));
        self
    }

    /// The channel proxies use unless told otherwise. Default: the first of
    /// `dispatch-msgpack`, `dispatch-protobuf`, `dispatch-json` and `rest` that the
    /// service's component declares (`#[component(channels = [...])]`) and the service
    /// supports.
    pub fn channel(mut self, channel: ChannelKind) -> Self {
        self.channel = Some(channel);
        self
    }

    /// How proxies pick an instance unless told otherwise. Default: round-robin.
    pub fn selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }

    /// The longest a call may take, unless a proxy or the [`CallContext`](courier_core::CallContext)
    /// says less. Default: [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT), 10 s, as tarpc's
    /// default deadline; `Duration::MAX` lets calls take as long as they take. A call to a
    /// `#[queued]` method waits for its job for as long as a timeout set here (or on the
    /// proxy) or its deadline allows, and without one, until the job ends.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How many instances a call may be tried on, when the ones before refused it,
    /// could not be reached, or (for `#[idempotent]` methods) failed mid-call. Default: 3.
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.policy.attempts = attempts.max(1);
        self
    }

    /// Leaves an instance out of the rotation for `backoff` after `failures` failed
    /// calls in a row, whatever the registry says; then tries it again. Default: 3, 10 s.
    pub fn outlier_ejection(mut self, failures: u32, backoff: Duration) -> Self {
        self.policy.eject_after = failures.max(1);
        self.policy.eject_for = backoff;
        self
    }

    /// Wraps every proxy's calls in a tower layer: an interceptor that may read and set
    /// headers and metadata, change the deadline, or fail the call before it is sent.
    /// The first layer added is the outermost.
    pub fn layer(mut self, layer: impl ClientLayer) -> Self {
        self.interceptors.push(layer.into_interceptor());
        self
    }

    /// The HTTP client for remote calls: an [`HttpClient`] with pool or connect settings
    /// of your own (your CA, a client certificate), or a `reqwest::Client`, for proxies. Default: [`HttpClient::new`].
    pub fn http_client(mut self, client: impl Into<HttpClient>) -> Self {
        self.client = Some(client.into());
        self
    }

    /// The manager.
    pub fn build(self) -> ServiceManager {
        ServiceManager {
            registry: self.registry.map_or_else(registry_from_env, Ok),
            client: self.client.unwrap_or_default(),
            channel: self.channel,
            selection: self.selection,
            timeout: self.timeout,
            policy: self.policy,
            interceptors: self.interceptors,
        }
    }
}

/// Configures one proxy. Made by [`ServiceManager::proxy`].
#[must_use = "a builder does nothing until `.build()`"]
pub struct ProxyBuilder<'m, S: ?Sized> {
    manager: &'m ServiceManager,
    channel: Option<ChannelKind>,
    selector: Option<Arc<dyn UrlSelector>>,
    component: Option<String>,
    timeout: Option<Duration>,
    interceptors: Vec<Interceptor>,
    service: PhantomData<fn() -> Box<S>>,
}

impl<S: ?Sized> fmt::Debug for ProxyBuilder<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyBuilder")
            .field("channel", &self.channel)
            .field("component", &self.component)
            .finish_non_exhaustive()
    }
}

impl<S: Service + ?Sized> ProxyBuilder<'_, S> {
    /// The channel the proxy calls through.
    pub fn channel(mut self, channel: ChannelKind) -> Self {
        self.channel = Some(channel);
        self
    }

    /// One of the built-in ways to pick an instance.
    pub fn selection(mut self, selection: Selection) -> Self {
        self.selector = Some(selection.selector());
        self
    }

    /// A selector of your own.
    pub fn selector(mut self, selector: Arc<dyn UrlSelector>) -> Self {
        self.selector = Some(selector);
        self
    }

    /// The longest a call through this proxy may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Wraps this proxy's calls in a tower layer, inside the manager's.
    pub fn layer(mut self, layer: impl ClientLayer) -> Self {
        self.interceptors.push(layer.into_interceptor());
        self
    }

    /// The component to call, when the service is bundled by a component this program
    /// does not link, or by several.
    pub fn component(mut self, name: impl Into<String>) -> Self {
        self.component = Some(name.into());
        self
    }

    /// The proxy. It follows the registry for as long as it lives.
    pub fn build(self) -> Result<Arc<S>, ServiceError> {
        let service = S::DESCRIPTOR;
        let linked = ComponentEntry::serving(service.name);
        let channel = self.channel.unwrap_or_else(|| best_channel(service, linked.map(|entry| entry.descriptor)));
        if channel == ChannelKind::Local {
            if let Some(queued) = courier_core::local_jobs(service.name) {
                return Ok(S::proxy(queued));
            }
            return local_service::<S>().ok_or_else(|| {
                ServiceError::unavailable(format!(
                    "no implementation of `{}` runs in this process: start a server with its component first, or call it over a remote channel",
                    service.name
                ))
            });
        };
        if channel.is_protobuf() && service.protobuf.is_none() {
            return Err(ServiceError::new(
                courier_core::ErrorCode::UnsupportedMediaType,
                format!("service `{}` is not declared for protobuf: use #[service(protobuf)]", service.name),
            ));
        }
        if channel == ChannelKind::Rest && !has_routes(service) {
            return Err(ServiceError::new(
                courier_core::ErrorCode::NotFound,
                format!("service `{}` declares no REST routes: use #[rest] with #[get], #[post], ...", service.name),
            ));
        }
        let component = match (self.component, linked) {
            (Some(name), _) => name,
            (None, Some(entry)) => entry.descriptor.name.to_owned(),
            (None, None) => {
                return Err(ServiceError::unavailable(format!(
                    "no linked component bundles service `{}`: name it with `.component(\"...\")`",
                    service.name
                )))
            }
        };
        let route = Route { component: &component, service, channel, selector: self.selector };
        Ok(S::proxy(self.manager.remote(route, self.timeout, &self.interceptors)?))
    }
}

/// Where a remote channel sends calls: which component's instances, for which service,
/// on which channel, picked how.
struct Route<'a> {
    component: &'a str,
    service: &'static ServiceDescriptor,
    channel: ChannelKind,
    selector: Option<Arc<dyn UrlSelector>>,
}

impl ServiceManager {
    /// The channel a proxy of `service` on `component` sends its calls through, with
    /// this manager's defaults: for callers that do not link the service and build each
    /// call themselves, such as the `courier` command-line tool. Calls on it pick
    /// instances, fail over, pass the interceptors and are measured as a proxy's are.
    pub fn channel(
        &self,
        component: &str,
        service: &'static ServiceDescriptor,
        channel: ChannelKind,
    ) -> Result<Arc<dyn Channel>, ServiceError> {
        let route = Route { component, service, channel, selector: None };
        self.remote(route, self.timeout, &self.interceptors)
    }

    fn remote(
        &self,
        route: Route<'_>,
        timeout: Option<Duration>,
        interceptors: &[Interceptor],
    ) -> Result<Arc<dyn Channel>, ServiceError> {
        let Route { component, service, channel, selector } = route;
        let registry = self.registry.as_ref().map_err(Clone::clone)?;
        let instances = registry.watch(component, channel);
        let selector = selector.unwrap_or_else(|| self.selection.selector());
        let targets = Targets::new(component, channel, instances, selector, registry.describe());
        let sender = Sender::new(self.client.clone(), targets, self.policy, component, service, channel);
        // Without interceptors, calls go to the sender itself, not through a boxed stack.
        let direct = interceptors.is_empty().then(|| sender.clone());
        // The first interceptor added is the outermost, so wrap from the last.
        let stack = interceptors.iter().rev().fold(CallService::new(sender), |inner, wrap| wrap(inner));
        let http = HttpChannel::new(channel, stack, direct, timeout);
        Ok(Arc::new(Observed::new(http, channel)))
    }
}

/// The registry the environment names, which servers and proxies use when the program
/// names none: the in-process registry holding the instances `COURIER_PEERS` lists,
/// when it is set; otherwise, with the `consul` feature, Consul when `CONSUL_HTTP_ADDR`
/// is set; otherwise the in-process registry alone. A malformed variable is an error
/// that names it.
pub fn registry_from_env() -> Result<Arc<dyn ComponentRegistry>, ServiceError> {
    #[cfg(feature = "consul")]
    return courier_consul::registry_from_env();
    #[cfg(not(feature = "consul"))]
    Ok(Arc::new(courier_core::local_from_env()?))
}

/// The remote channel a proxy uses when not told: the fastest the service supports and
/// its component declares; `dispatch-msgpack` when the component is not linked.
fn best_channel(service: &ServiceDescriptor, component: Option<&ComponentDescriptor>) -> ChannelKind {
    let supported = |channel: &ChannelKind| match channel {
        channel if channel.is_protobuf() => service.protobuf.is_some(),
        ChannelKind::Rest => has_routes(service),
        _ => true,
    };
    let preferred =
        [ChannelKind::DispatchMsgpack, ChannelKind::DispatchProtobuf, ChannelKind::DispatchJson, ChannelKind::Rest];
    component
        .and_then(|component| {
            preferred.into_iter().filter(supported).find(|channel| component.channels.contains(channel))
        })
        .unwrap_or(ChannelKind::DispatchMsgpack)
}

fn has_routes(service: &ServiceDescriptor) -> bool {
    service.methods.iter().any(|method| method.rest.is_some())
}
