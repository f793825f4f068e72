//! The innermost service of a proxy's stack: sends a call to an instance, and moves it to
//! another when that is safe — the connection failed before the request went out, the
//! instance refused it (503: draining or at its limit), or the method is idempotent.

use crate::{
    call::{Body, ClientCall},
    http::{Failure, HttpClient},
    observed, response,
    targets::{Picked, Targets},
};
use courier_core::wire;
use courier_core::{
    grpc,
    jobs::{JobId, JobStatus},
    ChannelKind, ErrorCode, Format, Instance, MethodDescriptor, Outcome, Reply, ServiceDescriptor, ServiceError,
};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

/// How a proxy's calls survive failing instances.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// Instances tried per call, at most.
    pub(crate) attempts: u32,
    /// Failures in a row after which an instance is left out for `eject_for`.
    pub(crate) eject_after: u32,
    pub(crate) eject_for: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self { attempts: 3, eject_after: 3, eject_for: Duration::from_secs(10) }
    }
}

/// Sends calls for one service of one component.
#[derive(Clone)]
pub(crate) struct Sender {
    inner: Arc<Inner>,
}

struct Inner {
    client: HttpClient,
    targets: Targets,
    policy: Policy,
    /// Per method index, the dispatch path below an instance's base URL.
    paths: Box<[String]>,
    /// Which instance took which job, for queues that live in one instance.
    jobs: Mutex<HashMap<JobId, String>>,
}

/// Jobs whose instance a sender remembers, at most; past it, it forgets them all (a
/// job it forgot is found by asking every instance).
const REMEMBERED_JOBS: usize = 4096;

/// What one attempt on one instance came to.
enum Attempt {
    /// An answer: the method's result or error, or a fault of the server's.
    Answered(Result<Reply, ServiceError>),
    /// The request never left: safe to send elsewhere.
    NotSent(ServiceError),
    /// The instance refused the call without running it (503).
    Refused(ServiceError),
    /// The request left, and no answer came back: the method may have run.
    Lost(ServiceError),
}

impl Sender {
    pub(crate) fn new(
        client: HttpClient,
        targets: Targets,
        policy: Policy,
        component: &str,
        service: &ServiceDescriptor,
        channel: ChannelKind,
    ) -> Self {
        let paths = service
            .methods
            .iter()
            .map(|method| match service.grpc_path(method).filter(|_| grpc_call(channel, method)) {
                Some(path) => path,
                None => wire::invoke_path(component, service.name, method.name),
            })
            .collect();
        Self { inner: Arc::new(Inner { client, targets, policy, paths, jobs: Mutex::default() }) }
    }

    /// Sends `call`, as the innermost service of the stack does.
    pub(crate) async fn send(&self, call: ClientCall) -> Result<Reply, ServiceError> {
        self.inner.send(call).await
    }
}

impl tower::Service<ClientCall> for Sender {
    type Response = Reply;
    type Error = ServiceError;
    type Future = courier_core::BoxFuture<'static, Result<Reply, ServiceError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ServiceError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: ClientCall) -> Self::Future {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move { inner.send(call).await })
    }
}

impl Inner {
    async fn send(&self, call: ClientCall) -> Result<Reply, ServiceError> {
        if let Body::Job { id, .. } = &call.body {
            return Box::pin(self.send_job(*id, &call)).await;
        }
        let mut tried: Vec<Picked> = Vec::new();
        let mut last_error = None;
        for _ in 0..self.policy.attempts.max(1) {
            let instance = match self.targets.pick(&tried).await {
                Ok(instance) => instance,
                Err(error) => return Err(last_error.unwrap_or(error)),
            };
            let remaining = match call.deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(remaining) if !remaining.is_zero() => Some(remaining),
                    _ => return Err(deadline_passed(&call)),
                },
                None => None,
            };
            match self.attempt(&instance, &call, remaining).await {
                Attempt::Answered(result) => {
                    instance.record_success();
                    if let Some(reply) = result.as_ref().ok().filter(|reply| reply.outcome == Outcome::Accepted) {
                        if let Ok(status) = JobStatus::decode(reply.format, &reply.body) {
                            self.remember(status.id, &instance);
                        }
                    }
                    return result;
                }
                Attempt::Refused(error) => last_error = Some(error),
                Attempt::NotSent(error) => {
                    instance.record_failure(self.policy.eject_after, self.policy.eject_for);
                    last_error = Some(error);
                }
                Attempt::Lost(error) => {
                    instance.record_failure(self.policy.eject_after, self.policy.eject_for);
                    if error.code == ErrorCode::Timeout
                        && call.deadline.is_some_and(|deadline| deadline <= Instant::now())
                    {
                        return Err(deadline_passed(&call));
                    }
                    if !call.method.idempotent {
                        return Err(ServiceError::new(
                            ErrorCode::MaybeExecuted,
                            format!(
                                "{}.{} may have executed: {}; it is not #[idempotent], so it was not sent again",
                                call.service.name, call.method.name, error.message
                            ),
                        ));
                    }
                    last_error = Some(error);
                }
            }
            tried.push(instance);
        }
        Err(last_error.unwrap_or_else(|| ServiceError::unavailable("no attempt was made")))
    }

    fn remember(&self, id: JobId, instance: &Instance) {
        let mut jobs = courier_core::sync::lock(&self.jobs);
        if jobs.len() >= REMEMBERED_JOBS {
            jobs.clear();
        }
        jobs.insert(id, instance.url.clone());
    }

    /// Asks about a job: first the instance that took it, if known, then every other
    /// live one until one knows it (any does, when the queue is shared).
    async fn send_job(&self, id: JobId, call: &ClientCall) -> Result<Reply, ServiceError> {
        let known = courier_core::sync::lock(&self.jobs).get(&id).cloned();
        let mut instances = self.targets.live();
        instances.sort_by_key(|instance| Some(&instance.url) != known.as_ref());
        let mut last_error = None;
        for instance in instances {
            let remaining = call.deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            let error = match self.attempt(&instance, call, remaining).await {
                Attempt::Answered(Err(error)) if error.code == ErrorCode::NotFound => error,
                Attempt::Answered(result) => {
                    self.remember(id, &instance);
                    return result;
                }
                Attempt::Refused(error) | Attempt::NotSent(error) | Attempt::Lost(error) => error,
            };
            last_error = Some(error);
        }
        Err(last_error.unwrap_or_else(|| {
            ServiceError::unavailable(format!("no live instance of the component to ask about job {id}"))
        }))
    }

    async fn attempt(&self, instance: &Instance, call: &ClientCall, remaining: Option<Duration>) -> Attempt {
        if let (true, Body::Dispatch { body, .. }) = (grpc_call(call.channel, call.method), &call.body) {
            return Box::pin(self.attempt_grpc(instance, call, body, remaining)).await;
        }
        let mut headers = HeaderMap::with_capacity(call.headers.len() + 4);
        let (method, url, body) = match &call.body {
            Body::Dispatch { format, body } => {
                let url = [instance.url.as_str(), &self.paths[call.method.index]].concat();
                let content_type = HeaderValue::from_static(format.content_type());
                headers.insert(header::CONTENT_TYPE, content_type.clone());
                headers.insert(header::ACCEPT, content_type);
                (Method::POST, url, Some(body.clone()))
            }
            Body::Rest(rest) => {
                let mut url = format!("{}{}", instance.url, rest.path);
                if !rest.query.is_empty() {
                    url.push('?');
                    url.push_str(&rest.query);
                }
                let method = match Method::from_bytes(rest.method.as_str().as_bytes()) {
                    Ok(method) => method,
                    Err(error) => return Attempt::NotSent(ServiceError::internal(error.to_string())),
                };
                let json = HeaderValue::from_static(Format::Json.content_type());
                headers.insert(header::ACCEPT, json.clone());
                if rest.body.is_some() {
                    headers.insert(header::CONTENT_TYPE, json);
                }
                (method, url, rest.body.clone().map(Into::into))
            }
            Body::Job { id, cancel, wait } => {
                let mut url = format!("{}/jobs/{id}", instance.url);
                if let Some(wait) = wait {
                    url.push_str(&format!("?wait={}", wait.as_millis()));
                }
                let format = call.channel.format().unwrap_or(Format::Json);
                headers.insert(header::ACCEPT, HeaderValue::from_static(format.content_type()));
                (if *cancel { Method::DELETE } else { Method::GET }, url, None)
            }
        };
        headers.extend(call.headers.clone());
        match remaining {
            Some(remaining) if call.deadline != call.default_deadline => {
                headers.insert(wire::DEADLINE_HEADER, HeaderValue::from(remaining.as_millis().max(1) as u64));
            }
            _ => {}
        }
        observed::trace(&mut headers);
        let _in_flight = instance.start_call();
        match self.client.send(method, url, headers, body, remaining).await {
            Ok(answer) if answer.status == StatusCode::SERVICE_UNAVAILABLE && !response::is_method_error(&answer) => {
                Attempt::Refused(
                    response::read(answer)
                        .err()
                        .unwrap_or_else(|| ServiceError::unavailable(format!("{} refused the call", instance.url))),
                )
            }
            Ok(answer) => Attempt::Answered(response::read(answer)),
            Err(Failure::NotSent(error)) => Attempt::NotSent(error),
            Err(Failure::Lost(error)) => Attempt::Lost(error),
            Err(Failure::Unusable(error)) => Attempt::Answered(Err(error)),
        }
    }
}

impl Inner {
    /// One attempt of a gRPC call: the metadata as plain gRPC metadata, the deadline as
    /// `grpc-timeout`, and a reply read from its trailers.
    async fn attempt_grpc(
        &self,
        instance: &Instance,
        call: &ClientCall,
        message: &bytes::Bytes,
        remaining: Option<Duration>,
    ) -> Attempt {
        let url = format!("{}{}", instance.url, self.paths[call.method.index]);
        let mut headers = HeaderMap::with_capacity(call.headers.len() + 4);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(grpc::CONTENT_TYPE));
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
        for (name, value) in &call.headers {
            let name = match name.as_str().strip_prefix(wire::METADATA_PREFIX) {
                Some(key) => match http::HeaderName::try_from(key) {
                    Ok(name) => name,
                    Err(_) => continue,
                },
                None => name.clone(),
            };
            headers.append(name, value.clone());
        }
        match remaining {
            Some(remaining) if call.deadline != call.default_deadline => {
                if let Ok(timeout) = HeaderValue::from_str(&grpc::format_timeout(remaining)) {
                    headers.insert(grpc::TIMEOUT, timeout);
                }
            }
            _ => {}
        }
        observed::trace(&mut headers);
        let _in_flight = instance.start_call();
        match self.client.send_grpc(url, headers, grpc::frame(message), remaining).await {
            Ok(answer) => match response::read_grpc(answer) {
                // Draining or at its limit: the call did not run.
                Err(error) if error.code == ErrorCode::Unavailable => Attempt::Refused(error),
                result => Attempt::Answered(result),
            },
            Err(Failure::NotSent(error)) => Attempt::NotSent(error),
            Err(Failure::Lost(error)) => Attempt::Lost(error),
            Err(Failure::Unusable(error)) => Attempt::Answered(Err(error)),
        }
    }
}

/// Whether a call on `channel` is a gRPC call: queued methods have no rpc, so the `grpc`
/// channel submits them on `dispatch-protobuf`, which courier servers serve beside it.
fn grpc_call(channel: ChannelKind, method: &MethodDescriptor) -> bool {
    channel == ChannelKind::Grpc && !method.queued
}

fn deadline_passed(call: &ClientCall) -> ServiceError {
    ServiceError::new(
        ErrorCode::Timeout,
        format!("{}.{} did not finish before its deadline", call.service.name, call.method.name),
    )
}
