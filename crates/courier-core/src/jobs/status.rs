//! Where a job is, as callers read it.

use super::JobId;
use crate::{ErrorCode, Format, ServiceError};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker with a free slot.
    Queued,
    /// A worker runs it.
    Running,
    /// The method returned `Ok`.
    Succeeded,
    /// The method returned its own error, or the job could not be run.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
    /// It finished longer ago than the queue keeps results.
    Expired,
}

impl JobState {
    /// Whether the job has ended: nothing about it changes any more.
    pub const fn is_done(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }

    /// The state as the wire spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = ServiceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed, Self::Cancelled, Self::Expired]
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| ServiceError::new(ErrorCode::Transport, format!("unknown job state `{text}`")))
    }
}

/// What a caller can know of a job: `GET /jobs/<id>` answers it while the job runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobStatus {
    /// The job's token.
    pub id: JobId,
    /// Where it is.
    pub state: JobState,
    /// How far it got, from 0.0 to 1.0, as its method last reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub progress: Option<f32>,
    /// What its method last said about its progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Times a worker took it: more than one when a worker stopped while running it.
    pub attempts: u32,
    /// When it was submitted, in milliseconds since the Unix epoch.
    pub submitted_ms: u64,
    /// When a worker last took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<u64>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<u64>,
}

impl JobStatus {
    /// A job just submitted.
    pub fn queued(id: JobId) -> Self {
        Self {
            id,
            state: JobState::Queued,
            progress: None,
            message: None,
            attempts: 0,
            submitted_ms: id.submitted_ms(),
            started_ms: None,
            finished_ms: None,
        }
    }

    /// Encodes the status in `format`: JSON and MessagePack as above, protobuf as
    /// `courier.JobStatus`.
    pub fn encode(&self, format: Format) -> Vec<u8> {
        match format {
            Format::Protobuf => crate::protobuf::encode_message(&JobStatusMessage::from(self)),
            serde => serde.encode(self).unwrap_or_default(),
        }
    }

    /// Decodes a status written by [`JobStatus::encode`].
    pub fn decode(format: Format, body: &[u8]) -> Result<Self, ServiceError> {
        match format {
            Format::Protobuf => {
                let message: JobStatusMessage = crate::protobuf::decode_message(body)?;
                message.try_into()
            }
            serde => serde.decode(body),
        }
    }
}

/// `courier.JobStatus` (`proto/courier.proto`).
#[derive(Clone, PartialEq, prost::Message)]
struct JobStatusMessage {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(string, tag = "2")]
    state: String,
    #[prost(float, optional, tag = "3")]
    progress: Option<f32>,
    #[prost(string, optional, tag = "4")]
    message: Option<String>,
    #[prost(uint32, tag = "5")]
    attempts: u32,
    #[prost(uint64, tag = "6")]
    submitted_ms: u64,
    #[prost(uint64, optional, tag = "7")]
    started_ms: Option<u64>,
    #[prost(uint64, optional, tag = "8")]
    finished_ms: Option<u64>,
}

impl From<&JobStatus> for JobStatusMessage {
    fn from(status: &JobStatus) -> Self {
        Self {
            id: status.id.to_string(),
            state: status.state.as_str().to_owned(),
            progress: status.progress,
            message: status.message.clone(),
            attempts: status.attempts,
            submitted_ms: status.submitted_ms,
            started_ms: status.started_ms,
            finished_ms: status.finished_ms,
        }
    }
}

impl TryFrom<JobStatusMessage> for JobStatus {
    type Error = ServiceError;

    fn try_from(message: JobStatusMessage) -> Result<Self, ServiceError> {
        Ok(Self {
            id: message.id.parse()?,
            state: message.state.parse()?,
            progress: message.progress,
            message: message.message,
            attempts: message.attempts,
            submitted_ms: message.submitted_ms,
            started_ms: message.started_ms,
            finished_ms: message.finished_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_reads_back_in_every_format() {
        let mut status = JobStatus::queued(JobId::generate());
        status.state = JobState::Running;
        status.progress = Some(0.5);
        status.message = Some("halfway".into());
        status.attempts = 2;
        status.started_ms = Some(status.submitted_ms + 3);
        for format in [Format::Json, Format::MsgPack, Format::Protobuf] {
            assert_eq!(JobStatus::decode(format, &status.encode(format)).unwrap(), status, "{format:?}");
        }
    }
}
