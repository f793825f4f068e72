use crate::{DispatchChannel, HttpClient};
use courier_core::{
    local_service, ChannelKind, ComponentEntry, ComponentRegistry, LocalRegistry, Selection, Service, ServiceError,
    UrlSelector,
};
use std::{fmt, marker::PhantomData, sync::Arc};

/// Hands out proxies for services, wherever their components run.
///
/// One manager holds one pooled HTTP client, so proxies made by it share connections.
/// Clones share everything.
///
/// ```no_run
/// # use courier_client::ServiceManager;
/// # use courier_core::{ChannelKind, LocalRegistry, Service};
/// # fn demo<S: Service + ?Sized>() -> Result<(), courier_core::ServiceError> {
/// let services = ServiceManager::new(LocalRegistry::shared());
/// let proxy = services.get::<S>()?;                                            // the defaults
/// let json = services.proxy::<S>().channel(ChannelKind::DispatchJson).build()?; // or not
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServiceManager {
    registry: Arc<dyn ComponentRegistry>,
    client: HttpClient,
    channel: ChannelKind,
    selection: Selection,
}

impl fmt::Debug for ServiceManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceManager")
            .field("registry", &self.registry)
            .field("channel", &self.channel)
            .field("selection", &self.selection)
            .finish_non_exhaustive()
    }
}

impl Default for ServiceManager {
    /// A manager on [`LocalRegistry::shared`].
    fn default() -> Self {
        Self::builder().build()
    }
}

impl ServiceManager {
    /// A manager that finds instances through `registry`, with the default channel
    /// (`dispatch-msgpack`) and selection (round-robin).
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
        ProxyBuilder { manager: self, channel: self.channel, selector: None, component: None, service: PhantomData }
    }
}

/// Configures a [`ServiceManager`].
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct ServiceManagerBuilder {
    registry: Option<Arc<dyn ComponentRegistry>>,
    client: Option<HttpClient>,
    channel: Option<ChannelKind>,
    selection: Selection,
}

impl ServiceManagerBuilder {
    /// Where instances are found. Default: [`LocalRegistry::shared`].
    pub fn registry(mut self, registry: impl ComponentRegistry) -> Self {
        self.registry = Some(Arc::new(registry));
        self
    }

    /// The channel proxies use unless told otherwise. Default: `dispatch-msgpack`.
    pub fn channel(mut self, channel: ChannelKind) -> Self {
        self.channel = Some(channel);
        self
    }

    /// How proxies pick an instance unless told otherwise. Default: round-robin.
    pub fn selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }

    /// The HTTP client for remote calls: an [`HttpClient`] with timeouts or pool settings
    /// of your own, or a `reqwest::Client`, for TLS or proxies. Default: [`HttpClient::new`].
    pub fn http_client(mut self, client: impl Into<HttpClient>) -> Self {
        self.client = Some(client.into());
        self
    }

    /// The manager.
    pub fn build(self) -> ServiceManager {
        ServiceManager {
            registry: self.registry.unwrap_or_else(|| Arc::new(LocalRegistry::shared())),
            client: self.client.unwrap_or_default(),
            channel: self.channel.unwrap_or(ChannelKind::DispatchMsgpack),
            selection: self.selection,
        }
    }
}

/// Configures one proxy. Made by [`ServiceManager::proxy`].
#[must_use = "a builder does nothing until `.build()`"]
pub struct ProxyBuilder<'m, S: ?Sized> {
    manager: &'m ServiceManager,
    channel: ChannelKind,
    selector: Option<Arc<dyn UrlSelector>>,
    component: Option<String>,
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
        self.channel = channel;
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

    /// The component to call, when the service is bundled by a component this program
    /// does not link, or by several.
    pub fn component(mut self, name: impl Into<String>) -> Self {
        self.component = Some(name.into());
        self
    }

    /// The proxy. It follows the registry for as long as it lives.
    pub fn build(self) -> Result<Arc<S>, ServiceError> {
        let service = S::DESCRIPTOR;
        let Some(format) = self.channel.format() else {
            return local_service::<S>().ok_or_else(|| {
                ServiceError::unavailable(format!(
                    "no implementation of `{}` runs in this process: start a server with its component first, or call it over a remote channel",
                    service.name
                ))
            });
        };
        let component = match self.component {
            Some(name) => name,
            None => ComponentEntry::serving(service.name).map(|entry| entry.descriptor.name.to_owned()).ok_or_else(
                || {
                    ServiceError::unavailable(format!(
                        "no linked component bundles service `{}`: name it with `.component(\"...\")`",
                        service.name
                    ))
                },
            )?,
        };
        let manager = self.manager;
        let channel = DispatchChannel::new(
            manager.client.clone(),
            format,
            &component,
            service,
            manager.registry.watch(&component, self.channel),
            self.selector.unwrap_or_else(|| manager.selection.selector()),
        );
        Ok(S::proxy(Arc::new(channel)))
    }
}
