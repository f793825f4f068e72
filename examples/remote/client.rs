//! Calls the greeter servers Consul knows (with `CONSUL_HTTP_ADDR` set), or those listed
//! in `COURIER_PEERS`, for example `COURIER_PEERS=greeter-component=http://127.0.0.1:7001`,
//! spreading calls round-robin.
//!
//! Arguments: the number of calls (default 4). Prints each reply and which instance
//! answered.

use courier::prelude::*;
use courier_examples::Greeter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let calls: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(4);
    let greeter = ServiceManager::new(courier_examples::registry_from_env()?).get::<dyn Greeter>()?;
    for i in 0..calls {
        let reply = greeter.hello(format!("caller {i}")).await?;
        let instance = greeter.whoami().await?;
        println!("{reply} (from {instance})");
    }
    Ok(())
}
