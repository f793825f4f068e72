use crate::{
    call::{Body, ClientCall},
    CallService,
};
use courier_core::{BoxFuture, Call, CallContext, Channel, ChannelKind, Reply, ServiceError};
use http::HeaderMap;
use std::{
    fmt,
    time::{Duration, Instant},
};
use tower::ServiceExt;

/// The remote channels: `dispatch-json`, `dispatch-msgpack` and `dispatch-protobuf`
/// (`POST /invoke/<component>/<service>/<method>`), and `rest` (the method's route).
///
/// A call is encoded once, takes the caller's [`CallContext`] metadata and deadline with
/// it, and passes through the proxy's interceptors to the instance the selector picks.
pub struct HttpChannel {
    channel: ChannelKind,
    stack: CallService,
    timeout: Option<Duration>,
}

impl fmt::Debug for HttpChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpChannel").field("channel", &self.channel).field("timeout", &self.timeout).finish()
    }
}

impl HttpChannel {
    pub(crate) fn new(channel: ChannelKind, stack: CallService, timeout: Option<Duration>) -> Self {
        Self { channel, stack, timeout }
    }

    async fn send(&self, call: Call<'_>) -> Result<Reply, ServiceError> {
        let body = match self.channel.format() {
            Some(format) => Body::Dispatch { format, body: call.arguments.encode(format)?.into() },
            None => Body::Rest(call.arguments.rest()?),
        };
        let context = CallContext::current();
        let mut request = ClientCall {
            service: call.service,
            method: call.method,
            channel: self.channel,
            headers: HeaderMap::new(),
            deadline: context.deadline(),
            body,
        };
        for (key, value) in context.all_metadata() {
            request.set_metadata(key, value);
        }
        if let Some(timeout) = self.timeout {
            let deadline = Instant::now() + timeout;
            request.deadline = Some(request.deadline.map_or(deadline, |current| current.min(deadline)));
        }
        self.stack.clone().oneshot(request).await
    }
}

impl Channel for HttpChannel {
    fn call<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Reply, ServiceError>> {
        Box::pin(self.send(call))
    }
}
