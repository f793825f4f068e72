use courier::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct MyError;

#[service]
pub trait Greeter {
    async fn hello(&self, name: String) -> Result<String, MyError>;
}

fn main() {}
