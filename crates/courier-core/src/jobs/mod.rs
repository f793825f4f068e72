//! Queued calls: methods marked `#[queued]` run as jobs on workers that pull them when
//! they have a free slot, while callers hold a token instead of a connection.
//!
//! A proxy's `submit_<method>(...)` returns a [`Job`] at once; its plain `<method>(...)`
//! submits and waits for the result. Servers answer `POST` to a queued method with
//! `202 Accepted` and `Location: /jobs/<id>`, and `GET /jobs/<id>` (`?wait=<ms>` to wait
//! for the end) and `DELETE /jobs/<id>` on every instance that reaches the queue.
//!
//! The queue is a [`JobQueue`]: [`InProcessQueue`] by default, NATS JetStream with the
//! `courier-nats` crate. Either way a job runs **at least once** (a worker that dies or
//! panics mid-run gives it back, and another runs it again, up to a number of attempts)
//! and exactly one outcome is recorded for it.

mod context;
mod handle;
mod id;
mod local;
mod memory;
mod queue;
mod record;
mod status;

pub use context::{JobContext, JobControl};
pub use handle::{wait_for_reply, Job, JobLink, JobPoll};
pub use id::JobId;
pub use local::LocalJobs;
pub use memory::InProcessQueue;
pub use queue::{JobQueue, Lease, Progress};
pub use record::{not_kept, JobOutcome, JobRecord, JobRequest, Start};
pub use status::{JobState, JobStatus};
