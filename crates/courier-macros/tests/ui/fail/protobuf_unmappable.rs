use courier::prelude::*;
use std::collections::HashMap;

#[service(protobuf)]
pub trait Registry {
    async fn lookup(&self, names: HashMap<String, String>) -> Result<Vec<Vec<u8>>, ServiceError>;
}

fn main() {}
