//! The HTTP client under the dispatch channels: hyper's pooled HTTP/1 client by default,
//! or a `reqwest::Client` of the user's own for TLS or proxies.

use crate::targets::Target;
use bytes::Bytes;
use courier_core::{ErrorCode, ServiceError};
use http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{self, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use std::{error::Error as StdError, fmt, io, sync::Arc, time::Duration};

/// The pooled HTTP client that dispatch channels send calls through; one per
/// [`ServiceManager`](crate::ServiceManager), shared by all its proxies. Cheap to clone:
/// clones share the pool.
///
/// The default speaks HTTP/1.1 over plain TCP with `TCP_NODELAY`, keeps idle connections
/// for 90 seconds and sets no timeout. [`HttpClient::builder`] changes that; a
/// `reqwest::Client` converts into one, for TLS, proxies or anything else reqwest offers,
/// at the cost of a few microseconds per call.
///
/// ```
/// use courier_client::{HttpClient, ServiceManager};
/// use std::time::Duration;
///
/// let client = HttpClient::builder().timeout(Duration::from_secs(5)).build();
/// let services = ServiceManager::builder().http_client(client).build();
/// ```
#[derive(Clone)]
pub struct HttpClient {
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Hyper(Arc<Hyper>),
    Reqwest(reqwest::Client),
}

struct Hyper {
    client: legacy::Client<HttpConnector, Full<Bytes>>,
    timeout: Option<Duration>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            Transport::Hyper(hyper) => {
                f.debug_struct("HttpClient").field("transport", &"hyper").field("timeout", &hyper.timeout).finish()
            }
            Transport::Reqwest(client) => f.debug_struct("HttpClient").field("transport", client).finish(),
        }
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
        Self { transport: Transport::Reqwest(client) }
    }
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

    /// POSTs `body` to `target` and reads the whole reply.
    pub(crate) async fn post(
        &self,
        target: Target,
        content_type: &HeaderValue,
        body: Vec<u8>,
    ) -> Result<Exchange, ServiceError> {
        match &self.transport {
            Transport::Hyper(hyper) => match hyper.timeout {
                None => hyper_post(&hyper.client, target, content_type, body).await,
                Some(limit) => {
                    let uri = target.uri.clone();
                    let exchange = hyper_post(&hyper.client, target, content_type, body);
                    tokio::time::timeout(limit, exchange).await.unwrap_or_else(|_| {
                        Err(ServiceError::new(ErrorCode::Timeout, format!("call to {uri} timed out after {limit:?}")))
                    })
                }
            },
            Transport::Reqwest(client) => reqwest_post(client, &target.uri.to_string(), content_type, body).await,
        }
    }
}

/// A reply, read whole.
pub(crate) struct Exchange {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

async fn hyper_post(
    client: &legacy::Client<HttpConnector, Full<Bytes>>,
    target: Target,
    content_type: &HeaderValue,
    body: Vec<u8>,
) -> Result<Exchange, ServiceError> {
    let Target { uri, host } = target;
    let url = uri.clone();
    let mut request = Request::new(Full::new(Bytes::from(body)));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.insert(header::HOST, host);
    headers.insert(header::CONTENT_TYPE, content_type.clone());
    headers.insert(header::ACCEPT, content_type.clone());
    let response = client.request(request).await.map_err(|error| {
        let code = match error.is_connect() {
            _ if timed_out(&error) => ErrorCode::Timeout,
            true => ErrorCode::Unavailable,
            false => ErrorCode::Transport,
        };
        failure(code, &url, &error)
    })?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|error| failure(ErrorCode::Transport, &url, &error))?.to_bytes();
    Ok(Exchange { status: parts.status, headers: parts.headers, body })
}

async fn reqwest_post(
    client: &reqwest::Client,
    url: &str,
    content_type: &HeaderValue,
    body: Vec<u8>,
) -> Result<Exchange, ServiceError> {
    let response = client
        .post(url)
        .header(header::CONTENT_TYPE, content_type.clone())
        .header(header::ACCEPT, content_type.clone())
        .body(body)
        .send()
        .await
        .map_err(|error| reqwest_failure(url, &error))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|error| reqwest_failure(url, &error))?;
    Ok(Exchange { status, headers, body })
}

fn reqwest_failure(url: &str, error: &reqwest::Error) -> ServiceError {
    let code = if error.is_timeout() {
        ErrorCode::Timeout
    } else if error.is_connect() {
        ErrorCode::Unavailable
    } else {
        ErrorCode::Transport
    };
    failure(code, &url, error)
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

/// The error, with its causes: HTTP clients keep the useful part (refused, reset, ...)
/// there rather than in their own message.
fn failure(code: ErrorCode, url: &dyn fmt::Display, error: &(dyn StdError + 'static)) -> ServiceError {
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
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self {
            timeout: None,
            connect_timeout: None,
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: usize::MAX,
        }
    }
}

impl HttpClientBuilder {
    /// How long a whole call may take, connecting and reading the reply included;
    /// slower calls fail with [`ErrorCode::Timeout`]. Default: no limit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long opening a connection may take; slower ones fail with
    /// [`ErrorCode::Timeout`]. Default: no limit but the operating system's.
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

    /// The client.
    pub fn build(self) -> HttpClient {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(self.connect_timeout);
        let client = legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(connector);
        HttpClient { transport: Transport::Hyper(Arc::new(Hyper { client, timeout: self.timeout })) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    const MSGPACK: HeaderValue = HeaderValue::from_static("application/msgpack");

    fn target(url: &str) -> Target {
        let uri: http::Uri = url.parse().expect("URI");
        let host = HeaderValue::try_from(uri.authority().expect("authority").as_str()).expect("host");
        Target { uri, host }
    }

    /// A URL where nothing listens.
    async fn refusing_url() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/invoke/c/s/m", listener.local_addr().expect("address"));
        drop(listener);
        url
    }

    #[tokio::test]
    async fn a_refused_connection_is_unavailable_on_either_transport() {
        let url = refusing_url().await;
        for client in [HttpClient::new(), HttpClient::from(reqwest::Client::new())] {
            let error = client.post(target(&url), &MSGPACK, Vec::new()).await.err().expect("nothing listens");
            assert_eq!(error.code, ErrorCode::Unavailable, "{client:?}: {error}");
            assert!(error.message.contains(&url), "{error}");
        }
    }

    #[tokio::test]
    async fn a_peer_that_never_answers_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/invoke/c/s/m", listener.local_addr().expect("address"));
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let client = HttpClient::builder().timeout(Duration::from_millis(100)).build();
        let error = client.post(target(&url), &MSGPACK, b"body".to_vec()).await.err().expect("no answer comes");
        assert_eq!(error.code, ErrorCode::Timeout, "{error}");
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
        let error =
            HttpClient::new().post(target(&url), &MSGPACK, b"body".to_vec()).await.err().expect("no answer comes");
        assert_eq!(error.code, ErrorCode::Transport, "{error}");
        rude.abort();
    }
}
