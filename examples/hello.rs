//! A service, a server and a client in one program, on the in-process registry.

use courier::prelude::*;
use courier_examples::{Greeter, GreeterComponent};

#[tokio::main]
async fn main() -> Result<(), Report> {
    // Serves every #[implementation] linked in; registers with LocalRegistry::shared().
    let mut server = Server::builder().component(GreeterComponent).start().await?;

    // Finds the server through the same registry and calls it over HTTP (dispatch-msgpack).
    let greeter = ServiceManager::default().get::<dyn Greeter>()?;
    println!("{}", greeter.hello("world".into()).await?);

    server.shutdown().await?;
    Ok(())
}
