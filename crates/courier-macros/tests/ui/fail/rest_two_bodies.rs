use courier::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct User {
    name: String,
}

#[service]
#[rest("/api")]
pub trait Users {
    #[post("/users")]
    async fn create(&self, #[body] user: User, #[body] copy: User) -> Result<(), ServiceError>;
}

fn main() {}
