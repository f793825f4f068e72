use super::HealthStatus;
use std::fmt::Display;

/// What a health check found. It starts at [`HealthStatus::Ok`]; the check changes it
/// when something is wrong.
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod health { pub use courier_core::*; } }
/// use courier::{health::{CheckResult, HealthStatus}};
/// let mut result = CheckResult::new();
/// assert_eq!(result.status(), HealthStatus::Ok);
/// result.warning("disk 91% full");
/// assert_eq!((result.status(), result.details()), (HealthStatus::Warning, "disk 91% full"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckResult {
    status: HealthStatus,
    details: String,
}

impl CheckResult {
    /// A result at [`HealthStatus::Ok`], without details.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the status and what explains it.
    pub fn set_status(&mut self, status: HealthStatus, details: impl Into<String>) {
        self.status = status;
        self.details = details.into();
    }

    /// Sets [`HealthStatus::Warning`]: still serving, but something needs attention.
    pub fn warning(&mut self, details: impl Into<String>) {
        self.set_status(HealthStatus::Warning, details);
    }

    /// Sets [`HealthStatus::Error`]: not fit to serve.
    pub fn error(&mut self, details: impl Into<String>) {
        self.set_status(HealthStatus::Error, details);
    }

    /// The status set so far.
    pub fn status(&self) -> HealthStatus {
        self.status
    }

    /// The details set so far.
    pub fn details(&self) -> &str {
        &self.details
    }
}

/// What a `#[health_check]` method may return: nothing, or a `Result` whose error makes
/// the check an ERROR with the error as its details, so `?` works inside checks.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the return type of a health check",
    label = "a health check returns `()` or `Result<(), E>`",
    note = "set the outcome on the `&mut CheckResult` argument, or return `Err(error)` to report ERROR with the error's text"
)]
pub trait CheckOutcome {
    /// Applies the returned value to the check's result.
    fn record(self, result: &mut CheckResult);
}

impl CheckOutcome for () {
    fn record(self, _: &mut CheckResult) {}
}

impl<E: Display> CheckOutcome for Result<(), E> {
    fn record(self, result: &mut CheckResult) {
        if let Err(error) = self {
            result.error(error.to_string());
        }
    }
}
