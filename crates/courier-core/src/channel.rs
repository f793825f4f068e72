use crate::{
    jobs::{Job, JobId, JobLink},
    BoxFuture, ErrorCode, Format, MethodDescriptor, ServiceDescriptor, ServiceError,
};
use bytes::Bytes;
use std::{fmt, str::FromStr, sync::Arc};

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
    /// `POST /invoke/<component>/<service>/<method>` with a protobuf body.
    DispatchProtobuf,
    /// The routes declared with `#[get]`, `#[post]`, ... under `#[rest("/prefix")]`, in JSON.
    Rest,
    /// gRPC over HTTP/2, `POST /courier.<service>.<Service>/<Method>`, for services
    /// declared with `#[service(protobuf)]`: any gRPC client generated from the service's
    /// `.proto` calls it, and a courier proxy calls any gRPC server of that `.proto`.
    Grpc,
}

const ALL: [ChannelKind; 6] = [
    ChannelKind::Local,
    ChannelKind::DispatchJson,
    ChannelKind::DispatchMsgpack,
    ChannelKind::DispatchProtobuf,
    ChannelKind::Rest,
    ChannelKind::Grpc,
];

impl ChannelKind {
    /// Every channel that crosses the network.
    pub const REMOTE: &'static [ChannelKind] = &[
        ChannelKind::DispatchJson,
        ChannelKind::DispatchMsgpack,
        ChannelKind::DispatchProtobuf,
        ChannelKind::Rest,
        ChannelKind::Grpc,
    ];

    /// The channel's name, as registries and configuration spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::DispatchJson => "dispatch-json",
            Self::DispatchMsgpack => "dispatch-msgpack",
            Self::DispatchProtobuf => "dispatch-protobuf",
            Self::Rest => "rest",
            Self::Grpc => "grpc",
        }
    }

    /// The wire format of a dispatch channel, and protobuf for gRPC; `None` for
    /// [`ChannelKind::Local`] and [`ChannelKind::Rest`], whose routes are not dispatched
    /// by format.
    pub const fn format(self) -> Option<Format> {
        match self {
            Self::Local | Self::Rest => None,
            Self::DispatchJson => Some(Format::Json),
            Self::DispatchMsgpack => Some(Format::MsgPack),
            Self::DispatchProtobuf | Self::Grpc => Some(Format::Protobuf),
        }
    }

    /// Whether the channel carries protobuf, so only `#[service(protobuf)]` services are
    /// served on it.
    pub const fn is_protobuf(self) -> bool {
        matches!(self, Self::DispatchProtobuf | Self::Grpc)
    }

    /// The dispatch channel that speaks a format.
    pub const fn for_format(format: Format) -> Self {
        match format {
            Format::Json => Self::DispatchJson,
            Format::MsgPack => Self::DispatchMsgpack,
            Format::Protobuf => Self::DispatchProtobuf,
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
    /// # use courier_core as courier;
    /// use courier::ChannelKind;
    /// assert_eq!("dispatch-msgpack".parse::<ChannelKind>().unwrap(), ChannelKind::DispatchMsgpack);
    /// assert!("carrier-pigeon".parse::<ChannelKind>().is_err());
    /// ```
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ALL.into_iter().find(|kind| kind.name() == name).ok_or_else(|| {
            let known: Vec<_> = ALL.iter().map(|kind| kind.name()).collect();
            ServiceError::bad_request(format!("unknown channel `{name}`; known: {}", known.join(", ")))
        })
    }
}

/// A method's arguments, encodable in any [`Format`] the service speaks without
/// knowing their type. `#[service]` implements it for each method's arguments.
pub trait Arguments: Send + Sync {
    /// Encodes the arguments in `format`.
    fn encode(&self, format: Format) -> Result<Vec<u8>, ServiceError>;

    /// The REST request of a method that has a route.
    fn rest(&self) -> Result<crate::rest::RestCall, ServiceError> {
        Err(ServiceError::new(
            crate::ErrorCode::NotFound,
            "this method has no REST route: declare one with #[get(...)], #[post(...)], ...",
        ))
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
    /// The call was queued as a job: the body is its [`JobStatus`](crate::jobs::JobStatus).
    Accepted,
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

    /// Submits a call to a `#[queued]` method as a job, and returns a link to it.
    fn submit<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Arc<dyn JobLink>, ServiceError>> {
        let _ = call;
        Box::pin(async { Err(no_jobs()) })
    }

    /// A link to the job with this token, submitted to `method` from anywhere.
    fn attach(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        id: JobId,
    ) -> Result<Arc<dyn JobLink>, ServiceError> {
        let _ = (service, method, id);
        Err(no_jobs())
    }
}

fn no_jobs() -> ServiceError {
    ServiceError::unavailable(
        "this channel does not queue jobs: call queued methods through a proxy from a ServiceManager",
    )
}

/// How one method's results travel: `#[service]` implements it per method.
pub trait MethodCodec {
    /// The method's `Ok` type.
    type Value;
    /// The method's `Err` type.
    type Error: From<ServiceError>;
    /// Decodes an `Ok` value.
    fn decode_value(format: Format, body: &[u8]) -> Result<Self::Value, ServiceError>;
    /// Decodes the method's own error.
    fn decode_error(format: Format, body: &[u8]) -> Result<Self::Error, ServiceError>;
    /// Encodes what the method returned.
    fn encode_outcome(format: Format, outcome: Result<Self::Value, Self::Error>) -> crate::Dispatched;
}

/// Sends a call through a channel and decodes the reply with the method's codec.
///
/// Generated proxies call this; a method error arrives decoded as `C::Error`, a fault
/// of courier as `C::Error::from(ServiceError)`.
pub async fn invoke<C: MethodCodec>(channel: &dyn Channel, call: Call<'_>) -> Result<C::Value, C::Error> {
    let reply = channel.call(call).await?;
    match reply.outcome {
        Outcome::Value => C::decode_value(reply.format, &reply.body).map_err(|e| C::Error::from(unreadable(e))),
        Outcome::MethodError => {
            Err(C::decode_error(reply.format, &reply.body).map_err(|e| C::Error::from(unreadable(e)))?)
        }
        Outcome::Accepted => Err(C::Error::from(ServiceError::new(
            ErrorCode::Transport,
            "the server queued a call to a method the caller does not know as #[queued]",
        ))),
    }
}

/// Submits a call to a `#[queued]` method; generated `submit_<method>` calls this.
pub async fn submit<C: MethodCodec>(
    channel: &dyn Channel,
    call: Call<'_>,
) -> Result<Job<C::Value, C::Error>, C::Error> {
    Ok(Job::new::<C>(channel.submit(call).await?))
}

/// Finds a job of a `#[queued]` method by its token; generated `attach_<method>` calls this.
pub fn attach<C: MethodCodec>(
    channel: &dyn Channel,
    service: &'static ServiceDescriptor,
    method: &'static MethodDescriptor,
    token: &str,
) -> Result<Job<C::Value, C::Error>, C::Error> {
    Ok(Job::new::<C>(channel.attach(service, method, token.parse()?)?))
}

/// A reply body the caller cannot decode is the server's fault, not a bad request.
fn unreadable(error: ServiceError) -> ServiceError {
    ServiceError::new(ErrorCode::Transport, format!("unreadable reply: {}", error.message))
}
