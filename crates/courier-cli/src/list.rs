//! `courier ls`: every component the registry knows, its instances and their channels.

use crate::{failure::Failure, servers};
use courier::registry::Registration;

pub(crate) async fn run(json: bool) -> Result<(), Failure> {
    let registry = servers::registry()?;
    let catalog = registry.catalog().await?;
    if json {
        let listed: Vec<serde_json::Value> = catalog.iter().map(as_json).collect();
        println!("{}", serde_json::Value::Array(listed));
        return Ok(());
    }
    if catalog.is_empty() {
        println!("{} knows no live instance", registry.describe());
    }
    let mut component = None;
    for registration in &catalog {
        if component != Some(&registration.component) {
            println!("{}", registration.component);
            component = Some(&registration.component);
        }
        let channels: Vec<&str> = registration.channels.iter().map(|channel| channel.name()).collect();
        println!("  {}  {}  {}", registration.instance_id, registration.url, channels.join(" "));
    }
    Ok(())
}

fn as_json(registration: &Registration) -> serde_json::Value {
    serde_json::json!({
        "component": registration.component,
        "instance": registration.instance_id,
        "url": registration.url,
        "channels": registration.channels.iter().map(|channel| channel.name()).collect::<Vec<_>>(),
        "health": registration.health_url,
    })
}
