//! Callers waiting for jobs to end, woken by one watch over the whole bucket of job
//! records, instead of a watch of their own per wait.

use async_nats::jetstream::kv::{self, Operation};
use courier_core::jobs::{JobId, JobRecord};
use futures_util::StreamExt;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};
use tokio::{sync::oneshot, task::JoinHandle};

/// By job, the callers waiting for it to end.
#[derive(Debug, Default)]
pub(crate) struct Endings {
    waiters: Mutex<HashMap<JobId, Vec<oneshot::Sender<()>>>>,
}

impl Endings {
    /// Starts watching `kv`; the task runs until it is aborted.
    pub(crate) fn watch(kv: kv::Store) -> (Arc<Self>, JoinHandle<()>) {
        let endings = Arc::new(Self::default());
        let task = tokio::spawn(Arc::clone(&endings).run(kv));
        (endings, task)
    }

    /// Completes when job `id` ends — or when the watch starts over and may have missed
    /// it, so the caller reads the record again either way.
    pub(crate) fn wait(&self, id: JobId) -> oneshot::Receiver<()> {
        let (sender, receiver) = oneshot::channel();
        self.lock().entry(id).or_default().push(sender);
        receiver
    }

    /// Forgets the waiters of `id` that gave up.
    pub(crate) fn forget(&self, id: JobId) {
        let mut waiters = self.lock();
        if let Some(senders) = waiters.get_mut(&id) {
            senders.retain(|sender| !sender.is_closed());
            if senders.is_empty() {
                waiters.remove(&id);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<JobId, Vec<oneshot::Sender<()>>>> {
        courier_core::sync::lock(&self.waiters)
    }

    fn wake(&self, id: JobId) {
        for sender in self.lock().remove(&id).unwrap_or_default() {
            let _ = sender.send(());
        }
    }

    fn wake_all(&self) {
        for sender in self.lock().drain().flat_map(|(_, senders)| senders) {
            let _ = sender.send(());
        }
    }

    fn is_awaited(&self, id: JobId) -> bool {
        self.lock().contains_key(&id)
    }

    async fn run(self: Arc<Self>, kv: kv::Store) {
        loop {
            match kv.watch_all().await {
                Ok(mut changes) => {
                    // What ended before the watch began is not in it: its waiters look again.
                    self.wake_all();
                    while let Some(Ok(entry)) = changes.next().await {
                        let Ok(id) = entry.key.parse::<JobId>() else { continue };
                        if !self.is_awaited(id) {
                            continue;
                        }
                        let ended = entry.operation != Operation::Put
                            || rmp_serde::from_slice::<JobRecord>(&entry.value)
                                .is_ok_and(|record| record.status.state.is_done());
                        if ended {
                            self.wake(id);
                        }
                    }
                    tracing::debug!("the watch of job records ended; starting it again");
                }
                Err(error) => tracing::debug!(%error, "cannot watch job records; trying again in a second"),
            }
            self.wake_all();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
