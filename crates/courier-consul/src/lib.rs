//! [`ConsulRegistry`]: courier components register with Consul when their server starts,
//! and proxies follow the live instances Consul reports — all through Consul's HTTP API.
//!
//! ```no_run
//! # mod courier { pub use courier_consul::*; pub mod registry { pub use courier_consul::*; } }
//! use courier::registry::ConsulRegistry;
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN, as Consul's own tools read them.
//! let consul = ConsulRegistry::from_env()?;
//! // or: ConsulRegistry::builder().address("http://10.0.0.2:8500").token("...").build()?
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod api;
mod config;
mod environment;
mod registry;
mod watch;

pub use config::ConsulRegistryBuilder;
pub use environment::{registry_from_env, ADDRESS_VARIABLE};
pub use registry::ConsulRegistry;
