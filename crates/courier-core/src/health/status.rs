use serde::{Deserialize, Serialize};
use std::fmt;

/// How well a check, or a whole server, is doing. Ordered from best to worst, so the
/// worst of several is their maximum.
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod health { pub use courier_core::*; } }
/// use courier::health::HealthStatus;
/// let statuses = [HealthStatus::Ok, HealthStatus::Error, HealthStatus::Warning];
/// assert_eq!(statuses.into_iter().max(), Some(HealthStatus::Error));
/// assert_eq!(HealthStatus::Warning.http_status(), 200);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HealthStatus {
    /// All is well.
    #[default]
    Ok,
    /// Still serving, but something needs attention.
    Warning,
    /// Not fit to serve: health checkers take the instance out of rotation.
    Error,
}

impl HealthStatus {
    /// The HTTP status a health endpoint answers with: 200, or 503 for [`HealthStatus::Error`].
    pub const fn http_status(self) -> u16 {
        match self {
            Self::Ok | Self::Warning => 200,
            Self::Error => 503,
        }
    }

    const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Warning => "WARNING",
            Self::Error => "ERROR",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
