use super::HealthStatus;
use crate::{ComponentReport, ComponentStatus};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The health of a server, or of one component: the worst status of its checks (ERROR
/// too when a component it covers is not running), each check's own, and where each
/// component is in its life. A health endpoint answers with it as JSON:
///
/// ```json
/// {"status":"ERROR","components":[{"name":"orders","status":"running"}],"checks":[
///   {"name":"database","status":"ERROR","details":"slower than 1s: cut off after 1.001s","duration_ms":1001.2,"cached":false},
///   {"name":"disk","status":"OK","details":"","duration_ms":0.1,"cached":true}]}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// The worst status among the checks; OK when there are none.
    pub status: HealthStatus,
    /// The components the report covers, when a server made it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentReport>,
    /// Every check, in the order they were added.
    pub checks: Vec<CheckReport>,
}

impl HealthReport {
    /// A report on these checks, with their worst status.
    pub fn new(checks: Vec<CheckReport>) -> Self {
        let status = checks.iter().map(|check| check.status).max().unwrap_or_default();
        Self { status, components: Vec::new(), checks }
    }

    /// The report with the statuses of the components it covers: ERROR when one of
    /// them is not running.
    pub fn with_components(mut self, components: Vec<ComponentReport>) -> Self {
        if components.iter().any(|component| !component.status.is_running()) {
            self.status = HealthStatus::Error;
        }
        self.components = components;
        self
    }

    /// The status of the component with this name, if the report covers it.
    pub fn component(&self, name: &str) -> Option<&ComponentStatus> {
        self.components.iter().find(|component| component.name == name).map(|component| &component.status)
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
