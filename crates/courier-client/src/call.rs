use bytes::Bytes;
use courier_core::{
    jobs::JobId, rest::RestCall, wire::METADATA_PREFIX, ChannelKind, Format, MethodDescriptor, ServiceDescriptor,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use std::time::Instant;

/// One remote call as interceptors see it: which method, on which channel, with which
/// headers and deadline. Interceptors are tower layers over a
/// [`CallService`](crate::CallService); they may change the headers and the deadline, or
/// fail the call before anything is sent.
#[derive(Debug, Clone)]
pub struct ClientCall {
    /// The service called.
    pub service: &'static ServiceDescriptor,
    /// The method called.
    pub method: &'static MethodDescriptor,
    /// The channel it travels on.
    pub channel: ChannelKind,
    /// Headers sent with the call.
    pub headers: HeaderMap,
    /// When the call must be done by; past it, the call fails with a timeout, and the
    /// server stops working on it.
    pub deadline: Option<Instant>,
    /// The deadline the client's default timeout gave the call, which it enforces itself
    /// and does not send: a caller that gives up cancels the call on the server anyway.
    pub(crate) default_deadline: Option<Instant>,
    pub(crate) body: Body,
}

/// The encoded call.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// `POST /invoke/...` with the arguments in this format.
    Dispatch { format: Format, body: Bytes },
    /// The method's REST route.
    Rest(RestCall),
    /// `GET /jobs/<id>` (waiting up to `wait` for the job to end), or `DELETE` to cancel it.
    Job { id: JobId, cancel: bool, wait: Option<std::time::Duration> },
}

impl ClientCall {
    /// Sets call metadata: the server's [`CallContext`](courier_core::CallContext) reads it
    /// as `metadata(key)`. Keys that are not valid header names are ignored.
    pub fn set_metadata(&mut self, key: &str, value: &str) {
        let name = HeaderName::try_from(format!("{METADATA_PREFIX}{}", key.to_ascii_lowercase()));
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_str(value)) {
            self.headers.insert(name, value);
        }
    }

    /// A metadata value set on this call.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.headers.get(format!("{METADATA_PREFIX}{}", key.to_ascii_lowercase())).and_then(|value| value.to_str().ok())
    }
}
