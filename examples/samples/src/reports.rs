//! A service with queued methods: reports rendered page by page on workers that run one
//! at a time, and report their progress.

use courier::prelude::*;
use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// What to render.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ProtoMessage)]
pub struct ReportSpec {
    /// The report's title; `"refuse"` makes the method return its own error, `"panic"`
    /// makes its first run panic, and `"abort"` ends the process that runs it, every time.
    pub title: String,
    /// Pages to render.
    pub pages: u32,
    /// How long each page takes, in milliseconds.
    pub page_ms: u64,
}

/// A rendered report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ProtoMessage)]
pub struct Report {
    /// The title asked for.
    pub title: String,
    /// Pages rendered.
    pub pages: u32,
    /// The worker process that rendered it (`COURIER_INSTANCE`).
    pub worker: String,
    /// Which run of the job this was.
    pub attempt: u32,
    /// Reports this process was rendering when this one started, itself included.
    pub running_here: u32,
    /// When its rendering started, in microseconds since the Unix epoch.
    pub started_us: u64,
}

/// What a process has rendered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ProtoMessage)]
pub struct RenderCounts {
    /// Reports rendered to the end.
    pub rendered: u64,
    /// Renders that stopped because their job was cancelled.
    pub stopped: u64,
}

/// Why a report was not rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
pub enum ReportError {
    /// The title was refused.
    #[error("refused to render {0}")]
    Refused(String),
    /// The job was cancelled while rendering.
    #[error("stopped after {0} pages")]
    Stopped(u32),
    /// courier could not deliver the call.
    #[error(transparent)]
    Courier(#[from] ServiceError),
}

/// Renders reports.
#[service(protobuf)]
#[rest("/reports")]
pub trait Reports {
    /// Renders a report on a worker with a free slot; callers hold a job, not a connection.
    #[queued]
    #[post("/render")]
    async fn render(&self, spec: ReportSpec) -> Result<Report, ReportError>;

    /// Renders a report as a plain call, while the caller waits.
    #[post("/preview")]
    async fn preview(&self, spec: ReportSpec) -> Result<Report, ReportError>;

    /// What this process has rendered.
    #[get("/counts")]
    async fn counts(&self) -> Result<RenderCounts, ServiceError>;
}

/// The component that runs [`Reports`]: one report at a time per server, and none while
/// the file named by `COURIER_GATE_FILE` exists.
#[component(services = [Reports], workers = 1, ready = Self::has_capacity)]
#[derive(Debug)]
pub struct ReportsComponent;

impl ReportsComponent {
    async fn has_capacity(&self) -> bool {
        std::env::var_os("COURIER_GATE_FILE").is_none_or(|gate| !PathBuf::from(gate).exists())
    }
}

/// The implementation of [`Reports`].
#[derive(Debug, Default)]
pub struct Renderer {
    running: AtomicUsize,
    rendered: AtomicU64,
    stopped: AtomicU64,
}

#[implementation]
impl Reports for Renderer {
    async fn render(&self, spec: ReportSpec) -> Result<Report, ReportError> {
        self.draw(spec).await
    }

    async fn preview(&self, spec: ReportSpec) -> Result<Report, ReportError> {
        self.draw(spec).await
    }

    async fn counts(&self) -> Result<RenderCounts, ServiceError> {
        Ok(RenderCounts {
            rendered: self.rendered.load(Ordering::SeqCst),
            stopped: self.stopped.load(Ordering::SeqCst),
        })
    }
}

impl Renderer {
    async fn draw(&self, spec: ReportSpec) -> Result<Report, ReportError> {
        let started_us = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_micros() as u64);
        let running_here = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        let _done = Finished(&self.running);
        if spec.title == "refuse" {
            return Err(ReportError::Refused(spec.title));
        }
        let job = CallContext::current().job().cloned();
        let attempt = job.as_ref().map_or(0, |job| job.attempt());
        assert!(spec.title != "panic" || attempt > 1, "the first run of `panic` panics");
        if spec.title == "abort" {
            std::process::abort();
        }
        for page in 0..spec.pages {
            if let Some(job) = &job {
                if job.is_cancelled() {
                    self.stopped.fetch_add(1, Ordering::SeqCst);
                    return Err(ReportError::Stopped(page));
                }
                job.report_progress(page as f32 / spec.pages as f32, format!("page {} of {}", page + 1, spec.pages));
            }
            tokio::time::sleep(Duration::from_millis(spec.page_ms)).await;
        }
        self.rendered.fetch_add(1, Ordering::SeqCst);
        Ok(Report {
            title: spec.title,
            pages: spec.pages,
            worker: std::env::var("COURIER_INSTANCE").unwrap_or_default(),
            attempt,
            running_here: running_here as u32,
            started_us,
        })
    }
}

/// Counts a render as over when it ends, however it ends.
struct Finished<'a>(&'a AtomicUsize);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
