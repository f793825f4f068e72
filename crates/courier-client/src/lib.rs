//! The client side of courier: [`ServiceManager`] hands out proxies that pick a live
//! instance per call and follow the registry as instances come and go.

mod dispatch;
mod manager;
mod response;
mod rest;
mod targets;

pub use dispatch::DispatchChannel;
pub use manager::{ProxyBuilder, ServiceManager, ServiceManagerBuilder};
pub use rest::RestChannel;
