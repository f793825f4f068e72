//! One live instance of a component, with what this process knows about it: calls in
//! flight, and whether it is ejected for failing.

use std::{
    hash::{Hash, Hasher},
    sync::{
        atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering},
        Arc, LazyLock,
    },
    time::{Duration, Instant},
};

/// The process's clock origin, so instants fit in an atomic.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_millis() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One live instance of a component on one channel.
///
/// Clones share the instance's load and failure counts, which registries carry over when
/// the instance list changes; two instances are equal when their id and URL are.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Unique among the instances of a component.
    pub id: String,
    /// Base URL of the instance, without a trailing slash: `http://10.0.0.7:8080`.
    pub url: String,
    state: Arc<State>,
}

#[derive(Debug, Default)]
struct State {
    in_flight: AtomicUsize,
    failures: AtomicU32,
    ejected_until: AtomicU64,
}

impl PartialEq for Instance {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.url == other.url
    }
}

impl Eq for Instance {}

impl Hash for Instance {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
        self.url.hash(state);
    }
}

impl Instance {
    /// An instance with this id and base URL.
    pub fn new(id: impl Into<String>, url: impl Into<String>) -> Self {
        let url: String = url.into();
        Self { id: id.into(), url: url.trim_end_matches('/').to_owned(), state: Arc::default() }
    }

    /// This instance, with the counts of the same instance in `known`, if it is there.
    pub fn carried_over(mut self, known: &[Instance]) -> Self {
        if let Some(previous) = known.iter().find(|previous| **previous == self) {
            self.state = Arc::clone(&previous.state);
        }
        self
    }

    /// Calls this process has in flight on the instance.
    pub fn in_flight(&self) -> usize {
        self.state.in_flight.load(Ordering::Relaxed)
    }

    /// Counts a call in flight until the guard is dropped.
    pub fn start_call(&self) -> CallGuard {
        self.state.in_flight.fetch_add(1, Ordering::Relaxed);
        CallGuard { state: Arc::clone(&self.state) }
    }

    /// Whether the instance is out of the rotation for failing.
    pub fn is_ejected(&self) -> bool {
        self.state.ejected_until.load(Ordering::Relaxed) > now_millis()
    }

    /// A call succeeded: the failure streak ends.
    pub fn record_success(&self) {
        self.state.failures.store(0, Ordering::Relaxed);
    }

    /// A call failed; after `threshold` failures in a row the instance is ejected for
    /// `backoff`, then tried again. Returns whether this failure ejected it.
    pub fn record_failure(&self, threshold: u32, backoff: Duration) -> bool {
        let failures = self.state.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures < threshold.max(1) {
            return false;
        }
        self.state.failures.store(0, Ordering::Relaxed);
        let until = now_millis().saturating_add(u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX));
        self.state.ejected_until.store(until, Ordering::Relaxed);
        true
    }
}

/// A call in flight on an instance; dropping it ends the call.
#[derive(Debug)]
pub struct CallGuard {
    state: Arc<State>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.state.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_are_shared_by_clones_and_carried_over() {
        let a = Instance::new("a", "http://a/");
        assert_eq!(a.url, "http://a");
        let guard = a.clone().start_call();
        assert_eq!(a.in_flight(), 1);
        let fresh = Instance::new("a", "http://a").carried_over(std::slice::from_ref(&a));
        assert_eq!(fresh.in_flight(), 1);
        drop(guard);
        assert_eq!(fresh.in_flight(), 0);
    }

    #[test]
    fn consecutive_failures_eject_and_a_success_resets_the_streak() {
        let a = Instance::new("a", "http://a");
        assert!(!a.record_failure(3, Duration::from_secs(60)));
        a.record_success();
        assert!(!a.record_failure(3, Duration::from_secs(60)));
        assert!(!a.record_failure(3, Duration::from_secs(60)));
        assert!(!a.is_ejected());
        assert!(a.record_failure(3, Duration::from_secs(60)));
        assert!(a.is_ejected());
        let b = Instance::new("b", "http://b");
        b.record_failure(1, Duration::ZERO);
        assert!(!b.is_ejected(), "a zero backoff ejects for no time");
    }
}
