//! Finding a component's instances in the registry, and asking them about themselves.

use crate::failure::Failure;
use courier::{
    registry::{ComponentRegistry, Registration, CONSUL_ADDRESS_VARIABLE, PEERS_VARIABLE},
    service::description::{ComponentDescription, Description, DESCRIBE_PATH},
    ServiceError,
};
use std::{sync::Arc, time::Duration};

/// How long one request to an instance may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The registry the environment names; a command needs one that knows other processes.
pub(crate) fn registry() -> Result<Arc<dyn ComponentRegistry>, Failure> {
    if std::env::var_os(PEERS_VARIABLE).is_none() && std::env::var_os(CONSUL_ADDRESS_VARIABLE).is_none() {
        return Err(Failure::Usage(format!(
            "no registry to look in: set {CONSUL_ADDRESS_VARIABLE} to a Consul agent, or {PEERS_VARIABLE} to \
             `component=http://host:port` entries"
        )));
    }
    Ok(courier::registry::registry_from_env()?)
}

/// The live instances of `component`, or a failure that says none are known.
pub(crate) async fn instances(registry: &dyn ComponentRegistry, component: &str) -> Result<Vec<Registration>, Failure> {
    let catalog = registry.catalog().await?;
    let instances: Vec<Registration> =
        catalog.iter().filter(|registration| registration.component == component).cloned().collect();
    if instances.is_empty() {
        let mut known: Vec<&str> = catalog.iter().map(|registration| registration.component.as_str()).collect();
        known.dedup();
        return Err(Failure::Usage(format!(
            "{} knows no live instance of `{component}`; it knows: {}",
            registry.describe(),
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        )));
    }
    Ok(instances)
}

/// An HTTP client for asking instances, with a bound on each request.
pub(crate) fn http() -> Result<reqwest::Client, Failure> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|error| Failure::Usage(format!("cannot build an HTTP client: {error}")))
}

/// How `component` describes itself, asking its instances in turn until one answers.
pub(crate) async fn describe(instances: &[Registration], component: &str) -> Result<ComponentDescription, Failure> {
    let http = http()?;
    let mut last = None;
    for instance in instances {
        let url = format!("{}{DESCRIBE_PATH}", instance.url);
        match fetch::<Description>(&http, &url).await {
            Ok(description) => {
                return description.components.into_iter().find(|described| described.name == component).ok_or_else(
                    || Failure::Usage(format!("the instance at {} does not run `{component}`", instance.url)),
                )
            }
            Err(error) => last = Some(error),
        }
    }
    Err(last.map_or_else(|| Failure::Usage(format!("no instance of `{component}`")), Failure::Fault))
}

/// `GET url` as JSON, whatever its status (health reports come with 503).
pub(crate) async fn fetch<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, ServiceError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|error| ServiceError::unavailable(format!("cannot reach {url}: {error}")))?;
    let status = response.status();
    response.json().await.map_err(|error| {
        ServiceError::unavailable(format!("{url} answered {status}, not with what courier serves: {error}"))
    })
}
