use courier::prelude::*;

#[service]
pub trait Greeter {
    fn hello(&self, name: String) -> Result<String, ServiceError>;
}

fn main() {}
