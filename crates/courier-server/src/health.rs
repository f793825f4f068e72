//! The health endpoints: `/health` reports every check and component of the server; a
//! component that declares a path of its own (`#[component(health = "/orders/health")]`)
//! reports there the checks of its services, the server's own, and the status of the
//! components sharing the path. Registries point their health checks at the component's
//! endpoint.

use crate::lifecycle::Lifecycle;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use courier_core::{ComponentDescriptor, HealthManager, HealthReport};
use http::StatusCode;
use std::{collections::BTreeMap, sync::Arc};

/// The server's own health endpoint.
pub(crate) const HEALTH_PATH: &str = "/health";

/// Where a component's health is reported.
pub(crate) fn path(component: &ComponentDescriptor) -> &'static str {
    component.health.unwrap_or(HEALTH_PATH)
}

/// What one health endpoint reports on: its checks, and the components it covers (all,
/// when `components` is `None`).
#[derive(Debug, Clone)]
pub(crate) struct Health {
    checks: HealthManager,
    lifecycle: Lifecycle,
    components: Option<Arc<[&'static str]>>,
}

impl Health {
    /// The server's whole health: every check and every component.
    pub(crate) fn new(checks: HealthManager, lifecycle: Lifecycle) -> Self {
        Self { checks, lifecycle, components: None }
    }

    /// Where the server's components are.
    pub(crate) fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Runs the checks whose cached result has expired, and reports with the statuses
    /// of the components covered.
    pub(crate) async fn report(&self) -> HealthReport {
        let covered = |name: &str| self.components.as_ref().is_none_or(|components| components.contains(&name));
        self.checks.report().await.with_components(self.lifecycle.report(covered))
    }

    /// The health of these components alone: the checks of their services and the
    /// server's own, and their statuses.
    fn of(&self, components: &[&'static ComponentDescriptor]) -> Self {
        let services: Vec<_> =
            components.iter().flat_map(|component| component.services.iter()).map(|s| s.name).collect();
        Self {
            checks: self.checks.for_services(&services),
            lifecycle: self.lifecycle.clone(),
            components: Some(components.iter().map(|component| component.name).collect()),
        }
    }
}

/// `/health`, and one route per path the components declare; components that declare
/// the same path share it.
pub(crate) fn routes(health: &Health, components: &[&'static ComponentDescriptor]) -> Router {
    let mut paths: BTreeMap<&'static str, Vec<&'static ComponentDescriptor>> = BTreeMap::new();
    for &component in components.iter().filter(|component| path(component) != HEALTH_PATH) {
        paths.entry(path(component)).or_default().push(component);
    }
    let mut router = Router::new().route(HEALTH_PATH, get(report).with_state(health.clone()));
    for (path, components) in paths {
        router = router.route(path, get(report).with_state(health.of(&components)));
    }
    router
}

/// The report as JSON: 200 when it is OK or WARNING, 503 when it is ERROR.
async fn report(State(health): State<Health>) -> Response {
    let report = health.report().await;
    let status = StatusCode::from_u16(report.status.http_status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (status, Json(report)).into_response()
}
