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
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The calls a server has in flight, and whether it still takes new ones.
///
/// Counting a call is one atomic add: only once the server drains does the last call
/// to end wake whoever waits for the server to be idle.
#[derive(Debug)]
pub(crate) struct Gate {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

impl Gate {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self { draining: AtomicBool::new(false), in_flight: AtomicUsize::new(0), idle: Notify::new() })
    }

    /// Admits a call, or refuses it: the server drains, or `limit` is full and so is
    /// its queue. A queued call waits for a place.
    pub(crate) async fn admit(self: &Arc<Self>, limit: Option<&Limit>) -> Result<Pass, ServiceError> {
        if self.draining.load(Ordering::SeqCst) {
            return Err(ServiceError::unavailable("the server is shutting down: try another instance"));
        }
        let permit = match limit {
            Some(limit) => Some(limit.acquire().await?),
            None => None,
        };
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Ok(Pass { gate: Arc::clone(self), _permit: permit })
    }

    /// Refuses every call from now on.
    pub(crate) fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Once the gate drains, waits until no call is in flight, for at most `timeout`;
    /// whether none is.
    pub(crate) async fn idle(&self, timeout: Duration) -> bool {
        let idle = async {
            loop {
                // Waiting starts before the count is read, so a call that ends in between
                // still wakes this one.
                let mut ended = std::pin::pin!(self.idle.notified());
                ended.as_mut().enable();
                if self.in_flight.load(Ordering::SeqCst) == 0 {
                    return;
                }
                ended.await;
            }
        };
        tokio::time::timeout(timeout, idle).await.is_ok()
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
        let gate = &self.gate;
        // Sequentially consistent with `drain` and `idle`: either this call sees the gate
        // drain and wakes the waiter, or the waiter sees this call gone.
        if gate.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 && gate.draining.load(Ordering::SeqCst) {
            gate.idle.notify_waiters();
        }
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
