use courier::prelude::*;

pub struct Opaque;

#[service]
pub trait Greeter {
    async fn hello(&self, who: Opaque) -> Result<String, ServiceError>;
}

fn main() {}
