//! Calls the greeter servers listed in `COURIER_PEERS`, for example
//! `COURIER_PEERS=greeter-component=http://127.0.0.1:7001`, spreading calls round-robin.
//!
//! Arguments: the number of calls (default 4). Prints each reply and which instance
//! answered.

use courier::prelude::*;
use courier_examples::Greeter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(4);
    let greeter = ServiceManager::new(LocalRegistry::from_env()?).get::<dyn Greeter>()?;
    for i in 0..calls {
        let reply = greeter.hello(format!("caller {i}")).await?;
        let instance = greeter.whoami().await?;
        println!("{reply} (from {instance})");
    }
    Ok(())
}
