//! What a process has spent so far: CPU time on all its threads, and heap allocations.
//! `roundtrip` counts every allocation its processes make, the driver's and the
//! servers', so a round can report both per call.

use crate::Error;
use cpu_time::ProcessTime;
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::{alloc::System, ops::Sub, time::Duration};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The question a server answers with its [`Usage`].
pub(crate) const QUESTION: &str = "usage";

/// Totals since the process started.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Usage {
    /// Allocations, reallocations included: each asks the allocator for memory.
    pub(crate) allocations: u64,
    pub(crate) cpu: Duration,
}

impl Usage {
    /// This process's totals now.
    pub(crate) fn now() -> Self {
        let stats = ALLOCATOR.stats();
        Self {
            allocations: (stats.allocations + stats.reallocations) as u64,
            cpu: ProcessTime::try_now().map(|time| time.as_duration()).unwrap_or_default(),
        }
    }

    /// The line a server prints to answer [`QUESTION`].
    pub(crate) fn to_answer(self) -> String {
        format!("{} {}", self.allocations, self.cpu.as_nanos())
    }

    /// The usage in a server's answer.
    pub(crate) fn from_answer(answer: &str) -> Result<Self, Error> {
        let malformed = || format!("a server answered its usage with `{answer}`");
        let (allocations, nanos) = answer.split_once(' ').ok_or_else(malformed)?;
        let allocations = allocations.parse().map_err(|_| malformed())?;
        let nanos: u64 = nanos.parse().map_err(|_| malformed())?;
        Ok(Self { allocations, cpu: Duration::from_nanos(nanos) })
    }
}

impl Sub for Usage {
    type Output = Self;

    fn sub(self, earlier: Self) -> Self {
        Self {
            allocations: self.allocations.saturating_sub(earlier.allocations),
            cpu: self.cpu.saturating_sub(earlier.cpu),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_back_as_the_usage_it_was_made_from() {
        let usage = Usage { allocations: 12, cpu: Duration::from_nanos(3_400_000) };
        let read = Usage::from_answer(&usage.to_answer()).unwrap();
        assert_eq!((read.allocations, read.cpu), (12, usage.cpu));
        assert!(Usage::from_answer("12").is_err());
    }

    #[test]
    fn allocating_counts() {
        let before = Usage::now();
        let boxed = std::hint::black_box(Box::new([0_u8; 64]));
        drop(boxed);
        assert!((Usage::now() - before).allocations >= 1);
    }
}
