//! The client end of multiplexed connections: one connection per instance, upgraded from
//! HTTP/1.1, over which every call to that instance travels as a frame; replies come back
//! in any order and find their call by id. Frames waiting to go out are written together.
//! To `https://` instances, the connection is TLS, and upgraded inside it.

use crate::{
    http::{Exchange, Failure},
    tls::Tls,
};
use bytes::{Bytes, BytesMut};
use courier_core::{
    sync::lock,
    wire::mux::{Frame, FrameReader, RequestFrame, ResponseFrame, FRAME_OVERHEAD, PATH, PROTOCOL},
    ErrorCode, ServiceError,
};
use foldhash::HashMap;
use http::{HeaderMap, Method};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter},
    net::TcpStream,
    sync::{mpsc, oneshot},
    task::JoinHandle,
};
use tokio_rustls::TlsConnector;

/// The largest response head read while upgrading.
const MAX_UPGRADE_HEAD: usize = 16 * 1024;

/// One connection per instance, made on first use and again once it closes.
#[derive(Debug)]
pub(crate) struct Connections {
    /// By instance (`http://host:port` or `https://host:port`), its connection, if one
    /// is open: connecting to one instance holds up only the calls to it.
    open: Mutex<HashMap<String, Slot>>,
    connect_timeout: Option<Duration>,
    max_reply_bytes: usize,
    tls: Arc<Tls>,
}

/// The connection to one instance, once made.
type Slot = Arc<SlotState>;

/// Calls take an open connection without waiting on each other; only a call that finds
/// none waits, for the one call that connects.
#[derive(Debug, Default)]
struct SlotState {
    open: Mutex<Option<Arc<Connection>>>,
    connecting: tokio::sync::Mutex<()>,
}

impl SlotState {
    fn open(&self) -> Option<Arc<Connection>> {
        lock(&self.open).as_ref().filter(|connection| !connection.closed.load(Ordering::Acquire)).cloned()
    }
}

/// Where a reply goes: the call waiting for it.
type Waiting = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<ResponseFrame, Failure>>>>>;

#[derive(Debug)]
struct Connection {
    /// Frames to write, each as encoded: sent on as it is, with no copy or freeze.
    outgoing: mpsc::UnboundedSender<BytesMut>,
    waiting: Waiting,
    /// Set once the connection stops reading: no reply will come any more.
    closed: Arc<AtomicBool>,
    next_id: AtomicU64,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

impl Connections {
    pub(crate) fn new(connect_timeout: Option<Duration>, max_reply_bytes: usize, tls: Arc<Tls>) -> Self {
        Self { open: Mutex::default(), connect_timeout, max_reply_bytes, tls }
    }

    /// Sends a request to `url` over the connection to its instance, and waits for the
    /// reply.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Exchange, Failure> {
        let not_sent = |message: String| Failure::NotSent(ServiceError::new(ErrorCode::Unavailable, message));
        let (secure, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (None, Some(rest)) => (true, rest),
            (None, None) => return Err(not_sent(format!("cannot multiplex calls to {url}"))),
        };
        let (authority, path) = rest.find('/').map_or((rest, "/"), |slash| rest.split_at(slash));
        let origin = &url[..url.len() - rest.len() + authority.len()];
        let connection = self
            .connection(origin, secure, authority)
            .await
            .map_err(|error| not_sent(format!("call to {url} failed: {error}")))?;
        let id = connection.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = RequestFrame {
            id,
            method,
            path: Bytes::copy_from_slice(path.as_bytes()),
            headers,
            body: body.unwrap_or_default(),
        };
        let mut encoded = BytesMut::with_capacity(frame.encoded_len());
        frame.encode(&mut encoded).map_err(|error| Failure::NotSent(ServiceError::bad_request(error.to_string())))?;
        let (reply, replied) = oneshot::channel();
        let _waiting = Waiter::register(&connection, id, reply);
        if connection.closed.load(Ordering::Acquire) || connection.outgoing.send(encoded).is_err() {
            return Err(not_sent(format!("the connection to {authority} closed before the call went out")));
        }
        let lost = || {
            Failure::Lost(ServiceError::new(
                ErrorCode::Transport,
                format!("the connection to {authority} closed mid-call"),
            ))
        };
        let frame = replied.await.map_err(|_| lost())??;
        Ok(Exchange { status: frame.status, headers: frame.headers, body: frame.body, trailers: None })
    }

    /// The open connection to `origin` (`authority`, over TLS when `secure`), made now if
    /// there is none.
    async fn connection(&self, origin: &str, secure: bool, authority: &str) -> std::io::Result<Arc<Connection>> {
        let slot = {
            let mut open = lock(&self.open);
            match open.get(origin) {
                Some(slot) => Arc::clone(slot),
                None => Arc::clone(open.entry(origin.to_owned()).or_default()),
            }
        };
        if let Some(connection) = slot.open() {
            return Ok(connection);
        }
        let _connecting = slot.connecting.lock().await;
        if let Some(connection) = slot.open() {
            return Ok(connection);
        }
        let tls = secure.then(|| self.tls.config());
        // Boxed: connecting happens once per connection, and its future, TLS handshake
        // included, is far larger than a call's.
        let connect = Box::pin(connect(authority, tls, self.max_reply_bytes));
        let connection = match self.connect_timeout {
            Some(limit) => tokio::time::timeout(limit, connect)
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??,
            None => connect.await?,
        };
        let connection = Arc::new(connection);
        *lock(&slot.open) = Some(Arc::clone(&connection));
        Ok(connection)
    }
}

/// Opens a connection to `authority`, over TLS when given its configuration, and
/// upgrades it.
async fn connect(
    authority: &str,
    tls: Option<Arc<ClientConfig>>,
    max_reply_bytes: usize,
) -> std::io::Result<Connection> {
    let stream = TcpStream::connect(authority).await?;
    stream.set_nodelay(true)?;
    let Some(tls) = tls else {
        let (read, write) = upgrade(stream, authority).await?.into_split();
        return Ok(start(read, write, max_reply_bytes));
    };
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|byte| byte.is_ascii_digit()) => host,
        _ => authority,
    };
    let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_owned())
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("`{host}`: {error}")))?;
    let stream = TlsConnector::from(tls).connect(name, stream).await.map_err(|error| {
        std::io::Error::new(error.kind(), format!("the TLS handshake with {authority} failed: {error}"))
    })?;
    let (read, write) = tokio::io::split(upgrade(stream, authority).await?);
    Ok(start(read, write, max_reply_bytes))
}

/// Asks the server at the other end of `stream` to multiplex.
async fn upgrade<S>(mut stream: S, authority: &str) -> std::io::Result<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let refused = |message: String| std::io::Error::new(std::io::ErrorKind::ConnectionRefused, message);
    let upgrade =
        format!("GET {PATH} HTTP/1.1\r\nhost: {authority}\r\nconnection: upgrade\r\nupgrade: {PROTOCOL}\r\n\r\n");
    stream.write_all(upgrade.as_bytes()).await?;
    stream.flush().await?;
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_UPGRADE_HEAD {
            return Err(refused(format!("{authority} answered the upgrade with an endless head")));
        }
        head.push(stream.read_u8().await?);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        let status = String::from_utf8_lossy(head.split(|byte| *byte == b'\r').next().unwrap_or_default()).into_owned();
        return Err(refused(format!("{authority} does not multiplex: it answered `{status}`")));
    }
    Ok(stream)
}

/// Starts reading replies and writing calls over an upgraded connection.
fn start<R, W>(read: R, write: W, max_reply_bytes: usize) -> Connection
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (outgoing, frames) = mpsc::unbounded_channel();
    let (waiting, closed) = (Waiting::default(), Arc::new(AtomicBool::new(false)));
    let replies = read_replies(read, Arc::clone(&waiting), Arc::clone(&closed), max_reply_bytes);
    let (reader, writer) = (tokio::spawn(replies), tokio::spawn(write_frames(write, frames, Arc::clone(&waiting))));
    Connection { outgoing, waiting, closed, next_id: AtomicU64::new(0), reader, writer }
}

/// Hands every reply to its call; when the connection ends, the calls still waiting get
/// nothing, and fail as lost.
async fn read_replies<R: tokio::io::AsyncRead + Unpin>(
    reader: R,
    waiting: Waiting,
    closed: Arc<AtomicBool>,
    max_reply_bytes: usize,
) {
    let mut reader = FrameReader::new(reader, max_reply_bytes.saturating_add(FRAME_OVERHEAD));
    loop {
        let (id, reply) = match reader.next().await {
            Ok(Frame::Whole(bytes)) => match ResponseFrame::decode(bytes) {
                Ok(frame) if frame.body.len() > max_reply_bytes => (frame.id, Err(too_large(max_reply_bytes))),
                Ok(frame) => (frame.id, Ok(frame)),
                Err(error) => {
                    tracing::debug!(%error, "closing a multiplexed connection");
                    break;
                }
            },
            Ok(Frame::TooLarge(id)) => (id, Err(too_large(max_reply_bytes))),
            Ok(Frame::End) | Err(_) => break,
        };
        let waiter = lock(&waiting).remove(&id);
        if let Some(waiter) = waiter {
            let _ = waiter.send(reply);
        }
    }
    closed.store(true, Ordering::Release);
    lock(&waiting).clear();
}

/// Writes frames as they come, flushing once no more are waiting: before it flushes, and
/// when other calls are under way, it lets the calls ready to run go first, so that
/// frames they send go out in the same write.
async fn write_frames<W: AsyncWrite + Unpin>(
    write: W,
    mut outgoing: mpsc::UnboundedReceiver<BytesMut>,
    waiting: Waiting,
) {
    let mut writer = BufWriter::with_capacity(64 * 1024, write);
    while let Some(frame) = outgoing.recv().await {
        let mut written = writer.write_all(&frame).await;
        // A call alone has no one to wait for.
        let mut yielded = lock(&waiting).len() <= 1;
        while written.is_ok() {
            match outgoing.try_recv() {
                Ok(frame) => written = writer.write_all(&frame).await,
                Err(_) if !yielded => {
                    yielded = true;
                    tokio::task::yield_now().await;
                }
                Err(_) => break,
            }
        }
        if written.is_err() || writer.flush().await.is_err() {
            return;
        }
    }
}

fn too_large(max_reply_bytes: usize) -> Failure {
    Failure::Unusable(ServiceError::new(
        ErrorCode::PayloadTooLarge,
        format!("the reply is larger than {max_reply_bytes} bytes, the most this client reads"),
    ))
}

/// A call waiting for its reply; it stops waiting when dropped, and a call dropped
/// before its reply came tells the server, which stops working on it.
struct Waiter<'a> {
    connection: &'a Connection,
    id: u64,
}

impl<'a> Waiter<'a> {
    fn register(connection: &'a Connection, id: u64, reply: oneshot::Sender<Result<ResponseFrame, Failure>>) -> Self {
        lock(&connection.waiting).insert(id, reply);
        Self { connection, id }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        let unanswered = lock(&self.connection.waiting).remove(&self.id);
        if unanswered.is_some() && !self.connection.closed.load(Ordering::Acquire) {
            let _ = self.connection.outgoing.send(courier_core::wire::mux::cancel(self.id));
        }
    }
}
