//! A job as a proxy reaches it: `GET /jobs/<id>` and `DELETE /jobs/<id>`, sent through the
//! proxy's interceptors (so tokens and metadata go with them) to the instance that took
//! the job, or to any that knows it.

use crate::{
    call::{Body, ClientCall},
    CallService,
};
use courier_core::{
    jobs::{JobId, JobLink, JobPoll, JobState, JobStatus},
    BoxFuture, ChannelKind, ErrorCode, MethodDescriptor, Outcome, ServiceDescriptor, ServiceError,
};
use http::HeaderMap;
use std::{
    fmt,
    time::{Duration, Instant},
};
use tower::ServiceExt;

/// How much longer than the server's wait a poll may take before it counts as lost.
const POLL_MARGIN: Duration = Duration::from_secs(10);

/// A job of a queued method, reached over a proxy's call path.
pub(crate) struct HttpJob {
    pub(crate) id: JobId,
    pub(crate) service: &'static ServiceDescriptor,
    pub(crate) method: &'static MethodDescriptor,
    pub(crate) channel: ChannelKind,
    pub(crate) stack: CallService,
}

impl fmt::Debug for HttpJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpJob")
            .field("id", &self.id)
            .field("method", &format_args!("{}.{}", self.service.name, self.method.name))
            .finish()
    }
}

impl HttpJob {
    async fn ask(&self, cancel: bool, wait: Option<Duration>) -> Result<courier_core::Reply, ServiceError> {
        let call = ClientCall {
            service: self.service,
            method: self.method,
            channel: self.channel,
            headers: HeaderMap::new(),
            deadline: Some(Instant::now() + wait.unwrap_or_default() + POLL_MARGIN),
            default_deadline: None,
            body: Body::Job { id: self.id, cancel, wait },
        };
        self.stack.clone().oneshot(call).await
    }
}

impl JobLink for HttpJob {
    fn id(&self) -> JobId {
        self.id
    }

    fn poll(&self, wait: Option<Duration>) -> BoxFuture<'_, Result<JobPoll, ServiceError>> {
        Box::pin(async move {
            match self.ask(false, wait).await {
                Ok(reply) if reply.outcome == Outcome::Accepted => {
                    Ok(JobPoll::Pending(JobStatus::decode(reply.format, &reply.body)?))
                }
                Ok(reply) => {
                    let state = match reply.outcome {
                        Outcome::MethodError => JobState::Failed,
                        _ => JobState::Succeeded,
                    };
                    Ok(JobPoll::Done(state, Ok(reply)))
                }
                Err(error) => match ended_by(&error) {
                    Some(state) => Ok(JobPoll::Done(state, Err(error))),
                    None => Err(error),
                },
            }
        })
    }

    fn cancel(&self) -> BoxFuture<'_, Result<JobStatus, ServiceError>> {
        Box::pin(async move {
            let reply = self.ask(true, None).await?;
            JobStatus::decode(reply.format, &reply.body)
        })
    }
}

/// The state of a job that a fault ended; `None` for faults of the asking itself (the
/// job is unknown, the caller may not see it, no instance answered).
fn ended_by(error: &ServiceError) -> Option<JobState> {
    match error.code {
        ErrorCode::Cancelled => Some(JobState::Cancelled),
        ErrorCode::Expired => Some(JobState::Expired),
        ErrorCode::NotFound
        | ErrorCode::Unauthenticated
        | ErrorCode::Forbidden
        | ErrorCode::Unavailable
        | ErrorCode::Transport
        | ErrorCode::MaybeExecuted
        | ErrorCode::Timeout
        | ErrorCode::PayloadTooLarge
        | ErrorCode::UnsupportedMediaType
        | ErrorCode::MethodNotAllowed => None,
        _ => Some(JobState::Failed),
    }
}
