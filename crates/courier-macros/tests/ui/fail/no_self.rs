use courier::prelude::*;

#[service]
pub trait Greeter {
    async fn hello(name: String) -> Result<String, ServiceError>;
    async fn bye(&mut self) -> Result<String, ServiceError>;
}

fn main() {}
