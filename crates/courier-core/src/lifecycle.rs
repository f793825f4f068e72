//! Where a component is in its life, as its server and its health endpoint tell it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a component is in its life. Only a `Running` component takes calls and counts
/// as healthy; a health endpoint reports any other status as an ERROR.
///
/// In JSON (as `/health` shows it): `{"status":"running"}`,
/// `{"status":"failed","cause":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ComponentStatus {
    /// Its server has not started it yet.
    NotStarted,
    /// Its startup hook runs.
    Starting,
    /// Started, registered and taking calls.
    Running,
    /// Deregistered, and letting its in-flight calls finish before its shutdown hook.
    Stopping,
    /// Deregistered, drained and shut down.
    Stopped,
    /// It cannot take calls, and will not again: why.
    Failed {
        /// What went wrong, in words.
        cause: String,
    },
}

impl ComponentStatus {
    /// Whether the component takes calls.
    pub fn is_running(&self) -> bool {
        *self == Self::Running
    }
}

impl fmt::Display for ComponentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotStarted => f.write_str("not started"),
            Self::Starting => f.write_str("starting"),
            Self::Running => f.write_str("running"),
            Self::Stopping => f.write_str("stopping"),
            Self::Stopped => f.write_str("stopped"),
            Self::Failed { cause } => write!(f, "failed: {cause}"),
        }
    }
}

/// One component's status, as a health report lists it:
/// `{"name":"orders","status":"running"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentReport {
    /// The component's name.
    pub name: String,
    /// Where it is in its life.
    #[serde(flatten)]
    pub status: ComponentStatus,
}
