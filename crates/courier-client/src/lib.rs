//! The client side of courier: [`ServiceManager`] hands out proxies that pick a live
//! instance per call and follow the registry as instances come and go.

mod dispatch;
mod http;
mod manager;
mod targets;

pub use dispatch::DispatchChannel;
pub use http::{HttpClient, HttpClientBuilder};
pub use manager::{ProxyBuilder, ServiceManager, ServiceManagerBuilder};
