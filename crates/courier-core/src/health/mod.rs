//! Health checks: named checks with a cache time and a bound on how long they may take,
//! run together by a [`HealthManager`] into one [`HealthReport`].
//!
//! A check receives a [`CheckResult`] whose status starts at OK and sets it to WARNING or
//! ERROR, with details, when something is wrong. The worst check decides the report's
//! status; a server answers it as JSON, with 200 for OK and WARNING and 503 for ERROR, so
//! an HTTP health checker (Consul's, a load balancer's) reads the status alone.

mod check;
mod manager;
mod report;
mod result;
mod status;

pub use check::{CheckOptions, HealthCheck, HealthChecks};
pub use manager::HealthManager;
pub use report::{CheckReport, HealthReport};
pub use result::{CheckOutcome, CheckResult};
pub use status::HealthStatus;
