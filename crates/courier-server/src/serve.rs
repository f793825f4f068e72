//! The accept loop: hyper's HTTP/1 server under the [`Host`] service, with `TCP_NODELAY`,
//! a bound on header size, upgrades to multiplexed connections, and a graceful drain that
//! cuts off what outlasts it.

use crate::{fast_path::Host, mux::Hub};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{pin::pin, sync::Arc, time::Duration};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{oneshot, watch},
    task::{JoinHandle, JoinSet},
};

/// How long a peer may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What the accept loop is bound by.
pub(crate) struct Limits {
    pub(crate) max_header_bytes: usize,
    pub(crate) max_body_bytes: usize,
}

/// A running accept loop.
pub(crate) struct Serving {
    stop: oneshot::Sender<Duration>,
    task: JoinHandle<bool>,
}

impl Serving {
    pub(crate) fn spawn(listener: TcpListener, host: Host, limits: Limits) -> Self {
        let (stop, stopped) = oneshot::channel();
        let (draining, drain) = watch::channel(false);
        let hub = Hub::new(drain.clone(), limits.max_body_bytes, limits.max_header_bytes);
        let host = host.with_hub(Arc::clone(&hub));
        let task = tokio::spawn(accept(listener, host, limits.max_header_bytes, stopped, (draining, drain), hub));
        Self { stop, task }
    }

    /// Stops accepting, lets open connections finish their requests for up to `drain`,
    /// cuts off those still open then, and reports whether they all finished in time.
    pub(crate) async fn stop(self, drain: Duration) -> bool {
        // The loop may have ended already; then there is nothing left to drain.
        let _ = self.stop.send(drain);
        self.task.await.unwrap_or(false)
    }
}

async fn accept(
    listener: TcpListener,
    host: Host,
    max_header_bytes: usize,
    mut stop: oneshot::Receiver<Duration>,
    (draining, drain): (watch::Sender<bool>, watch::Receiver<bool>),
    hub: Arc<Hub>,
) -> bool {
    let mut connections = JoinSet::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT).max_buf_size(max_header_bytes.max(8192));
    let timeout = loop {
        tokio::select! {
            biased;
            timeout = &mut stop => break timeout.unwrap_or_default(),
            // Reap finished connections so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(http.clone(), stream, host.clone(), drain.clone(), peer));
                }
                Err(error) => {
                    // Out of file descriptors, usually: back off instead of spinning.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    };
    drop(listener);
    let _ = draining.send(true);
    let finished = async {
        while connections.join_next().await.is_some() {}
        hub.closed().await;
    };
    let drained = tokio::time::timeout(timeout, finished).await.is_ok();
    // A call still running now would outlive its component's shutdown hooks: cancel it,
    // and wait until it is gone.
    hub.cut_off();
    connections.shutdown().await;
    drained
}

/// Serves one connection until it closes, or until the server drains and its requests
/// in flight are answered.
async fn serve_connection(
    http: http1::Builder,
    stream: TcpStream,
    host: Host,
    mut drain: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
    }
    let mut connection = pin!(http.serve_connection(TokioIo::new(stream), host).with_upgrades());
    let draining = async move {
        let _ = drain.wait_for(|draining| *draining).await;
    };
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = draining => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = served {
        tracing::debug!(%peer, %error, "connection closed with an error");
    }
}
