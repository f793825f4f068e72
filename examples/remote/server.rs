//! Serves the greeter component until Ctrl-C or SIGTERM: the template of a server binary.
//!
//! `COURIER_BIND` sets the address (default `127.0.0.1:0`); the URL it serves on is
//! printed as `listening on <url>` once it takes calls. It registers where every courier
//! program does, in the registry the environment names: with Consul when
//! `CONSUL_HTTP_ADDR` is set; otherwise in-process, where only clients told its URL (in
//! their `COURIER_PEERS`) find it. With `COURIER_JWT_SECRET` set it also runs the ledger
//! component, for callers with an HS256 token signed with that secret. With
//! `COURIER_TLS_CERT` and `COURIER_TLS_KEY` set (PEM files) it serves over TLS, and
//! picks up renewed files within 30 s.

use courier::{auth::JwtAuthenticator, prelude::*, server::ServerBuilder, tls::TlsConfig};
use courier_samples::{Auditor, Ledger, LedgerComponent};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Report> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let bind = std::env::var("COURIER_BIND").unwrap_or_else(|_| "127.0.0.1:0".into());
    // Every component linked into the binary, registered with the registry the environment names.
    let builder = Server::builder().bind(bind).discover();
    let server = with_options_from_env(builder)?.start().await?;
    println!("listening on {}", server.url());
    server.run_until_stopped().await?;
    Ok(())
}

/// The authentication and TLS the tests turn on through the environment.
fn with_options_from_env(mut builder: ServerBuilder) -> Result<ServerBuilder, Report> {
    if let Ok(secret) = std::env::var("COURIER_JWT_SECRET") {
        builder = builder
            .authenticator(JwtAuthenticator::hs256(secret.as_bytes()))
            .component(LedgerComponent)
            .service::<dyn Ledger>(Arc::new(Auditor));
    }
    if let (Ok(cert), Ok(key)) = (std::env::var("COURIER_TLS_CERT"), std::env::var("COURIER_TLS_KEY")) {
        builder = builder.tls(TlsConfig::from_pem_files(cert, key)?.watch(Duration::from_secs(30)));
    }
    Ok(builder)
}
