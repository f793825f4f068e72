use super::{CheckReport, CheckResult, HealthCheck, HealthReport};
use std::{sync::Arc, time::Duration};
use tokio::{
    sync::Mutex,
    task::JoinHandle,
    time::{timeout, Instant},
};

/// Runs a set of health checks: all at once, each cut off at its bound, each result
/// reused for the check's cache time. A server has one; its health endpoints ask it.
///
/// Clones share the checks and their cached results.
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod health { pub use courier_core::*; } }
/// use courier::{HealthManager, health::{CheckOptions, HealthCheck, HealthStatus}};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut health = HealthManager::new();
/// health.add(HealthCheck::new("always fine", CheckOptions::new(), |result| async { result }));
/// health.add(HealthCheck::new("disk", CheckOptions::new(), |mut result| async move {
///     result.warning("91% full");
///     result
/// }));
/// let report = health.report().await;
/// assert_eq!(report.status, HealthStatus::Warning);
/// assert_eq!(report.check("disk").unwrap().details, "91% full");
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct HealthManager {
    entries: Vec<Arc<Entry>>,
}

#[derive(Debug)]
struct Entry {
    check: HealthCheck,
    /// The service whose implementation declared the check; `None` for the server's own.
    service: Option<&'static str>,
    /// The last run, held locked while a run is under way so probes that arrive
    /// meanwhile wait for it rather than start their own.
    last: Mutex<Option<LastRun>>,
}

#[derive(Debug, Clone)]
struct LastRun {
    finished: Instant,
    result: CheckResult,
    duration: Duration,
}

impl HealthManager {
    /// How long a check without a bound of its own may run before it is cut off.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// A manager without checks; its report is OK.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check that concerns the whole server.
    pub fn add(&mut self, check: HealthCheck) {
        self.push(check, None);
    }

    /// Adds a check declared by the implementation of `service`.
    pub fn add_for_service(&mut self, service: &'static str, check: HealthCheck) {
        self.push(check, Some(service));
    }

    fn push(&mut self, check: HealthCheck, service: Option<&'static str>) {
        self.entries.push(Arc::new(Entry { check, service, last: Mutex::new(None) }));
    }

    /// The checks that concern these services: theirs and the server's own. They share
    /// their cached results with this manager.
    pub fn for_services(&self, services: &[&str]) -> Self {
        let entries = self
            .entries
            .iter()
            .filter(|entry| entry.service.is_none_or(|service| services.contains(&service)))
            .cloned()
            .collect();
        Self { entries }
    }

    /// Runs every check whose cached result has expired, all at once, and reports.
    pub async fn report(&self) -> HealthReport {
        HealthReport::new(futures_util::future::join_all(self.entries.iter().map(|entry| entry.evaluate())).await)
    }
}

impl Entry {
    async fn evaluate(&self) -> CheckReport {
        let options = self.check.options();
        let limit = options.bound().unwrap_or(HealthManager::DEFAULT_TIMEOUT);
        let started = Instant::now();
        // The bound covers waiting for another probe's run too: no probe waits longer.
        let evaluated = timeout(limit, async {
            let mut last = self.last.lock().await;
            if let Some(fresh) = last.as_ref().filter(|run| run.finished.elapsed() < options.cache_time()) {
                return (fresh.clone(), true);
            }
            let run = self.run().await;
            *last = Some(run.clone());
            (run, false)
        })
        .await;
        let (run, cached) = evaluated.unwrap_or_else(|_| {
            let duration = started.elapsed();
            let mut result = CheckResult::new();
            result.error(match options.bound() {
                Some(bound) => format!("slower than {bound:?}: cut off after {duration:.3?}"),
                None => format!("no answer within {limit:?}: cut off after {duration:.3?}"),
            });
            let run = LastRun { finished: Instant::now(), result, duration };
            // A check that hangs is not run again by every probe either.
            if let Ok(mut last) = self.last.try_lock() {
                *last = Some(run.clone());
            }
            (run, false)
        });
        CheckReport {
            name: self.check.name().to_owned(),
            status: run.result.status(),
            details: run.result.details().to_owned(),
            duration: run.duration,
            cached,
        }
    }

    /// One run, on a task of its own: a check that blocks its thread or panics cannot
    /// take the health endpoint with it, and one that is cut off stops running.
    async fn run(&self) -> LastRun {
        let started = Instant::now();
        let mut task = AbortOnDrop(tokio::spawn(self.check.run()));
        let result = (&mut task.0).await.unwrap_or_else(|error| {
            let mut result = CheckResult::new();
            result.error(if error.is_panic() { "the check panicked" } else { "the check was cancelled" });
            result
        });
        LastRun { finished: Instant::now(), result, duration: started.elapsed() }
    }
}

struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckOptions, HealthStatus};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting(name: &str, options: CheckOptions, runs: &Arc<AtomicUsize>) -> HealthCheck {
        let runs = Arc::clone(runs);
        HealthCheck::new(name, options, move |result| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move { result }
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_cached_result_is_reused_until_the_cache_time_has_passed() {
        let runs = Arc::new(AtomicUsize::new(0));
        let mut health = HealthManager::new();
        health.add(counting("cached", CheckOptions::new().cache(Duration::from_secs(10)), &runs));

        let first = health.report().await;
        assert!(!first.checks[0].cached);
        for _ in 0..20 {
            let again = health.report().await;
            assert!(again.checks[0].cached);
            tokio::time::advance(Duration::from_millis(400)).await;
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1, "8 s of probes, one run");

        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!health.report().await.checks[0].cached, "expired after 10 s");
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn probes_that_arrive_during_a_run_share_it() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let mut health = HealthManager::new();
        let options = CheckOptions::new().cache(Duration::from_secs(5));
        health.add(HealthCheck::new("slow", options, move |result| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                result
            }
        }));
        let reports = futures_util::future::join_all((0..5).map(|_| health.report())).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(reports.iter().filter(|report| report.checks[0].cached).count(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn an_uncached_check_runs_on_every_probe() {
        let runs = Arc::new(AtomicUsize::new(0));
        let mut health = HealthManager::new();
        health.add(counting("fresh", CheckOptions::new(), &runs));
        for _ in 0..3 {
            assert!(!health.report().await.checks[0].cached);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_check_is_an_error_with_its_time_and_a_hanging_one_is_cut_off() {
        let mut health = HealthManager::new();
        let bound = Duration::from_millis(200);
        health.add(HealthCheck::new("slow", CheckOptions::new().fail_if_slower_than(bound), |result| async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            result
        }));
        health.add(HealthCheck::new("hangs", CheckOptions::new(), |result| async {
            std::future::pending::<()>().await;
            result
        }));
        let started = Instant::now();
        let report = health.report().await;
        assert_eq!(started.elapsed(), HealthManager::DEFAULT_TIMEOUT, "checks run at once; the longest bound ends it");
        assert_eq!(report.status, HealthStatus::Error);
        let slow = report.check("slow").expect("slow");
        assert_eq!((slow.status, slow.duration), (HealthStatus::Error, bound));
        assert_eq!(slow.details, "slower than 200ms: cut off after 200.000ms");
        let hangs = report.check("hangs").expect("hangs");
        assert_eq!(hangs.status, HealthStatus::Error);
        assert!(hangs.details.starts_with("no answer within 5s"), "{}", hangs.details);
    }

    #[tokio::test]
    async fn the_worst_check_decides_and_a_panicking_check_is_an_error() {
        let mut health = HealthManager::new();
        assert_eq!(health.report().await.status, HealthStatus::Ok, "no checks, nothing wrong");
        health.add(HealthCheck::new("fine", CheckOptions::new(), |result| async { result }));
        health.add(HealthCheck::new("tired", CheckOptions::new(), |mut result| async move {
            result.warning("tired");
            result
        }));
        assert_eq!(health.report().await.status, HealthStatus::Warning);
        health.add_for_service("orders", HealthCheck::new("panics", CheckOptions::new(), |_| async { panic!("boom") }));
        let report = health.report().await;
        assert_eq!(report.status, HealthStatus::Error);
        assert_eq!(report.check("panics").expect("panics").details, "the check panicked");
        assert_eq!(health.for_services(&["billing"]).report().await.status, HealthStatus::Warning);
        assert_eq!(health.for_services(&["orders"]).report().await.status, HealthStatus::Error);
    }
}
