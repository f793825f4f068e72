//! What a method running as a job sees of it: its token, the progress it reports, and
//! whether it was cancelled.

use super::{JobId, Progress};
use std::{fmt, sync::Arc};
use tokio::sync::watch;

/// The job a method runs as: `CallContext::current().job()` inside a queued method.
///
/// ```
/// # use courier_core as courier;
/// # use courier::{CallContext, ServiceError};
/// async fn render(pages: u32) -> Result<u32, ServiceError> {
///     let job = CallContext::current().job().cloned();
///     for page in 0..pages {
///         if let Some(job) = &job {
///             if job.is_cancelled() {
///                 return Err(ServiceError::internal("stopped"));
///             }
///             job.report_progress(page as f32 / pages as f32, format!("page {page}"));
///         }
///         // ... render the page
///     }
///     Ok(pages)
/// }
/// ```
#[derive(Clone)]
pub struct JobContext {
    shared: Arc<Shared>,
}

struct Shared {
    id: JobId,
    attempt: u32,
    progress: watch::Sender<Option<Progress>>,
    cancelled: watch::Receiver<bool>,
}

impl fmt::Debug for JobContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobContext")
            .field("id", &self.shared.id)
            .field("attempt", &self.shared.attempt)
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// The worker's side of a [`JobContext`]: reads the progress, signals cancellation.
#[derive(Debug)]
pub struct JobControl {
    progress: watch::Receiver<Option<Progress>>,
    cancel: watch::Sender<bool>,
}

impl JobContext {
    /// The context of a job's `attempt`th run, and the worker's control over it.
    pub fn new(id: JobId, attempt: u32) -> (Self, JobControl) {
        let (progress, progress_rx) = watch::channel(None);
        let (cancel, cancelled) = watch::channel(false);
        (
            Self { shared: Arc::new(Shared { id, attempt, progress, cancelled }) },
            JobControl { progress: progress_rx, cancel },
        )
    }

    /// The job's token.
    pub fn id(&self) -> JobId {
        self.shared.id
    }

    /// Which run of the job this is: more than 1 when a worker stopped during an earlier
    /// one (jobs run at least once, not exactly once).
    pub fn attempt(&self) -> u32 {
        self.shared.attempt
    }

    /// Reports how far the job got (clamped to 0.0..=1.0) and what it is doing; callers
    /// see the latest in the job's status within a heartbeat.
    pub fn report_progress(&self, fraction: f32, message: impl Into<String>) {
        let message = Some(message.into()).filter(|text| !text.is_empty());
        self.shared.progress.send_replace(Some((fraction.clamp(0.0, 1.0), message)));
    }

    /// Whether the job was cancelled: the method should stop; what it returns then is
    /// not recorded.
    pub fn is_cancelled(&self) -> bool {
        *self.shared.cancelled.borrow()
    }

    /// Completes when the job is cancelled.
    pub async fn cancelled(&self) {
        let mut cancelled = self.shared.cancelled.clone();
        if cancelled.wait_for(|cancelled| *cancelled).await.is_err() {
            // The worker let go of the job without cancelling it.
            std::future::pending::<()>().await;
        }
    }
}

impl JobControl {
    /// The progress reported since the last call, if any.
    pub fn take_progress(&mut self) -> Option<Progress> {
        match self.progress.has_changed() {
            Ok(true) => self.progress.borrow_and_update().clone(),
            _ => None,
        }
    }

    /// Tells the method that its job was cancelled.
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
    }
}
