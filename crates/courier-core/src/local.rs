use crate::{BoundService, Service};
use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, RwLock},
};

/// The implementations running in this process, by service name, for the local channel.
static RUNNING: LazyLock<RwLock<HashMap<&'static str, BoundService>>> = LazyLock::new(Default::default);

/// Makes an implementation callable in-process; servers do this when they start.
pub fn publish_local(service: &BoundService) {
    RUNNING.write().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(service.descriptor.name, service.clone());
}

/// Withdraws an implementation from in-process callers; servers do this when they stop.
pub fn withdraw_local(service: &BoundService) {
    let mut running = RUNNING.write().unwrap_or_else(|poisoned| poisoned.into_inner());
    if running.get(service.descriptor.name).is_some_and(|current| Arc::ptr_eq(&current.dispatcher, &service.dispatcher))
    {
        running.remove(service.descriptor.name);
    }
}

/// The implementation of `S` running in this process, if any.
pub fn local_service<S: Service + ?Sized>() -> Option<Arc<S>> {
    RUNNING
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(S::DESCRIPTOR.name)
        .and_then(BoundService::implementation::<S>)
        .map(S::guarded)
}
