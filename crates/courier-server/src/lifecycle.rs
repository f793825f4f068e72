//! Where each of a server's components is in its life: the server moves them along, its
//! health endpoints and [`Server::status`](crate::Server::status) read them.

use courier_core::{ComponentReport, ComponentStatus};
use std::sync::{Arc, PoisonError, RwLock};

/// The statuses of a server's components, in the order they were added.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle(Arc<RwLock<Vec<(&'static str, ComponentStatus)>>>);

impl Lifecycle {
    /// These components, none started yet.
    pub(crate) fn new(components: impl IntoIterator<Item = &'static str>) -> Self {
        let statuses = components.into_iter().map(|name| (name, ComponentStatus::NotStarted)).collect();
        Self(Arc::new(RwLock::new(statuses)))
    }

    /// Moves `component` to `status`.
    pub(crate) fn set(&self, component: &str, status: ComponentStatus) {
        let mut statuses = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, current)) = statuses.iter_mut().find(|(name, _)| *name == component) {
            *current = status;
        }
    }

    /// Where `component` is, if the server runs it.
    pub(crate) fn get(&self, component: &str) -> Option<ComponentStatus> {
        let statuses = self.0.read().unwrap_or_else(PoisonError::into_inner);
        statuses.iter().find(|(name, _)| *name == component).map(|(_, status)| status.clone())
    }

    /// The statuses of the components `covered` accepts, for a health report.
    pub(crate) fn report(&self, covered: impl Fn(&str) -> bool) -> Vec<ComponentReport> {
        let statuses = self.0.read().unwrap_or_else(PoisonError::into_inner);
        statuses
            .iter()
            .filter(|(name, _)| covered(name))
            .map(|(name, status)| ComponentReport { name: (*name).to_owned(), status: status.clone() })
            .collect()
    }
}
