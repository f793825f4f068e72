//! Which calls a server takes: none once it drains, and no more than a component's
//! concurrency limit at once, with a bounded queue behind it. Refused calls get 503 with
//! `Retry-After`, which clients take as "try another instance".

use courier_core::{ErrorCode, ServiceError};
use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// The calls a server has in flight, and whether it still takes new ones.
#[derive(Debug)]
pub(crate) struct Gate {
    draining: AtomicBool,
    in_flight: watch::Sender<usize>,
}

impl Gate {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self { draining: AtomicBool::new(false), in_flight: watch::Sender::new(0) })
    }

    /// Admits a call, or refuses it: the server drains, or `limit` is full and so is
    /// its queue. A queued call waits for a place.
    pub(crate) async fn admit(self: &Arc<Self>, limit: Option<&Limit>) -> Result<Pass, ServiceError> {
        if self.draining.load(Ordering::Acquire) {
            return Err(ServiceError::unavailable("the server is shutting down: try another instance"));
        }
        let permit = match limit {
            Some(limit) => Some(limit.acquire().await?),
            None => None,
        };
        self.in_flight.send_modify(|count| *count += 1);
        Ok(Pass { gate: Arc::clone(self), _permit: permit })
    }

    /// Refuses every call from now on.
    pub(crate) fn drain(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Waits until no call is in flight, for at most `timeout`; whether none is.
    pub(crate) async fn idle(&self, timeout: Duration) -> bool {
        let mut in_flight = self.in_flight.subscribe();
        tokio::time::timeout(timeout, in_flight.wait_for(|count| *count == 0)).await.is_ok_and(|idle| idle.is_ok())
    }
}

/// A call the gate let in; dropping it lets the next one in.
#[derive(Debug)]
pub(crate) struct Pass {
    gate: Arc<Gate>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Pass {
    fn drop(&mut self) {
        self.gate.in_flight.send_modify(|count| *count = count.saturating_sub(1));
    }
}

/// A component's cap on concurrent calls, with a bounded queue.
#[derive(Debug)]
pub(crate) struct Limit {
    component: &'static str,
    max: usize,
    permits: Arc<Semaphore>,
    queue: usize,
    waiting: AtomicUsize,
}

impl Limit {
    pub(crate) fn new(component: &'static str, max: usize, queue: usize) -> Arc<Self> {
        Arc::new(Self { component, max, permits: Arc::new(Semaphore::new(max)), queue, waiting: AtomicUsize::new(0) })
    }

    async fn acquire(&self) -> Result<OwnedSemaphorePermit, ServiceError> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        let full = || {
            ServiceError::new(
                ErrorCode::Unavailable,
                format!("`{}` is at its limit of {} concurrent calls: try another instance", self.component, self.max),
            )
        };
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(full());
        }
        let permit = Arc::clone(&self.permits).acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        permit.map_err(|_| full())
    }
}
