mod environment;
mod local;

pub use environment::{local_from_env, PEERS_VARIABLE};
pub use local::LocalRegistry;

use crate::{ChannelKind, Instance, ServiceError};
use std::{fmt, sync::Arc};
use tokio::sync::watch;

/// The live instances of a component on a channel, replaced as a whole on every change.
pub type Instances = Arc<[Instance]>;

/// What a server tells a registry about one component it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The component's name.
    pub component: String,
    /// Unique per component and server process.
    pub instance_id: String,
    /// Where the server is reached: `http://host:port`.
    pub url: String,
    /// The channels the component answers on.
    pub channels: Vec<ChannelKind>,
    /// Where a health checker can ask whether the instance is well: `http://host:port/health`.
    pub health_url: Option<String>,
}

impl Registration {
    /// The instance this registration announces.
    pub fn instance(&self) -> Instance {
        Instance::new(&self.instance_id, &self.url)
    }
}

/// Where servers announce their components and clients find them.
///
/// [`LocalRegistry`] is the in-process default; a networked registry (Consul) lets
/// processes on different machines find each other.
#[async_trait::async_trait]
pub trait ComponentRegistry: Send + Sync + fmt::Debug + 'static {
    /// Announces a component instance.
    async fn register(&self, registration: &Registration) -> Result<(), ServiceError>;

    /// Withdraws a component instance; withdrawing an unknown one is not an error.
    async fn deregister(&self, registration: &Registration) -> Result<(), ServiceError>;

    /// The live instances of a component on a channel, kept current for as long as the
    /// receiver lives. When the registry cannot be reached, the last known instances stay.
    ///
    /// A registry that already knows the answer marks the receiver changed; one that
    /// must ask first sends its first answer even when it is empty, so callers can tell
    /// "none yet" from "none".
    fn watch(&self, component: &str, channel: ChannelKind) -> watch::Receiver<Instances>;

    /// Where this registry looks for instances, in words for an error message: "Consul at
    /// http://127.0.0.1:8500". Default: the registry's type.
    fn describe(&self) -> String {
        std::any::type_name::<Self>().to_owned()
    }

    /// Every live instance of every component the registry knows, one registration per
    /// instance: what `courier ls` lists. Default: a registry that cannot list refuses.
    async fn catalog(&self) -> Result<Vec<Registration>, ServiceError> {
        Err(ServiceError::new(crate::ErrorCode::NotFound, format!("{} cannot list its components", self.describe())))
    }
}

#[async_trait::async_trait]
impl<R: ComponentRegistry + ?Sized> ComponentRegistry for Arc<R> {
    async fn register(&self, registration: &Registration) -> Result<(), ServiceError> {
        (**self).register(registration).await
    }

    async fn deregister(&self, registration: &Registration) -> Result<(), ServiceError> {
        (**self).deregister(registration).await
    }

    fn watch(&self, component: &str, channel: ChannelKind) -> watch::Receiver<Instances> {
        (**self).watch(component, channel)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }

    async fn catalog(&self) -> Result<Vec<Registration>, ServiceError> {
        (**self).catalog().await
    }
}
