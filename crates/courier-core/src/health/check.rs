use super::CheckResult;
use crate::BoxFuture;
use std::{fmt, future::Future, sync::Arc, time::Duration};

/// How a health check is run: how long its result is reused, and how long it may take.
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod health { pub use courier_core::*; } }
/// use courier::health::CheckOptions;
/// use std::time::Duration;
/// let options = CheckOptions::new().cache(Duration::from_secs(10)).fail_if_slower_than(Duration::from_secs(1));
/// assert_eq!(options.cache_time(), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckOptions {
    cache: Duration,
    bound: Option<Duration>,
}

impl CheckOptions {
    /// Runs the check on every probe, and cuts it off after
    /// [`HealthManager::DEFAULT_TIMEOUT`](crate::HealthManager::DEFAULT_TIMEOUT).
    pub const fn new() -> Self {
        Self { cache: Duration::ZERO, bound: None }
    }

    /// Reuses a result for this long, so however often the health endpoint is probed,
    /// the check runs at most once per period. Default: not at all.
    pub const fn cache(mut self, time: Duration) -> Self {
        self.cache = time;
        self
    }

    /// A check that has not finished within `bound` is cut off and reports ERROR, with
    /// the time it took in its details.
    pub const fn fail_if_slower_than(mut self, bound: Duration) -> Self {
        self.bound = Some(bound);
        self
    }

    /// How long a result is reused.
    pub const fn cache_time(&self) -> Duration {
        self.cache
    }

    /// The bound set with [`fail_if_slower_than`](Self::fail_if_slower_than), if any.
    pub const fn bound(&self) -> Option<Duration> {
        self.bound
    }
}

type Run = dyn Fn(CheckResult) -> BoxFuture<'static, CheckResult> + Send + Sync;

/// A named health check: a function that gets a [`CheckResult`] at OK, changes it if
/// something is wrong, and hands it back.
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod health { pub use courier_core::*; } }
/// use courier::{health::{CheckOptions, HealthCheck}};
/// let disk = HealthCheck::new("disk", CheckOptions::new(), |mut result| async move {
///     let free_bytes: u64 = 12 << 30; // measured, in real life
///     if free_bytes < 1 << 30 {
///         result.warning(format!("{free_bytes} bytes free"));
///     }
///     result
/// });
/// assert_eq!(disk.name(), "disk");
/// ```
#[derive(Clone)]
pub struct HealthCheck {
    name: String,
    options: CheckOptions,
    run: Arc<Run>,
}

impl HealthCheck {
    /// A check named `name`, run as `options` say.
    pub fn new<F, Fut>(name: impl Into<String>, options: CheckOptions, check: F) -> Self
    where
        F: Fn(CheckResult) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        Self { name: name.into(), options, run: Arc::new(move |result| Box::pin(check(result))) }
    }

    /// The check's name, as the health report shows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How the check is run.
    pub fn options(&self) -> CheckOptions {
        self.options
    }

    pub(crate) fn run(&self) -> BoxFuture<'static, CheckResult> {
        (self.run)(CheckResult::new())
    }
}

impl fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthCheck").field("name", &self.name).field("options", &self.options).finish_non_exhaustive()
    }
}

/// A type whose methods are health checks. `#[health_checks]` on an `impl` block
/// implements it; a server runs the checks of every implementation it serves.
#[diagnostic::on_unimplemented(
    message = "`{Self}` declares no health checks",
    note = "put `#[courier::health_checks]` on an `impl` block of it, with `#[health_check]` on its async check methods"
)]
pub trait HealthChecks: Send + Sync + 'static {
    /// The checks, each holding its own handle to `self`.
    fn health_checks(self: &Arc<Self>) -> Vec<HealthCheck>;
}
