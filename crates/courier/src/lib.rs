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

pub use courier_client::{DispatchChannel, ProxyBuilder, ServiceManager, ServiceManagerBuilder};
pub use courier_core::{
    auth::{Access, Authenticator, Principal},
    BoxFuture, Call, CallContext, Channel, ChannelKind, Codec, Component, ComponentDescriptor, ComponentRegistry,
    ComponentStatus, ErrorCode, First, Format, Instance, Instances, JsonCodec, LeastLoaded, LocalRegistry,
    MethodDescriptor, MsgPackCodec, Outcome, Registration, Reply, RoundRobin, Selection, Service, ServiceDescriptor,
    ServiceError, UrlSelector,
};
pub use courier_server::{Server, ServerBuilder, ServerError};

#[cfg(feature = "consul")]
pub use courier_consul::{ConsulRegistry, ConsulRegistryBuilder};

#[cfg(feature = "auth")]
pub use courier_auth::{hash_password, BasicAuthenticator, JwtAuthenticator};

/// Turns a trait into a courier service.
///
/// Every method is an `async fn` taking `&self` and any number of serializable
/// arguments, and returns `Result<T, E>`, where `E` is [`ServiceError`] or an error of
/// your own that is serializable and converts from it (so domain errors cross the wire
/// intact, and transport faults still reach the caller).
///
/// Options: `name = "..."` (default: the trait name in snake_case),
/// `description = "..."` (default: the trait's doc comment), and `protobuf`, which also
/// serves the service on the `dispatch-protobuf` channel — every argument and result type
/// must then map to protobuf (see [`ProtoMessage`]) — and gives it a `.proto` schema:
/// `<dyn YourTrait as Service>::DESCRIPTOR.protobuf`.
///
/// REST routes: put `#[rest("/prefix")]` below `#[service]`, and `#[get("/path/{arg}")]`,
/// `#[post(...)]`, `#[put(...)]`, `#[patch(...)]` or `#[delete(...)]` on methods. Arguments
/// named in the path template travel in the path; mark others `#[body]` or `#[query]`, or
/// let courier place them: the first structured argument is the JSON body (on routes that
/// take one), the rest are query parameters. A success answers 200 with the JSON result,
/// or 204 when the method returns `()`. A route with a `{name}` no argument has, two
/// bodies, or a body on GET or DELETE is a compile error.
///
/// ```
/// use courier::prelude::*;
///
/// #[derive(Serialize, Deserialize)]
/// pub struct User { pub name: String }
///
/// #[service]
/// #[rest("/api")]
/// pub trait Users {
///     #[get("/users/{id}")]
///     async fn get(&self, id: u64) -> Result<User, ServiceError>;
///
///     #[post("/users")]
///     async fn create(&self, user: User, #[query] notify: bool) -> Result<u64, ServiceError>;
/// }
/// ```
///
/// Access: `#[authorize(roles = ["admin"])]` on the trait or a method demands an
/// authenticated caller holding one of the roles (`#[authorize]` alone: any authenticated
/// caller); `#[public]` exempts a method from the trait's rule. Callers without a valid
/// credential get 401 with `WWW-Authenticate`, callers without the role 403 — on every
/// channel; in-process, the caller's principal is the one in the [`CallContext`].
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

/// Makes a struct a protobuf message, so services declared with
/// `#[service(protobuf)]` can carry it on the `dispatch-protobuf` channel.
///
/// Fields are numbered from 1 in declaration order; the struct must also implement
/// `Default` (decoding starts from it). How Rust types map is in
/// [`protobuf`](courier_core::protobuf); a field type that does not map is a compile
/// error that names it.
///
/// ```
/// use courier::prelude::*;
///
/// #[derive(Debug, Default, PartialEq, Serialize, Deserialize, ProtoMessage)]
/// pub struct Node {
///     pub name: String,
///     pub children: Vec<Node>,
///     pub parent: Option<Box<Node>>,
/// }
/// ```
pub use courier_macros::ProtoMessage;

pub use courier_core::protobuf;

/// Everything a service, a server or a client usually needs.
pub mod prelude {
    pub use crate::{
        component, implementation, service, CallContext, ChannelKind, ComponentRegistry, LocalRegistry, ProtoMessage,
        Selection, Server, ServiceError, ServiceManager,
    };
    pub use serde::{Deserialize, Serialize};
    pub use std::sync::Arc;
}

#[doc(hidden)]
pub use courier_core::__private;
