//! The client side of courier: [`ServiceManager`] hands out proxies that pick a live
//! instance per call, follow the registry as instances come and go, and move a call to
//! another instance when that is safe. Calls pass through interceptors — tower layers
//! over [`ClientCall`]s — such as [`BearerToken`]. Every remote call gets a `tracing`
//! span, carries its W3C trace context as `traceparent`, and is measured through the
//! `metrics` facade.

#![warn(missing_docs)]

mod blocking;
mod call;
mod channel;
mod http;
mod job;
mod manager;
mod mux;
mod observed;
mod response;
mod sender;
mod targets;
mod tls;
mod token;

pub use blocking::BlockingProxy;
pub use call::ClientCall;
pub use channel::{HttpChannel, DEFAULT_TIMEOUT};
pub use http::{HttpClient, HttpClientBuilder, DEFAULT_CONNECT_TIMEOUT};
pub use manager::{registry_from_env, ClientLayer, Interceptor, ProxyBuilder, ServiceManager, ServiceManagerBuilder};
pub use tls::{Certificate, Identity};
pub use token::{BearerToken, Token, WithToken};

/// Why TLS could not be set up: a certificate or key that cannot be read or used.
pub use courier_core::tls::TlsError;

/// A proxy's call path as interceptors wrap it.
pub type CallService = tower::util::BoxCloneSyncService<ClientCall, courier_core::Reply, courier_core::ServiceError>;
