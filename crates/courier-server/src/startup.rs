//! A server between being configured and running: what [`ServerBuilder`] assembled, and
//! the steps that start it — startup hooks, serving, in-process publishing, workers,
//! registration — in that order.
//!
//! [`ServerBuilder`]: crate::ServerBuilder

use crate::{
    admission::Gate,
    fast_path::Host,
    health::Health,
    serve::Serving,
    server::{start_components, AbortOnDrop, Running, Server},
    tls::Acceptor,
    workers::{Crew, Workers},
    ServerError,
};
use courier_core::{publish_local, publish_local_jobs, BoundService, ComponentRegistry};
use std::{net::SocketAddr, sync::Arc, time::Duration};

/// Everything a server is made of; nothing runs yet.
pub(crate) struct Assembly {
    pub(crate) local_addr: SocketAddr,
    pub(crate) url: String,
    pub(crate) registry: Arc<dyn ComponentRegistry>,
    pub(crate) running: Vec<Running>,
    pub(crate) bound: Vec<BoundService>,
    /// The workers of components with queued methods, and how many run at once.
    pub(crate) crews: Vec<(Crew, usize)>,
    pub(crate) health: Health,
    pub(crate) gate: Arc<Gate>,
    pub(crate) drain_timeout: Duration,
    /// What answers every request.
    pub(crate) host: Host,
    pub(crate) tls: Option<Arc<Acceptor>>,
    pub(crate) _tls_watch: Option<AbortOnDrop>,
}

impl Assembly {
    /// Runs the startup hooks, starts serving with `serve` (which hands back what the
    /// caller needs of it), publishes the services to in-process callers, starts the
    /// workers and registers every component.
    pub(crate) async fn launch<T>(self, serve: impl FnOnce(Host) -> (Serving, T)) -> Result<(Server, T), ServerError> {
        start_components(&self.running, self.health.lifecycle()).await?;
        let (serving, handed) = serve(self.host);
        self.bound.iter().for_each(publish_local);
        // In-process callers of queued methods go through the queue too.
        for (crew, _) in &self.crews {
            let component = crew.component.descriptor();
            for service in self.bound.iter().filter(|bound| component.serves(bound.descriptor.name)) {
                publish_local_jobs(service, component.name, Arc::clone(&crew.queue));
            }
        }
        let mut server = Server {
            local_addr: self.local_addr,
            url: self.url,
            registry: self.registry,
            components: self.running,
            bound: self.bound,
            serving: Some(serving),
            gate: self.gate,
            workers: Some(Workers::spawn(self.crews)),
            drain_timeout: self.drain_timeout,
            health: self.health,
            tls: self.tls,
            _tls_watch: self._tls_watch,
        };
        server.register().await?;
        tracing::info!(url = %server.url(), components = ?server.component_names(), "courier server started");
        Ok((server, handed))
    }
}
