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

#![warn(missing_docs)]

pub use courier_client::ServiceManager;
pub use courier_core::{CallContext, ChannelKind, ErrorCode, Report, ServiceError};
pub use courier_server::Server;

/// Calling services: the [`ServiceManager`] that makes proxies,
/// the HTTP client under them, how a proxy picks an instance, and the layers and
/// interceptors around each call.
pub mod client {
    pub use courier_client::{
        BearerToken, BlockingProxy, CallService, ClientCall, ClientLayer, HttpChannel, HttpClient, HttpClientBuilder,
        Interceptor, ProxyBuilder, ServiceManager, ServiceManagerBuilder, Token, DEFAULT_CONNECT_TIMEOUT,
        DEFAULT_TIMEOUT,
    };
    pub use courier_core::{Selection, UrlSelector};
}

/// Serving components: the [`Server`], its builder, its errors and the
/// tower layers it takes.
pub mod server {
    pub use courier_server::{Server, ServerBuilder, ServerError, ServerLayer};
}

/// Where components are found: the registry trait, the in-process registry, and Consul
/// (feature `consul`).
pub mod registry {
    pub use courier_client::registry_from_env;
    #[cfg(feature = "consul")]
    pub use courier_consul::{ConsulRegistry, ConsulRegistryBuilder, ADDRESS_VARIABLE as CONSUL_ADDRESS_VARIABLE};
    pub use courier_core::{ComponentRegistry, Instance, Instances, LocalRegistry, Registration, PEERS_VARIABLE};
}

/// Health: checks, their results, and the reports `GET /health` answers.
pub mod health {
    pub use courier_core::{
        CheckOptions, CheckReport, CheckResult, ComponentReport, ComponentStatus, HealthCheck, HealthChecks,
        HealthReport, HealthStatus,
    };
}

/// Who calls: credentials, principals, the access rules of `#[authorize]`, and the
/// authenticators a server checks callers with (JWT, Basic and client certificates with
/// the `auth` feature).
pub mod auth {
    #[cfg(feature = "auth")]
    pub use courier_auth::{hash_password, BasicAuthenticator, CertificateAuthenticator, JwtAuthenticator};
    pub use courier_core::auth::{Access, Authenticator, ClientCertificate, Credentials, Principal};
}

/// What a call is made of on its way through a channel: the channel itself, the call
/// and its reply, and the trace context that travels with it.
pub mod channel {
    pub use courier_core::{Arguments, Call, Channel, ChannelKind, Outcome, Reply, TraceContext};
}

/// The codecs of the dispatch channels.
pub mod codec {
    pub use courier_core::{Codec, Format, JsonCodec, MsgPackCodec};
}

/// What `#[service]` and `#[component]` generate, and what a server describes of them.
pub mod service {
    pub use courier_core::{
        description, BoxFuture, Component, ComponentDescriptor, MethodDescriptor, Service, ServiceDescriptor,
    };
}

#[cfg(feature = "otel")]
pub use courier_core::otel;

/// The wire protocol, for callers in other languages and for anyone reading a capture:
/// paths, headers, faults and their statuses, and the frames of multiplexed connections.
pub use courier_core::wire;

/// TLS for servers and clients: [`TlsConfig`](tls::TlsConfig) for a server's listener
/// (with client certificates for mutual TLS, and renewal without a restart),
/// [`Certificate`](tls::Certificate) and [`Identity`](tls::Identity) for
/// [`HttpClientBuilder`](client::HttpClientBuilder). See the README's "TLS" section.
pub mod tls {
    pub use courier_client::{Certificate, Identity};
    pub use courier_core::tls::TlsError;
    pub use courier_server::TlsConfig;
}

/// Turns a trait into a courier service.
///
/// Every method is an `async fn` taking `&self` and any number of serializable
/// arguments, and returns `Result<T, E>`, where `E` is [`ServiceError`] or an error of
/// your own that is serializable and converts from it (so domain errors cross the wire
/// intact, and transport faults still reach the caller).
///
/// Options: `name = "..."` (default: the trait name in snake_case),
/// `description = "..."` (default: the trait's doc comment), and `protobuf`, which also
/// serves the service on the `dispatch-protobuf` and `grpc` channels — every argument and
/// result type must then map to protobuf (see [`ProtoMessage`]) — and gives it a `.proto`
/// schema with its gRPC service: `<dyn YourTrait as Service>::DESCRIPTOR.protobuf`.
/// `crate = "courier_core"` (on `#[service]`, `#[component]`, `#[implementation]` and
/// `#[health_checks]` alike, as serde's `#[serde(crate = "...")]`) points the generated
/// code at courier's parts through a path other than `::courier`: for crates below
/// the facade, or a facade renamed in `Cargo.toml`.
///
/// REST routes: put `#[rest("/prefix")]` below `#[service]`, and `#[get("/path/{arg}")]`,
/// `#[post(...)]`, `#[put(...)]`, `#[patch(...)]` or `#[delete(...)]` on methods. Arguments
/// named in the path template travel in the path; mark others `#[body]` or `#[query]`, or
/// let courier place them: the first structured argument is the JSON body (on routes that
/// take one), the rest are query parameters. A success answers 200 with the JSON result,
/// or 204 when the method returns `()`. A route with a `{name}` no argument has, two
/// bodies, or a body on GET or DELETE is a compile error.
///
/// Every type a route carries derives [`JsonSchema`] too, for the OpenAPI document.
///
/// ```
/// use courier::prelude::*;
///
/// #[derive(Serialize, Deserialize, JsonSchema)]
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
/// Queued methods: `#[queued]` on a method makes each call a job that a worker of the
/// component pulls when it has a free slot (see [`jobs`]). Proxies gain
/// `submit_<method>(args) -> Job<T, E>`, which returns at once, and
/// `attach_<method>(token) -> Job<T, E>`, which finds a job again; the plain method
/// submits and waits. Over HTTP such a call answers `202 Accepted` with
/// `Location: /jobs/<id>`.
///
/// ```
/// use courier::prelude::*;
///
/// #[service]
/// pub trait Transcoder {
///     /// Minutes of work: the caller gets a job, not a held connection.
///     #[queued]
///     async fn transcode(&self, url: String) -> Result<String, ServiceError>;
/// }
/// ```
///
/// It generates the trait itself (object-safe, so local implementations and remote
/// proxies are both `Arc<dyn YourTrait>`), a [`ServiceDescriptor`](service::ServiceDescriptor), a proxy and a
/// dispatcher. See the [crate example](crate).
pub use courier_macros::service;

/// Declares a component: a named bundle of services, deployed and registered together.
///
/// `#[component(name = "greeter", services = [Greeter, Admin], channels = ["dispatch-msgpack"],
/// startup = Self::open, shutdown = Self::close, health = "/greeter/health")]` on a struct.
/// `workers = N` runs at most N of the component's queued jobs at once per server
/// (default 1), and `ready = Self::has_capacity` (an `async fn(&self) -> bool`) is asked
/// before each worker pulls a job, so a worker takes work only when it has room for it.
/// Every option but `services` is optional: the name defaults to the struct name in
/// kebab-case, the channels to every remote channel, and the hooks (`async fn(&self) ->
/// Result<(), ServiceError>`) to nothing. A unit struct can be found by
/// [`ServerBuilder::discover`](server::ServerBuilder::discover).
///
/// The startup hooks run in order before anything is registered; one that fails fails
/// [`ServerBuilder::start`](server::ServerBuilder::start) with its error, and nothing is registered. Shutdown
/// deregisters, drains in-flight calls, then runs the shutdown hooks in reverse order.
///
/// `health` gives the component a health endpoint of its own, which reports the checks
/// of its services' implementations and the server's own checks, and which the
/// registry's health check (Consul's) asks. Without it, the component's health is the
/// server's `/health`, which reports every check. See [`health_checks`].
pub use courier_macros::component;

/// Marks `impl YourService for YourType`: makes it object-safe, and registers it so a
/// server finds it at link time, building it with `Default`.
///
/// Write `#[implementation(manual)]` for an implementation that needs state; hand an
/// instance to [`ServerBuilder::service`](server::ServerBuilder::service) instead.
pub use courier_macros::implementation;

/// Makes the `#[health_check]` methods of an `impl` block the type's health checks.
///
/// A server runs the checks of every implementation it serves (and those given to
/// [`ServerBuilder::health_checks`](server::ServerBuilder::health_checks)) on each probe of a health endpoint, all at once,
/// and answers with a [`HealthReport`](health::HealthReport) as JSON: 200 when the worst check is OK or
/// WARNING, 503 when it is ERROR, so an instance whose check fails leaves Consul's
/// passing set, and proxies stop calling it.
///
/// A check is an `async fn` taking `&self` and, optionally, a `&mut` [`CheckResult`](health::CheckResult),
/// which starts at OK; it returns `()` or `Result<(), E>` with `E: Display`, where an
/// `Err` makes the check an ERROR with the error as its details.
///
/// `#[health_check]` options, all optional:
/// - `name = "..."`: the name in the report; default: the method's name.
/// - `cache = "10s"`: reuse the last result for that long, so however often the
///   endpoint is probed the check runs at most once per period; default: no cache.
/// - `fail_if_slower_than = "1s"`: a check still running after that long is cut off and
///   reports ERROR with the time it took; without it, checks are cut off after
///   5 s all the same, so a hanging check cannot hang the endpoint.
///
/// Durations are a number and a unit: `ms`, `s`, `m` or `h` (`"500ms"`, `"1.5s"`).
///
/// ```
/// use courier::prelude::*;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// #[service]
/// pub trait Orders {
///     async fn count(&self) -> Result<u64, ServiceError>;
/// }
///
/// #[component(services = [Orders], health = "/orders/health")]
/// pub struct OrdersComponent;
///
/// #[derive(Default)]
/// struct Book {
///     backlog: AtomicU64,
/// }
///
/// #[implementation]
/// impl Orders for Book {
///     async fn count(&self) -> Result<u64, ServiceError> {
///         Ok(self.backlog.load(Ordering::Relaxed))
///     }
/// }
///
/// #[health_checks]
/// impl Book {
///     #[health_check(cache = "10s", fail_if_slower_than = "1s")]
///     async fn backlog(&self, result: &mut CheckResult) {
///         match self.backlog.load(Ordering::Relaxed) {
///             0..1000 => {}
///             n @ 1000..10_000 => result.warning(format!("{n} orders waiting")),
///             n => result.error(format!("{n} orders waiting")),
///         }
///     }
///
///     #[health_check(name = "ledger")]
///     async fn ledger_reachable(&self) -> Result<(), std::io::Error> {
///         Ok(()) // `?` on a failing call makes it an ERROR with the error's text
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut server = Server::builder().registry(LocalRegistry::new()).component(OrdersComponent).start().await?;
/// let report = server.health().await;
/// assert_eq!(report.status, HealthStatus::Ok);
/// assert_eq!(report.checks.iter().map(|check| check.name.as_str()).collect::<Vec<_>>(), ["backlog", "ledger"]);
/// server.shutdown().await?;
/// # Ok(())
/// # }
/// ```
pub use courier_macros::health_checks;

/// Marks a health check method inside a [`health_checks`] block, with its options.
pub use courier_macros::health_check;

/// Makes a struct a protobuf message, so services declared with
/// `#[service(protobuf)]` can carry it on the `dispatch-protobuf` channel.
///
/// Fields are numbered from 1 in declaration order, each one after the field before it;
/// `#[proto(tag = N)]` pins a field's number, so that reordering fields does not change
/// the wire, and `#[proto(reserved = [N, ...])]` on the struct retires the numbers of
/// removed fields, so that no new field takes one by mistake (a field that does is a
/// compile error; the `.proto` schema lists them as `reserved`). The struct must also
/// implement `Default` (decoding starts from it). How Rust types map is in [`protobuf`];
/// a field type that does not map is a compile error that names it.
///
/// ```
/// use courier::prelude::*;
///
/// #[derive(Debug, Default, PartialEq, Serialize, Deserialize, ProtoMessage)]
/// #[proto(reserved = [3])] // a removed field's number
/// pub struct Node {
///     pub name: String,
///     pub children: Vec<Node>,
///     #[proto(tag = 4)]
///     pub parent: Option<Box<Node>>,
/// }
/// ```
pub use courier_macros::ProtoMessage;

pub use courier_core::{grpc, protobuf};

/// JSON Schema for the OpenAPI document: every argument, result and error type of a REST
/// route derives [`JsonSchema`] (in the prelude, with `schemars` for the derive to find),
/// and its doc comments become the schema's descriptions.
///
/// ```
/// use courier::prelude::*;
///
/// /// A user of the shop.
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct User {
///     /// Unique, and never reused.
///     id: u64,
///     name: String,
/// }
/// ```
pub use schemars::{self, JsonSchema};

/// Queued calls: `#[queued]` methods, their [`Job`](jobs::Job) handles, and the queues
/// they wait in (NATS JetStream with the `nats` feature).
pub mod jobs {
    pub use courier_core::jobs::{
        InProcessQueue, Job, JobContext, JobId, JobLink, JobOutcome, JobPoll, JobQueue, JobRecord, JobRequest,
        JobState, JobStatus, Lease, Progress,
    };
    #[cfg(feature = "nats")]
    pub use courier_nats::{NatsQueue, NatsQueueBuilder};
}

/// Everything a service, a server or a client usually needs.
pub mod prelude {
    pub use crate::{
        client::Selection,
        component,
        health::{CheckResult, HealthStatus},
        health_check, health_checks, implementation,
        registry::{ComponentRegistry, LocalRegistry},
        service, CallContext, ChannelKind, ErrorCode, ProtoMessage, Report, Server, ServiceError, ServiceManager,
    };
    pub use schemars::{self, JsonSchema};
    pub use serde::{Deserialize, Serialize};
    pub use std::sync::Arc;
}

#[doc(hidden)]
pub use courier_core::__private;
