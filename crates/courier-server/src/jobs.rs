//! Queued calls on the server: a call to a `#[queued]` method is submitted to the
//! server's [`JobQueue`] and answered `202 Accepted` with `Location: /jobs/<id>`;
//! `GET /jobs/<id>` answers its status while it runs (`?wait=<ms>` waits up to 30 s for
//! it to end first) and its result once it has ended; `DELETE /jobs/<id>` cancels it.

use crate::{
    context::{admit, challenge},
    response::{encoded, error_response, method_error},
};
use axum::{
    extract::{Request, State},
    response::Response,
    routing::get,
    Router,
};
use bytes::Bytes;
use courier_core::{
    auth::{Access, Authenticator},
    jobs::{not_kept, JobId, JobOutcome, JobQueue, JobRecord, JobRequest, JobStatus},
    telemetry, wire, CallContext, ErrorCode, Format, ServiceError,
};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use std::{collections::HashMap, sync::Arc, time::Duration};

/// The path of a job's resource.
pub(crate) const JOBS_PATH: &str = "/jobs/{id}";

/// The longest `?wait=` a status request may ask for.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Which queued method a call is for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueuedMethod {
    pub(crate) component: &'static str,
    pub(crate) service: &'static str,
    pub(crate) method: &'static str,
}

/// Queues a call as a job: arguments `body` in `format`, with the caller's context.
pub(crate) async fn submit(
    queue: &dyn JobQueue,
    target: QueuedMethod,
    format: Format,
    body: Bytes,
    rest: bool,
    context: &CallContext,
) -> Result<JobStatus, ServiceError> {
    if body.len() > queue.max_job_bytes() {
        return Err(ServiceError::new(
            ErrorCode::PayloadTooLarge,
            format!("a job's arguments may be at most {} bytes", queue.max_job_bytes()),
        ));
    }
    let request = JobRequest::new(target.component, target.service, target.method, format, body, rest, context);
    let status = queue.submit(request).await?;
    metrics::counter!(
        telemetry::JOBS_SUBMITTED,
        "component" => target.component,
        "service" => target.service,
        "method" => target.method
    )
    .increment(1);
    tracing::debug!(job = %status.id, service = target.service, method = target.method, "job queued");
    Ok(status)
}

/// `202 Accepted`, with where to ask about the job and its status.
pub(crate) fn accepted(format: Format, status: &JobStatus) -> Response {
    let mut response = status_response(StatusCode::ACCEPTED, format, status);
    if let Ok(location) = HeaderValue::from_str(&format!("/jobs/{}", status.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn status_response(code: StatusCode, format: Format, status: &JobStatus) -> Response {
    let mut response = encoded(code, format, status.encode(format));
    response.headers_mut().insert(wire::JOB_STATE_HEADER, HeaderValue::from_static(status.state.as_str()));
    if !status.state.is_done() {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// What answers about jobs: the queue, and who may read the jobs of which method.
pub(crate) struct JobDesk {
    queue: Arc<dyn JobQueue>,
    access: HashMap<(&'static str, &'static str), Access>,
    authenticator: Option<Arc<dyn Authenticator>>,
}

impl JobDesk {
    pub(crate) fn new(queue: Arc<dyn JobQueue>, authenticator: Option<Arc<dyn Authenticator>>) -> Self {
        Self { queue, access: HashMap::new(), authenticator }
    }

    /// Lets the callers of a queued method read and cancel its jobs.
    pub(crate) fn add(&mut self, service: &'static str, method: &'static str, access: Access) {
        self.access.insert((service, method), access);
    }

    /// `GET` and `DELETE` on `/jobs/<id>`.
    pub(crate) fn routes(self) -> Router {
        Router::new().route(JOBS_PATH, get(read).delete(cancel)).with_state(Arc::new(self))
    }

    async fn answer(&self, id: &str, request: Request, cancel: bool) -> Result<Response, ServiceError> {
        let format = accepted_format(request.headers());
        let id: JobId = id.parse()?;
        let wait = wait(request.uri().query())?;
        // Who may see a job is decided by its method's rule, so read it first.
        let record = self.queue.get(id, None).await?.ok_or_else(|| not_kept(id, self.queue.retention()))?;
        let access =
            self.access.get(&(record.service.as_str(), record.method.as_str())).copied().unwrap_or(Access::Public);
        admit(request.headers(), request.extensions(), access, self.authenticator.as_deref()).await?;
        let record = match (cancel, wait) {
            (true, _) => self.queue.cancel(id).await?,
            (false, Some(wait)) if !record.status.state.is_done() => self.queue.get(id, Some(wait)).await?,
            (false, _) => Some(record),
        }
        .ok_or_else(|| not_kept(id, self.queue.retention()))?;
        Ok(match cancel {
            true => status_response(StatusCode::OK, format, &record.status),
            false => result_response(&record, format),
        })
    }
}

/// A job's answer: its status while it runs; once it has ended, what the call would
/// have answered — its result, its method's error, or the fault that ended it.
fn result_response(record: &JobRecord, format: Format) -> Response {
    let mut response = match &record.outcome {
        None => return status_response(StatusCode::ACCEPTED, format, &record.status),
        Some(JobOutcome::Value { format, body }) => encoded(StatusCode::OK, *format, body.clone()),
        Some(JobOutcome::MethodError { format, body, status }) => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            method_error(status, *format, body.clone())
        }
        Some(JobOutcome::Fault(error)) => error_response(format, error),
    };
    response.headers_mut().insert(wire::JOB_STATE_HEADER, HeaderValue::from_static(record.status.state.as_str()));
    response
}

/// The codec the caller asks for with `Accept` (or speaks, by `Content-Type`); JSON when neither names one.
fn accepted_format(headers: &HeaderMap) -> Format {
    [header::ACCEPT, header::CONTENT_TYPE]
        .iter()
        .filter_map(|name| headers.get(name)?.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(Format::from_content_type)
        .unwrap_or(Format::Json)
}

/// `?wait=<ms>`, capped.
fn wait(query: Option<&str>) -> Result<Option<Duration>, ServiceError> {
    let Some(value) = query.into_iter().flat_map(|query| query.split('&')).find_map(|pair| pair.strip_prefix("wait="))
    else {
        return Ok(None);
    };
    let millis: u64 = value
        .parse()
        .map_err(|_| ServiceError::bad_request(format!("`wait={value}` is not a number of milliseconds")))?;
    Ok(Some(Duration::from_millis(millis).min(MAX_WAIT)))
}

async fn read(State(desk): State<Arc<JobDesk>>, request: Request) -> Response {
    respond(&desk, request, false).await
}

async fn cancel(State(desk): State<Arc<JobDesk>>, request: Request) -> Response {
    respond(&desk, request, true).await
}

async fn respond(desk: &JobDesk, request: Request, cancel: bool) -> Response {
    let format = accepted_format(request.headers());
    // The raw segment: a token is plain ASCII, anything else is not one.
    let id = request.uri().path().strip_prefix("/jobs/").unwrap_or_default().to_owned();
    match desk.answer(&id, request, cancel).await {
        Ok(response) => response,
        Err(error) => challenge(error_response(format, &error), &error, desk.authenticator.as_deref()),
    }
}
