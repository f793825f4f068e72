//! The health endpoints: `/health` reports every check of the server; a component that
//! declares a path of its own (`#[component(health = "/orders/health")]`) reports
//! there the checks of its services and the server's own. Registries point their
//! health checks at the component's endpoint.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use courier_core::{ComponentDescriptor, HealthManager};
use http::StatusCode;
use std::collections::BTreeMap;

/// The server's own health endpoint.
pub(crate) const HEALTH_PATH: &str = "/health";

/// Where a component's health is reported.
pub(crate) fn path(component: &ComponentDescriptor) -> &'static str {
    component.health.unwrap_or(HEALTH_PATH)
}

/// `/health`, and one route per path the components declare; components that declare
/// the same path share it.
pub(crate) fn routes(health: &HealthManager, components: &[&'static ComponentDescriptor]) -> Router {
    let mut paths: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for &component in components.iter().filter(|component| path(component) != HEALTH_PATH) {
        paths.entry(path(component)).or_default().extend(component.services.iter().map(|service| service.name));
    }
    let mut router = Router::new().route(HEALTH_PATH, get(report).with_state(health.clone()));
    for (path, services) in paths {
        router = router.route(path, get(report).with_state(health.for_services(&services)));
    }
    router
}

/// The report as JSON: 200 when it is OK or WARNING, 503 when it is ERROR.
async fn report(State(health): State<HealthManager>) -> Response {
    let report = health.report().await;
    let status = StatusCode::from_u16(report.status.http_status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (status, Json(report)).into_response()
}
