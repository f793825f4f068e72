use crate::{
    jobs::{JobQueue, LocalJobs},
    BoundService, Channel, Service,
};
use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, RwLock},
};

/// The implementations running in this process, by service name, for the local channel.
static RUNNING: LazyLock<RwLock<HashMap<&'static str, BoundService>>> = LazyLock::new(Default::default);

/// A service with queued methods, and its local channel through its component's queue.
type Queued = (BoundService, Arc<LocalJobs>);

/// For the services with queued methods among them, the local channel through their queue.
static QUEUED: LazyLock<RwLock<HashMap<&'static str, Queued>>> = LazyLock::new(Default::default);

/// Makes a service with queued methods callable in-process through the queue of the
/// component that runs it; servers do this when they start.
pub fn publish_local_jobs(service: &BoundService, component: &'static str, queue: Arc<dyn JobQueue>) {
    let channel = Arc::new(LocalJobs::new(Arc::clone(&service.dispatcher), component, queue));
    crate::sync::write(&QUEUED).insert(service.descriptor.name, (service.clone(), channel));
}

/// The local channel of service `name` through its component's queue, if it runs in
/// this process and has queued methods.
pub fn local_jobs(name: &str) -> Option<Arc<dyn Channel>> {
    let queued = crate::sync::read(&QUEUED);
    queued.get(name).map(|(_, channel)| Arc::clone(channel) as Arc<dyn Channel>)
}

/// Makes an implementation callable in-process; servers do this when they start.
pub fn publish_local(service: &BoundService) {
    crate::sync::write(&RUNNING).insert(service.descriptor.name, service.clone());
}

/// Withdraws an implementation from in-process callers; servers do this when they stop.
pub fn withdraw_local(service: &BoundService) {
    let mut running = crate::sync::write(&RUNNING);
    if running.get(service.descriptor.name).is_some_and(|current| Arc::ptr_eq(&current.dispatcher, &service.dispatcher))
    {
        running.remove(service.descriptor.name);
    }
    let mut queued = crate::sync::write(&QUEUED);
    if queued
        .get(service.descriptor.name)
        .is_some_and(|(current, _)| Arc::ptr_eq(&current.dispatcher, &service.dispatcher))
    {
        if let Some((_, channel)) = queued.remove(service.descriptor.name) {
            channel.stop();
        }
    }
}

/// The implementation of `S` running in this process, if any.
pub fn local_service<S: Service + ?Sized>() -> Option<Arc<S>> {
    crate::sync::read(&RUNNING).get(S::DESCRIPTOR.name).and_then(BoundService::implementation::<S>).map(S::guarded)
}
