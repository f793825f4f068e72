//! A job a worker took: the message stays unacknowledged while the worker reports on it.

use crate::queue::{encode, settle, Shared};
use async_nats::jetstream::{self, AckKind};
use courier_core::{
    jobs::{JobOutcome, JobRecord, JobRequest, Lease, Progress},
    BoxFuture, ErrorCode, ServiceError,
};
use std::{fmt, sync::Arc};

/// A job one of this process's workers runs; its message is acknowledged when the job ends.
pub(crate) struct NatsLease {
    shared: Arc<Shared>,
    message: jetstream::Message,
    request: JobRequest,
    attempt: u32,
    /// The record as this worker last wrote or read it, with its revision: the next
    /// change starts from it, and reads the record only if another process changed it.
    known: Option<(JobRecord, u64)>,
}

impl NatsLease {
    pub(crate) fn new(
        shared: Arc<Shared>,
        message: jetstream::Message,
        request: JobRequest,
        attempt: u32,
        known: (JobRecord, u64),
    ) -> Self {
        Self { shared, message, request, attempt, known: Some(known) }
    }
}

impl fmt::Debug for NatsLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsLease").field("id", &self.request.id).field("attempt", &self.attempt).finish()
    }
}

impl Lease for NatsLease {
    fn request(&self) -> &JobRequest {
        &self.request
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    fn heartbeat(&mut self, progress: Option<Progress>) -> BoxFuture<'_, Result<bool, ServiceError>> {
        Box::pin(async move {
            let id = self.request.id;
            // Restarts the consumer's ack wait: the job stays with this worker.
            let kept = self.message.ack_with(AckKind::Progress).await;
            // A cancellation comes from another process: read the record, unless there is
            // progress to write, whose compare-and-swap notices any change anyway.
            self.known = match progress {
                Some((fraction, message)) => self
                    .shared
                    .change_known(id, self.known.take(), |record| record.progress(fraction, message.clone()))
                    .await?
                    .map(|(_, record, revision)| (record, revision)),
                None => self.shared.read(id).await?,
            };
            kept.map_err(|error| crate::queue::nats_error(format!("cannot keep job {id}"), error))?;
            Ok(self.known.as_ref().is_none_or(|(record, _)| record.status.state.is_done()))
        })
    }

    fn finish(self: Box<Self>, outcome: JobOutcome) -> BoxFuture<'static, Result<bool, ServiceError>> {
        Box::pin(async move {
            let id = self.request.id;
            let limit = self.shared.max_bytes();
            let outcome = match encode(&outcome)?.len() {
                size if size > limit => JobOutcome::Fault(ServiceError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the result of job {id} is {size} bytes, more than the NATS queue keeps ({limit})"),
                )),
                _ => outcome,
            };
            let recorded = self.shared.change_known(id, self.known, |record| record.finish(outcome.clone())).await?;
            // Ended either way: the message is done with.
            if let Err(error) = self.message.double_ack().await {
                tracing::warn!(job = %id, %error, "cannot acknowledge a finished job to NATS; a worker will skip it");
            }
            Ok(recorded.is_some_and(|(recorded, _, _)| recorded))
        })
    }

    fn release(self: Box<Self>, error: String) -> BoxFuture<'static, Result<(), ServiceError>> {
        Box::pin(async move {
            let changed =
                self.shared.change_known(self.request.id, self.known, |record| record.stopped(error.clone())).await;
            // Back to the queue at once, whether or not the record could be written.
            settle(&self.message, AckKind::Nak(None)).await;
            changed.map(drop)
        })
    }
}
