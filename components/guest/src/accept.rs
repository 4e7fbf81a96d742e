//! Retrying a listener's `accept` after it failed (the host out of descriptors, say):
//! the next attempt waits a pause, and a run of failures is worth one line of log when it
//! starts and one, with its count, when accepting works again; not one per attempt.

/// How long a server waits before accepting again after `accept` failed.
pub const RETRY_PAUSE_NS: u64 = 100_000_000;

/// A listener's failed accepts, in monotonic nanoseconds.
#[derive(Default, Debug)]
pub struct AcceptRetry {
    failures: u64,
    retry_at: u64,
}

impl AcceptRetry {
    /// Whether the server may call `accept` at `now`.
    pub fn may_try(&self, now: u64) -> bool {
        now >= self.retry_at
    }

    /// When the server should wake to accept again, while failures last.
    pub fn retry_at(&self) -> Option<u64> {
        (self.failures > 0).then_some(self.retry_at)
    }

    /// Records a failed `accept` at `now`; true for the first of a run, the one to log.
    pub fn failed(&mut self, now: u64) -> bool {
        self.failures += 1;
        self.retry_at = now + RETRY_PAUSE_NS;
        self.failures == 1
    }

    /// Records an `accept` that worked; the number of failed attempts before it, when a
    /// run of failures just ended (to log).
    pub fn succeeded(&mut self) -> Option<u64> {
        (self.failures > 0).then(|| core::mem::take(&mut self.failures))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_failures_is_reported_once_at_each_end_and_paced() {
        let mut accepting = AcceptRetry::default();
        assert!(accepting.may_try(0) && accepting.retry_at().is_none());
        assert!(accepting.failed(1_000), "the first failure is logged");
        assert!(!accepting.may_try(1_000 + RETRY_PAUSE_NS - 1));
        assert_eq!(accepting.retry_at(), Some(1_000 + RETRY_PAUSE_NS));
        assert!(!accepting.failed(1_000 + RETRY_PAUSE_NS), "later ones are not");
        assert_eq!(accepting.succeeded(), Some(2));
        assert_eq!(accepting.succeeded(), None);
        assert!(accepting.retry_at().is_none());
    }
}
