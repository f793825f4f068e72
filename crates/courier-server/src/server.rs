use crate::{
    admission::Gate,
    serve::Serving,
    tls::{Acceptor, TlsConfig},
    workers::Workers,
    ServerBuilder, ServerError,
};
use courier_core::{
    tls::TlsError, withdraw_local, BoundService, Component, ComponentRegistry, ComponentStatus, HealthManager,
    HealthReport, Registration,
};
use std::{fmt, net::SocketAddr, sync::Arc, time::Duration};

/// A running courier server: serves its components' dispatch endpoints and keeps them
/// registered until [`shutdown`](Server::shutdown).
///
/// ```no_run
/// # use courier_server::Server;
/// # async fn run() -> Result<(), courier_server::ServerError> {
/// let server = Server::builder().bind("127.0.0.1:0").discover().start().await?;
/// println!("serving on {}", server.url());
/// server.run_until_stopped().await
/// # }
/// ```
pub struct Server {
    local_addr: SocketAddr,
    url: String,
    registry: Arc<dyn ComponentRegistry>,
    components: Vec<Running>,
    pub(crate) bound: Vec<BoundService>,
    pub(crate) serving: Option<Serving>,
    /// Admits calls until the server drains.
    pub(crate) gate: Arc<Gate>,
    /// The workers of the components' queued methods.
    pub(crate) workers: Option<Workers>,
    drain_timeout: Duration,
    health: HealthManager,
    /// What new TLS connections are served with, when the server speaks TLS.
    pub(crate) tls: Option<Arc<Acceptor>>,
    /// Re-reads renewed certificate files, while the server runs.
    pub(crate) tls_watch: Option<AbortOnDrop>,
}

/// A task that stops when its handle is dropped.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A component with its registration and where it is in its life.
pub(crate) struct Running {
    component: Arc<dyn Component>,
    registration: Registration,
    status: ComponentStatus,
    registered: bool,
}

impl Running {
    pub(crate) fn new(component: Arc<dyn Component>, registration: Registration) -> Self {
        Self { component, registration, status: ComponentStatus::NotStarted, registered: false }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("url", &self.url)
            .field("components", &self.component_names())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts configuring a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    pub(crate) fn new(
        local_addr: SocketAddr,
        url: String,
        registry: Arc<dyn ComponentRegistry>,
        components: Vec<Running>,
        bound: Vec<BoundService>,
        drain_timeout: Duration,
        health: HealthManager,
    ) -> Self {
        Self {
            local_addr,
            url,
            registry,
            components,
            bound,
            serving: None,
            gate: Gate::new(),
            workers: None,
            drain_timeout,
            health,
            tls: None,
            tls_watch: None,
        }
    }

    /// Serves new connections with `config` from now on: a renewed certificate, say.
    /// Connections already open, and the calls on them, keep the one they started with.
    /// Fails, changing nothing, when `config` is unusable or the server was started
    /// without TLS.
    pub fn reload_tls(&self, config: &TlsConfig) -> Result<(), ServerError> {
        let Some(acceptor) = &self.tls else {
            return Err(TlsError::Refused("this server was started without TLS".to_owned()).into());
        };
        acceptor.replace(config.server_config()?);
        tracing::info!(url = %self.url, "serving with a reloaded TLS configuration");
        Ok(())
    }

    /// The address the server listens on, with the real port when bound to port 0.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The URL other processes reach this server by, as registered.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The status of the component with this name, if the server runs it.
    pub fn status(&self, component: &str) -> Option<ComponentStatus> {
        self.components.iter().find(|running| running.registration.component == component).map(|running| running.status)
    }

    /// Runs the server's health checks (those whose cached result has expired) and
    /// reports, as `GET /health` does.
    pub async fn health(&self) -> HealthReport {
        self.health.report().await
    }

    pub(crate) fn component_names(&self) -> Vec<&str> {
        self.components.iter().map(|running| running.registration.component.as_str()).collect()
    }

    /// Runs startup hooks in order; on a failure, shuts down those already started.
    pub(crate) async fn start_components(&mut self) -> Result<(), ServerError> {
        for index in 0..self.components.len() {
            let running = &mut self.components[index];
            if let Err(source) = running.component.startup().await {
                let component = running.component.descriptor().name;
                for started in self.components[..index].iter_mut().rev() {
                    if let Err(error) = started.component.shutdown().await {
                        tracing::warn!(component = started.component.descriptor().name, %error, "shutdown hook failed");
                    }
                    started.status = ComponentStatus::Stopped;
                }
                return Err(ServerError::Hook { component, stage: "start", source });
            }
            running.status = ComponentStatus::Running;
        }
        Ok(())
    }

    /// Registers every component; on a refusal, undoes what was done and fails.
    pub(crate) async fn register(&mut self) -> Result<(), ServerError> {
        for index in 0..self.components.len() {
            let running = &mut self.components[index];
            match self.registry.register(&running.registration).await {
                Ok(()) => running.registered = true,
                Err(source) => {
                    let component = running.component.descriptor().name;
                    if let Err(error) = self.shutdown().await {
                        tracing::warn!(%error, "cleanup after a failed registration failed");
                    }
                    return Err(ServerError::Registry { component, source });
                }
            }
        }
        Ok(())
    }

    /// Stops gracefully: deregisters every component, so clients stop sending calls;
    /// stops accepting connections and lets in-flight calls finish for up to the drain
    /// timeout, cutting off those still running then; then runs the shutdown hooks in
    /// reverse order. Calling it again does nothing.
    pub async fn shutdown(&mut self) -> Result<(), ServerError> {
        let mut first_error = None;
        for running in self.components.iter_mut().filter(|running| running.registered) {
            running.registered = false;
            if let Err(source) = self.registry.deregister(&running.registration).await {
                let component = running.component.descriptor().name;
                tracing::warn!(component, %source, "deregistration failed");
                first_error.get_or_insert(ServerError::Registry { component, source });
            }
        }
        // Calls that still arrive get 503, which clients take to another instance; the
        // calls already taken run to their end, up to the drain timeout.
        self.gate.drain();
        let started = std::time::Instant::now();
        let workers = async {
            if let Some(workers) = self.workers.take() {
                workers.stop(self.drain_timeout).await;
            }
        };
        let (drained, ()) = tokio::join!(self.gate.idle(self.drain_timeout), workers);
        if let Some(serving) = self.serving.take() {
            let left = self.drain_timeout.saturating_sub(started.elapsed());
            if !serving.stop(left).await || !drained {
                tracing::warn!(timeout = ?self.drain_timeout, "in-flight calls did not finish before the drain timeout");
            }
        }
        self.bound.iter().for_each(withdraw_local);
        for running in self.components.iter_mut().rev().filter(|running| running.status == ComponentStatus::Running) {
            running.status = ComponentStatus::Stopped;
            if let Err(source) = running.component.shutdown().await {
                let component = running.component.descriptor().name;
                first_error.get_or_insert(ServerError::Hook { component, stage: "stop", source });
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Serves until the process gets Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn run_until_stopped(mut self) -> Result<(), ServerError> {
        stop_signal().await;
        tracing::info!("stop signal received, shutting down");
        self.shutdown().await
    }
}

async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
