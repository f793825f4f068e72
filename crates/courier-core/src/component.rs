use crate::{BoxFuture, ComponentDescriptor, ServiceError};
use std::fmt;

/// A deployable bundle of services, declared with `#[component]`.
///
/// The startup hook runs before the component is registered; the shutdown hook after
/// it has been deregistered and its in-flight calls have drained.
pub trait Component: Send + Sync + 'static {
    /// The component's descriptor.
    fn descriptor(&self) -> &'static ComponentDescriptor;

    /// Runs before the component is registered; an error fails the server's start.
    fn startup(&self) -> BoxFuture<'_, Result<(), ServiceError>> {
        Box::pin(async { Ok(()) })
    }

    /// Runs once the component is deregistered and drained.
    fn shutdown(&self) -> BoxFuture<'_, Result<(), ServiceError>> {
        Box::pin(async { Ok(()) })
    }

    /// Asked before each of the component's workers pulls a queued job: `false` leaves
    /// the job to other workers for now (asked again a moment later). Default: always.
    fn ready(&self) -> BoxFuture<'_, bool> {
        Box::pin(async { true })
    }
}

/// A component registered by `#[component]`, found at link time.
pub struct ComponentEntry {
    /// The component's descriptor.
    pub descriptor: &'static ComponentDescriptor,
    /// Builds it, for unit structs, which need no state to exist.
    pub create: Option<fn() -> Box<dyn Component>>,
}

impl fmt::Debug for ComponentEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentEntry").field("name", &self.descriptor.name).finish_non_exhaustive()
    }
}

inventory::collect!(ComponentEntry);

impl ComponentEntry {
    /// Every component linked into this program.
    pub fn all() -> impl Iterator<Item = &'static ComponentEntry> {
        inventory::iter::<ComponentEntry>.into_iter()
    }

    /// The linked component that bundles the service with this name.
    pub fn serving(service: &str) -> Option<&'static ComponentEntry> {
        Self::all().find(|entry| entry.descriptor.serves(service))
    }
}
