use courier::prelude::*;

#[service]
pub trait Greeter {
    async fn hello(&self, name: String) -> Result<String, ServiceError>;
}

#[component(services = [Greeter], health = "health")]
pub struct NoSlash;

#[component(services = [Greeter], health = "/metrics")]
pub struct Taken;

fn main() {}
