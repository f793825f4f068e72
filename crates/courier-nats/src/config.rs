//! How to reach NATS, and how the queue keeps its jobs.

use crate::queue::NatsQueue;
use courier_core::ServiceError;
use std::{fmt, path::PathBuf, time::Duration};

/// The URL used when `NATS_URL` is not set.
pub(crate) const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// How the queue proves who it is to NATS.
#[derive(Clone, Default)]
pub(crate) enum Credentials {
    /// No credentials.
    #[default]
    None,
    /// A `.creds` file (a user JWT and its NKey seed).
    File(PathBuf),
    /// A user name and a password.
    UserPassword(String, String),
    /// A token.
    Token(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::File(path) => write!(f, "creds file {}", path.display()),
            Self::UserPassword(user, _) => write!(f, "user {user:?} with a password"),
            Self::Token(_) => f.write_str("a token"),
        }
    }
}

/// Settings for a [`NatsQueue`]; [`connect`](Self::connect) makes it.
///
/// ```no_run
/// # mod courier { pub use courier_core::*; pub use courier_nats::*; pub mod jobs { pub use courier_core::*; pub use courier_nats::*; } }
/// # async fn run() -> Result<(), courier::ServiceError> {
/// use std::time::Duration;
/// let queue = courier::jobs::NatsQueue::builder()
///     .url("nats://127.0.0.1:4222")
///     .token("s3cret")
///     .max_attempts(5)
///     .prefix("billing")
///     .connect()
///     .await?;
/// # let _ = queue; Ok(()) }
/// ```
#[derive(Clone)]
pub struct NatsQueueBuilder {
    pub(crate) url: String,
    pub(crate) credentials: Credentials,
    pub(crate) retention: Duration,
    pub(crate) ack_wait: Duration,
    pub(crate) max_attempts: u32,
    pub(crate) prefix: String,
}

impl fmt::Debug for NatsQueueBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsQueueBuilder")
            .field("url", &redact_url(&self.url))
            .field("credentials", &self.credentials)
            .field("retention", &self.retention)
            .field("ack_wait", &self.ack_wait)
            .field("max_attempts", &self.max_attempts)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Default for NatsQueueBuilder {
    fn default() -> Self {
        Self {
            url: DEFAULT_URL.to_owned(),
            credentials: Credentials::None,
            retention: Duration::from_secs(24 * 60 * 60),
            ack_wait: Duration::from_secs(30),
            max_attempts: 3,
            prefix: "courier".to_owned(),
        }
    }
}

impl NatsQueueBuilder {
    /// The defaults: `nats://127.0.0.1:4222` without credentials, results kept for 24
    /// hours, 30 s for a worker that stopped reporting before its job goes to another,
    /// 3 attempts per job, names that start with `courier`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The defaults, with the server and the credentials from the environment, as the
    /// NATS tools read them: `NATS_URL`; then `NATS_CREDS` (a `.creds` file), or
    /// `NATS_USER` and `NATS_PASSWORD`, or `NATS_TOKEN`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let mut builder = Self::new();
        if let Some(url) = var("NATS_URL") {
            builder = builder.url(url);
        }
        if let Some(creds) = var("NATS_CREDS") {
            builder = builder.credentials_file(creds);
        } else if let Some(user) = var("NATS_USER") {
            builder = builder.user_and_password(user, var("NATS_PASSWORD").unwrap_or_default());
        } else if let Some(token) = var("NATS_TOKEN") {
            builder = builder.token(token);
        }
        builder
    }

    /// The NATS server (or a comma-separated list of a cluster's), e.g. `nats://host:4222`.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// Authenticates with a `.creds` file.
    pub fn credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials = Credentials::File(path.into());
        self
    }

    /// Authenticates with a user name and a password.
    pub fn user_and_password(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Credentials::UserPassword(user.into(), password.into());
        self
    }

    /// Authenticates with a token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Credentials::Token(token.into());
        self
    }

    /// How long jobs and their results are kept (24 hours by default): the bucket's and
    /// the streams' maximum age.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How long a job stays with a worker that stopped reporting on it before it is
    /// delivered to another (30 s by default). Live workers report well within it.
    pub fn ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait.max(Duration::from_millis(100));
        self
    }

    /// How many times a job is run at most (3 by default) before it ends `failed`: runs
    /// that stopped without an answer (a worker died, a method panicked) count.
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// What the names of the queue's streams, subjects and bucket start with (`courier`
    /// by default): queues with different prefixes on one NATS server are apart.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Connects to NATS and opens (or creates) the jobs' bucket.
    ///
    /// # Errors
    ///
    /// `Unavailable` when NATS cannot be reached or has no JetStream; `Internal` when
    /// the settings are not usable (a prefix NATS refuses in a name, a credentials file
    /// that cannot be read).
    pub async fn connect(self) -> Result<NatsQueue, ServiceError> {
        NatsQueue::connect(self).await
    }
}

/// The URL without the user and password it may carry.
pub(crate) fn redact_url(url: &str) -> String {
    url.split(',')
        .map(|server| match (server.find("://"), server.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => format!("{}://***@{}", &server[..scheme], &server[at + 1..]),
            (None, Some(at)) => format!("***@{}", &server[at + 1..]),
            _ => server.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_names_no_secret() {
        let builder =
            NatsQueueBuilder::new().url("nats://alice:hunter2@nats:4222").user_and_password("bob", "swordfish");
        let printed = format!("{builder:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("swordfish"), "{printed}");
        assert!(printed.contains("nats:4222") && printed.contains("bob"), "{printed}");
        let printed = format!("{:?}", NatsQueueBuilder::new().token("t0ken"));
        assert!(!printed.contains("t0ken"), "{printed}");
    }
}
