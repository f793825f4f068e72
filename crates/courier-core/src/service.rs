use crate::{
    rest::{RestRequest, RestResponse},
    BoxFuture, Channel, Format, HealthCheck, HealthChecks, ServiceDescriptor, ServiceError,
};
use bytes::Bytes;
use serde::{de::DeserializeOwned, Serialize};
use std::{any::Any, fmt, sync::Arc};

/// A service trait, as `#[service]` describes it. Implemented for `dyn YourTrait`.
///
/// Proxies and implementations are both `Arc<dyn YourTrait>`, so code that uses a
/// service does not know whether it is local or remote.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a courier service",
    note = "put `#[courier::service]` on the trait and ask for `dyn YourTrait`"
)]
pub trait Service: Send + Sync + 'static {
    /// The service's descriptor.
    const DESCRIPTOR: &'static ServiceDescriptor;

    /// What types implementing the service are marked with (see [`Implemented`]).
    #[doc(hidden)]
    type Marker;

    /// A proxy that sends every call through `channel`.
    fn proxy(channel: Arc<dyn Channel>) -> Arc<Self>;

    /// A dispatcher that decodes calls and hands them to `implementation`.
    fn dispatcher(implementation: Arc<Self>) -> Arc<dyn Dispatch>;

    /// The implementation as in-process callers see it: checked against the caller's
    /// principal where methods demand one.
    fn guarded(implementation: Arc<Self>) -> Arc<Self> {
        implementation
    }

    /// The health checks `implementation` declares with `#[health_checks]` on its type.
    fn health_checks(implementation: &Arc<Self>) -> Vec<HealthCheck> {
        let _ = implementation;
        Vec::new()
    }
}

/// Every `#[service]` trait demands it of its implementations, and `#[implementation]`
/// provides it: an `impl` block without the attribute then fails with this one error
/// that says what to do, beside the signature mismatch of each `async fn`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` implements a courier service without `#[implementation]`",
    label = "put `#[implementation]` on this `impl` block",
    note = "`#[implementation]` turns the block's `async fn`s into the boxed futures a `#[service]` trait \
            declares, and lets servers discover the type; `#[implementation(manual)]` for a type you hand to \
            `.service(...)` yourself"
)]
pub trait Implemented<Marker> {}

/// Whether the current call's principal may call `method`.
pub fn authorize(method: &crate::MethodDescriptor) -> Result<(), ServiceError> {
    method.access.check(crate::CallContext::current().principal())
}

/// What a dispatcher made of one call.
#[derive(Debug)]
pub enum Dispatched {
    /// The method returned `Ok`; the encoded value.
    Value(Vec<u8>),
    /// The method returned `Err`; the encoded error, in the method's error type.
    MethodError(Vec<u8>),
    /// The call never reached the method, or its result could not be encoded.
    Failed(ServiceError),
}

/// The server side of a service: routes a method index to the implementation.
pub trait Dispatch: Send + Sync {
    /// Decodes `body` as the arguments of method `method`, calls it and encodes the
    /// outcome in `format`.
    fn dispatch(&self, method: usize, format: Format, body: Bytes) -> BoxFuture<'static, Dispatched>;

    /// For a `#[queued]` method with a REST route: its arguments, read from `request`
    /// and encoded as the JSON body of the dispatch endpoint.
    fn rest_arguments(&self, method: usize, request: RestRequest) -> Result<Vec<u8>, ServiceError> {
        let _ = (method, request);
        Err(ServiceError::new(crate::ErrorCode::NotFound, "no queued REST route"))
    }

    /// Serves method `method` on its REST route.
    fn rest(&self, method: usize, request: RestRequest) -> BoxFuture<'static, RestResponse> {
        let _ = (method, request);
        Box::pin(async { RestResponse::fault(&ServiceError::new(crate::ErrorCode::NotFound, "no REST route")) })
    }
}

/// An implementation ready to serve: its dispatcher, and the implementation itself for
/// in-process callers.
#[derive(Clone)]
pub struct BoundService {
    /// The service implemented.
    pub descriptor: &'static ServiceDescriptor,
    /// Decodes and dispatches remote calls.
    pub dispatcher: Arc<dyn Dispatch>,
    /// The `Arc<dyn YourTrait>` itself, for the local channel.
    pub(crate) implementation: Arc<dyn Any + Send + Sync>,
    /// The health checks the implementation declares.
    pub(crate) health_checks: Vec<HealthCheck>,
}

impl fmt::Debug for BoundService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundService").field("service", &self.descriptor.name).finish_non_exhaustive()
    }
}

/// Binds an implementation to its dispatcher.
pub fn bind<S: Service + ?Sized>(implementation: Arc<S>) -> BoundService {
    BoundService {
        descriptor: S::DESCRIPTOR,
        dispatcher: S::dispatcher(implementation.clone()),
        health_checks: S::health_checks(&implementation),
        implementation: Arc::new(implementation),
    }
}

impl BoundService {
    /// The implementation, if it implements `S`.
    pub fn implementation<S: Service + ?Sized>(&self) -> Option<Arc<S>> {
        self.implementation.downcast_ref::<Arc<S>>().cloned()
    }

    /// The health checks the implementation declares with `#[health_checks]`.
    pub fn health_checks(&self) -> &[HealthCheck] {
        &self.health_checks
    }
}

/// An implementation, asked by `#[implementation]` for its health checks: the impl
/// for `ChecksOf<T>` applies when `T` has `#[health_checks]`, and method resolution
/// prefers it over the one for `&ChecksOf<T>`, which has none.
pub struct ChecksOf<T: ?Sized>(pub Arc<T>);

impl<T: ?Sized> fmt::Debug for ChecksOf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChecksOf")
    }
}

/// The checks of a type with `#[health_checks]`.
pub trait DeclaresChecks {
    /// Its checks.
    fn declared_checks(&self) -> Vec<HealthCheck>;
}

impl<T: HealthChecks> DeclaresChecks for ChecksOf<T> {
    fn declared_checks(&self) -> Vec<HealthCheck> {
        self.0.health_checks()
    }
}

/// The checks of any other type: none.
pub trait DeclaresNoChecks {
    /// No checks.
    fn declared_checks(&self) -> Vec<HealthCheck>;
}

impl<T: ?Sized> DeclaresNoChecks for &ChecksOf<T> {
    fn declared_checks(&self) -> Vec<HealthCheck> {
        Vec::new()
    }
}

/// An implementation registered by `#[implementation]`, found at link time.
#[derive(Debug)]
pub struct Implementation {
    /// The service it implements.
    pub service: &'static ServiceDescriptor,
    /// Builds it (through `Default`) and binds it.
    pub create: fn() -> BoundService,
}

inventory::collect!(Implementation);

impl Implementation {
    /// Every implementation linked into this program.
    pub fn all() -> impl Iterator<Item = &'static Implementation> {
        inventory::iter::<Implementation>.into_iter()
    }

    /// The linked implementation of the service with this name.
    pub fn find(service: &str) -> Option<&'static Implementation> {
        Self::all().find(|implementation| implementation.service.name == service)
    }
}

/// A type that can be a service argument.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of a service method",
    label = "arguments cross the wire, so they must be serializable",
    note = "derive it: `#[derive(serde::Serialize, serde::Deserialize)]` (courier re-exports both in its prelude)"
)]
pub trait MethodArgument: Serialize + Send + Sync + 'static {}
impl<T: Serialize + Send + Sync + 'static> MethodArgument for T {}

/// An argument type the server can decode.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of a service method",
    label = "arguments are decoded where the method runs, so they must be deserializable too",
    note = "derive it: `#[derive(serde::Deserialize)]` beside `Serialize` (courier re-exports both in its prelude)"
)]
pub trait DecodableArgument: DeserializeOwned {}
impl<T: DeserializeOwned> DecodableArgument for T {}

/// How the generated code encodes and decodes one argument of type `T`: with serde when
/// `T` is serializable, and otherwise not at all. The second case only keeps the compiler
/// from repeating, at each use of the type, the one error
/// [`assert_argument`] gives: no program is built with it.
///
/// The choice is made by method lookup on a concrete type (`(&ArgumentProbe::<T>::NEW)`):
/// the impls on `ArgumentProbe<T>` ask for serde's traits and are found first; the ones
/// on `&ArgumentProbe<T>` ask for nothing.
pub struct ArgumentProbe<T>(std::marker::PhantomData<T>);

impl<T> std::fmt::Debug for ArgumentProbe<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArgumentProbe")
    }
}

impl<T> ArgumentProbe<T> {
    /// The probe.
    pub const NEW: Self = Self(std::marker::PhantomData);
}

/// Encodes a serializable argument.
pub trait EncodeArgument<T> {
    /// Encodes `value` with `serializer`.
    fn encode_argument<S: serde::Serializer>(&self, value: &T, serializer: S) -> Result<S::Ok, S::Error>;
    /// Demands that `T` be decodable too, where it is serializable: so a type with neither
    /// trait gets one error, and a type with only `Serialize` gets this one.
    fn check_decodable(&self)
    where
        T: DecodableArgument,
    {
    }
}

impl<T: Serialize> EncodeArgument<T> for ArgumentProbe<T> {
    fn encode_argument<S: serde::Serializer>(&self, value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }
}

/// Decodes a method's arguments, when their types are deserializable.
pub trait DecodeArgument<T> {
    /// Decodes a method's arguments, `body` in `format`.
    fn decode_arguments(&self, format: Format, body: &[u8]) -> Result<T, ServiceError>;
}

impl<T: DeserializeOwned> DecodeArgument<T> for ArgumentProbe<T> {
    fn decode_arguments(&self, format: Format, body: &[u8]) -> Result<T, ServiceError> {
        format.decode(body)
    }
}

/// What the generated code finds for a type that is not serializable, which
/// [`assert_argument`] has refused already.
pub trait UnfitArgument<T> {
    /// Never encodes.
    fn encode_argument<S: serde::Serializer>(&self, _: &T, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("this argument type is not serializable"))
    }
    /// Never decodes.
    fn decode_arguments(&self, _: Format, _: &[u8]) -> Result<T, ServiceError> {
        Err(ServiceError::internal("these argument types are not deserializable"))
    }
    /// Checks nothing more.
    fn check_decodable(&self) {}
}

impl<T> UnfitArgument<T> for &ArgumentProbe<T> {}

/// A type that can be a service method's `Ok` value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the result of a service method",
    label = "results cross the wire, so they must be serializable",
    note = "derive it: `#[derive(serde::Serialize, serde::Deserialize)]` (courier re-exports both in its prelude)"
)]
pub trait MethodResult: Serialize + DeserializeOwned + Send + 'static {}
impl<T: Serialize + DeserializeOwned + Send + 'static> MethodResult for T {}

/// A type that can be a service method's error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the error type of a service method",
    label = "method errors cross the wire and carry courier's own faults",
    note = "use `courier::ServiceError`, or derive `Serialize` and `Deserialize` for your error and implement `From<courier::ServiceError>` for it"
)]
pub trait MethodError: Serialize + DeserializeOwned + From<ServiceError> + Send + 'static {}
impl<T: Serialize + DeserializeOwned + From<ServiceError> + Send + 'static> MethodError for T {}

/// Compile-time check that an argument type fits; the error names the argument.
pub const fn assert_argument<T: MethodArgument>() {}
/// Compile-time check that a result type fits.
pub const fn assert_result<T: MethodResult>() {}
/// Compile-time check that an error type fits.
pub const fn assert_error<T: MethodError>() {}

/// A type `#[implementation]` can build on its own.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be discovered: courier cannot build it",
    label = "`#[implementation]` builds discovered implementations with `Default`",
    note = "derive or implement `Default`, or write `#[implementation(manual)]` and hand an instance to `Server::builder().service(...)`"
)]
pub trait Discoverable: Default + Send + Sync + 'static {}
impl<T: Default + Send + Sync + 'static> Discoverable for T {}

/// Compile-time check that an implementation can be built for discovery.
pub const fn assert_discoverable<T: Discoverable>() {}

/// Encodes what a method returned, with serde.
pub fn serde_outcome<T: Serialize, E: Serialize>(format: Format, result: Result<T, E>) -> Dispatched {
    let encoded = match &result {
        Ok(value) => format.encode(value),
        Err(error) => format.encode(error),
    };
    match (result.is_ok(), encoded) {
        (true, Ok(body)) => Dispatched::Value(body),
        (false, Ok(body)) => Dispatched::MethodError(body),
        // What the method returned cannot be sent: the server's fault, not the caller's.
        (_, Err(error)) => Dispatched::Failed(ServiceError::internal(error.message)),
    }
}

/// The fault for a method index the service does not have.
pub fn unknown_method(service: &str, index: usize) -> ServiceError {
    ServiceError::new(crate::ErrorCode::NotFound, format!("service `{service}` has no method #{index}"))
}

/// Encodes what a method returned, in protobuf: the reply message, or `courier.Error`
/// holding the method's error as JSON.
pub fn proto_outcome<M: prost::Message, E: Serialize>(result: Result<M, E>) -> Dispatched {
    match result {
        Ok(reply) => Dispatched::Value(crate::protobuf::encode_message(&reply)),
        Err(error) => match serde_json::to_string(&error) {
            Ok(message) => Dispatched::MethodError(crate::protobuf::encode_message(&crate::protobuf::ErrorMessage {
                code: METHOD_ERROR.to_owned(),
                message,
            })),
            Err(error) => {
                Dispatched::Failed(ServiceError::internal(format!("cannot encode the method's error: {error}")))
            }
        },
    }
}

/// Decodes a method's own error sent by [`proto_outcome`].
pub fn proto_method_error<E: DeserializeOwned>(body: &[u8]) -> Result<E, ServiceError> {
    let message: crate::protobuf::ErrorMessage = crate::protobuf::decode_message(body)?;
    serde_json::from_str(&message.message)
        .map_err(|error| ServiceError::bad_request(format!("unreadable method error: {error}")))
}

/// The `courier.Error` code of a method's own error.
pub(crate) const METHOD_ERROR: &str = "method_error";

/// The status of a method's own error: the status of the `code` it carries, as
/// `ServiceError` does, or 500.
pub(crate) fn method_error_status<E: Serialize>(error: &E) -> u16 {
    serde_json::to_value(error).ok().as_ref().and_then(code_in).map_or(500, crate::ErrorCode::status)
}

/// The courier code a method's own error carries in its `code` field, if it has one.
fn code_in(error: &serde_json::Value) -> Option<crate::ErrorCode> {
    serde_json::from_value(error.get("code")?.clone()).ok()
}

/// [`code_in`] of a method's own error sent as JSON.
pub(crate) fn code_in_json(error: &str) -> Option<crate::ErrorCode> {
    code_in(&serde_json::from_str(error).ok()?)
}
