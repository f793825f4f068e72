use crate::Instance;
use std::{
    fmt,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

/// Picks the instance that takes a call.
pub trait UrlSelector: Send + Sync + fmt::Debug {
    /// One of `instances` (never empty when called), or `None` to refuse the call.
    fn select<'a>(&self, instances: &'a [Instance]) -> Option<&'a Instance>;
}

/// Always the first instance: for a primary with standbys.
#[derive(Debug, Clone, Copy, Default)]
pub struct First;

impl UrlSelector for First {
    fn select<'a>(&self, instances: &'a [Instance]) -> Option<&'a Instance> {
        instances.first()
    }
}

/// Each instance in turn.
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod client { pub use courier_core::*; } pub mod registry { pub use courier_core::*; } }
/// use courier::{RoundRobin, registry::Instance, client::UrlSelector};
/// let instances = [Instance::new("a", "http://a"), Instance::new("b", "http://b")];
/// let selector = RoundRobin::default();
/// let picked: Vec<_> = (0..4).map(|_| selector.select(&instances).unwrap().id.as_str()).collect();
/// assert_eq!(picked, ["a", "b", "a", "b"]);
/// ```
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl UrlSelector for RoundRobin {
    fn select<'a>(&self, instances: &'a [Instance]) -> Option<&'a Instance> {
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        instances.get(turn % instances.len().max(1))
    }
}

/// The less loaded of two instances picked at random ("power of two choices"), by calls
/// this process has in flight on each: slow instances accumulate calls and get fewer new
/// ones, without the herding of always picking the least loaded.
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod client { pub use courier_core::*; } pub mod registry { pub use courier_core::*; } }
/// use courier::{LeastLoaded, registry::Instance, client::UrlSelector};
/// let instances = [Instance::new("busy", "http://a"), Instance::new("idle", "http://b")];
/// let _calls: Vec<_> = (0..5).map(|_| instances[0].start_call()).collect();
/// assert_eq!(LeastLoaded.select(&instances).unwrap().id, "idle");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LeastLoaded;

impl UrlSelector for LeastLoaded {
    fn select<'a>(&self, instances: &'a [Instance]) -> Option<&'a Instance> {
        match instances.len() {
            0 => None,
            1 => instances.first(),
            2 => instances.iter().min_by_key(|instance| instance.in_flight()),
            len => {
                let first = fastrand::usize(..len);
                let second = (first + 1 + fastrand::usize(..len - 1)) % len;
                let (a, b) = (&instances[first], &instances[second]);
                Some(if b.in_flight() < a.in_flight() { b } else { a })
            }
        }
    }
}

/// The built-in selection strategies, by name, for configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection {
    /// [`First`].
    First,
    /// [`RoundRobin`].
    #[default]
    RoundRobin,
    /// [`LeastLoaded`].
    LeastLoaded,
}

impl Selection {
    /// A fresh selector of this kind, with its own state.
    pub fn selector(self) -> Arc<dyn UrlSelector> {
        match self {
            Self::First => Arc::new(First),
            Self::RoundRobin => Arc::new(RoundRobin::default()),
            Self::LeastLoaded => Arc::new(LeastLoaded),
        }
    }
}
