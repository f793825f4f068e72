//! The accept loop: hyper's HTTP/1 server under the [`Host`] service, with `TCP_NODELAY`,
//! a bound on header size, and a graceful drain that cuts off what outlasts it.

use crate::fast_path::Host;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use std::time::Duration;
use tokio::{
    net::TcpListener,
    sync::oneshot,
    task::{JoinHandle, JoinSet},
};

/// How long a peer may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A running accept loop.
pub(crate) struct Serving {
    stop: oneshot::Sender<Duration>,
    task: JoinHandle<bool>,
}

impl Serving {
    pub(crate) fn spawn(listener: TcpListener, host: Host, max_header_bytes: usize) -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept(listener, host, max_header_bytes, stopped));
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
) -> bool {
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT).max_buf_size(max_header_bytes.max(8192));
    let drain = loop {
        tokio::select! {
            biased;
            drain = &mut stop => break drain.unwrap_or_default(),
            // Reap finished connections so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
                    }
                    let connection = http.serve_connection(TokioIo::new(stream), host.clone());
                    let connection = graceful.watch(connection);
                    connections.spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(%peer, %error, "connection closed with an error");
                        }
                    });
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
    let drained = tokio::time::timeout(drain, graceful.shutdown()).await.is_ok();
    // A call still running now would outlive its component's shutdown hooks: cancel it,
    // and wait until it is gone.
    connections.shutdown().await;
    drained
}
