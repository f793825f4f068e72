//! W3C trace context: the `traceparent` header that carries one trace id across every
//! call a request causes, process to process.

use std::{
    fmt,
    future::Future,
    hash::{BuildHasher, Hasher, RandomState},
    sync::atomic::{AtomicU64, Ordering},
};

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// Which trace a call belongs to, and which span made it, as the W3C `traceparent`
/// header carries them: `00-<trace id>-<parent span id>-<flags>`.
///
/// Proxies send the context of each call; servers continue it, and run the method with
/// it as [`current`](Self::current), so a call the method makes to another service
/// carries the same trace id. Every call's `tracing` span records `trace_id`, `span_id`
/// and `parent_span_id`.
///
/// The current context follows a call's task; a method that hands work to a task of its
/// own takes the context along with [`scope`](Self::scope):
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod channel { pub use courier_core::*; } }
/// use courier::channel::TraceContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let incoming = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
/// assert_eq!(incoming.trace_id(), 0x4bf92f3577b34da6a3ce929d0e0e4736);
/// let seen = incoming.scope(async {
///     let context = TraceContext::current().unwrap();
///     tokio::spawn(context.scope(async { TraceContext::current() })).await.unwrap()
/// });
/// assert_eq!(seen.await, Some(incoming));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: u128,
    span_id: u64,
    flags: u8,
}

impl TraceContext {
    /// The header's name.
    pub const HEADER: &'static str = "traceparent";

    /// The header's name, ready to insert without allocating.
    pub const HEADER_NAME: http::HeaderName = http::HeaderName::from_static(Self::HEADER);

    /// The sampled flag: the caller records this trace.
    const SAMPLED: u8 = 0x01;

    /// The start of a new trace.
    pub fn root() -> Self {
        let trace_id = (u128::from(random_id()) << 64) | u128::from(random_id());
        Self { trace_id, span_id: random_id(), flags: Self::SAMPLED }
    }

    /// A context with these ids, sampled or not.
    #[cfg(feature = "otel")]
    pub(crate) fn from_parts(trace_id: u128, span_id: u64, sampled: bool) -> Self {
        Self { trace_id, span_id, flags: if sampled { Self::SAMPLED } else { 0 } }
    }

    /// A new span of the same trace, made by this one.
    pub fn child(&self) -> Self {
        Self { span_id: random_id(), ..*self }
    }

    /// The context a `traceparent` header value carries; `None` when it is malformed,
    /// which the W3C rules say to treat as no context at all. Versions after `00` are
    /// read by their first four fields, as the rules also say.
    pub fn parse(header: &str) -> Option<Self> {
        // `vv-<32 digits>-<16 digits>-ff`: the fields sit at fixed places.
        let header = header.trim().as_bytes();
        let (head, rest) = header.split_at_checked(55)?;
        if [head[2], head[35], head[52]] != [b'-'; 3] {
            return None;
        }
        let version = u8::try_from(hex(&head[..2])?).ok()?;
        let trace_id = hex(&head[3..35])?;
        let span_id = u64::try_from(hex(&head[36..52])?).ok()?;
        let flags = u8::try_from(hex(&head[53..])?).ok()?;
        // Version 00 is those four fields alone; a later one may add fields after a dash.
        let ends = match version {
            0 => rest.is_empty(),
            _ => rest.first().is_none_or(|byte| *byte == b'-'),
        };
        let valid = version != 0xff && ends && trace_id != 0 && span_id != 0;
        valid.then_some(Self { trace_id, span_id, flags })
    }

    /// The trace's id, shared by every span of the trace.
    pub const fn trace_id(&self) -> u128 {
        self.trace_id
    }

    /// This span's id.
    pub const fn span_id(&self) -> u64 {
        self.span_id
    }

    /// Whether the trace's caller records it.
    pub const fn sampled(&self) -> bool {
        self.flags & Self::SAMPLED != 0
    }

    /// The context of the call running on this task, if any.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(|context| *context).ok()
    }

    /// Runs `future` with this context as [`current`](Self::current).
    pub fn scope<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, future)
    }
}

/// The `traceparent` header value.
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod channel { pub use courier_core::*; } }
/// use courier::channel::TraceContext;
/// let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// assert_eq!(TraceContext::parse(header).unwrap().to_string(), header);
/// ```
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.header_bytes()).map_err(|_| fmt::Error)?)
    }
}

impl TraceContext {
    /// The `traceparent` value as bytes, written without the formatting machinery: every
    /// remote call sends one.
    pub fn header_bytes(&self) -> [u8; 55] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        fn put(out: &mut [u8], value: u128) {
            let digits = out.len();
            for (i, byte) in out.iter_mut().enumerate() {
                *byte = HEX[(value >> (4 * (digits - 1 - i)) & 0xf) as usize];
            }
        }
        let mut out = *b"00-00000000000000000000000000000000-0000000000000000-00";
        put(&mut out[3..35], self.trace_id);
        put(&mut out[36..52], u128::from(self.span_id));
        put(&mut out[53..55], u128::from(self.flags));
        out
    }
}

/// The value of lowercase hex digits, the only ones the header's grammar has.
fn hex(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |value, digit| {
        let digit = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => return None,
        };
        Some(value << 4 | u128::from(digit))
    })
}

/// A random, non-zero id: SipHash under the standard library's randomly seeded keys,
/// over a counter. Unpredictable enough to keep traces apart; not for secrets.
fn random_id() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let id = hasher.finish();
        if id != 0 {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_headers_are_no_context() {
        for header in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47360-0f067aa0ba902b7-01",
            "0é-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00x",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse(header), None, "{header}");
        }
        let future = TraceContext::parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes");
        assert!(future.is_some_and(|context| !context.sampled()), "later versions are read by their first fields");
    }

    #[test]
    fn a_child_keeps_the_trace_and_gets_a_span_of_its_own() {
        let root = TraceContext::root();
        let child = root.child();
        assert_eq!(child.trace_id(), root.trace_id());
        assert_ne!(child.span_id(), root.span_id());
        assert_ne!(TraceContext::root().trace_id(), root.trace_id());
        assert_eq!(TraceContext::parse(&child.to_string()), Some(child));
        assert!(TraceContext::current().is_none(), "no context outside a call");
    }

    #[test]
    fn the_header_is_the_ids_in_lowercase_hex_and_parses_back() {
        for _ in 0..1000 {
            let context = TraceContext::root().child();
            let expected = format!("00-{:032x}-{:016x}-{:02x}", context.trace_id(), context.span_id(), context.flags);
            assert_eq!(context.to_string(), expected);
            assert_eq!(TraceContext::parse(&expected), Some(context));
        }
        let edge = TraceContext { trace_id: u128::MAX, span_id: 1, flags: 0xab };
        assert_eq!(edge.to_string(), format!("00-{}-0000000000000001-ab", "f".repeat(32)));
    }
}
