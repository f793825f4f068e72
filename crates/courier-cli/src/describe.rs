//! `courier describe <component>`: its services, methods and argument types.

use crate::{failure::Failure, servers};

pub(crate) async fn run(component: &str, json: bool) -> Result<(), Failure> {
    let registry = servers::registry()?;
    let instances = servers::instances(&*registry, component).await?;
    let described = servers::describe(&instances, component).await?;
    if json {
        println!("{}", serde_json::to_value(&described).map_err(|error| Failure::Usage(error.to_string()))?);
        return Ok(());
    }
    println!("{}  channels: {}  health: {}", described.name, described.channels.join(", "), described.health);
    for service in &described.services {
        println!();
        match service.description.is_empty() {
            true => println!("service {}", service.name),
            false => println!("service {} — {}", service.name, service.description),
        }
        for method in &service.methods {
            let mut traits = Vec::new();
            method.idempotent.then(|| traits.push("idempotent".to_owned()));
            method.queued.then(|| traits.push("queued".to_owned()));
            if let Some(roles) = &method.roles {
                traits.push(match roles.is_empty() {
                    true => "authenticated".to_owned(),
                    false => format!("roles: {}", roles.join(", ")),
                });
            }
            traits.extend(method.route.clone());
            println!("  {}", method.signature());
            if !traits.is_empty() {
                println!("      [{}]", traits.join("; "));
            }
            if !method.description.is_empty() {
                println!("      {}", method.description);
            }
        }
    }
    Ok(())
}
