use crate::{
    api::{duration, ConsulApi, HealthEntry, HttpCheck, ServiceRegistration},
    watch::{follow, instance, ComponentWatch},
    ConsulRegistryBuilder,
};
use courier_core::{ChannelKind, ComponentRegistry, Instances, Registration, ServiceError};
use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{sync::watch, task::JoinHandle};

/// The prefix of the `Meta` keys that hold a channel's URL: `channel-dispatch-json`.
pub(crate) const CHANNEL_META_PREFIX: &str = "channel-";

/// The `Meta` key that holds the instance's health endpoint.
const HEALTH_META: &str = "health";

/// A [`ComponentRegistry`] on Consul: servers register their components with the local
/// agent, with an HTTP health check on the component's health endpoint; proxies follow the
/// passing instances through blocking queries. Clones share everything.
///
/// While Consul is unreachable, proxies keep the last instances they knew; a server
/// whose agent forgot it (an agent restarted in dev mode comes back empty) registers
/// again on its own.
#[derive(Clone)]
pub struct ConsulRegistry {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) api: ConsulApi,
    pub(crate) config: ConsulRegistryBuilder,
    /// Keeps each registered instance known to the agent, by instance ID.
    resyncs: Mutex<HashMap<String, JoinHandle<()>>>,
    /// The live watches, by component.
    pub(crate) watches: Mutex<HashMap<String, Arc<ComponentWatch>>>,
}

impl fmt::Debug for ConsulRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsulRegistry").field("address", &self.inner.api.address()).finish_non_exhaustive()
    }
}

impl ConsulRegistry {
    /// Configures a registry.
    pub fn builder() -> ConsulRegistryBuilder {
        ConsulRegistryBuilder::default()
    }

    /// A registry configured from `CONSUL_HTTP_ADDR` and `CONSUL_HTTP_TOKEN`.
    pub fn from_env() -> Result<Self, ServiceError> {
        ConsulRegistryBuilder::from_env().build()
    }

    pub(crate) fn new(api: ConsulApi, config: ConsulRegistryBuilder) -> Self {
        Self { inner: Arc::new(Inner { api, config, resyncs: Mutex::default(), watches: Mutex::default() }) }
    }

    fn service_registration(&self, registration: &Registration) -> Result<ServiceRegistration, ServiceError> {
        let config = &self.inner.config;
        let url = reqwest::Url::parse(&registration.url)
            .map_err(|error| ServiceError::bad_request(format!("`{}` is not a URL: {error}", registration.url)))?;
        let address = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
        let port = url.port_or_known_default().unwrap_or_default();
        let meta = registration
            .channels
            .iter()
            .map(|channel| (format!("{CHANNEL_META_PREFIX}{}", channel.name()), registration.url.clone()))
            .chain(registration.health_url.iter().map(|health| (HEALTH_META.to_owned(), health.clone())))
            .collect();
        Ok(ServiceRegistration {
            id: registration.instance_id.clone(),
            name: registration.component.clone(),
            tags: config.tags.clone(),
            address,
            port,
            meta,
            check: registration.health_url.as_ref().map(|health| HttpCheck {
                http: health.clone(),
                interval: duration(config.check_interval),
                timeout: duration(config.check_timeout),
                tls_skip_verify: health.starts_with("https://") && !config.verify_check_tls,
                // The server serves before it registers, so it starts healthy.
                status: "passing",
                deregister_critical_service_after: duration(config.deregister_critical_after),
            }),
        })
    }
}

#[async_trait::async_trait]
impl ComponentRegistry for ConsulRegistry {
    async fn register(&self, registration: &Registration) -> Result<(), ServiceError> {
        let service = self.service_registration(registration)?;
        self.inner.api.register(&service).await?;
        tracing::info!(id = %service.id, consul = %self.inner.api.address(), "registered with Consul");
        let resync = tokio::spawn(resync(self.inner.api.clone(), service, self.inner.config.resync_interval));
        if let Some(previous) =
            courier_core::sync::lock(&self.inner.resyncs).insert(registration.instance_id.clone(), resync)
        {
            previous.abort();
        }
        Ok(())
    }

    async fn deregister(&self, registration: &Registration) -> Result<(), ServiceError> {
        if let Some(resync) = courier_core::sync::lock(&self.inner.resyncs).remove(&registration.instance_id) {
            resync.abort();
        }
        self.inner.api.deregister(&registration.instance_id).await?;
        tracing::info!(id = %registration.instance_id, "deregistered from Consul");
        Ok(())
    }

    fn watch(&self, component: &str, channel: ChannelKind) -> watch::Receiver<Instances> {
        let mut watches = courier_core::sync::lock(&self.inner.watches);
        if let Some(existing) = watches.get(component) {
            return existing.subscribe(channel);
        }
        let created = Arc::new(ComponentWatch::new());
        let receiver = created.subscribe(channel);
        watches.insert(component.to_owned(), Arc::clone(&created));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(follow(Arc::clone(&self.inner), component.to_owned(), created));
            }
            Err(_) => tracing::error!(component, "Consul watches need a tokio runtime; this one will stay empty"),
        }
        receiver
    }

    fn describe(&self) -> String {
        format!("Consul at {}", self.inner.api.address())
    }

    /// The passing instances of every service courier registered (those whose meta
    /// names a channel).
    async fn catalog(&self) -> Result<Vec<Registration>, ServiceError> {
        let api = &self.inner.api;
        let mut listed = Vec::new();
        for service in api.services().await? {
            let passing = api.passing(&service, 0, Duration::ZERO).await?;
            listed.extend(passing.entries.iter().filter_map(|entry| registration(&service, entry)));
        }
        Ok(listed)
    }
}

/// The registration an entry of Consul's stands for, if courier made it.
fn registration(component: &str, entry: &HealthEntry) -> Option<Registration> {
    let channels: Vec<ChannelKind> = ChannelKind::REMOTE
        .iter()
        .copied()
        .filter(|&channel| {
            entry
                .service
                .meta
                .as_ref()
                .is_some_and(|meta| meta.contains_key(&format!("{CHANNEL_META_PREFIX}{}", channel.name())))
        })
        .collect();
    let url = instance(entry, *channels.first()?)?.url;
    let health_url = entry.service.meta.as_ref().and_then(|meta| meta.get(HEALTH_META)).cloned();
    Some(Registration {
        component: component.to_owned(),
        instance_id: entry.service.id.clone(),
        url,
        channels,
        health_url,
    })
}

/// Registers the instance again whenever the agent has forgotten it.
async fn resync(api: ConsulApi, service: ServiceRegistration, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        match api.knows(&service.id).await {
            Ok(true) => {}
            Ok(false) => match api.register(&service).await {
                Ok(()) => tracing::info!(id = %service.id, "registered with Consul again: the agent had forgotten it"),
                Err(error) => tracing::warn!(id = %service.id, %error, "cannot register with Consul again"),
            },
            Err(error) => tracing::debug!(id = %service.id, %error, "cannot check the registration"),
        }
    }
}
