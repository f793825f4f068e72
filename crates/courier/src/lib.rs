//! courier: microservices in Rust.
//!
//! Declare a service as a trait, implement it, run it in a [`Server`], and call it —
//! in-process or from any other process — through a proxy from a [`ServiceManager`]
//! that picks a live instance per call.
//!
//! ```
//! use courier::prelude::*;
//!
//! /// Greets people.
//! #[service]
//! pub trait Greeter {
//!     async fn hello(&self, name: String) -> Result<String, ServiceError>;
//! }
//!
//! #[component(services = [Greeter])]
//! pub struct GreeterComponent;
//!
//! #[derive(Default)]
//! struct Polite;
//!
//! #[implementation]
//! impl Greeter for Polite {
//!     async fn hello(&self, name: String) -> Result<String, ServiceError> {
//!         Ok(format!("Hello, {name}!"))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = LocalRegistry::new();
//! let mut server = Server::builder().registry(registry.clone()).component(GreeterComponent).start().await?;
//!
//! let greeter = ServiceManager::new(registry).get::<dyn Greeter>()?;
//! assert_eq!(greeter.hello("world".into()).await?, "Hello, world!");
//! server.shutdown().await?;
//! # Ok(())
//! # }
//! ```

pub use courier_client::{
    DispatchChannel, HttpClient, HttpClientBuilder, ProxyBuilder, ServiceManager, ServiceManagerBuilder,
};
pub use courier_core::{
    BoxFuture, Call, Channel, ChannelKind, Codec, Component, ComponentDescriptor, ComponentRegistry, ComponentStatus,
    ErrorCode, First, Format, Instance, Instances, JsonCodec, LocalRegistry, MethodDescriptor, MsgPackCodec, Outcome,
    Registration, Reply, RoundRobin, Selection, Service, ServiceDescriptor, ServiceError, UrlSelector,
};
pub use courier_server::{Server, ServerBuilder, ServerError};

#[cfg(feature = "consul")]
pub use courier_consul::{ConsulRegistry, ConsulRegistryBuilder};

/// Turns a trait into a courier service.
///
/// Every method is an `async fn` taking `&self` and any number of serializable
/// arguments, and returns `Result<T, E>`, where `E` is [`ServiceError`] or an error of
/// your own that is serializable and converts from it (so domain errors cross the wire
/// intact, and transport faults still reach the caller).
///
/// Options: `name = "..."` (default: the trait name in snake_case) and
/// `description = "..."` (default: the trait's doc comment).
///
/// It generates the trait itself (object-safe, so local implementations and remote
/// proxies are both `Arc<dyn YourTrait>`), a [`ServiceDescriptor`], a proxy and a
/// dispatcher. See the [crate example](crate).
pub use courier_macros::service;

/// Declares a component: a named bundle of services, deployed and registered together.
///
/// `#[component(name = "greeter", services = [Greeter, Admin], channels = ["dispatch-msgpack"],
/// startup = Self::open, shutdown = Self::close)]` on a struct. Every option but
/// `services` is optional: the name defaults to the struct name in kebab-case, the
/// channels to every remote channel, and the hooks (`async fn(&self) -> Result<(),
/// ServiceError>`) to nothing. A unit struct can be found by [`ServerBuilder::discover`].
pub use courier_macros::component;

/// Marks `impl YourService for YourType`: makes it object-safe, and registers it so a
/// server finds it at link time, building it with `Default`.
///
/// Write `#[implementation(manual)]` for an implementation that needs state; hand an
/// instance to [`ServerBuilder::service`] instead.
pub use courier_macros::implementation;

/// Everything a service, a server or a client usually needs.
pub mod prelude {
    pub use crate::{
        component, implementation, service, ChannelKind, ComponentRegistry, LocalRegistry, Selection, Server,
        ServiceError, ServiceManager,
    };
    pub use serde::{Deserialize, Serialize};
    pub use std::sync::Arc;
}

#[doc(hidden)]
pub use courier_core::__private;
