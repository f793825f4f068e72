//! What a queue keeps of a job: what to run, where it is, and how it ended — and the
//! rules by which it moves from one state to the next, which every backend follows.

use super::{id::now_millis, JobId, JobPoll, JobState, JobStatus};
use crate::{auth::Principal, ErrorCode, Format, Outcome, Reply, ServiceError};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A call to a queued method, as a worker will run it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    /// The job's token.
    pub id: JobId,
    /// The component whose workers run it.
    pub component: String,
    /// The service called.
    pub service: String,
    /// The method called.
    pub method: String,
    /// The codec of the arguments, and of the result.
    pub format: Format,
    /// The encoded arguments, as the dispatch endpoint takes them.
    pub body: Bytes,
    /// Whether it came on the method's REST route: its errors answer with their own status.
    pub rest: bool,
    /// The caller's metadata, which the method reads in its `CallContext`.
    pub metadata: BTreeMap<String, String>,
    /// The caller, as the server authenticated it.
    pub principal: Option<Principal>,
}

impl JobRequest {
    /// A new job: a call to `service`.`method` of `component` with arguments `body` in
    /// `format`, and the metadata and principal of the current call's context.
    pub fn new(
        component: &str,
        service: &str,
        method: &str,
        format: Format,
        body: Bytes,
        rest: bool,
        context: &crate::CallContext,
    ) -> Self {
        Self {
            id: JobId::generate(),
            component: component.to_owned(),
            service: service.to_owned(),
            method: method.to_owned(),
            format,
            body,
            rest,
            metadata: context.all_metadata().map(|(key, value)| (key.to_owned(), value.to_owned())).collect(),
            principal: context.principal().cloned(),
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// The method returned `Ok`: the encoded value.
    Value {
        /// Its codec.
        format: Format,
        /// The value.
        body: Bytes,
    },
    /// The method returned its own error: the encoded error and the status it answers with.
    MethodError {
        /// Its codec.
        format: Format,
        /// The error.
        body: Bytes,
        /// The HTTP status it travels with.
        status: u16,
    },
    /// The job did not run to an answer: cancelled, or given up on.
    Fault(ServiceError),
}

impl JobOutcome {
    /// The state a job that ends so is in.
    pub fn state(&self) -> JobState {
        match self {
            Self::Value { .. } => JobState::Succeeded,
            Self::Fault(error) if error.code == ErrorCode::Cancelled => JobState::Cancelled,
            Self::MethodError { .. } | Self::Fault(_) => JobState::Failed,
        }
    }

    /// What a method's run came to, as the job's outcome.
    pub fn of(dispatched: crate::Dispatched, request: &JobRequest) -> Self {
        let format = request.format;
        match dispatched {
            crate::Dispatched::Value(body) => Self::Value { format, body: body.into() },
            crate::Dispatched::MethodError(body) => {
                // On REST, a method's error answers with the status of its `code`.
                let status = match request.rest {
                    true => serde_json::from_slice::<serde_json::Value>(&body)
                        .map_or(500, |error| crate::service::method_error_status(&error)),
                    false => 500,
                };
                Self::MethodError { format, body: body.into(), status }
            }
            crate::Dispatched::Failed(error) => Self::Fault(error),
        }
    }
}

/// A job as a queue keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// What callers read.
    pub status: JobStatus,
    /// The component whose workers run it.
    pub component: String,
    /// The service called.
    pub service: String,
    /// The method called.
    pub method: String,
    /// Why the last attempt stopped without an answer, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// How it ended, once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<JobOutcome>,
}

/// What a worker that took a job from the queue is to do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Run it: it is now `running`.
    Run,
    /// Leave it: it was cancelled while queued, or has ended already.
    Skip,
    /// It stopped its workers too often: it is now `failed`, with the last error.
    GiveUp,
}

impl JobRecord {
    /// The record of a job just submitted.
    pub fn queued(request: &JobRequest) -> Self {
        Self {
            status: JobStatus::queued(request.id),
            component: request.component.clone(),
            service: request.service.clone(),
            method: request.method.clone(),
            last_error: None,
            outcome: None,
        }
    }

    /// A worker takes the job for its `attempt`th run (counting from 1).
    pub fn start(&mut self, attempt: u32, max_attempts: u32) -> Start {
        if self.status.state.is_done() {
            return Start::Skip;
        }
        if attempt > max_attempts {
            let last = self.last_error.as_deref().unwrap_or("its worker stopped");
            self.finish(JobOutcome::Fault(ServiceError::internal(format!(
                "gave up after {max_attempts} attempts, each stopped before the method answered; last: {last}"
            ))));
            return Start::GiveUp;
        }
        self.status.state = JobState::Running;
        self.status.attempts = attempt;
        self.status.started_ms = Some(now_millis());
        Start::Run
    }

    /// The method reports how far it got.
    pub fn progress(&mut self, fraction: f32, message: Option<String>) {
        if self.status.state == JobState::Running {
            self.status.progress = Some(fraction.clamp(0.0, 1.0));
            self.status.message = message;
        }
    }

    /// An attempt stopped without an answer; the job goes back to the queue.
    pub fn stopped(&mut self, error: String) {
        if !self.status.state.is_done() {
            self.status.state = JobState::Queued;
            self.last_error = Some(error);
        }
    }

    /// Records how the job ended; `false` when it had ended already, so that exactly one
    /// outcome is recorded however many workers ran it.
    pub fn finish(&mut self, outcome: JobOutcome) -> bool {
        if self.status.state.is_done() {
            return false;
        }
        self.status.state = outcome.state();
        if self.status.state == JobState::Succeeded {
            self.status.progress = Some(1.0);
        }
        self.status.finished_ms = Some(now_millis());
        self.outcome = Some(outcome);
        true
    }

    /// What a caller polling the job learns: its status while it runs; its state and
    /// result, as a call's reply, once it has ended.
    pub fn poll(&self) -> JobPoll {
        let reply = match &self.outcome {
            None => return JobPoll::Pending(self.status.clone()),
            Some(JobOutcome::Value { format, body }) => {
                Ok(Reply { format: *format, outcome: Outcome::Value, body: body.clone() })
            }
            Some(JobOutcome::MethodError { format, body, .. }) => {
                Ok(Reply { format: *format, outcome: Outcome::MethodError, body: body.clone() })
            }
            Some(JobOutcome::Fault(error)) => Err(error.clone()),
        };
        JobPoll::Done(self.status.state, reply)
    }

    /// Cancels the job: at once if it is queued; a running one's method sees it in its
    /// context. `false` when it had ended already.
    pub fn cancel(&mut self) -> bool {
        self.finish(Self::cancel_outcome())
    }

    /// The outcome of a cancelled job.
    pub fn cancel_outcome() -> JobOutcome {
        JobOutcome::Fault(ServiceError::new(ErrorCode::Cancelled, "the job was cancelled"))
    }
}

/// The answer for a job no queue knows: expired if its token is older than the queue
/// keeps results, unknown otherwise.
pub fn not_kept(id: JobId, retention: std::time::Duration) -> ServiceError {
    if id.age() > retention {
        ServiceError::new(
            ErrorCode::Expired,
            format!("job {id} ended longer ago than results are kept ({retention:?})"),
        )
    } else {
        ServiceError::new(ErrorCode::NotFound, format!("no job {id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> JobRequest {
        JobRequest {
            id: JobId::generate(),
            component: "reports".into(),
            service: "reports".into(),
            method: "render".into(),
            format: Format::Json,
            body: Bytes::from_static(b"{}"),
            rest: false,
            metadata: BTreeMap::new(),
            principal: None,
        }
    }

    #[test]
    fn a_job_ends_once_and_gives_up_after_its_attempts() {
        let mut record = JobRecord::queued(&request());
        assert_eq!(record.start(1, 2), Start::Run);
        record.progress(3.0, Some("far".into()));
        assert_eq!(record.status.progress, Some(1.0));
        record.stopped("killed".into());
        assert_eq!(record.status.state, JobState::Queued);
        assert_eq!(record.start(2, 2), Start::Run);
        record.stopped("killed again".into());
        assert_eq!(record.start(3, 2), Start::GiveUp);
        assert_eq!(record.status.state, JobState::Failed);
        let Some(JobOutcome::Fault(error)) = &record.outcome else { panic!("{record:?}") };
        assert!(error.message.contains("killed again"), "{error}");
        assert!(!record.finish(JobOutcome::Value { format: Format::Json, body: Bytes::new() }));
        assert_eq!(record.start(4, 2), Start::Skip);

        let mut record = JobRecord::queued(&request());
        assert!(record.cancel());
        assert_eq!(record.status.state, JobState::Cancelled);
        assert!(!record.cancel());
        assert_eq!(record.start(1, 3), Start::Skip);
    }
}
