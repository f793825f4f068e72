//! `greeter-client` for sync code: a plain `fn main`, no async runtime of its own. It
//! greets once, then asks which instance answers each of N calls (default 4).
//!
//! It finds servers as every courier program does: `COURIER_PEERS`, or else Consul at
//! `CONSUL_HTTP_ADDR`.

use courier::prelude::*;
use courier_samples::Greeter;

fn main() -> Result<(), Report> {
    let calls: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(4);
    let greeter = ServiceManager::default().blocking::<dyn Greeter>()?;
    println!("{}", greeter.call(|greeter| greeter.hello("caller".into()))?);
    for i in 0..calls {
        println!("call {i}: answered by {}", greeter.call(|greeter| greeter.whoami())?);
    }
    Ok(())
}
