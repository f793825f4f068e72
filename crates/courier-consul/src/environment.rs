//! The registry the environment names, for servers and clients that name none.

use crate::ConsulRegistry;
use courier_core::{ComponentRegistry, ServiceError, PEERS_VARIABLE};
use std::sync::Arc;

/// The environment variable that names the Consul agent: `host:port` or a URL.
pub const ADDRESS_VARIABLE: &str = "CONSUL_HTTP_ADDR";

/// The registry the environment names, which servers and clients use when the program
/// names none:
///
/// 1. with `COURIER_PEERS` set, the in-process registry holding the instances it lists
///    ([`courier_core::local_from_env`]): a list given for this run wins over a Consul
///    agent the shell may name for other tools;
/// 2. otherwise, with `CONSUL_HTTP_ADDR` set, a [`ConsulRegistry`] on that agent
///    ([`ConsulRegistry::from_env`]);
/// 3. otherwise, the in-process registry alone.
pub fn registry_from_env() -> Result<Arc<dyn ComponentRegistry>, ServiceError> {
    if std::env::var_os(PEERS_VARIABLE).is_none() && std::env::var_os(ADDRESS_VARIABLE).is_some() {
        return Ok(Arc::new(ConsulRegistry::from_env()?));
    }
    Ok(Arc::new(courier_core::local_from_env()?))
}
