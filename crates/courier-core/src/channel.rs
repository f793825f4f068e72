use crate::{BoxFuture, ErrorCode, Format, MethodDescriptor, ServiceDescriptor, ServiceError};
use bytes::Bytes;
use serde::{de::DeserializeOwned, Serialize};
use std::{fmt, str::FromStr};

/// The channels a service can be called on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ChannelKind {
    /// In-process: the proxy is the implementation itself, nothing is serialized.
    Local,
    /// `POST /invoke/<component>/<service>/<method>` with a JSON body.
    DispatchJson,
    /// `POST /invoke/<component>/<service>/<method>` with a MessagePack body.
    DispatchMsgpack,
}

impl ChannelKind {
    /// Every channel that crosses the network.
    pub const REMOTE: &'static [ChannelKind] = &[ChannelKind::DispatchJson, ChannelKind::DispatchMsgpack];

    /// The channel's name, as registries and configuration spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::DispatchJson => "dispatch-json",
            Self::DispatchMsgpack => "dispatch-msgpack",
        }
    }

    /// The wire format of a remote channel; `None` for [`ChannelKind::Local`].
    pub const fn format(self) -> Option<Format> {
        match self {
            Self::Local => None,
            Self::DispatchJson => Some(Format::Json),
            Self::DispatchMsgpack => Some(Format::MsgPack),
        }
    }

    /// The dispatch channel that speaks a format.
    pub const fn for_format(format: Format) -> Self {
        match format {
            Format::Json => Self::DispatchJson,
            Format::MsgPack => Self::DispatchMsgpack,
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ChannelKind {
    type Err = ServiceError;

    /// ```
    /// use courier_core::ChannelKind;
    /// assert_eq!("dispatch-msgpack".parse::<ChannelKind>().unwrap(), ChannelKind::DispatchMsgpack);
    /// assert!("carrier-pigeon".parse::<ChannelKind>().is_err());
    /// ```
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [Self::Local, Self::DispatchJson, Self::DispatchMsgpack]
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| {
                ServiceError::bad_request(format!(
                    "unknown channel `{name}`; known: local, dispatch-json, dispatch-msgpack"
                ))
            })
    }
}

/// A method's arguments, encodable in any [`Format`] without knowing their type.
pub trait Arguments: Send + Sync {
    /// Encodes the arguments in `format`.
    fn encode(&self, format: Format) -> Result<Vec<u8>, ServiceError>;
}

impl<T: Serialize + Send + Sync> Arguments for T {
    fn encode(&self, format: Format) -> Result<Vec<u8>, ServiceError> {
        format.encode(self)
    }
}

/// One call as a proxy hands it to a [`Channel`].
pub struct Call<'a> {
    /// The service called.
    pub service: &'static ServiceDescriptor,
    /// The method called.
    pub method: &'static MethodDescriptor,
    /// The arguments, borrowed from the caller.
    pub arguments: &'a dyn Arguments,
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("service", &self.service.name)
            .field("method", &self.method.name)
            .finish_non_exhaustive()
    }
}

/// Whether a reply carries the method's result or the method's own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The body is the method's `Ok` value.
    Value,
    /// The body is the method's `Err` value, in the method's error type.
    MethodError,
}

/// The encoded answer to a [`Call`]; faults of courier itself arrive as `Err` instead.
#[derive(Debug, Clone)]
pub struct Reply {
    /// How the body is encoded.
    pub format: Format,
    /// What the body holds.
    pub outcome: Outcome,
    /// The encoded value or error.
    pub body: Bytes,
}

/// The transport and wire format of remote calls: the seam between proxies and the
/// network.
pub trait Channel: Send + Sync + fmt::Debug {
    /// Sends a call and returns its reply; `Err` is a fault of courier or the network,
    /// never the method's own error.
    fn call<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Reply, ServiceError>>;
}

/// Sends a call through a channel and decodes the reply into the method's result.
///
/// Generated proxies call this; a method error arrives decoded as `E`, a fault of
/// courier as `E::from(ServiceError)`.
pub async fn invoke<R, E>(channel: &dyn Channel, call: Call<'_>) -> Result<R, E>
where
    R: DeserializeOwned,
    E: DeserializeOwned + From<ServiceError>,
{
    let reply = channel.call(call).await?;
    match reply.outcome {
        Outcome::Value => reply.format.decode(&reply.body).map_err(|e| E::from(unreadable(e))),
        Outcome::MethodError => Err(reply.format.decode(&reply.body).map_err(|e| E::from(unreadable(e)))?),
    }
}

/// A reply body the caller cannot decode is the server's fault, not a bad request.
fn unreadable(error: ServiceError) -> ServiceError {
    ServiceError::new(ErrorCode::Transport, format!("unreadable reply: {}", error.message))
}
