use courier::prelude::*;

#[derive(Serialize)]
pub struct OneWay {
    pub note: String,
}

#[service]
pub trait Greeter {
    async fn hello(&self, who: OneWay) -> Result<String, ServiceError>;
}

fn main() {}
