use courier::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Filter {
    name: String,
}

#[service]
#[rest("/api")]
pub trait Users {
    #[get("/users")]
    async fn find(&self, #[body] filter: Filter) -> Result<Vec<String>, ServiceError>;

    #[delete("/users")]
    async fn purge(&self, filter: Filter) -> Result<(), ServiceError>;
}

fn main() {}
