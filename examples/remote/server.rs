//! Serves the greeter component until Ctrl-C or SIGTERM.
//!
//! `COURIER_BIND` sets the address (default `127.0.0.1:0`); the URL it serves on is
//! printed as `listening on <url>` once it takes calls.

use courier::prelude::*;
// Links the crate that declares the services and their implementations, so that
// `discover()` finds them.
use courier_examples as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let bind = std::env::var("COURIER_BIND").unwrap_or_else(|_| "127.0.0.1:0".into());
    let server = Server::builder().bind(bind).discover().start().await?;
    println!("listening on {}", server.url());
    server.run_until_stopped().await?;
    Ok(())
}
