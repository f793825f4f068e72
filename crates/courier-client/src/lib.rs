//! The client side of courier: [`ServiceManager`] hands out proxies that pick a live
//! instance per call and follow the registry as instances come and go. Every remote
//! call gets a `tracing` span, carries its W3C trace context as `traceparent`, and is
//! measured through the `metrics` facade.

mod dispatch;
mod manager;
mod observed;
mod response;
mod rest;
mod targets;

pub use dispatch::DispatchChannel;
pub use manager::{ProxyBuilder, ServiceManager, ServiceManagerBuilder};
pub use rest::RestChannel;
