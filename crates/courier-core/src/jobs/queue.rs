//! The seam between courier and a job queue's backend.

use super::{JobId, JobOutcome, JobRecord, JobRequest, JobStatus};
use crate::{BoxFuture, ServiceError};
use std::{fmt, time::Duration};

/// Where queued calls wait for a worker, and where their state and results are kept.
///
/// Servers submit the calls they take for queued methods, their workers [`pull`](Self::pull)
/// jobs when they have a free slot, and any instance answers `GET /jobs/<id>` from here.
/// [`InProcessQueue`](super::InProcessQueue) is the default; the `courier-nats` crate
/// keeps jobs in NATS JetStream, shared by every instance.
pub trait JobQueue: Send + Sync + fmt::Debug + 'static {
    /// Makes the queue ready for the jobs of `component` (its stream, its consumer).
    fn open<'a>(&'a self, component: &'a str) -> BoxFuture<'a, Result<(), ServiceError>> {
        let _ = component;
        Box::pin(async { Ok(()) })
    }

    /// Queues a job; its status says it is `queued`.
    fn submit(&self, request: JobRequest) -> BoxFuture<'_, Result<JobStatus, ServiceError>>;

    /// The job's record, `None` if the queue does not know it; with `wait`, waits up to
    /// that long for the job to end first.
    fn get(&self, id: JobId, wait: Option<Duration>) -> BoxFuture<'_, Result<Option<JobRecord>, ServiceError>>;

    /// Cancels the job and returns its record; one that has ended stays as it was.
    fn cancel(&self, id: JobId) -> BoxFuture<'_, Result<Option<JobRecord>, ServiceError>>;

    /// Takes the next job of `component` to run, waiting up to `wait` for one.
    fn pull<'a>(
        &'a self,
        component: &'a str,
        wait: Duration,
    ) -> BoxFuture<'a, Result<Option<Box<dyn Lease>>, ServiceError>>;

    /// The jobs of `component` waiting for a worker.
    fn depth<'a>(&'a self, component: &'a str) -> BoxFuture<'a, Result<u64, ServiceError>>;

    /// How long the results of ended jobs are kept.
    fn retention(&self) -> Duration;

    /// How often a worker reports on a running job ([`Lease::heartbeat`]).
    fn heartbeat_interval(&self) -> Duration {
        Duration::from_millis(250)
    }

    /// The largest arguments (and result) a job may have.
    fn max_job_bytes(&self) -> usize {
        usize::MAX
    }
}

/// Progress a method reported: a fraction from 0.0 to 1.0, and what it said.
pub type Progress = (f32, Option<String>);

/// A job a worker took from the queue: until it is finished or released, no other
/// worker runs it (unless the worker stops reporting on it, which the queue takes for
/// a worker that died).
pub trait Lease: Send + fmt::Debug {
    /// The call to run.
    fn request(&self) -> &JobRequest;

    /// Which run of the job this is, from 1.
    fn attempt(&self) -> u32;

    /// Tells the queue the worker still runs the job, with the progress reported since
    /// the last beat; answers whether the job was cancelled meanwhile.
    fn heartbeat(&mut self, progress: Option<Progress>) -> BoxFuture<'_, Result<bool, ServiceError>>;

    /// Records the outcome; `false` if another run of the job recorded one first.
    fn finish(self: Box<Self>, outcome: JobOutcome) -> BoxFuture<'static, Result<bool, ServiceError>>;

    /// Gives the job back without an outcome (the method panicked, or the worker is
    /// stopping), so that a worker runs it again; this counts as an attempt.
    fn release(self: Box<Self>, error: String) -> BoxFuture<'static, Result<(), ServiceError>>;
}
