//! Greets once, then asks the greeter which instance answers each of N calls (default 4),
//! one call per line: with several instances, consecutive lines name different ones, as
//! calls spread round-robin.
//!
//! It finds servers where every courier program does, in the registry the environment
//! names: the instances listed in `COURIER_PEERS` (for example
//! `COURIER_PEERS=greeter-component=http://127.0.0.1:7001`), or else those the Consul
//! agent at `CONSUL_HTTP_ADDR` knows.

use courier::prelude::*;
use courier_samples::Greeter;

#[tokio::main]
async fn main() -> Result<(), Report> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let calls: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(4);
    let greeter = ServiceManager::default().get::<dyn Greeter>()?;
    println!("{}", greeter.hello("caller".into()).await?);
    for i in 0..calls {
        println!("call {i}: answered by {}", greeter.whoami().await?);
    }
    Ok(())
}
