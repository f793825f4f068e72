//! The in-process registry as the environment sets it up: the process's own, holding
//! the other processes' instances `COURIER_PEERS` lists.

use super::LocalRegistry;
use crate::ServiceError;
use std::sync::OnceLock;

/// The environment variable that lists other processes' instances, as
/// `component=http://host:port` entries separated by commas or whitespace.
pub const PEERS_VARIABLE: &str = "COURIER_PEERS";

/// What `COURIER_PEERS` held when the process first read it, once added to the shared
/// registry.
static PEERS: OnceLock<Result<Option<String>, ServiceError>> = OnceLock::new();

/// [`LocalRegistry::shared`], holding the instances `COURIER_PEERS` lists (read the first
/// time this is called in a process): what servers and clients use when neither the
/// program nor the environment names another registry. A malformed entry is an error
/// that names it, every time this is called.
pub fn local_from_env() -> Result<LocalRegistry, ServiceError> {
    let shared = LocalRegistry::shared();
    let peers = PEERS.get_or_init(|| match std::env::var(PEERS_VARIABLE) {
        Ok(peers) => shared
            .add_peers(&peers)
            .map(|()| Some(peers))
            .map_err(|error| ServiceError::new(error.code, format!("{PEERS_VARIABLE}: {}", error.message))),
        Err(_) => Ok(None),
    });
    peers.clone().map(|_| shared)
}

/// The peers the shared registry holds from `COURIER_PEERS`, if it read any.
pub(super) fn shared_peers() -> Option<&'static str> {
    PEERS.get().and_then(|peers| peers.as_ref().ok()).and_then(Option::as_deref)
}
