//! The accept loop: hyper's HTTP/1 server under the [`Host`] service, with
//! `TCP_NODELAY`, a bound on header size, and a graceful drain.

use crate::fast_path::Host;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use std::time::Duration;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

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
    /// and reports whether they all did.
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
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT).max_buf_size(max_header_bytes.max(8192));
    let drain = loop {
        tokio::select! {
            biased;
            drain = &mut stop => break drain.unwrap_or_default(),
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
                    }
                    let connection = http.serve_connection(TokioIo::new(stream), host.clone());
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
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
    tokio::time::timeout(drain, graceful.shutdown()).await.is_ok()
}
