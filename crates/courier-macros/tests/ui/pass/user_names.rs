//! A user's own types may have the names of what courier generates.
use courier::prelude::*;

/// Shares its name with the struct a `hello` method's arguments once travelled in.
#[derive(Serialize, Deserialize)]
pub struct HelloArguments {
    pub name: String,
}

/// Shares its name with the generated server side.
#[derive(Serialize, Deserialize)]
pub struct Dispatcher;

/// Shares its name with the generated client side.
#[service]
pub trait Proxy {
    async fn hello(&self, arguments: HelloArguments) -> Result<String, ServiceError>;
    async fn route(&self, to: Dispatcher) -> Result<(), ServiceError>;
}

#[component(services = [Proxy])]
pub struct ProxyComponent;

#[derive(Default)]
pub struct Guarded;

#[implementation]
impl Proxy for Guarded {
    async fn hello(&self, arguments: HelloArguments) -> Result<String, ServiceError> {
        Ok(arguments.name)
    }

    async fn route(&self, to: Dispatcher) -> Result<(), ServiceError> {
        let Dispatcher = to;
        Ok(())
    }
}

fn main() {
    let descriptor = <dyn Proxy as courier::service::Service>::DESCRIPTOR;
    assert_eq!(descriptor.name, "proxy");
    assert_eq!(descriptor.methods[0].argument_types, ["HelloArguments"]);
}
