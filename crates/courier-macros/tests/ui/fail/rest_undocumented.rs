use courier::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Order {
    pub item: String,
}

#[service]
#[rest("/api")]
pub trait Shop {
    #[post("/orders")]
    async fn order(&self, order: Order) -> Result<u64, ServiceError>;
}

fn main() {}
