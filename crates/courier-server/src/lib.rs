//! The host of courier components: one axum server per process that serves the
//! dispatch endpoint of every component it runs, their health endpoints and the
//! process's metrics, registers them, and drains them on shutdown. Every call it
//! answers gets a `tracing` span that continues the caller's W3C trace context.

#![warn(missing_docs)]

mod admission;
mod body;
mod builder;
mod context;
mod docs;
mod error;
mod fast_path;
mod grpc;
mod health;
mod invoke;
mod jobs;
mod layer;
mod lifecycle;
mod metrics;
mod mux;
mod observe;
mod openapi;
mod pipeline;
mod response;
mod rest;
mod routes;
mod serve;
mod server;
mod startup;
mod tls;
mod workers;

pub use builder::ServerBuilder;
pub use courier_core::wire::{DEADLINE_HEADER, METADATA_PREFIX};
pub use error::ServerError;
pub use layer::ServerLayer;
pub use server::Server;
pub use tls::TlsConfig;
