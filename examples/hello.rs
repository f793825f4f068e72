//! A first service: declared, implemented, served and called, in one program on the
//! in-process registry. The README shows this file.

use courier::prelude::*;

/// Greets people.
#[service]
pub trait Welcome {
    async fn hello(&self, name: String) -> Result<String, ServiceError>;
}

/// What a server runs and a registry lists: here, one service.
#[component(services = [Welcome])]
struct WelcomeComponent;

#[derive(Default)]
struct Polite;

#[implementation]
impl Welcome for Polite {
    async fn hello(&self, name: String) -> Result<String, ServiceError> {
        Ok(format!("Hello, {name}!"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Report> {
    // Serves the component; its services' #[implementation]s are found at link time.
    let mut server = Server::builder().component(WelcomeComponent).start().await?;

    // Finds the server in the registry (this process's own here) and calls it over HTTP.
    let welcome = ServiceManager::default().get::<dyn Welcome>()?;
    println!("{}", welcome.hello("world".into()).await?);

    server.shutdown().await?;
    Ok(())
}
