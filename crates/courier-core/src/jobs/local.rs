//! Queued methods on the local channel: calls from the process that runs the component
//! go through its queue too, so its workers' capacity holds for them as well.

use super::{not_kept, wait_for_reply, JobId, JobLink, JobPoll, JobQueue, JobRequest, JobStatus};
use crate::{
    BoxFuture, Call, CallContext, Channel, Dispatch, Dispatched, Format, MethodDescriptor, Outcome, Reply,
    ServiceDescriptor, ServiceError,
};
use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

/// The local channel of a service with queued methods: its plain methods are dispatched
/// in this process, its queued ones submitted to the queue of the component that runs it.
pub struct LocalJobs {
    dispatcher: Arc<dyn Dispatch>,
    component: &'static str,
    queue: Arc<dyn JobQueue>,
    /// Whether the server that runs the component still does.
    running: Arc<AtomicBool>,
}

impl fmt::Debug for LocalJobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalJobs").field("component", &self.component).field("queue", &self.queue).finish()
    }
}

impl LocalJobs {
    /// The channel to a service whose `dispatcher` runs in `component`, whose jobs wait in `queue`.
    pub fn new(dispatcher: Arc<dyn Dispatch>, component: &'static str, queue: Arc<dyn JobQueue>) -> Self {
        Self { dispatcher, component, queue, running: Arc::new(AtomicBool::new(true)) }
    }

    /// The server that ran the component stopped: calls and waits fail instead of waiting
    /// for workers that are gone.
    pub fn stop(&self) {
        self.running.store(false, Ordering::Relaxed);
    }

    fn job(&self, id: JobId) -> LocalJob {
        LocalJob { id, queue: Arc::clone(&self.queue), running: Arc::clone(&self.running), component: self.component }
    }

    async fn submit_job(&self, call: &Call<'_>) -> Result<LocalJob, ServiceError> {
        let context = CallContext::current();
        call.method.access.check(context.principal())?;
        let body = call.arguments.encode(Format::MsgPack)?.into();
        let request = JobRequest::new(
            self.component,
            call.service.name,
            call.method.name,
            Format::MsgPack,
            body,
            false,
            &context,
        );
        check(&self.running, self.component)?;
        let status = self.queue.submit(request).await?;
        Ok(self.job(status.id))
    }
}

impl Channel for LocalJobs {
    fn call<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Reply, ServiceError>> {
        Box::pin(async move {
            if call.method.queued {
                let job = self.submit_job(&call).await?;
                return wait_for_reply(&job, CallContext::current().deadline()).await;
            }
            call.method.access.check(CallContext::current().principal())?;
            check(&self.running, self.component)?;
            let body = call.arguments.encode(Format::MsgPack)?.into();
            let format = Format::MsgPack;
            match self.dispatcher.dispatch(call.method.index, format, body).await {
                Dispatched::Value(body) => Ok(Reply { format, outcome: Outcome::Value, body: body.into() }),
                Dispatched::MethodError(body) => Ok(Reply { format, outcome: Outcome::MethodError, body: body.into() }),
                Dispatched::Failed(error) => Err(error),
            }
        })
    }

    fn submit<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Arc<dyn JobLink>, ServiceError>> {
        Box::pin(async move { Ok(Arc::new(self.submit_job(&call).await?) as Arc<dyn JobLink>) })
    }

    fn attach(
        &self,
        _: &'static ServiceDescriptor,
        _: &'static MethodDescriptor,
        id: JobId,
    ) -> Result<Arc<dyn JobLink>, ServiceError> {
        Ok(Arc::new(self.job(id)))
    }
}

/// A job in this process's reach, asked about through the queue itself.
#[derive(Debug)]
struct LocalJob {
    id: JobId,
    queue: Arc<dyn JobQueue>,
    running: Arc<AtomicBool>,
    component: &'static str,
}

/// Fails when the server that ran `component` in this process has stopped.
fn check(running: &AtomicBool, component: &str) -> Result<(), ServiceError> {
    match running.load(Ordering::Relaxed) {
        true => Ok(()),
        false => Err(ServiceError::unavailable(format!(
            "the server that ran component `{component}` in this process has stopped"
        ))),
    }
}

impl JobLink for LocalJob {
    fn id(&self) -> JobId {
        self.id
    }

    fn poll(&self, wait: Option<Duration>) -> BoxFuture<'_, Result<JobPoll, ServiceError>> {
        Box::pin(async move {
            check(&self.running, self.component)?;
            let record = self.queue.get(self.id, wait).await?;
            Ok(record.ok_or_else(|| not_kept(self.id, self.queue.retention()))?.poll())
        })
    }

    fn cancel(&self) -> BoxFuture<'_, Result<JobStatus, ServiceError>> {
        Box::pin(async move {
            let record = self.queue.cancel(self.id).await?;
            Ok(record.ok_or_else(|| not_kept(self.id, self.queue.retention()))?.status)
        })
    }
}
