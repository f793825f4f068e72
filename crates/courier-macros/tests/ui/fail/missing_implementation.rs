use courier::prelude::*;

#[service]
pub trait Greeter {
    async fn hello(&self, name: String) -> Result<String, ServiceError>;
}

#[derive(Default)]
struct Polite;

impl Greeter for Polite {
    async fn hello(&self, name: String) -> Result<String, ServiceError> {
        Ok(format!("Hello, {name}!"))
    }
}

fn main() {}
