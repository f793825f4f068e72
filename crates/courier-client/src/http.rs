//! The HTTP client under the remote channels: multiplexed connections by default, hyper's
//! pooled HTTP/1 client, or a `reqwest::Client` of the user's own for proxies; the first
//! two speak TLS to `https://` instances.
//!
//! reqwest parsed every call's URL (with IDNA host processing) and ran its redirect and
//! retry layers: about a third of the client's instructions on a small call.

use crate::{
    mux::Connections,
    tls::{Certificate, Identity, Tls},
};
use bytes::Bytes;
use courier_core::{ErrorCode, ServiceError};
use futures_util::{future::Either, FutureExt};
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Full, LengthLimitError, Limited};
use hyper_rustls::{builderstates::WantsProtocols1, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{self, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use std::{
    error::Error as StdError,
    fmt,
    future::Future,
    io,
    sync::{Arc, OnceLock},
    time::Duration,
};

type Body = http_body_util::Either<Full<Bytes>, Empty<Bytes>>;

/// The pooled HTTP client that remote channels send calls through; one per
/// [`ServiceManager`](crate::ServiceManager), shared by all its proxies. Cheap to clone:
/// clones share the pool.
///
/// The default sends every call to an instance over one multiplexed connection (see
/// [`HttpClientBuilder::multiplex`]) with `TCP_NODELAY`, over TLS to `https://` instances,
/// whose certificates it verifies against the platform's roots; it gives up on a
/// connection not made in [`DEFAULT_CONNECT_TIMEOUT`] (5 s), and leaves how long calls may
/// take to deadlines and proxy timeouts ([`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT), 10 s). [`HttpClient::builder`]
/// changes that: your own CA, a client certificate for mutual TLS, and more. A
/// `reqwest::Client` converts into one, for proxies or anything else reqwest offers, at the
/// cost of a few microseconds per call.
///
/// ```
/// # mod courier { pub use courier_client::*; pub mod client { pub use courier_client::*; } }
/// use courier::{ServiceManager, client::HttpClient};
/// use std::time::Duration;
///
/// let client = HttpClient::builder().connect_timeout(Duration::from_secs(1)).build();
/// let services = ServiceManager::builder().http_client(client).build();
/// ```
#[derive(Clone)]
pub struct HttpClient {
    transport: Transport,
    /// The largest reply body read; larger ones fail the call.
    max_reply_bytes: usize,
    /// The HTTP/2 client of the `grpc` channel, made on its first call.
    grpc: Arc<Grpc>,
}

/// An HTTP/2 client for gRPC calls, made when first needed: h2c to `http://` instances,
/// `h2` by ALPN to `https://` ones; every call to an instance shares one connection.
struct Grpc {
    connect_timeout: Option<Duration>,
    tls: Arc<Tls>,
    client: OnceLock<HyperClient>,
}

type HyperClient = legacy::Client<HttpsConnector<HttpConnector>, Body>;

impl Grpc {
    fn new(connect_timeout: Option<Duration>, tls: Arc<Tls>) -> Arc<Self> {
        Arc::new(Self { connect_timeout, tls, client: OnceLock::new() })
    }

    fn client(&self) -> &HyperClient {
        self.client.get_or_init(|| {
            let connector = connector(&self.tls).enable_http2().wrap_connector(plain(self.connect_timeout));
            legacy::Client::builder(TokioExecutor::new())
                .http2_only(true)
                .timer(TokioTimer::new())
                .pool_timer(TokioTimer::new())
                .build(connector)
        })
    }
}

/// The TCP connector under every hyper client: `TCP_NODELAY`, and a connect timeout.
fn plain(connect_timeout: Option<Duration>) -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(connect_timeout);
    connector.enforce_http(false);
    connector
}

/// The TLS connector, for a client to name the HTTP versions it speaks.
fn connector(tls: &Tls) -> HttpsConnectorBuilder<WantsProtocols1> {
    let mut config = Arc::unwrap_or_clone(tls.config());
    // The connector names the protocols it speaks itself.
    config.alpn_protocols.clear();
    HttpsConnectorBuilder::new().with_tls_config(config).https_or_http()
}

/// How long a client waits for a connection to an instance unless told otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest reply body a client reads unless told otherwise.
const MAX_REPLY_BYTES: usize = 64 * 1024 * 1024;

#[derive(Clone)]
enum Transport {
    Hyper(Arc<HyperClient>),
    Multiplexed(Arc<Connections>),
    Reqwest(reqwest::Client),
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("HttpClient");
        match &self.transport {
            Transport::Hyper(_) => debug.field("transport", &"hyper"),
            Transport::Multiplexed(_) => debug.field("transport", &"multiplexed"),
            Transport::Reqwest(client) => debug.field("transport", client),
        };
        debug.field("max_reply_bytes", &self.max_reply_bytes).finish()
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

impl From<reqwest::Client> for HttpClient {
    /// Sends calls through `client`, with its TLS, proxy and timeout settings. Set
    /// `tcp_nodelay(true)` on it: without, small calls wait for Nagle's algorithm.
    fn from(client: reqwest::Client) -> Self {
        let grpc = Grpc::new(Some(DEFAULT_CONNECT_TIMEOUT), Arc::default());
        Self { transport: Transport::Reqwest(client), max_reply_bytes: MAX_REPLY_BYTES, grpc }
    }
}

/// A reply, read whole.
pub(crate) struct Exchange {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The trailers, on the `grpc` channel.
    pub(crate) trailers: Option<HeaderMap>,
}

/// Why a request got no reply.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The connection could not be made: the request never left.
    NotSent(ServiceError),
    /// The request may have left.
    Lost(ServiceError),
    /// The reply came, and cannot be used: it is larger than the client reads.
    Unusable(ServiceError),
}

impl HttpClient {
    /// A client with the defaults.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configures a client.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// Sends a request and reads the whole reply; past `timeout`, it fails with
    /// [`ErrorCode::Timeout`].
    pub(crate) async fn send(
        &self,
        method: Method,
        url: String,
        headers: HeaderMap,
        body: Option<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<Exchange, Failure> {
        match &self.transport {
            Transport::Hyper(client) => Box::pin(self.hyper_send(client, method, url, headers, body, timeout)).await,
            Transport::Multiplexed(connections) => {
                within(timeout, &url, connections.send(method, &url, headers, body)).await
            }
            Transport::Reqwest(client) => {
                let mut request = client.request(method, &url).headers(headers);
                if let Some(body) = body {
                    request = request.body(body);
                }
                if let Some(limit) = timeout {
                    request = request.timeout(limit);
                }
                Box::pin(reqwest_send(request, &url, self.max_reply_bytes)).await
            }
        }
    }
}

impl HttpClient {
    /// Sends a gRPC call over HTTP/2, and reads the whole reply with its trailers.
    pub(crate) async fn send_grpc(
        &self,
        url: String,
        headers: HeaderMap,
        message: Bytes,
        timeout: Option<Duration>,
    ) -> Result<Exchange, Failure> {
        self.hyper_send(self.grpc.client(), Method::POST, url, headers, Some(message), timeout).await
    }

    async fn hyper_send(
        &self,
        client: &HyperClient,
        method: Method,
        url: String,
        headers: HeaderMap,
        body: Option<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<Exchange, Failure> {
        let uri = Uri::try_from(url.as_str()).map_err(|error| {
            Failure::NotSent(ServiceError::new(ErrorCode::Transport, format!("cannot call {url}: {error}")))
        })?;
        let body = match body {
            Some(body) => Body::Left(Full::new(body)),
            None => Body::Right(Empty::new()),
        };
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        within(timeout, &url, hyper_send(client, request, &url, self.max_reply_bytes)).await
    }
}

/// An exchange that fails as lost once `timeout` passes. Not an `async fn`: one would
/// hold the exchange's future twice, as its argument and as what it awaits.
fn within<'a>(
    timeout: Option<Duration>,
    url: &'a str,
    exchange: impl Future<Output = Result<Exchange, Failure>> + 'a,
) -> impl Future<Output = Result<Exchange, Failure>> + 'a {
    let Some(limit) = timeout else { return Either::Left(exchange) };
    Either::Right(tokio::time::timeout(limit, exchange).map(move |answer| {
        answer.unwrap_or_else(|_| {
            let message = format!("call to {url} timed out after {limit:?}");
            Err(Failure::Lost(ServiceError::new(ErrorCode::Timeout, message)))
        })
    }))
}

async fn hyper_send(
    client: &HyperClient,
    request: Request<Body>,
    url: &str,
    limit: usize,
) -> Result<Exchange, Failure> {
    let response = client.request(request).await.map_err(|error| match error.is_connect() {
        true if timed_out(&error) => Failure::NotSent(failure(ErrorCode::Timeout, url, &error)),
        true => Failure::NotSent(failure(ErrorCode::Unavailable, url, &error)),
        // Over TLS 1.3 a server refuses a client certificate after the client considers
        // the handshake done: the refusal comes where the reply should, and nothing ran.
        false if certificate_refused(&error) => Failure::NotSent(failure(ErrorCode::Unavailable, url, &error)),
        false => Failure::Lost(failure(ErrorCode::Transport, url, &error)),
    })?;
    let (parts, body) = response.into_parts();
    let (body, trailers) = read_reply(body, url, limit).await?;
    Ok(Exchange { status: parts.status, headers: parts.headers, body, trailers })
}

/// A reply's body and trailers, read whole unless the body is larger than `limit`.
async fn read_reply<B>(body: B, url: &str, limit: usize) -> Result<(Bytes, Option<HeaderMap>), Failure>
where
    B: hyper::body::Body,
    B::Error: StdError + Send + Sync + 'static,
{
    match Limited::new(body, limit).collect().await {
        Ok(body) => {
            let trailers = body.trailers().cloned();
            Ok((body.to_bytes(), trailers))
        }
        Err(error) if error.is::<LengthLimitError>() => Err(Failure::Unusable(ServiceError::new(
            ErrorCode::PayloadTooLarge,
            format!("the reply of {url} is larger than {limit} bytes, the most this client reads"),
        ))),
        Err(error) => Err(Failure::Lost(failure(ErrorCode::Transport, url, error.as_ref()))),
    }
}

async fn reqwest_send(request: reqwest::RequestBuilder, url: &str, limit: usize) -> Result<Exchange, Failure> {
    let classify = |error: reqwest::Error| {
        let code = if error.is_timeout() {
            ErrorCode::Timeout
        } else if error.is_connect() {
            ErrorCode::Unavailable
        } else {
            ErrorCode::Transport
        };
        let fault = failure(code, url, &error);
        match error.is_connect() {
            true => Failure::NotSent(fault),
            false => Failure::Lost(fault),
        }
    };
    let response = request.send().await.map_err(classify)?;
    let status = response.status();
    let headers = response.headers().clone();
    let (body, trailers) = read_reply(reqwest::Body::from(response), url, limit).await?;
    Ok(Exchange { status, headers, body, trailers })
}

/// Whether a timeout anywhere down the chain caused `error` (a connect timeout, say).
fn timed_out(error: &(dyn StdError + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
            || error.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout)
        {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Whether the server ended the TLS handshake because of the client's certificate (none,
/// or one it does not accept).
fn certificate_refused(error: &(dyn StdError + 'static)) -> bool {
    use rustls::AlertDescription::{
        AccessDenied, BadCertificate, CertificateExpired, CertificateRequired, CertificateRevoked, CertificateUnknown,
        UnknownCA,
    };
    let mut cause = Some(error);
    while let Some(error) = cause {
        let tls = error.downcast_ref::<rustls::Error>().or_else(|| {
            error.downcast_ref::<io::Error>().and_then(|io| io.get_ref()).and_then(|inner| inner.downcast_ref())
        });
        if let Some(rustls::Error::AlertReceived(
            CertificateRequired | BadCertificate | UnknownCA | CertificateUnknown | CertificateRevoked
            | CertificateExpired | AccessDenied,
        )) = tls
        {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The error, with its causes: HTTP clients keep the useful part (refused, reset, ...)
/// there rather than in their own message.
fn failure(code: ErrorCode, url: &str, error: &(dyn StdError + 'static)) -> ServiceError {
    let mut message = format!("call to {url} failed: {error}");
    let mut cause = error.source();
    while let Some(error) = cause {
        message.push_str(": ");
        message.push_str(&error.to_string());
        cause = error.source();
    }
    ServiceError::new(code, message)
}

/// Configures an [`HttpClient`]. Made by [`HttpClient::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct HttpClientBuilder {
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    max_reply_bytes: usize,
    multiplex: bool,
    tls: Tls,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: usize::MAX,
            max_reply_bytes: MAX_REPLY_BYTES,
            multiplex: true,
            tls: Tls::default(),
        }
    }
}

impl HttpClientBuilder {
    /// How long opening a connection may take; slower ones fail with
    /// [`ErrorCode::Timeout`], and the call moves to another instance. Default:
    /// [`DEFAULT_CONNECT_TIMEOUT`], 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long an idle connection stays in the pool; `None` keeps it for as long as
    /// the peer does. Default: 90 s.
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// How many idle connections the pool keeps per instance. Default: no limit.
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// The largest reply body the client reads; a larger reply fails the call with
    /// [`ErrorCode::PayloadTooLarge`], and is not sent elsewhere. Default: 64 MiB.
    pub fn max_reply_bytes(mut self, limit: usize) -> Self {
        self.max_reply_bytes = limit;
        self
    }

    /// Whether every call to an instance goes over one connection, as frames, rather
    /// than as one HTTP/1.1 request per pooled connection: many calls in flight share the
    /// connection and its system calls, which serves more calls per second, each sooner.
    /// Servers take both; the connection is made (upgraded from HTTP/1.1) on the first
    /// call to an instance, and again after it closes. The pool settings apply only
    /// without it. Default: on.
    pub fn multiplex(mut self, multiplex: bool) -> Self {
        self.multiplex = multiplex;
        self
    }

    /// Trusts `certificate` too when verifying servers: your own CA.
    pub fn add_root_certificate(mut self, certificate: Certificate) -> Self {
        self.tls.roots.push(certificate);
        self
    }

    /// Whether servers may also prove themselves with a certificate the platform trusts
    /// (its CA bundle). Turn it off to trust only the certificates added with
    /// [`add_root_certificate`](Self::add_root_certificate). Default: on.
    pub fn platform_roots(mut self, trusted: bool) -> Self {
        self.tls.platform_roots = trusted;
        self
    }

    /// Presents `identity` to servers that ask for a client certificate (mutual TLS).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.tls.identity = Some(identity);
        self
    }

    /// Speaks TLS with this rustls configuration, in place of the roots and identity
    /// given here: for settings this builder has no method for. Give it `http/1.1` in its
    /// ALPN protocols, or none.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls.config = OnceLock::from(config);
        self
    }

    /// The client.
    pub fn build(self) -> HttpClient {
        let tls = Arc::new(self.tls);
        let grpc = Grpc::new(self.connect_timeout, Arc::clone(&tls));
        let transport = if self.multiplex {
            Transport::Multiplexed(Arc::new(Connections::new(self.connect_timeout, self.max_reply_bytes, tls)))
        } else {
            let connector = connector(&tls).enable_http1().wrap_connector(plain(self.connect_timeout));
            let client = legacy::Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(self.pool_idle_timeout)
                .pool_max_idle_per_host(self.pool_max_idle_per_host)
                .build(connector);
            Transport::Hyper(Arc::new(client))
        };
        HttpClient { transport, max_reply_bytes: self.max_reply_bytes, grpc }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn post(client: &HttpClient, url: &str, timeout: Option<Duration>) -> Failure {
        match client.send(Method::POST, url.to_owned(), HeaderMap::new(), Some(Bytes::from_static(b"x")), timeout).await
        {
            Ok(exchange) => panic!("an answer came: {}", exchange.status),
            Err(failure) => failure,
        }
    }

    #[tokio::test]
    async fn a_refused_connection_is_unavailable_and_not_sent_on_either_transport() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/invoke/c/s/m", listener.local_addr().expect("address"));
        drop(listener);
        for client in [HttpClient::new(), HttpClient::from(reqwest::Client::new())] {
            let Failure::NotSent(error) = post(&client, &url, None).await else { panic!("{client:?}: sent") };
            assert_eq!(error.code, ErrorCode::Unavailable, "{client:?}: {error}");
            assert!(error.message.contains(&url), "{error}");
        }
    }

    #[tokio::test]
    async fn a_peer_that_never_answers_times_out_and_may_have_run_the_call() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/invoke/c/s/m", listener.local_addr().expect("address"));
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        for client in [HttpClient::new(), HttpClient::from(reqwest::Client::new())] {
            let Failure::Lost(error) = post(&client, &url, Some(Duration::from_millis(100))).await else {
                panic!("{client:?}: not sent")
            };
            assert_eq!(error.code, ErrorCode::Timeout, "{client:?}: {error}");
        }
        silent.abort();
    }

    #[tokio::test]
    async fn a_peer_that_hangs_up_is_a_transport_fault() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/invoke/c/s/m", listener.local_addr().expect("address"));
        let rude = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
        let plain = HttpClient::builder().multiplex(false).build();
        let Failure::Lost(error) = post(&plain, &url, None).await else { panic!("not sent") };
        assert_eq!(error.code, ErrorCode::Transport, "{error}");
        rude.abort();
    }

    /// A peer that answers every request with a body of the size the request's path names.
    async fn generous_peer() -> (String, tokio::task::JoinHandle<()>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let peer = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = vec![0; 4096];
                    let read = stream.read(&mut request).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&request[..read]).into_owned();
                    let size: usize = head.split(' ').nth(1).and_then(|path| path[1..].parse().ok()).unwrap_or(0);
                    let reply = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n");
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.write_all(&vec![b'x'; size]).await;
                });
            }
        });
        (url, peer)
    }

    #[tokio::test]
    async fn a_reply_larger_than_the_limit_is_refused_on_either_transport() {
        let (url, peer) = generous_peer().await;
        let limited = HttpClient::builder().multiplex(false).max_reply_bytes(1000).build();
        let reqwest = HttpClient { max_reply_bytes: 1000, ..HttpClient::from(reqwest::Client::new()) };
        for client in [limited, reqwest] {
            let small = client.send(Method::POST, format!("{url}/1000"), HeaderMap::new(), None, None).await;
            assert!(small.is_ok_and(|exchange| exchange.body.len() == 1000), "{client:?}: a reply at the limit");
            let large = client.send(Method::POST, format!("{url}/100000"), HeaderMap::new(), None, None).await;
            let Err(Failure::Unusable(error)) = large else { panic!("{client:?}: a reply over the limit was read") };
            assert_eq!(error.code, ErrorCode::PayloadTooLarge, "{client:?}: {error}");
        }
        peer.abort();
    }
}
