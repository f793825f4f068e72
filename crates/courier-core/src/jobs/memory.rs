//! The default queue: jobs wait in the memory of the server that took them, and its own
//! workers run them. Nothing to set up; nothing survives the process.

use super::{record::Start, JobId, JobOutcome, JobQueue, JobRecord, JobRequest, JobStatus, Lease, Progress};
use crate::{BoxFuture, ServiceError};
use std::{
    collections::{HashMap, VecDeque},
    fmt,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};
use tokio::sync::{watch, Semaphore};

/// Jobs in this process's memory: the default [`JobQueue`] of a server.
///
/// A job runs at least once: one whose method panicked runs again, up to
/// `max_attempts` runs, then ends `failed`. Results are kept for `retention` after a
/// job ends (and at most `max_kept` of them). Everything is lost when the process
/// stops: for jobs that must outlive it, use the NATS queue.
#[derive(Clone)]
pub struct InProcessQueue {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    retention: Duration,
    max_attempts: u32,
    max_kept: usize,
}

#[derive(Default)]
struct State {
    jobs: HashMap<JobId, Entry>,
    queues: HashMap<String, Waiting>,
    /// Ended jobs, oldest first, for expiry.
    ended: VecDeque<(Instant, JobId)>,
}

struct Entry {
    record: JobRecord,
    request: Option<JobRequest>,
    /// Whether it has ended; waiters subscribe.
    done: watch::Sender<bool>,
}

/// One component's waiting jobs; a permit per job in the line.
struct Waiting {
    line: VecDeque<JobId>,
    permits: Arc<Semaphore>,
}

impl Default for Waiting {
    fn default() -> Self {
        Self { line: VecDeque::new(), permits: Arc::new(Semaphore::new(0)) }
    }
}

impl fmt::Debug for InProcessQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessQueue")
            .field("retention", &self.shared.retention)
            .field("max_attempts", &self.shared.max_attempts)
            .finish_non_exhaustive()
    }
}

impl Default for InProcessQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl InProcessQueue {
    /// A queue that keeps results for 24 hours (at most 100,000 of them) and runs a job
    /// at most 3 times.
    pub fn new() -> Self {
        Self::with_limits(Duration::from_secs(24 * 60 * 60), 3, 100_000)
    }

    /// A queue that keeps results for `retention` (at most `max_kept` of them, the
    /// oldest dropped first) and runs a job at most `max_attempts` times.
    pub fn with_limits(retention: Duration, max_attempts: u32, max_kept: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                retention,
                max_attempts: max_attempts.max(1),
                max_kept: max_kept.max(1),
            }),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        crate::sync::lock(&self.state)
    }
}

impl State {
    /// Forgets ended jobs past their retention, or beyond the number kept.
    fn expire(&mut self, retention: Duration, max_kept: usize) {
        while let Some((ended, id)) = self.ended.front().copied() {
            if ended.elapsed() <= retention && self.ended.len() <= max_kept {
                break;
            }
            self.ended.pop_front();
            self.jobs.remove(&id);
        }
    }

    /// Records an outcome, once.
    fn finish(&mut self, id: JobId, outcome: JobOutcome) -> bool {
        let recorded = self.jobs.get_mut(&id).is_some_and(|entry| entry.record.finish(outcome));
        if recorded {
            self.ended(id);
        }
        recorded
    }

    /// A job whose record has just ended: its waiters are woken, its expiry starts.
    fn ended(&mut self, id: JobId) {
        if let Some(entry) = self.jobs.get_mut(&id) {
            entry.request = None;
            entry.done.send_replace(true);
            self.ended.push_back((Instant::now(), id));
        }
    }

    fn enqueue(&mut self, component: &str, id: JobId, front: bool) {
        let waiting = self.queues.entry(component.to_owned()).or_default();
        match front {
            true => waiting.line.push_front(id),
            false => waiting.line.push_back(id),
        }
        waiting.permits.add_permits(1);
    }
}

impl JobQueue for InProcessQueue {
    fn submit(&self, request: JobRequest) -> BoxFuture<'_, Result<JobStatus, ServiceError>> {
        Box::pin(async move {
            let mut state = self.shared.lock();
            state.expire(self.shared.retention, self.shared.max_kept);
            let record = JobRecord::queued(&request);
            let status = record.status.clone();
            let (id, component) = (request.id, request.component.clone());
            let entry = Entry { record, request: Some(request), done: watch::channel(false).0 };
            state.jobs.insert(id, entry);
            state.enqueue(&component, id, false);
            Ok(status)
        })
    }

    fn get(&self, id: JobId, wait: Option<Duration>) -> BoxFuture<'_, Result<Option<JobRecord>, ServiceError>> {
        Box::pin(async move {
            let done = {
                let mut state = self.shared.lock();
                state.expire(self.shared.retention, self.shared.max_kept);
                match state.jobs.get(&id) {
                    None => return Ok(None),
                    Some(entry) if wait.is_none() || entry.record.status.state.is_done() => {
                        return Ok(Some(entry.record.clone()))
                    }
                    Some(entry) => entry.done.subscribe(),
                }
            };
            if let Some(wait) = wait {
                let mut done = done;
                let _ = tokio::time::timeout(wait, done.wait_for(|done| *done)).await;
            }
            Ok(self.shared.lock().jobs.get(&id).map(|entry| entry.record.clone()))
        })
    }

    fn cancel(&self, id: JobId) -> BoxFuture<'_, Result<Option<JobRecord>, ServiceError>> {
        Box::pin(async move {
            let mut state = self.shared.lock();
            if !state.jobs.contains_key(&id) {
                return Ok(None);
            }
            let cancelled = JobRecord::cancel_outcome();
            state.finish(id, cancelled);
            Ok(state.jobs.get(&id).map(|entry| entry.record.clone()))
        })
    }

    fn pull<'a>(
        &'a self,
        component: &'a str,
        wait: Duration,
    ) -> BoxFuture<'a, Result<Option<Box<dyn Lease>>, ServiceError>> {
        Box::pin(async move {
            let started = Instant::now();
            loop {
                let permits = Arc::clone(&self.shared.lock().queues.entry(component.to_owned()).or_default().permits);
                let left = wait.saturating_sub(started.elapsed());
                match tokio::time::timeout(left, permits.acquire()).await {
                    Ok(Ok(permit)) => permit.forget(),
                    _ => return Ok(None),
                }
                let mut state = self.shared.lock();
                let Some(id) = state.queues.get_mut(component).and_then(|waiting| waiting.line.pop_front()) else {
                    continue;
                };
                let max_attempts = self.shared.max_attempts;
                let Some(entry) = state.jobs.get_mut(&id) else { continue };
                // The record counts the runs so far, those that stopped included.
                let attempt = entry.record.status.attempts + 1;
                match entry.record.start(attempt, max_attempts) {
                    Start::Run => {}
                    Start::Skip => continue,
                    Start::GiveUp => {
                        state.ended(id);
                        continue;
                    }
                }
                let Some(request) = entry.request.clone() else { continue };
                let lease = MemoryLease { shared: Arc::clone(&self.shared), request, attempt };
                return Ok(Some(Box::new(lease) as Box<dyn Lease>));
            }
        })
    }

    fn depth<'a>(&'a self, component: &'a str) -> BoxFuture<'a, Result<u64, ServiceError>> {
        Box::pin(async move {
            let state = self.shared.lock();
            let waiting = state.queues.get(component).map_or(0, |waiting| {
                waiting
                    .line
                    .iter()
                    .filter(|id| state.jobs.get(id).is_some_and(|entry| !entry.record.status.state.is_done()))
                    .count()
            });
            Ok(waiting as u64)
        })
    }

    fn retention(&self) -> Duration {
        self.shared.retention
    }
}

/// A job one of this process's workers runs.
struct MemoryLease {
    shared: Arc<Shared>,
    request: JobRequest,
    attempt: u32,
}

impl fmt::Debug for MemoryLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryLease").field("id", &self.request.id).field("attempt", &self.attempt).finish()
    }
}

impl Lease for MemoryLease {
    fn request(&self) -> &JobRequest {
        &self.request
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    fn heartbeat(&mut self, progress: Option<Progress>) -> BoxFuture<'_, Result<bool, ServiceError>> {
        Box::pin(async move {
            let mut state = self.shared.lock();
            let Some(entry) = state.jobs.get_mut(&self.request.id) else { return Ok(true) };
            if let Some((fraction, message)) = progress {
                entry.record.progress(fraction, message);
            }
            Ok(entry.record.status.state.is_done())
        })
    }

    fn finish(self: Box<Self>, outcome: JobOutcome) -> BoxFuture<'static, Result<bool, ServiceError>> {
        Box::pin(async move { Ok(self.shared.lock().finish(self.request.id, outcome)) })
    }

    fn release(self: Box<Self>, error: String) -> BoxFuture<'static, Result<(), ServiceError>> {
        Box::pin(async move {
            let mut state = self.shared.lock();
            let Some(entry) = state.jobs.get_mut(&self.request.id) else { return Ok(()) };
            if entry.record.status.state.is_done() {
                return Ok(());
            }
            entry.record.stopped(error);
            state.enqueue(&self.request.component, self.request.id, true);
            Ok(())
        })
    }
}
