//! The caller's side of a queued call: a [`Job`] handle, which asks a [`JobLink`] (the
//! channel's way to reach the queue) for the job's state and result.

use super::{JobId, JobState, JobStatus};
use crate::{BoxFuture, CallContext, ErrorCode, Format, MethodCodec, Outcome, Reply, ServiceError};
use std::{
    fmt,
    marker::PhantomData,
    sync::Arc,
    time::{Duration, Instant},
};

/// What a channel answers about a job.
#[derive(Debug, Clone)]
pub enum JobPoll {
    /// It has not ended yet.
    Pending(JobStatus),
    /// It ended: its state and, as a call's reply, its result, its method's error, or
    /// the fault that ended it (cancelled, expired, given up on).
    Done(JobState, Result<Reply, ServiceError>),
}

/// How a [`Job`] reaches its queue; channels implement it.
pub trait JobLink: Send + Sync + fmt::Debug {
    /// The job's token.
    fn id(&self) -> JobId;

    /// The job's state, waiting up to `wait` for it to end first.
    fn poll(&self, wait: Option<Duration>) -> BoxFuture<'_, Result<JobPoll, ServiceError>>;

    /// Cancels the job; answers its state after that.
    fn cancel(&self) -> BoxFuture<'_, Result<JobStatus, ServiceError>>;
}

/// The longest a single poll waits on the server for a job to end.
const POLL_WAIT: Duration = Duration::from_secs(20);

/// A queued call: `submit_<method>(...)` returns one at once, `attach_<method>(token)`
/// finds one again from any process that reaches the queue.
///
/// ```no_run
/// # use courier_core as courier;
/// # use courier::{jobs::Job, ServiceError};
/// # async fn example(job: Job<String, ServiceError>) -> Result<(), ServiceError> {
/// let token = job.id(); // store it anywhere
/// println!("{:?}", job.status().await?.state);
/// let report = job.wait().await?;
/// # Ok(()) }
/// ```
pub struct Job<T, E> {
    link: Arc<dyn JobLink>,
    decode_value: fn(Format, &[u8]) -> Result<T, ServiceError>,
    decode_error: fn(Format, &[u8]) -> Result<E, ServiceError>,
    _types: PhantomData<fn() -> (T, E)>,
}

impl<T, E> Clone for Job<T, E> {
    fn clone(&self) -> Self {
        Self {
            link: Arc::clone(&self.link),
            decode_value: self.decode_value,
            decode_error: self.decode_error,
            _types: PhantomData,
        }
    }
}

impl<T, E> fmt::Debug for Job<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job").field("id", &self.link.id()).finish_non_exhaustive()
    }
}

impl<T, E: From<ServiceError>> Job<T, E> {
    /// A handle on the job `link` reaches, whose results `C` decodes.
    pub fn new<C: MethodCodec<Value = T, Error = E>>(link: Arc<dyn JobLink>) -> Self {
        Self { link, decode_value: C::decode_value, decode_error: C::decode_error, _types: PhantomData }
    }

    /// The job's token: a string to store, and to find the job again with
    /// `attach_<method>(token)`.
    pub fn id(&self) -> String {
        self.link.id().to_string()
    }

    /// Where the job is now.
    pub async fn status(&self) -> Result<JobStatus, E> {
        match self.link.poll(None).await? {
            JobPoll::Pending(status) => Ok(status),
            JobPoll::Done(state, _) => {
                let mut status = JobStatus::queued(self.link.id());
                status.state = state;
                Ok(status)
            }
        }
    }

    /// Waits for the job to end and returns what its method returned — for as long as
    /// the current call's deadline allows, if there is one, else until it ends.
    pub async fn wait(&self) -> Result<T, E> {
        self.wait_until(CallContext::current().deadline()).await
    }

    /// Waits for the job to end, for at most `timeout`; past it, fails with
    /// [`ErrorCode::Timeout`] and the job goes on.
    pub async fn wait_timeout(&self, timeout: Duration) -> Result<T, E> {
        self.wait_until(Some(Instant::now() + timeout)).await
    }

    async fn wait_until(&self, deadline: Option<Instant>) -> Result<T, E> {
        let reply = wait_for_reply(&*self.link, deadline).await?;
        match reply.outcome {
            Outcome::MethodError => Err((self.decode_error)(reply.format, &reply.body).map_err(unreadable)?),
            _ => (self.decode_value)(reply.format, &reply.body).map_err(|error| E::from(unreadable(error))),
        }
    }

    /// Cancels the job: a queued one never runs, a running one's method sees it in its
    /// `JobContext`. Answers the job's state after that: `cancelled`, or how it had
    /// ended already.
    pub async fn cancel(&self) -> Result<JobStatus, E> {
        Ok(self.link.cancel().await?)
    }
}

/// Polls `link` until the job ends or `deadline` passes; the reply of the ended job.
pub async fn wait_for_reply(link: &dyn JobLink, deadline: Option<Instant>) -> Result<Reply, ServiceError> {
    loop {
        let wait = match deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(POLL_WAIT),
                _ => {
                    return Err(ServiceError::new(
                        ErrorCode::Timeout,
                        format!("job {} did not end before the deadline; it goes on", link.id()),
                    ))
                }
            },
            None => POLL_WAIT,
        };
        if let JobPoll::Done(_, reply) = link.poll(Some(wait)).await? {
            return reply;
        }
    }
}

fn unreadable(error: ServiceError) -> ServiceError {
    ServiceError::new(ErrorCode::Transport, format!("unreadable job result: {}", error.message))
}
