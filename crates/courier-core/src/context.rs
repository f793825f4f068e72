//! What travels with a call besides its arguments: metadata, the deadline, the trace
//! context and the caller's principal, readable anywhere inside the call.

use crate::{auth::Principal, jobs::JobContext, TraceContext};
use std::{
    collections::BTreeMap,
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

tokio::task_local! {
    static CURRENT: CallContext;
}

/// The context of the call being served (or made): metadata sent as headers, the
/// deadline, the trace context, and the authenticated principal.
///
/// Inside an implementation, [`CallContext::current`] reads it; proxies called from
/// there carry its metadata and what is left of its deadline to the next service.
///
/// ```
/// # use courier_core as courier;
/// use courier::CallContext;
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let context = CallContext::default().with_metadata("tenant", "acme");
/// let tenant = context.scope(async { CallContext::current().metadata("tenant").map(str::to_owned) }).await;
/// assert_eq!(tenant.as_deref(), Some("acme"));
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    metadata: BTreeMap<String, String>,
    deadline: Option<Instant>,
    principal: Option<Arc<Principal>>,
    trace: Option<TraceContext>,
    job: Option<JobContext>,
}

impl CallContext {
    /// The context of the current call; empty outside of one.
    pub fn current() -> Self {
        CURRENT.try_with(Clone::clone).unwrap_or_default()
    }

    /// Runs `future` with this context as the current one.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    /// A metadata value.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// Every metadata pair.
    pub fn all_metadata(&self) -> impl Iterator<Item = (&str, &str)> {
        self.metadata.iter().map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// Sets a metadata value; keys are lowercase header-name characters.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into().to_ascii_lowercase(), value.into());
        self
    }

    /// The instant the call must be done by, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The time left until the deadline; `None` without one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// Sets the deadline, keeping the earlier one if there is already one.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(self.deadline.map_or(deadline, |current| current.min(deadline)));
        self
    }

    /// The authenticated caller, on the server side of a call.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_deref()
    }

    /// Sets the authenticated caller.
    pub fn with_principal(mut self, principal: Option<Principal>) -> Self {
        self.principal = principal.map(Arc::new);
        self
    }

    /// The trace the call belongs to, on the server side of a call: its `trace_id` is
    /// the one the call's `tracing` spans record, in every service the request crosses.
    pub fn trace(&self) -> Option<TraceContext> {
        self.trace
    }

    /// Sets the trace context.
    pub fn with_trace(mut self, trace: Option<TraceContext>) -> Self {
        self.trace = trace;
        self
    }

    /// The job the call runs as, inside a `#[queued]` method run by a worker: its
    /// token, progress reports, and whether it was cancelled.
    pub fn job(&self) -> Option<&JobContext> {
        self.job.as_ref()
    }

    /// Sets the job the call runs as.
    pub fn with_job(mut self, job: JobContext) -> Self {
        self.job = Some(job);
        self
    }
}
