use super::HealthStatus;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The health of a server, or of one component: the worst status of its checks, and
/// each check's own. A health endpoint answers with it as JSON:
///
/// ```json
/// {"status":"ERROR","checks":[
///   {"name":"database","status":"ERROR","details":"slower than 1s: cut off after 1.001s","duration_ms":1001.2,"cached":false},
///   {"name":"disk","status":"OK","details":"","duration_ms":0.1,"cached":true}]}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// The worst status among the checks; OK when there are none.
    pub status: HealthStatus,
    /// Every check, in the order they were added.
    pub checks: Vec<CheckReport>,
}

impl HealthReport {
    /// A report on these checks, with their worst status.
    pub fn new(checks: Vec<CheckReport>) -> Self {
        let status = checks.iter().map(|check| check.status).max().unwrap_or_default();
        Self { status, checks }
    }

    /// The report of the check with this name.
    pub fn check(&self, name: &str) -> Option<&CheckReport> {
        self.checks.iter().find(|check| check.name == name)
    }
}

/// What one check reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The check's name.
    pub name: String,
    /// What it found.
    pub status: HealthStatus,
    /// What explains the status; empty when there is nothing to say.
    pub details: String,
    /// How long the run took that produced this result.
    #[serde(rename = "duration_ms", with = "milliseconds")]
    pub duration: Duration,
    /// Whether the result was reused from an earlier run, within the check's cache time.
    pub cached: bool,
}

/// A duration as fractional milliseconds, the unit people read health output in.
mod milliseconds {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(super) fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(duration.as_secs_f64() * 1000.0)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let millis = f64::deserialize(deserializer)?;
        Duration::try_from_secs_f64(millis / 1000.0).map_err(D::Error::custom)
    }
}
