//! The host of courier components: one axum server per process that serves the
//! dispatch endpoint of every component it runs, registers them, and drains them on
//! shutdown.

mod builder;
mod error;
mod fast_path;
mod invoke;
mod serve;
mod server;

pub use builder::ServerBuilder;
pub use error::ServerError;
pub use server::Server;
