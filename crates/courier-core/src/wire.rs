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
//! | a multiplexed connection | `GET` [`MUX_PATH`] with `Upgrade:` [`MUX_PROTOCOL`], then frames (see `courier_core::mux`) |
//! | what a server runs | `GET` [`DESCRIBE_PATH`] |

pub use crate::description::DESCRIBE_PATH;
pub use crate::mux::{PATH as MUX_PATH, PROTOCOL as MUX_PROTOCOL};

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
