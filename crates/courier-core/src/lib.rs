//! The parts of courier that both sides of a call share: service and component
//! descriptors, errors, codecs, the [`Channel`] seam, URL selectors and the
//! [`ComponentRegistry`] with its in-process default, [`LocalRegistry`], and the
//! [`HealthManager`] that runs health checks.
//!
//! Users depend on the `courier` facade, which re-exports what they need.

#![warn(missing_docs)]

pub mod auth;
mod channel;
mod codec;
mod component;
mod context;
pub mod description;
mod descriptor;
mod error;
mod finite;
pub mod grpc;
mod health;
mod instance;
pub mod jobs;
mod lifecycle;
mod local;
#[cfg(feature = "otel")]
pub mod otel;
pub mod protobuf;
mod registry;
mod report;
pub mod rest;
mod selector;
mod service;
pub mod sync;
pub mod telemetry;
pub mod tls;
mod trace;
pub mod wire;

pub use channel::{invoke, Arguments, Call, Channel, ChannelKind, MethodCodec, Outcome, Reply};
pub use codec::{Codec, Format, JsonCodec, MsgPackCodec};
pub use component::{Component, ComponentEntry};
pub use context::CallContext;
pub use descriptor::{ComponentDescriptor, MethodDescriptor, ServiceDescriptor};
pub use error::{ErrorCode, ServiceError};
pub use health::{
    CheckOptions, CheckOutcome, CheckReport, CheckResult, HealthCheck, HealthChecks, HealthManager, HealthReport,
    HealthStatus,
};
pub use instance::{CallGuard, Instance};
pub use lifecycle::{ComponentReport, ComponentStatus};
pub use local::{local_jobs, local_service, publish_local, publish_local_jobs, withdraw_local};
pub use registry::{local_from_env, ComponentRegistry, Instances, LocalRegistry, Registration, PEERS_VARIABLE};
pub use report::Report;
pub use selector::{First, LeastLoaded, RoundRobin, Selection, UrlSelector};
pub use service::{BoundService, Dispatch, Dispatched, Implementation, Service};
pub use trace::TraceContext;

/// A boxed, `Send` future: what trait methods return so they stay object-safe.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Re-exports generated code relies on. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use serde;

    pub use bytes::Bytes;
    pub use prost;
    pub use std::{sync::Arc, time::Duration, vec::Vec};

    pub use crate::channel::{attach, invoke, submit, Arguments, Call, Channel, MethodCodec};
    pub use crate::codec::Format;
    pub use crate::component::{Component, ComponentEntry};
    pub use crate::descriptor::{ComponentDescriptor, MethodDescriptor, ServiceDescriptor};
    pub use crate::health::{CheckOptions, CheckOutcome, CheckResult, HealthCheck, HealthChecks};
    pub use crate::jobs::Job;
    pub use crate::protobuf::{decode_message, ProtoElement, ProtoField, ProtoMessage, Schema};
    pub use crate::rest::{
        assert_documented, decode_body, decode_path, decode_query, path_segment, query_string, respond, HttpMethod,
        ParameterLocation, RestCall, RestParameter, RestRequest, RestResponse, RestRoute, RouteSchemas,
    };
    pub use crate::service::{
        assert_argument, assert_discoverable, assert_error, assert_result, authorize, bind, proto_method_error,
        proto_outcome, serde_outcome, unknown_method, ArgumentProbe, ChecksOf, DeclaresChecks, DeclaresNoChecks,
        DecodeArgument, Dispatch, Dispatched, EncodeArgument, Implementation, Implemented, Service, UnfitArgument,
    };
    pub use crate::{auth::Access, BoxFuture, ChannelKind, ServiceError};
    pub use schemars;
}
