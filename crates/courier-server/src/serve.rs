//! The accept loop: hyper's HTTP/1 and HTTP/2 server (h2c, or `h2` by ALPN over TLS)
//! under the [`Host`] service, with `TCP_NODELAY`, TLS when the server has it, a bound on
//! header size, upgrades to multiplexed connections, and a graceful drain that cuts off
//! what outlasts it.

use crate::{fast_path::Host, mux::Hub, tls::Acceptor};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use std::{pin::pin, sync::Arc, time::Duration};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{oneshot, watch},
    task::{JoinHandle, JoinSet},
};

/// How long a peer may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How often an idle HTTP/2 connection is pinged, so a vanished peer is noticed.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);

/// How long a peer may take to say its first byte and finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

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
    pub(crate) fn spawn(listener: TcpListener, host: Host, limits: &Limits, tls: Option<Arc<Acceptor>>) -> Self {
        let (stop, stopped) = oneshot::channel();
        let (draining, drain) = watch::channel(false);
        let hub = Hub::new(drain.clone(), limits.max_body_bytes, limits.max_header_bytes);
        let host = host.with_hub(Arc::clone(&hub));
        let task = tokio::spawn(accept(listener, host, limits.max_header_bytes, tls, stopped, (draining, drain), hub));
        Self { stop, task }
    }

    /// The multiplexed connections of a server whose router another app serves: what
    /// [`stop`](Self::stop) drains.
    pub(crate) fn mounted(limits: &Limits) -> (Self, Arc<Hub>) {
        let (stop, stopped) = oneshot::channel::<Duration>();
        let (draining, drain) = watch::channel(false);
        let hub = Hub::new(drain, limits.max_body_bytes, limits.max_header_bytes);
        let winding = Arc::clone(&hub);
        let task = tokio::spawn(async move {
            let timeout = stopped.await.unwrap_or_default();
            wind_down(&winding, &draining, JoinSet::new(), timeout).await
        });
        (Self { stop, task }, hub)
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
    tls: Option<Arc<Acceptor>>,
    mut stop: oneshot::Receiver<Duration>,
    (draining, drain): (watch::Sender<bool>, watch::Receiver<bool>),
    hub: Arc<Hub>,
) -> bool {
    let mut connections = JoinSet::new();
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(max_header_bytes.max(8192));
    http.http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(KEEP_ALIVE_INTERVAL));
    let timeout = loop {
        tokio::select! {
            biased;
            timeout = &mut stop => break timeout.unwrap_or_default(),
            // Reap finished connections so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let connection = Connection { http: http.clone(), host: host.clone(), drain: drain.clone(), peer };
                    connections.spawn(connection.serve(stream, tls.clone()));
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
    wind_down(&hub, &draining, connections, timeout).await
}

/// Tells every connection the server drains, waits up to `timeout` for them to finish
/// their calls, and reports whether they did.
async fn wind_down(hub: &Hub, draining: &watch::Sender<bool>, mut connections: JoinSet<()>, timeout: Duration) -> bool {
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

/// One accepted connection, and what serves it.
struct Connection {
    http: auto::Builder<TokioExecutor>,
    host: Host,
    drain: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
}

impl Connection {
    /// Serves the connection, over TLS when the server has it.
    async fn serve(self, stream: TcpStream, tls: Option<Arc<Acceptor>>) {
        let peer = self.peer;
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
        }
        let Some(tls) = tls else { return self.run(stream).await };
        let handshake = async {
            let mut first = [0; 1];
            if stream.peek(&mut first).await? == 1 && first[0] != TLS_HANDSHAKE_RECORD {
                refuse_plain_http(stream).await;
                return Ok(None);
            }
            tls.current().accept(stream).await.map(Some)
        };
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
            Ok(Ok(Some(stream))) => {
                let certificate = crate::tls::client_certificate(stream.get_ref().1);
                Self { host: self.host.with_client(certificate), ..self }.run(stream).await;
            }
            Ok(Ok(None)) => tracing::debug!(%peer, "plain HTTP on the TLS port refused"),
            Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
        }
    }

    /// Serves one connection until it closes, or until the server drains and its requests
    /// in flight are answered.
    async fn run<I: AsyncRead + AsyncWrite + Unpin + Send + 'static>(self, io: I) {
        let Self { http, host, mut drain, peer } = self;
        let mut connection = pin!(http.serve_connection_with_upgrades(TokioIo::new(io), host));
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
}

/// Tells a caller that sent plain HTTP to the TLS port what to do instead, in the body
/// every courier error has.
async fn refuse_plain_http(mut stream: TcpStream) {
    let error = courier_core::ServiceError::bad_request("this port speaks TLS: call it with https://");
    let body = courier_core::Format::Json.encode_error(&error);
    let head = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    if stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(&body).await.is_ok() {
        let _ = stream.shutdown().await;
        // Read what the caller sent before closing: unread bytes would make the close a
        // reset, which can discard the answer before the caller reads it.
        let mut unread = vec![0; 16 * 1024];
        let drain = async { while stream.read(&mut unread).await.is_ok_and(|read| read > 0) {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }
}
