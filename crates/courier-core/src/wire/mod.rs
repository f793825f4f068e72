//! courier's wire protocol, in one place: the paths and headers that proxies, servers,
//! the generated code and any other language's HTTP client speak. This module is its
//! reference; `ARCHITECTURE.md` has the whole table.
//!
//! | what | how |
//! |---|---|
//! | a call on a dispatch channel | `POST /invoke/<component>/<service>/<method>` ([`invoke_path`]), the arguments by name in the body: `application/json`, `application/msgpack` or `application/x-protobuf` |
//! | its deadline | [`DEADLINE_HEADER`]: the milliseconds left |
//! | its metadata | one [`METADATA_PREFIX`]`<key>` header per key |
//! | its trace | W3C `traceparent` ([`TRACEPARENT`]) |
//! | a method's own error | the error in the method's error type, with [`ERROR_HEADER`]: [`METHOD_ERROR`] |
//! | courier's faults | the status of their code, and a `{code, message}` body in the caller's codec |
//! | a queued call | `202 Accepted`, `Location: /jobs/<id>`, the job's status; [`JOB_STATE_HEADER`] on every answer about a job |
//! | a multiplexed connection | `GET` [`MUX_PATH`] with `Upgrade:` [`MUX_PROTOCOL`], then frames: [`mux`] documents their layout |
//! | what a server runs | `GET` [`DESCRIBE_PATH`] |
//!
//! # Faults
//!
//! A fault answers the HTTP status of its [`ErrorCode`](crate::ErrorCode)
//! ([`ErrorCode::status`](crate::ErrorCode::status)) with a `{"code": "...", "message": "..."}`
//! body in the caller's codec (`courier.Error` in protobuf). A caller takes the code from
//! the body, or from the status alone when the body is not courier's
//! ([`ErrorCode::from_status`](crate::ErrorCode::from_status)); over gRPC, the code maps
//! to a gRPC status (see [`crate::grpc`]).
//!
//! | code | status | | code | status |
//! |---|---|---|---|---|
//! | `bad_request` | 400 | | `expired` | 410 |
//! | `unauthenticated` | 401, with `WWW-Authenticate` | | `payload_too_large` | 413 |
//! | `forbidden` | 403 | | `unsupported_media_type` | 415 |
//! | `not_found` | 404 | | `internal` | 500 |
//! | `method_not_allowed` | 405, with `Allow` | | `transport`, `maybe_executed` | 502 |
//! | `cancelled` | 409 | | `unavailable` | 503, with `Retry-After` |
//! | | | | `timeout` | 504 |

pub mod mux;

pub use crate::description::DESCRIBE_PATH;
pub use mux::{PATH as MUX_PATH, PROTOCOL as MUX_PROTOCOL};

/// Where the dispatch endpoints start.
pub const INVOKE_PREFIX: &str = "/invoke/";

/// How long the caller still waits for the call, in milliseconds; the server stops
/// working on a call past it.
pub const DEADLINE_HEADER: &str = "courier-deadline-ms";

/// The prefix of the headers that carry call metadata: `courier-meta-tenant: acme` is
/// `CallContext::metadata("tenant")`.
pub const METADATA_PREFIX: &str = "courier-meta-";

/// Set on an answer whose body is the method's own error.
pub const ERROR_HEADER: &str = "courier-error";

/// The value of [`ERROR_HEADER`] on a method's own error.
pub const METHOD_ERROR: &str = "method";

/// The state of the job an answer is about: `queued`, `running`, `succeeded`, ...
pub const JOB_STATE_HEADER: &str = "courier-job-state";

/// The W3C trace context header.
pub const TRACEPARENT: &str = crate::TraceContext::HEADER;

/// The dispatch endpoint of one method: `/invoke/greeter-component/greeter/hello`.
pub fn invoke_path(component: &str, service: &str, method: &str) -> String {
    format!("{INVOKE_PREFIX}{component}/{service}/{method}")
}
