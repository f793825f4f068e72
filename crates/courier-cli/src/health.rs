//! `courier health <component>`: each instance's checks, as its health endpoint reports.

use crate::{failure::Failure, servers};
use courier::{
    health::{HealthReport, HealthStatus},
    registry::Registration,
};

pub(crate) async fn run(component: &str, json: bool) -> Result<(), Failure> {
    let registry = servers::registry()?;
    let instances = servers::instances(&*registry, component).await?;
    let path = match instances.iter().all(|instance| instance.health_url.is_some()) {
        true => None,
        false => Some(servers::describe(&instances, component).await?.health),
    };
    let http = servers::http()?;
    let mut well = true;
    let mut reports = Vec::new();
    for instance in &instances {
        let url = health_url(instance, path.as_deref());
        let report = servers::fetch::<HealthReport>(&http, &url).await;
        well &= report.as_ref().is_ok_and(|report| report.status != HealthStatus::Error);
        reports.push((instance, url, report));
    }
    match json {
        true => {
            let shown: Vec<serde_json::Value> = reports
                .iter()
                .map(|(instance, url, report)| match report {
                    Ok(report) => serde_json::json!({ "instance": instance.instance_id, "url": url, "report": report }),
                    Err(error) => serde_json::json!({ "instance": instance.instance_id, "url": url,
                        "error": { "code": error.code, "message": error.message } }),
                })
                .collect();
            println!("{}", serde_json::Value::Array(shown));
        }
        false => reports.iter().for_each(|(instance, url, report)| print(instance, url, report)),
    }
    match well {
        true => Ok(()),
        false => Err(Failure::Unwell),
    }
}

/// Where an instance reports its health: as registered, or at the component's path.
fn health_url(instance: &Registration, path: Option<&str>) -> String {
    match (&instance.health_url, path) {
        (Some(url), _) => url.clone(),
        (None, path) => format!("{}{}", instance.url, path.unwrap_or("/health")),
    }
}

fn print(instance: &Registration, url: &str, report: &Result<HealthReport, courier::ServiceError>) {
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            println!("{}  {url}  UNREACHABLE: {error}", instance.instance_id);
            return;
        }
    };
    println!("{}  {url}  {}", instance.instance_id, report.status);
    for component in &report.components {
        println!("  component {}: {}", component.name, component.status);
    }
    for check in &report.checks {
        let details = if check.details.is_empty() { String::new() } else { format!(": {}", check.details) };
        println!("  check {}: {}{details} ({:.1} ms)", check.name, check.status, check.duration.as_secs_f64() * 1000.0);
    }
}
