use courier::prelude::*;

struct Database;

#[health_checks]
impl Database {
    #[health_check]
    async fn reachable(&self) -> bool {
        true
    }
}

fn main() {}
