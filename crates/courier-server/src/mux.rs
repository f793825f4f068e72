//! The server end of multiplexed connections: a client upgrades an HTTP/1.1 connection
//! with `GET /mux` and `Upgrade: courier-mux`, then sends request frames back to back.
//! Each runs as a task of its own through the same service as an HTTP request — fast
//! path, router, limits, authentication, tracing and metrics alike — and its response
//! goes back as a frame as soon as it is ready; responses are written in batches.

use crate::{fast_path::Host, response::error_response, server::AbortOnDrop};
use axum::{
    body::Body,
    response::Response,
    routing::{get, MethodRouter},
};
use bytes::{Bytes, BytesMut};
use courier_core::{
    sync::lock,
    wire::mux::{cancelled, Frame, FrameReader, RequestFrame, ResponseFrame, FRAME_OVERHEAD, PROTOCOL},
    ErrorCode, Format, ServiceError,
};
use foldhash::HashMap;
use http::{header, HeaderValue, Request, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::{
    io,
    sync::{Arc, Mutex},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufWriter},
    sync::{mpsc, oneshot, watch},
    task::JoinSet,
};

/// The most calls one multiplexed connection runs at once, as HTTP/1.1 runs one per
/// connection: a client cannot make a server hold more tasks than this per connection.
const MAX_CALLS_IN_FLIGHT: usize = 1024;

/// How many frames a connection reads ahead of the calls it has started: one, as more
/// measured slower, like reading in the connection's loop (`roundtrip`, 64 callers).
const READ_AHEAD: usize = 1;

/// The multiplexed connections of one server.
pub(crate) struct Hub {
    connections: Mutex<JoinSet<()>>,
    /// How many connections are open.
    open: watch::Sender<usize>,
    /// Turns true when the server drains: connections stop reading new frames.
    draining: watch::Receiver<bool>,
    /// The largest frame read; a larger request gets 413.
    max_frame_bytes: usize,
}

impl Hub {
    pub(crate) fn new(draining: watch::Receiver<bool>, max_body_bytes: usize, max_header_bytes: usize) -> Arc<Self> {
        let max_frame_bytes = max_body_bytes.saturating_add(max_header_bytes).saturating_add(FRAME_OVERHEAD);
        Arc::new(Self { connections: Mutex::default(), open: watch::Sender::new(0), draining, max_frame_bytes })
    }

    /// Whether `request` asks to upgrade to a multiplexed connection.
    pub(crate) fn wants<B>(request: &http::Request<B>) -> bool {
        request.uri().path() == courier_core::wire::mux::PATH
            && request.headers().get(header::UPGRADE).is_some_and(|protocol| protocol == PROTOCOL)
    }

    /// Answers the upgrade request with 101, and serves the connection once upgraded.
    pub(crate) fn accept(self: &Arc<Self>, upgrade: OnUpgrade, host: Host) -> Response {
        let hub = Arc::clone(self);
        let mut connections = lock(&self.connections);
        while connections.try_join_next().is_some() {}
        let open = Open::count(&self.open);
        connections.spawn(async move {
            let _open = open;
            match upgrade.await {
                Ok(upgraded) => hub.serve(upgraded, host).await,
                Err(error) => tracing::debug!(%error, "a multiplexed connection failed to upgrade"),
            }
        });
        drop(connections);
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        response.headers_mut().insert(header::UPGRADE, HeaderValue::from_static(PROTOCOL));
        response
    }

    /// The route that takes upgrades to multiplexed connections, for a router another
    /// app serves (with upgrades on, as `axum::serve` has them); `host` serves the frames.
    pub(crate) fn route(self: &Arc<Self>, host: Host) -> MethodRouter {
        let hub = Arc::clone(self);
        get(move |mut request: axum::extract::Request| {
            let answer = match Self::wants(&request) {
                true => hub.accept(hyper::upgrade::on(&mut request), host.clone()),
                false => {
                    let error = ServiceError::new(
                        ErrorCode::BadRequest,
                        format!("`{}` takes upgrades to `{PROTOCOL}` connections", courier_core::wire::mux::PATH),
                    );
                    error_response(Format::Json, &error)
                }
            };
            std::future::ready(answer)
        })
    }

    /// Waits until every connection has ended.
    pub(crate) async fn closed(&self) {
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|open| *open == 0).await;
    }

    /// Ends every connection now, and the calls they run with them.
    pub(crate) fn cut_off(&self) {
        lock(&self.connections).abort_all();
    }

    async fn serve(&self, upgraded: Upgraded, host: Host) {
        let (read, write) = tokio::io::split(TokioIo::new(upgraded));
        let replies = Arc::new(Replies::new(write));
        // By request id, how to stop a call whose caller no longer waits.
        let waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<()>>>> = Arc::default();
        // Frames are read by a task of their own, the next while this loop starts a call:
        // under many callers, reading in the loop costs a third of the throughput.
        let (frames, mut incoming) = mpsc::channel(READ_AHEAD);
        let reading = AbortOnDrop(tokio::spawn(read_frames(read, self.max_frame_bytes, frames)));
        let mut calls = JoinSet::new();
        let mut draining = self.draining.clone();
        // One wait for the whole connection, not one per frame.
        let mut drained = std::pin::pin!(drained(&mut draining));
        loop {
            tokio::select! {
                biased;
                Some(_) = calls.join_next(), if !calls.is_empty() => {}
                () = &mut drained => break,
                // At the cap, the connection waits (and its client with it) until a call ends.
                Some(frame) = incoming.recv(), if calls.len() < MAX_CALLS_IN_FLIGHT => match frame {
                    Ok(Frame::Whole(bytes)) if cancelled(&bytes).is_some() => {
                        let waiter = cancelled(&bytes).and_then(|id| lock(&waiting).remove(&id));
                        if let Some(waiter) = waiter {
                            let _ = waiter.send(());
                        }
                    }
                    Ok(Frame::Whole(bytes)) => match RequestFrame::decode(bytes) {
                        Ok(request) => {
                            let (host, replies, waiting) = (host.clone(), Arc::clone(&replies), Arc::clone(&waiting));
                            let (cancel, cancelled) = oneshot::channel();
                            let id = request.id;
                            lock(&waiting).insert(id, cancel);
                            calls.spawn(async move {
                                // A cancelled call stops here, never while its reply is written.
                                // Boxed when the task first runs: spawning moves the task's
                                // future, and the answer's is many times the rest of it.
                                let reply = tokio::select! {
                                    reply = Box::pin(answer(host, request)) => Some(reply),
                                    _ = cancelled => None,
                                };
                                let others = {
                                    let mut waiting = lock(&waiting);
                                    waiting.remove(&id);
                                    !waiting.is_empty()
                                };
                                if let Some(reply) = reply {
                                    replies.send(reply, others).await;
                                }
                            });
                        }
                        Err(error) => {
                            tracing::debug!(%error, "closing a multiplexed connection");
                            break;
                        }
                    },
                    Ok(Frame::TooLarge(id)) => replies.send(too_large(id, self.max_frame_bytes), false).await,
                    Ok(Frame::End) => break,
                    Err(error) => {
                        tracing::debug!(%error, "a multiplexed connection failed");
                        break;
                    }
                },
            }
        }
        // Calls taken finish and are answered; then the connection closes.
        drop(reading);
        while calls.join_next().await.is_some() {}
    }
}

/// Reads frames and hands them on, until the connection ends or nobody takes them.
async fn read_frames<R: AsyncRead + Unpin>(read: R, max: usize, frames: mpsc::Sender<io::Result<Frame>>) {
    let mut reader = FrameReader::new(read, max);
    loop {
        let frame = reader.next().await;
        let last = !matches!(frame, Ok(Frame::Whole(_) | Frame::TooLarge(_)));
        if frames.send(frame).await.is_err() || last {
            return;
        }
    }
}

/// Writes reply frames from the tasks that make them, without a writer task between:
/// the first to find the connection free writes every frame waiting, so replies ready
/// together go out together. A call task is cancelled only when its connection is cut
/// off, so no frame is left half written on a live connection.
struct Replies<W> {
    waiting: Mutex<Vec<BytesMut>>,
    /// The writer, and the list the frames it writes are swapped into.
    writer: tokio::sync::Mutex<(BufWriter<W>, Vec<BytesMut>)>,
}

impl<W: AsyncWrite + Unpin> Replies<W> {
    fn new(write: W) -> Self {
        let writer = (BufWriter::with_capacity(64 * 1024, write), Vec::new());
        Self { waiting: Mutex::default(), writer: tokio::sync::Mutex::new(writer) }
    }

    /// Sends `frame`, with whatever replies are waiting; when `others` are under way, the
    /// calls ready to run go first, so that replies they make go out in the same write.
    async fn send(&self, frame: BytesMut, others: bool) {
        lock(&self.waiting).push(frame);
        // Whoever holds the writer takes this frame too, and looks again once it lets go.
        loop {
            let Ok(mut guard) = self.writer.try_lock() else { return };
            if others {
                tokio::task::yield_now().await;
            }
            let (writer, frames) = &mut *guard;
            std::mem::swap(&mut *lock(&self.waiting), frames);
            for frame in frames.drain(..) {
                if writer.write_all(&frame).await.is_err() {
                    return;
                }
            }
            if writer.flush().await.is_err() {
                return;
            }
            drop(guard);
            if lock(&self.waiting).is_empty() {
                return;
            }
        }
    }
}

/// Counts a connection open until dropped, aborted or not.
struct Open(watch::Sender<usize>);

impl Open {
    fn count(open: &watch::Sender<usize>) -> Self {
        open.send_modify(|open| *open += 1);
        Self(open.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.send_modify(|open| *open = open.saturating_sub(1));
    }
}

/// Returns once the server drains.
async fn drained(draining: &mut watch::Receiver<bool>) {
    let _ = draining.wait_for(|draining| *draining).await;
}

/// Serves one request frame as an HTTP request, and encodes the response as a frame.
async fn answer(host: Host, frame: RequestFrame) -> BytesMut {
    // The path is a slice of the frame, and the URI shares it.
    let response = match http::Uri::from_maybe_shared(frame.path.clone()) {
        Ok(uri) => {
            let mut request = Request::new(Body::from(frame.body));
            *request.method_mut() = frame.method;
            *request.headers_mut() = frame.headers;
            *request.uri_mut() = uri;
            host.serve(request).await
        }
        Err(_) => {
            let error = ServiceError::bad_request(format!("`{}` is not a path", String::from_utf8_lossy(&frame.path)));
            error_response(Format::Json, &error)
        }
    };
    let (parts, body) = response.into_parts();
    let body = match crate::body::whole(body).await {
        Ok(body) => body,
        Err(error) => {
            tracing::warn!(%error, "a response body failed");
            Bytes::new()
        }
    };
    encode(ResponseFrame { id: frame.id, status: parts.status, headers: parts.headers, body })
}

/// The answer to a request frame larger than the server reads.
fn too_large(id: u64, max: usize) -> BytesMut {
    let error = ServiceError::new(ErrorCode::PayloadTooLarge, format!("request frame exceeds {max} bytes"));
    let mut headers = http::HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(Format::Json.content_type()));
    let body = Bytes::from(Format::Json.encode_error(&error));
    encode(ResponseFrame { id, status: StatusCode::PAYLOAD_TOO_LARGE, headers, body })
}

/// The frame, length first; kept as a `BytesMut`, since freezing it would allocate.
fn encode(frame: ResponseFrame) -> BytesMut {
    let mut out = BytesMut::with_capacity(frame.encoded_len());
    if let Err(error) = frame.encode(&mut out) {
        tracing::warn!(%error, "a response does not fit in a frame");
        out.clear();
        let empty = ResponseFrame {
            id: frame.id,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            headers: http::HeaderMap::new(),
            body: Bytes::new(),
        };
        let _ = empty.encode(&mut out);
    }
    out
}
