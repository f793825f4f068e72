use crate::{
    admission::Gate,
    health::Health,
    lifecycle::Lifecycle,
    serve::Serving,
    tls::{Acceptor, TlsConfig},
    workers::Workers,
    ServerBuilder, ServerError,
};
use courier_core::{
    tls::TlsError, withdraw_local, BoundService, Component, ComponentRegistry, ComponentStatus, HealthReport,
    Registration, ServiceError,
};
use std::{fmt, net::SocketAddr, sync::Arc, time::Duration};

/// A running courier server: serves its components' dispatch endpoints and keeps them
/// registered until [`shutdown`](Server::shutdown).
///
/// ```no_run
/// # mod courier { pub use courier_server::*; pub mod server { pub use courier_server::*; } }
/// # use courier::Server;
/// # async fn run() -> Result<(), courier::server::ServerError> {
/// let server = Server::builder().bind("127.0.0.1:0").discover().start().await?;
/// println!("serving on {}", server.url());
/// server.run_until_stopped().await
/// # }
/// ```
pub struct Server {
    pub(crate) local_addr: SocketAddr,
    pub(crate) url: String,
    pub(crate) registry: Arc<dyn ComponentRegistry>,
    pub(crate) components: Vec<Running>,
    pub(crate) bound: Vec<BoundService>,
    /// `None` once stopped.
    pub(crate) serving: Option<Serving>,
    /// Admits calls until the server drains.
    pub(crate) gate: Arc<Gate>,
    /// The workers of the components' queued methods; `None` once stopped.
    pub(crate) workers: Option<Workers>,
    pub(crate) drain_timeout: Duration,
    /// The checks, and where each component is in its life.
    pub(crate) health: Health,
    /// What new TLS connections are served with, when the server speaks TLS.
    pub(crate) tls: Option<Arc<Acceptor>>,
    /// Re-reads renewed certificate files, while the server runs.
    pub(crate) _tls_watch: Option<AbortOnDrop>,
}

/// A task that stops when its handle is dropped.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A component with its registration.
pub(crate) struct Running {
    component: Arc<dyn Component>,
    registration: Registration,
    registered: bool,
}

impl Running {
    pub(crate) fn new(component: Arc<dyn Component>, registration: Registration) -> Self {
        Self { component, registration, registered: false }
    }

    fn name(&self) -> &'static str {
        self.component.descriptor().name
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

    /// Where the component with this name is in its life, if the server runs it: the
    /// status `GET /health` shows for it.
    pub fn status(&self, component: &str) -> Option<ComponentStatus> {
        self.health.lifecycle().get(component)
    }

    /// Runs the server's health checks (those whose cached result has expired) and
    /// reports, with the status of every component, as `GET /health` does.
    pub async fn health(&self) -> HealthReport {
        self.health.report().await
    }

    pub(crate) fn component_names(&self) -> Vec<&str> {
        self.components.iter().map(|running| running.registration.component.as_str()).collect()
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
        let lifecycle = self.health.lifecycle().clone();
        let running = |name| lifecycle.get(name).is_some_and(|status| status.is_running());
        let stopping: Vec<&'static str> =
            self.components.iter().map(Running::name).filter(|name| running(name)).collect();
        stopping.iter().for_each(|name| lifecycle.set(name, ComponentStatus::Stopping));
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
        for running in self.components.iter().rev().filter(|running| stopping.contains(&running.name())) {
            if let Err(source) = stop(running, &lifecycle).await {
                first_error.get_or_insert(ServerError::Hook { component: running.name(), stage: "stop", source });
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

/// Runs startup hooks in order; on a failure, shuts down those already started.
pub(crate) async fn start_components(components: &[Running], lifecycle: &Lifecycle) -> Result<(), ServerError> {
    for (index, running) in components.iter().enumerate() {
        let component = running.name();
        lifecycle.set(component, ComponentStatus::Starting);
        if let Err(source) = running.component.startup().await {
            lifecycle.set(component, ComponentStatus::Failed { cause: format!("startup: {source}") });
            for started in components[..index].iter().rev() {
                lifecycle.set(started.name(), ComponentStatus::Stopping);
                let _ = stop(started, lifecycle).await;
            }
            return Err(ServerError::Hook { component, stage: "start", source });
        }
        lifecycle.set(component, ComponentStatus::Running);
    }
    Ok(())
}

/// Runs a component's shutdown hook, and moves it to `Stopped`, or to `Failed` when
/// the hook fails.
async fn stop(running: &Running, lifecycle: &Lifecycle) -> Result<(), ServiceError> {
    let stopped = running.component.shutdown().await;
    lifecycle.set(
        running.name(),
        match &stopped {
            Ok(()) => ComponentStatus::Stopped,
            Err(error) => {
                tracing::warn!(component = running.name(), %error, "shutdown hook failed");
                ComponentStatus::Failed { cause: format!("shutdown: {error}") }
            }
        },
    );
    stopped
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
