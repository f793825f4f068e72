//! [`NatsQueue`]: a courier [`JobQueue`](courier_core::jobs::JobQueue) on NATS JetStream,
//! so that queued calls outlive the server that took them and every instance of a
//! component shares its workers' queue.
//!
//! Each component's jobs wait in a work-queue stream of their own, which one durable pull
//! consumer hands to whichever worker of whichever process has a free slot. Each job's
//! record (its status, progress and outcome) lives in a key-value bucket, under the job's
//! token, and every change to it is a compare-and-swap, so exactly one outcome is ever
//! recorded. A worker that dies stops extending its job's acknowledgement deadline, and
//! the job is delivered to another worker once it passes.
//!
//! ```no_run
//! # mod courier { pub use courier_core::*; pub use courier_nats::*; pub mod jobs { pub use courier_core::*; pub use courier_nats::*; } }
//! use courier::jobs::NatsQueue;
//! use std::time::Duration;
//! # async fn run() -> Result<(), courier::ServiceError> {
//! // NATS_URL, and NATS_CREDS, NATS_USER/NATS_PASSWORD or NATS_TOKEN.
//! let queue = NatsQueue::from_env().await?;
//! // or:
//! let queue = NatsQueue::builder()
//!     .url("nats://10.0.0.5:4222")
//!     .retention(Duration::from_secs(3600))
//!     .ack_wait(Duration::from_secs(10))
//!     .connect()
//!     .await?;
//! # let _ = queue; Ok(()) }
//! ```

#![warn(missing_docs)]

mod config;
mod endings;
mod lease;
mod queue;

pub use config::NatsQueueBuilder;
pub use queue::NatsQueue;
