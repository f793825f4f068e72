//! A relay, for traces that cross two servers: `Relay.forward(name)` greets through the
//! greeter component wherever the registry finds it.
//!
//! `relay-server` serves the relay component (and the greeter too, with
//! `COURIER_SERVE_GREETER` set) until Ctrl-C or SIGTERM, printing `listening on <url>`;
//! `relay-server call <name>` calls the relay, prints its answer and exits. Every run
//! exports its spans over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

use courier::{otel::Otel, prelude::*};
use courier_samples::{Greeter, GreeterComponent};
use std::sync::OnceLock;
use tracing_subscriber::prelude::*;

/// Greets through another service.
#[service]
pub trait Relay {
    /// The greeter's greeting for `name`.
    async fn forward(&self, name: String) -> Result<String, ServiceError>;
}

#[component(services = [Relay])]
struct RelayComponent;

#[derive(Default)]
struct Forwarder {
    greeter: OnceLock<Arc<dyn Greeter>>,
}

#[implementation]
impl Relay for Forwarder {
    async fn forward(&self, name: String) -> Result<String, ServiceError> {
        let greeter = match self.greeter.get() {
            Some(greeter) => greeter,
            None => {
                let proxy = ServiceManager::default().get::<dyn Greeter>()?;
                self.greeter.get_or_init(|| proxy)
            }
        };
        greeter.hello(name).await
    }
}

#[tokio::main]
async fn main() -> Result<(), Report> {
    let otel = Otel::from_env()?;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(tracing_subscriber::EnvFilter::from_default_env()))
        .with(otel.as_ref().map(Otel::layer))
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let ["call", name] = &args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        println!("{}", ServiceManager::default().get::<dyn Relay>()?.forward((*name).to_owned()).await?);
        return Ok(());
    }
    let mut builder = Server::builder().component(RelayComponent);
    if std::env::var_os("COURIER_SERVE_GREETER").is_some() {
        builder = builder.component(GreeterComponent);
    }
    let server = builder.start().await?;
    println!("listening on {}", server.url());
    server.run_until_stopped().await?;
    Ok(())
}
