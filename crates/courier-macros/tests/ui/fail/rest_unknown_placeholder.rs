use courier::prelude::*;

#[service]
#[rest("/api")]
pub trait Users {
    #[get("/users/{id}")]
    async fn get(&self, user: u64) -> Result<String, ServiceError>;
}

fn main() {}
