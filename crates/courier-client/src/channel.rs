use crate::{
    call::{Body, ClientCall},
    job::HttpJob,
    sender::Sender,
    CallService,
};
use courier_core::{
    jobs::{wait_for_reply, JobId, JobLink, JobStatus},
    BoxFuture, Call, CallContext, Channel, ChannelKind, ErrorCode, MethodDescriptor, Outcome, Reply, ServiceDescriptor,
    ServiceError,
};
use http::HeaderMap;
use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};
use tower::ServiceExt;

/// The remote channels: `dispatch-json`, `dispatch-msgpack` and `dispatch-protobuf`
/// (`POST /invoke/<component>/<service>/<method>`), and `rest` (the method's route).
///
/// A call is encoded once, takes the caller's [`CallContext`] metadata and deadline with
/// it, and passes through the proxy's interceptors to the instance the selector picks.
pub struct HttpChannel {
    channel: ChannelKind,
    stack: CallService,
    /// The stack's sender, when no interceptor wraps it: calls go to it without the boxes.
    direct: Option<Sender>,
    /// The timeout set on the proxy or its manager; `None`: the default.
    timeout: Option<Duration>,
}

/// How long a call may take when neither its proxy, its manager nor its context says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl fmt::Debug for HttpChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpChannel").field("channel", &self.channel).field("timeout", &self.timeout).finish()
    }
}

impl HttpChannel {
    pub(crate) fn new(
        channel: ChannelKind,
        stack: CallService,
        direct: Option<Sender>,
        timeout: Option<Duration>,
    ) -> Self {
        Self { channel, stack, direct, timeout }
    }

    /// A call to a queued method submits a job and waits for its end, for as long as the
    /// call's deadline and a timeout set on the proxy allow (the default timeout bounds
    /// handing the job in, not the job).
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Reply, ServiceError> {
        if call.method.queued {
            let request = self.request(&call)?;
            let deadline = request.deadline.filter(|_| request.default_deadline.is_none());
            return Box::pin(async move { wait_for_reply(&self.submit_request(request).await?, deadline).await }).await;
        }
        let request = self.request(&call)?;
        match &self.direct {
            Some(sender) => sender.send(request).await,
            None => self.stack.clone().oneshot(request).await,
        }
    }

    /// Submits a queued call as a job.
    async fn submit_request(&self, request: ClientCall) -> Result<HttpJob, ServiceError> {
        let (service, method) = (request.service, request.method);
        let reply = self.stack.clone().oneshot(request).await?;
        if reply.outcome != Outcome::Accepted {
            return Err(ServiceError::new(
                ErrorCode::Transport,
                format!("{}.{} is #[queued], and the server did not queue it", service.name, method.name),
            ));
        }
        let status = JobStatus::decode(reply.format, &reply.body)?;
        Ok(self.job(method, status.id, service))
    }

    fn job(&self, method: &'static MethodDescriptor, id: JobId, service: &'static ServiceDescriptor) -> HttpJob {
        HttpJob { id, service, method, channel: self.channel, stack: self.stack.clone() }
    }

    /// The call as interceptors see it, with the caller's context and the proxy's timeout.
    fn request(&self, call: &Call<'_>) -> Result<ClientCall, ServiceError> {
        let body = match self.channel.format() {
            Some(format) => Body::Dispatch { format, body: call.arguments.encode(format)?.into() },
            None => Body::Rest(call.arguments.rest()?),
        };
        let context = CallContext::current();
        let mut request = ClientCall {
            service: call.service,
            method: call.method,
            channel: self.channel,
            headers: HeaderMap::new(),
            deadline: within(context.deadline(), self.timeout),
            default_deadline: None,
            body,
        };
        for (key, value) in context.all_metadata() {
            request.set_metadata(key, value);
        }
        // Without a deadline or a timeout set on purpose (`Duration::MAX` means none), the default.
        if request.deadline.is_none() && self.timeout.is_none() {
            request.deadline = within(None, Some(DEFAULT_TIMEOUT));
            request.default_deadline = request.deadline;
        }
        Ok(request)
    }
}

/// The earlier of `deadline` and `timeout` from now; a timeout too long to count is none.
fn within(deadline: Option<Instant>, timeout: Option<Duration>) -> Option<Instant> {
    match (deadline, timeout.and_then(|timeout| Instant::now().checked_add(timeout))) {
        (Some(deadline), Some(limit)) => Some(deadline.min(limit)),
        (deadline, limit) => deadline.or(limit),
    }
}

impl Channel for HttpChannel {
    fn call<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Reply, ServiceError>> {
        Box::pin(self.send(call))
    }

    fn submit<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Arc<dyn JobLink>, ServiceError>> {
        Box::pin(async move {
            let request = self.request(&call)?;
            Ok(Arc::new(self.submit_request(request).await?) as Arc<dyn JobLink>)
        })
    }

    fn attach(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        id: JobId,
    ) -> Result<Arc<dyn JobLink>, ServiceError> {
        Ok(Arc::new(self.job(method, id, service)))
    }
}
