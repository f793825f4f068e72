//! The queue: a stream and a durable pull consumer per component, and one key-value
//! bucket of job records.

use crate::{
    config::{redact_url, Credentials, NatsQueueBuilder},
    endings::Endings,
    lease::NatsLease,
};
use async_nats::{
    jetstream::{
        self,
        consumer::{pull, AckPolicy, PullConsumer},
        kv::{self, CreateErrorKind, Operation, UpdateErrorKind},
        stream::{self, RetentionPolicy, StorageType},
        AckKind,
    },
    ConnectOptions, HeaderMap,
};
use courier_core::{
    jobs::{JobId, JobOutcome, JobQueue, JobRecord, JobRequest, JobStatus, Lease, Start},
    BoxFuture, ErrorCode, ServiceError,
};
use futures_util::StreamExt;
use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;

/// What of the server's largest message the queue keeps for headers and the record's
/// own fields.
const HEADROOM: usize = 16 * 1024;
/// The name of every component's durable consumer, in that component's stream.
const CONSUMER: &str = "workers";
/// How long a job published twice (by a retried publish) is taken once.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long one request to NATS may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`JobQueue`] on NATS JetStream: jobs wait in a stream per component, shared by every
/// worker of every process, and their records live in a key-value bucket.
///
/// A job runs at least once and at most `max_attempts` times; exactly one outcome is
/// recorded for it. [`depth`](JobQueue::depth) counts the jobs no worker has taken yet,
/// cancelled ones among them until a worker takes and drops them. Cloning is cheap:
/// clones share the connection.
#[derive(Clone)]
pub struct NatsQueue {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    kv: kv::Store,
    settings: NatsQueueBuilder,
    /// By component, its consumer, once its stream is open.
    consumers: Mutex<HashMap<String, PullConsumer>>,
    /// Callers waiting for jobs to end, and the watch that wakes them.
    endings: Arc<Endings>,
    watching: tokio::task::JoinHandle<()>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.watching.abort();
    }
}

impl fmt::Debug for NatsQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.shared.settings;
        f.debug_struct("NatsQueue")
            .field("url", &redact_url(&settings.url))
            .field("prefix", &settings.prefix)
            .field("retention", &settings.retention)
            .field("ack_wait", &settings.ack_wait)
            .field("max_attempts", &settings.max_attempts)
            .finish_non_exhaustive()
    }
}

impl NatsQueue {
    /// Settings to change before [`NatsQueueBuilder::connect`].
    pub fn builder() -> NatsQueueBuilder {
        NatsQueueBuilder::new()
    }

    /// Connects with the settings of [`NatsQueueBuilder::from_env`]: `NATS_URL` (default
    /// `nats://127.0.0.1:4222`) and `NATS_CREDS`, `NATS_USER`/`NATS_PASSWORD` or
    /// `NATS_TOKEN`.
    ///
    /// # Errors
    ///
    /// As [`NatsQueueBuilder::connect`].
    pub async fn from_env() -> Result<Self, ServiceError> {
        NatsQueueBuilder::from_env().connect().await
    }

    pub(crate) async fn connect(settings: NatsQueueBuilder) -> Result<Self, ServiceError> {
        let mut options = ConnectOptions::new()
            .name(format!("courier {}", settings.prefix))
            .connection_timeout(REQUEST_TIMEOUT)
            .request_timeout(Some(REQUEST_TIMEOUT))
            .max_reconnects(None);
        options = match &settings.credentials {
            Credentials::None => options,
            Credentials::File(path) => options.credentials_file(path).await.map_err(|error| {
                ServiceError::internal(format!("cannot read the NATS credentials file {}: {error}", path.display()))
            })?,
            Credentials::UserPassword(user, password) => options.user_and_password(user.clone(), password.clone()),
            Credentials::Token(token) => options.token(token.clone()),
        };
        let url = redact_url(&settings.url);
        let client = options
            .connect(settings.url.as_str())
            .await
            .map_err(|error| ServiceError::unavailable(format!("cannot connect to NATS at {url}: {error}")))?;
        let jetstream = jetstream::new(client.clone());
        let bucket = format!("{}_jobs", settings.prefix);
        let config = kv::Config {
            bucket: bucket.clone(),
            description: "courier job records".to_owned(),
            history: 5,
            max_age: settings.retention,
            storage: StorageType::File,
            ..Default::default()
        };
        let kv = match jetstream.create_key_value(config).await {
            Ok(kv) => kv,
            // Made before with other settings: use it as it is.
            Err(created) => jetstream.get_key_value(&bucket).await.map_err(|error| {
                ServiceError::unavailable(format!(
                    "cannot open the NATS key-value bucket `{bucket}` at {url} (is JetStream enabled?): {created}; {error}"
                ))
            })?,
        };
        let (endings, watching) = Endings::watch(kv.clone());
        let shared = Shared { client, jetstream, kv, settings, consumers: Mutex::default(), endings, watching };
        Ok(Self { shared: Arc::new(shared) })
    }
}

impl Shared {
    /// The stream that holds `component`'s waiting jobs.
    fn stream_name(&self, component: &str) -> String {
        format!("{}_JOBS_{}", self.settings.prefix.to_uppercase(), sanitize(component))
    }

    /// The subject `component`'s jobs are published on.
    fn subject(&self, component: &str) -> String {
        format!("{}.jobs.{}", self.settings.prefix, sanitize(component))
    }

    /// How many times a job runs at most.
    pub(crate) fn max_attempts(&self) -> u32 {
        self.settings.max_attempts
    }

    /// The component's consumer, its stream and consumer made first if need be.
    async fn consumer(&self, component: &str) -> Result<PullConsumer, ServiceError> {
        if let Some(consumer) = self.lock().get(component) {
            return Ok(consumer.clone());
        }
        let name = self.stream_name(component);
        let stream = self
            .jetstream
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                description: Some(format!("courier jobs of component `{component}`")),
                subjects: vec![self.subject(component)],
                retention: RetentionPolicy::WorkQueue,
                storage: StorageType::File,
                max_age: self.settings.retention,
                // JetStream takes no window longer than the stream keeps messages.
                duplicate_window: DUPLICATE_WINDOW.min(self.settings.retention),
                ..Default::default()
            })
            .await
            .map_err(|error| nats_error(format!("cannot open the stream `{name}`"), error))?;
        let consumer: PullConsumer = stream
            .get_or_create_consumer(
                CONSUMER,
                pull::Config {
                    durable_name: Some(CONSUMER.to_owned()),
                    description: Some("courier workers".to_owned()),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: self.settings.ack_wait,
                    max_deliver: -1,
                    max_ack_pending: 100_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(|error| nats_error(format!("cannot open the consumer of stream `{name}`"), error))?;
        self.lock().insert(component.to_owned(), consumer.clone());
        Ok(consumer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PullConsumer>> {
        courier_core::sync::lock(&self.consumers)
    }

    /// The largest encoded job (or record) the server takes.
    pub(crate) fn max_bytes(&self) -> usize {
        self.client.server_info().max_payload.saturating_sub(HEADROOM).max(1024)
    }

    /// The job's record and its revision; `None` when the bucket does not have it.
    pub(crate) async fn read(&self, id: JobId) -> Result<Option<(JobRecord, u64)>, ServiceError> {
        let entry = self
            .kv
            .entry(id.to_string())
            .await
            .map_err(|error| nats_error(format!("cannot read the record of job {id}"), error))?;
        match entry {
            Some(entry) if entry.operation == Operation::Put => Ok(Some((decode(&entry.value, id)?, entry.revision))),
            _ => Ok(None),
        }
    }

    /// Applies `change` to the job's record by compare-and-swap, reading and applying it
    /// again when another process changed it meanwhile. Returns what `change` answered on
    /// the record that was stored, and that record; `None` when there is no record.
    pub(crate) async fn change<T>(
        &self,
        id: JobId,
        change: impl FnMut(&mut JobRecord) -> T,
    ) -> Result<Option<(T, JobRecord)>, ServiceError> {
        Ok(self.change_known(id, None, change).await?.map(|(answer, record, _)| (answer, record)))
    }

    /// [`change`](Self::change), starting from `known` (a record and its revision, as this
    /// process last wrote or read it) instead of reading it first; answers the revision
    /// stored too.
    pub(crate) async fn change_known<T>(
        &self,
        id: JobId,
        mut known: Option<(JobRecord, u64)>,
        mut change: impl FnMut(&mut JobRecord) -> T,
    ) -> Result<Option<(T, JobRecord, u64)>, ServiceError> {
        loop {
            let (before, revision) = match known.take() {
                Some(known) => known,
                None => match self.read(id).await? {
                    Some(found) => found,
                    None => return Ok(None),
                },
            };
            let mut record = before.clone();
            let answer = change(&mut record);
            if record == before {
                return Ok(Some((answer, record, revision)));
            }
            let value = encode(&record)?;
            match self.kv.update(id.to_string(), value.into(), revision).await {
                Ok(stored) => return Ok(Some((answer, record, stored))),
                Err(error) if error.kind() == UpdateErrorKind::WrongLastRevision => continue,
                Err(error) => return Err(nats_error(format!("cannot update the record of job {id}"), error)),
            }
        }
    }

    /// Takes a delivered message as a job to run, or settles it and answers `None`.
    async fn take(self: &Arc<Self>, message: jetstream::Message) -> Result<Option<Box<dyn Lease>>, ServiceError> {
        let attempt = match message.info() {
            Ok(info) => u32::try_from(info.delivered).unwrap_or(u32::MAX).max(1),
            Err(error) => {
                tracing::warn!(%error, "a job message without its delivery details; dropped");
                settle(&message, AckKind::Term).await;
                return Ok(None);
            }
        };
        let request: JobRequest = match rmp_serde::from_slice(&message.payload) {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(%error, "a job message that is not a courier job; dropped");
                settle(&message, AckKind::Term).await;
                return Ok(None);
            }
        };
        let max_attempts = self.max_attempts();
        let started = match self.change_known(request.id, None, |record| record.start(attempt, max_attempts)).await {
            Ok(started) => started,
            Err(error) => {
                // Someone else may reach the bucket; this one gives it back at once.
                settle(&message, AckKind::Nak(None)).await;
                return Err(error);
            }
        };
        match started {
            Some((Start::Run, record, revision)) => {
                let lease = NatsLease::new(Arc::clone(self), message, request, attempt, (record, revision));
                Ok(Some(Box::new(lease)))
            }
            Some((Start::Skip, _, _)) => {
                settle(&message, AckKind::Term).await;
                Ok(None)
            }
            Some((Start::GiveUp, _, _)) => {
                tracing::warn!(job = %request.id, attempt, "a job stopped its workers too often; it failed");
                settle(&message, AckKind::Term).await;
                Ok(None)
            }
            None => {
                tracing::debug!(job = %request.id, "a job whose record expired; dropped");
                settle(&message, AckKind::Term).await;
                Ok(None)
            }
        }
    }
}

/// Acknowledges `message` as `kind`, logging what fails: the message comes back after
/// the consumer's ack wait then, and its record decides what happens to it.
pub(crate) async fn settle(message: &jetstream::Message, kind: AckKind) {
    if let Err(error) = message.ack_with(kind).await {
        tracing::warn!(%error, "cannot acknowledge a job message to NATS");
    }
}

/// `text` with everything but ASCII letters and digits replaced by `_`.
fn sanitize(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ServiceError> {
    rmp_serde::to_vec_named(value).map_err(|error| ServiceError::internal(format!("cannot encode a job: {error}")))
}

fn decode(bytes: &[u8], id: JobId) -> Result<JobRecord, ServiceError> {
    rmp_serde::from_slice(bytes)
        .map_err(|error| ServiceError::internal(format!("the record of job {id} in NATS cannot be read: {error}")))
}

/// A failed exchange with NATS: the server cannot be reached, or refused.
pub(crate) fn nats_error(what: String, error: impl fmt::Display) -> ServiceError {
    ServiceError::unavailable(format!("NATS: {what}: {error}"))
}

impl JobQueue for NatsQueue {
    fn open<'a>(&'a self, component: &'a str) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(async move { self.shared.consumer(component).await.map(drop) })
    }

    fn submit(&self, request: JobRequest) -> BoxFuture<'_, Result<JobStatus, ServiceError>> {
        Box::pin(async move {
            let shared = &self.shared;
            let payload = encode(&request)?;
            let limit = shared.max_bytes();
            if payload.len() > limit {
                return Err(ServiceError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the job is {} bytes, more than the NATS queue takes ({limit})", payload.len()),
                ));
            }
            shared.consumer(&request.component).await?;
            let id = request.id;
            let record = JobRecord::queued(&request);
            match shared.kv.create(id.to_string(), encode(&record)?.into()).await {
                Ok(_) => {}
                Err(error) if error.kind() == CreateErrorKind::AlreadyExists => {
                    return Err(ServiceError::internal(format!("job {id} was submitted already")))
                }
                Err(error) => return Err(nats_error(format!("cannot record job {id}"), error)),
            }
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", id.to_string().as_str());
            let published = async {
                let subject = shared.subject(&request.component);
                let ack = shared.jetstream.publish_with_headers(subject, headers, payload.into()).await?;
                ack.await.map(drop).map_err(async_nats::Error::from)
            };
            if let Err(error) = published.await {
                let error = nats_error(format!("cannot queue job {id}"), error);
                // Nobody will run it: say so to whoever reads its token.
                let _ = shared.change(id, |record| record.finish(JobOutcome::Fault(error.clone()))).await;
                return Err(error);
            }
            Ok(record.status)
        })
    }

    fn get(&self, id: JobId, wait: Option<Duration>) -> BoxFuture<'_, Result<Option<JobRecord>, ServiceError>> {
        Box::pin(async move {
            let shared = &self.shared;
            let Some(wait) = wait else { return Ok(shared.read(id).await?.map(|(record, _)| record)) };
            // Registered before the read, so that an end just after it is not missed.
            let ended = shared.endings.wait(id);
            let found = shared.read(id).await;
            let pending = matches!(&found, Ok(Some((record, _))) if !record.status.state.is_done());
            if pending {
                let _ = tokio::time::timeout(wait, ended).await;
            } else {
                drop(ended);
            }
            shared.endings.forget(id);
            if !pending {
                return found.map(|found| found.map(|(record, _)| record));
            }
            Ok(shared.read(id).await?.map(|(record, _)| record))
        })
    }

    fn cancel(&self, id: JobId) -> BoxFuture<'_, Result<Option<JobRecord>, ServiceError>> {
        Box::pin(async move { Ok(self.shared.change(id, JobRecord::cancel).await?.map(|(_, record)| record)) })
    }

    fn pull<'a>(
        &'a self,
        component: &'a str,
        wait: Duration,
    ) -> BoxFuture<'a, Result<Option<Box<dyn Lease>>, ServiceError>> {
        Box::pin(async move {
            let consumer = self.shared.consumer(component).await?;
            let deadline = Instant::now() + wait;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left < Duration::from_millis(10) {
                    return Ok(None);
                }
                // One job at a time: a slot asks only when it is free.
                let mut batch = consumer
                    .batch()
                    .max_messages(1)
                    .expires(left)
                    .messages()
                    .await
                    .map_err(|error| nats_error(format!("cannot ask for jobs of `{component}`"), error))?;
                match batch.next().await {
                    None => continue,
                    Some(Err(error)) => return Err(nats_error(format!("cannot take jobs of `{component}`"), error)),
                    Some(Ok(message)) => {
                        if let Some(lease) = self.shared.take(message).await? {
                            return Ok(Some(lease));
                        }
                    }
                }
            }
        })
    }

    fn depth<'a>(&'a self, component: &'a str) -> BoxFuture<'a, Result<u64, ServiceError>> {
        Box::pin(async move {
            let consumer = self.shared.consumer(component).await?;
            let info = consumer
                .get_info()
                .await
                .map_err(|error| nats_error(format!("cannot read the queue of `{component}`"), error))?;
            Ok(info.num_pending)
        })
    }

    fn retention(&self) -> Duration {
        self.shared.settings.retention
    }

    fn heartbeat_interval(&self) -> Duration {
        (self.shared.settings.ack_wait / 3).min(Duration::from_secs(1))
    }

    fn max_job_bytes(&self) -> usize {
        self.shared.max_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn names_keep_only_what_nats_takes() {
        assert_eq!(sanitize("reports-component"), "reports_component");
        assert_eq!(sanitize("a.b c*>"), "a_b_c__");
    }
}
