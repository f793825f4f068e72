//! The frames of a multiplexed connection: HTTP requests and responses, each with an id,
//! sent back to back over one connection that was upgraded from HTTP/1.1. Both ends
//! answer frames exactly as they answer HTTP, so every channel, limit and check applies.
//!
//! A frame is a 4-byte big-endian length, then:
//!
//! | request | response |
//! |---|---|
//! | id: u64 | id: u64 |
//! | kind 0: u8 | kind 1: u8 |
//! | method: u8 length, bytes | status: u16 |
//! | path and query: u16 length, bytes | |
//! | headers: u16 count, then u16-length name and value of each | headers, the same |
//! | body: the rest | body: the rest |
//!
//! A client that stops waiting for a reply sends a cancel frame: the id, then kind 2.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The path a client asks to upgrade.
pub const PATH: &str = "/mux";

/// The protocol named in the `Upgrade` header.
pub const PROTOCOL: &str = "courier-mux";

/// How many bytes of a frame are not its body, at most, besides its headers.
pub const FRAME_OVERHEAD: usize = 4 + 8 + 1 + 1 + 255 + 2 + 65_535 + 2;

const REQUEST: u8 = 0;
const RESPONSE: u8 = 1;
const CANCEL: u8 = 2;

/// The frame, length first, that tells the server its caller no longer waits for `id`.
pub fn cancel(id: u64) -> BytesMut {
    let mut out = BytesMut::with_capacity(13);
    out.put_u32(9);
    out.put_u64(id);
    out.put_u8(CANCEL);
    out
}

/// The id a cancel frame (without its length) cancels; `None` for any other frame.
pub fn cancelled(frame: &[u8]) -> Option<u64> {
    match frame {
        [id @ .., CANCEL] if id.len() == 8 => id.try_into().ok().map(u64::from_be_bytes),
        _ => None,
    }
}

/// One request on a multiplexed connection.
#[derive(Debug)]
pub struct RequestFrame {
    /// Matches the response to the request.
    pub id: u64,
    /// The HTTP method.
    pub method: Method,
    /// The path, and the query if there is one, as sent: the server reads it as a URI
    /// and answers 400 when it is none.
    pub path: Bytes,
    /// The request's headers.
    pub headers: HeaderMap,
    /// The request's body.
    pub body: Bytes,
}

/// One response on a multiplexed connection.
#[derive(Debug)]
pub struct ResponseFrame {
    /// The id of the request answered.
    pub id: u64,
    /// The HTTP status.
    pub status: StatusCode,
    /// The response's headers.
    pub headers: HeaderMap,
    /// The response's body.
    pub body: Bytes,
}

/// Why bytes are not a frame.
#[derive(Debug, thiserror::Error)]
#[error("malformed frame: {0}")]
pub struct FrameError(&'static str);

impl RequestFrame {
    /// How many bytes [`encode`](Self::encode) appends.
    pub fn encoded_len(&self) -> usize {
        HEAD + 1 + self.method.as_str().len() + 2 + self.path.len() + headers_len(&self.headers) + self.body.len()
    }

    /// Appends the frame, length first, to `out`.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), FrameError> {
        let start = begin(out, self.id, REQUEST);
        put_short(out, self.method.as_str().as_bytes(), u8::MAX.into(), "method too long")?;
        put_long(out, &self.path, "path too long")?;
        put_headers(out, &self.headers)?;
        out.put_slice(&self.body);
        finish(out, start)
    }

    /// The frame in `bytes` (without its length).
    pub fn decode(mut bytes: Bytes) -> Result<Self, FrameError> {
        let id = take_head(&mut bytes, REQUEST)?;
        let method = take_short(&mut bytes)?;
        let method = Method::from_bytes(&method).map_err(|_| FrameError("not an HTTP method"))?;
        let path = take_long(&mut bytes)?;
        let headers = take_headers(&mut bytes)?;
        Ok(Self { id, method, path, headers, body: bytes })
    }
}

impl ResponseFrame {
    /// How many bytes [`encode`](Self::encode) appends.
    pub fn encoded_len(&self) -> usize {
        HEAD + 2 + headers_len(&self.headers) + self.body.len()
    }

    /// Appends the frame, length first, to `out`.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), FrameError> {
        let start = begin(out, self.id, RESPONSE);
        out.put_u16(self.status.as_u16());
        put_headers(out, &self.headers)?;
        out.put_slice(&self.body);
        finish(out, start)
    }

    /// The frame in `bytes` (without its length).
    pub fn decode(mut bytes: Bytes) -> Result<Self, FrameError> {
        let id = take_head(&mut bytes, RESPONSE)?;
        let status = StatusCode::from_u16(take_u16(&mut bytes)?).map_err(|_| FrameError("not an HTTP status"))?;
        let headers = take_headers(&mut bytes)?;
        Ok(Self { id, status, headers, body: bytes })
    }
}

/// The length, the id and the kind.
const HEAD: usize = 4 + 8 + 1;

/// The bytes [`put_headers`] appends.
fn headers_len(headers: &HeaderMap) -> usize {
    2 + headers.iter().map(|(name, value)| 4 + name.as_str().len() + value.len()).sum::<usize>()
}

/// Writes the length placeholder, the id and the kind; returns where the frame starts.
fn begin(out: &mut BytesMut, id: u64, kind: u8) -> usize {
    let start = out.len();
    out.put_u32(0);
    out.put_u64(id);
    out.put_u8(kind);
    start
}

/// Fills in the length of the frame that starts at `start`.
fn finish(out: &mut BytesMut, start: usize) -> Result<(), FrameError> {
    let length = u32::try_from(out.len() - start - 4).map_err(|_| FrameError("frame longer than 4 GiB"))?;
    out[start..start + 4].copy_from_slice(&length.to_be_bytes());
    Ok(())
}

fn put_short(out: &mut BytesMut, bytes: &[u8], max: usize, error: &'static str) -> Result<(), FrameError> {
    let length =
        u8::try_from(bytes.len()).ok().filter(|length| usize::from(*length) <= max).ok_or(FrameError(error))?;
    out.put_u8(length);
    out.put_slice(bytes);
    Ok(())
}

fn put_long(out: &mut BytesMut, bytes: &[u8], error: &'static str) -> Result<(), FrameError> {
    out.put_u16(u16::try_from(bytes.len()).map_err(|_| FrameError(error))?);
    out.put_slice(bytes);
    Ok(())
}

fn put_headers(out: &mut BytesMut, headers: &HeaderMap) -> Result<(), FrameError> {
    out.put_u16(u16::try_from(headers.len()).map_err(|_| FrameError("too many headers"))?);
    for (name, value) in headers {
        put_long(out, name.as_str().as_bytes(), "header name too long")?;
        put_long(out, value.as_bytes(), "header value too long")?;
    }
    Ok(())
}

fn take_head(bytes: &mut Bytes, kind: u8) -> Result<u64, FrameError> {
    if bytes.remaining() < 9 {
        return Err(FrameError("shorter than its head"));
    }
    let id = bytes.get_u64();
    match bytes.get_u8() == kind {
        true => Ok(id),
        false => Err(FrameError("not the kind of frame expected")),
    }
}

fn take_u8(bytes: &mut Bytes) -> Result<u8, FrameError> {
    bytes.try_get_u8().map_err(|_| FrameError("cut short"))
}

fn take_u16(bytes: &mut Bytes) -> Result<u16, FrameError> {
    bytes.try_get_u16().map_err(|_| FrameError("cut short"))
}

/// Bytes after a one-byte length.
fn take_short(bytes: &mut Bytes) -> Result<Bytes, FrameError> {
    let length = take_u8(bytes)?;
    take(bytes, usize::from(length))
}

/// Bytes after a two-byte length.
fn take_long(bytes: &mut Bytes) -> Result<Bytes, FrameError> {
    let length = take_u16(bytes)?;
    take(bytes, usize::from(length))
}

fn take(bytes: &mut Bytes, length: usize) -> Result<Bytes, FrameError> {
    match bytes.remaining() >= length {
        true => Ok(bytes.split_to(length)),
        false => Err(FrameError("cut short")),
    }
}

fn take_headers(bytes: &mut Bytes) -> Result<HeaderMap, FrameError> {
    let count = take_u16(bytes)?;
    // Each header takes at least four bytes: a count past that is a lie, not a capacity.
    let mut headers = HeaderMap::with_capacity(usize::from(count).min(bytes.remaining() / 4).min(64));
    for _ in 0..count {
        let name = take_long(bytes)?;
        let value = take_long(bytes)?;
        // A name of its own would be copied out of the frame: the one courier sends on
        // every call is not.
        let name = match &name[..] {
            b"traceparent" => crate::TraceContext::HEADER_NAME,
            name => HeaderName::from_bytes(name).map_err(|_| FrameError("not a header name"))?,
        };
        let value = HeaderValue::from_maybe_shared(value).map_err(|_| FrameError("not a header value"))?;
        headers.try_append(name, value).map_err(|_| FrameError("too many headers"))?;
    }
    Ok(headers)
}

/// What came off a connection.
#[derive(Debug)]
pub enum Frame {
    /// A frame, without its length.
    Whole(Bytes),
    /// A frame larger than the limit, skipped: its id.
    TooLarge(u64),
    /// The peer closed the connection.
    End,
}

/// Reads frames off one connection into a buffer it reuses: each frame is a slice of it,
/// so reading a frame allocates nothing once the frames before it are dropped.
#[derive(Debug)]
pub struct FrameReader<R> {
    reader: R,
    buffer: BytesMut,
    /// The longest frame read; a longer one is skipped.
    max: usize,
    /// The frame being skipped, by id, and how many of its bytes are still to come.
    skipping: Option<(u64, usize)>,
}

/// How much room a [`FrameReader`] makes for reading, at least.
const READ_SIZE: usize = 64 * 1024;

/// The least room a [`FrameReader`] reads into before it makes more.
const MIN_READ: usize = 8 * 1024;

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Reads frames of at most `max` bytes from `reader`.
    pub fn new(reader: R, max: usize) -> Self {
        Self { reader, buffer: BytesMut::with_capacity(READ_SIZE), max, skipping: None }
    }

    /// The next frame, skipping one longer than the limit.
    ///
    /// Cancel safe: everything read is kept in the reader, so a call dropped before it
    /// returns (a branch of `tokio::select!` that lost) loses no bytes, and the next call
    /// goes on where it stopped.
    pub async fn next(&mut self) -> io::Result<Frame> {
        loop {
            let wanted = match self.cut() {
                Ok(frame) => return Ok(frame),
                Err(wanted) => wanted,
            };
            // Reads into the room left after the frames cut from the buffer, while they are
            // still in use: making room each time would allocate a new buffer per frame.
            // Once there is too little, a new buffer is made, or this one is reclaimed in
            // place if every frame cut from it is gone.
            let needed = wanted.saturating_sub(self.buffer.len());
            if self.buffer.capacity() - self.buffer.len() < needed.max(MIN_READ) {
                self.buffer.reserve(needed.max(READ_SIZE));
            }
            if self.reader.read_buf(&mut self.buffer).await? == 0 {
                return match self.buffer.is_empty() && self.skipping.is_none() {
                    true => Ok(Frame::End),
                    false => Err(io::ErrorKind::UnexpectedEof.into()),
                };
            }
        }
    }

    /// The next frame in what has been read, or how many bytes the buffer must hold
    /// before there is one.
    fn cut(&mut self) -> Result<Frame, usize> {
        let (id, left) = match self.skipping.take() {
            Some(skipping) => skipping,
            None => {
                if self.buffer.len() < 4 {
                    return Err(4);
                }
                let length =
                    u32::from_be_bytes([self.buffer[0], self.buffer[1], self.buffer[2], self.buffer[3]]) as usize;
                if length <= self.max {
                    if self.buffer.len() < 4 + length {
                        return Err(4 + length);
                    }
                    self.buffer.advance(4);
                    return Ok(Frame::Whole(self.buffer.split_to(length).freeze()));
                }
                if self.buffer.len() < 12 {
                    return Err(12);
                }
                (u64::from_be_bytes(self.buffer[4..12].try_into().unwrap_or_default()), length + 4)
            }
        };
        let dropped = left.min(self.buffer.len());
        self.buffer.advance(dropped);
        match left - dropped {
            0 => Ok(Frame::TooLarge(id)),
            left => {
                self.skipping = Some((id, left));
                Err(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_garbage_is_an_error() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/msgpack"));
        headers.append("x-many", HeaderValue::from_static("one"));
        headers.append("x-many", HeaderValue::from_static("two"));
        let request = RequestFrame {
            id: 7,
            method: Method::PATCH,
            path: Bytes::from_static(b"/api/trees/7?name=x"),
            headers: headers.clone(),
            body: Bytes::from_static(b"\x91\x01"),
        };
        let mut out = BytesMut::new();
        request.encode(&mut out).expect("encodes");
        let length = u32::from_be_bytes(out[..4].try_into().expect("four bytes")) as usize;
        assert_eq!(length, out.len() - 4);
        assert_eq!(request.encoded_len(), out.len(), "a request frame's size is known before it is encoded");
        let decoded = RequestFrame::decode(out.freeze().slice(4..)).expect("decodes");
        assert_eq!((decoded.id, &decoded.method, &decoded.path[..]), (7, &Method::PATCH, &b"/api/trees/7?name=x"[..]));
        assert_eq!((decoded.headers, decoded.body), (headers.clone(), request.body.clone()));

        let response = ResponseFrame { id: 9, status: StatusCode::CREATED, headers, body: Bytes::from_static(b"{}") };
        let mut out = BytesMut::new();
        response.encode(&mut out).expect("encodes");
        assert_eq!(response.encoded_len(), out.len(), "a response frame's size is known before it is encoded");
        let decoded = ResponseFrame::decode(out.freeze().slice(4..)).expect("decodes");
        assert_eq!((decoded.id, decoded.status, decoded.body), (9, StatusCode::CREATED, response.body));

        assert_eq!(cancelled(&cancel(77)[4..]), Some(77));
        assert_eq!(cancelled(&[0; 9]), None);

        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..10_000 {
            let mut garbage: Vec<u8> = (0..rng.usize(9..80)).map(|_| rng.u8(..)).collect();
            garbage[8] = REQUEST;
            let _ = RequestFrame::decode(Bytes::from(garbage.clone()));
            garbage[8] = RESPONSE;
            let _ = ResponseFrame::decode(Bytes::from(garbage));
        }
    }

    /// Hands out its bytes seven at a time, as a socket might.
    struct Trickle(Vec<u8>, usize);

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            out: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            let (taken, end) = (self.1, (self.1 + 7).min(self.0.len()));
            out.put_slice(&self.0[taken..end]);
            self.1 = end;
            std::task::Poll::Ready(Ok(()))
        }
    }

    fn frame(id: u64, body: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        ResponseFrame { id, status: StatusCode::OK, headers: HeaderMap::new(), body: Bytes::copy_from_slice(body) }
            .encode(&mut out)
            .expect("encodes");
        out.to_vec()
    }

    #[tokio::test]
    async fn frames_read_whole_across_short_reads_and_a_long_one_is_skipped_by_id() {
        let mut wire = frame(1, b"small");
        wire.extend(frame(2, &[7; 300]));
        wire.extend(frame(3, b"after"));
        let mut frames = FrameReader::new(Trickle(wire, 0), 100);
        let body = |frame: Frame| match frame {
            Frame::Whole(bytes) => ResponseFrame::decode(bytes).expect("decodes").body,
            other => panic!("not a whole frame: {other:?}"),
        };
        assert_eq!(body(frames.next().await.expect("frame 1")), &b"small"[..]);
        assert!(matches!(frames.next().await.expect("frame 2"), Frame::TooLarge(2)));
        assert_eq!(body(frames.next().await.expect("frame 3")), &b"after"[..]);
        assert!(matches!(frames.next().await.expect("the end"), Frame::End));
    }

    /// Every other read is not ready yet; the ready ones give 7 bytes, as `Trickle`.
    struct Stutter(Trickle, bool);

    impl AsyncRead for Stutter {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            context: &mut std::task::Context<'_>,
            out: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            self.1 = !self.1;
            match self.1 {
                true => std::task::Poll::Pending,
                false => std::pin::Pin::new(&mut self.0).poll_read(context, out),
            }
        }
    }

    #[test]
    fn reading_a_frame_given_up_halfway_loses_nothing() {
        use futures_util::FutureExt;
        let mut wire = frame(1, &[1; 40]);
        wire.extend(frame(2, &[2; 300]));
        wire.extend(frame(3, &[3; 40]));
        let mut frames = FrameReader::new(Stutter(Trickle(wire, 0), false), 100);
        let mut read = Vec::new();
        // Each attempt is dropped at its first wait, as a losing branch of a select is.
        for _ in 0..1000 {
            match frames.next().now_or_never() {
                Some(Ok(Frame::End)) => break,
                Some(Ok(Frame::Whole(bytes))) => read.push(ResponseFrame::decode(bytes).expect("decodes").body),
                Some(Ok(Frame::TooLarge(id))) => read.push(Bytes::from(format!("too large: {id}"))),
                Some(Err(error)) => panic!("no error: {error}"),
                None => {}
            }
        }
        assert_eq!(read, [Bytes::from(vec![1; 40]), Bytes::from("too large: 2"), Bytes::from(vec![3; 40])]);
    }

    #[tokio::test]
    async fn a_connection_closed_mid_frame_is_an_error_not_an_end() {
        let mut cut = frame(1, b"body");
        cut.truncate(cut.len() - 2);
        let error = FrameReader::new(&cut[..], 100).next().await.expect_err("cut short");
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        let error = FrameReader::new(&cut[..2], 100).next().await.expect_err("cut in its length");
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }
}
